package openflow

import (
	"bytes"
	"fmt"
)

// Port is one port's description, as a port status message and a port
// description reply carry it, in the layout of its version:
//
//	1.0 (ofp10_phy_port, 48 bytes): port_no u16 | hw_addr 6 | name 16 |
//	     config u32 | state u32 | curr | advertised | supported | peer
//	1.1-1.3 (ofp11_port, 64 bytes): port_no u32 | pad 4 | hw_addr 6 | pad 2 |
//	     name 16 | config u32 | state u32 | curr | advertised | supported |
//	     peer | curr_speed | max_speed
//	1.4+ (ofp14_port): port_no u32 | length u16 | pad 2 | hw_addr 6 | pad 2 |
//	     name 16 | config u32 | state u32 | properties
//
// In 1.4+ the features and speeds are the OFPPDPT14_ETHERNET property
// (type 0, 32 bytes: pad 4 | curr | advertised | supported | peer |
// curr_speed | max_speed), which the encoder always writes, as OVS does;
// other properties (optical, experimenter) are kept raw in Properties.
// Name is the NUL-terminated name field, at most 16 bytes. PortNo is the
// wire value (in 1.0 a 16-bit one: OFPP_LOCAL is 0xfffe there).
type Port struct {
	PortNo     uint32
	HWAddr     [6]byte
	Name       string
	Config     uint32 // OFPPC_*
	State      uint32 // OFPPS_*: LINK_DOWN 1, BLOCKED 2, LIVE 4
	Curr       uint32 // OFPPF_* features
	Advertised uint32
	Supported  uint32
	Peer       uint32
	CurrSpeed  uint32 // kbps; not in 1.0
	MaxSpeed   uint32
	Properties []byte // 1.4+: properties other than Ethernet, raw
}

const (
	port10Len       = 48
	port11Len       = 64
	port14Len       = 40
	portEthPropLen  = 32
	portNameLen     = 16
	portPropEthType = 0
)

// append writes the port in version's layout.
func (p *Port) append(b []byte, version uint8) ([]byte, error) {
	if len(p.Name) > portNameLen {
		return b, fmt.Errorf("port %d: name %q longer than %d bytes", p.PortNo, p.Name, portNameLen)
	}
	name := make([]byte, portNameLen)
	copy(name, p.Name)
	start := len(b)
	switch {
	case version == Version10:
		if p.PortNo > 0xffff {
			return b, fmt.Errorf("port %d: no OpenFlow 1.0 port number", p.PortNo)
		}
		b = be.AppendUint16(b, uint16(p.PortNo))
		b = append(b, p.HWAddr[:]...)
		b = append(b, name...)
		for _, v := range [...]uint32{p.Config, p.State, p.Curr, p.Advertised, p.Supported, p.Peer} {
			b = be.AppendUint32(b, v)
		}
		return b, nil
	case version < Version14:
		b = be.AppendUint32(b, p.PortNo)
		b = append(b, 0, 0, 0, 0)
	default:
		b = be.AppendUint32(b, p.PortNo)
		b = append(b, 0, 0, 0, 0) // length, below
	}
	b = append(b, p.HWAddr[:]...)
	b = append(b, 0, 0)
	b = append(b, name...)
	b = be.AppendUint32(b, p.Config)
	b = be.AppendUint32(b, p.State)
	if version >= Version14 {
		b = be.AppendUint16(b, portPropEthType)
		b = be.AppendUint16(b, portEthPropLen)
		b = append(b, 0, 0, 0, 0)
	}
	for _, v := range [...]uint32{p.Curr, p.Advertised, p.Supported, p.Peer, p.CurrSpeed, p.MaxSpeed} {
		b = be.AppendUint32(b, v)
	}
	if version >= Version14 {
		b = append(b, p.Properties...)
		n := len(b) - start
		if n > 0xffff {
			return b[:start], fmt.Errorf("port %d: %w", p.PortNo, ErrTooLong)
		}
		be.PutUint16(b[start+4:], uint16(n))
	}
	return b, nil
}

// unmarshal decodes the port at the start of b and returns its length.
func (p *Port) unmarshal(b []byte, version uint8) (int, error) {
	*p = Port{}
	if version == Version10 {
		if len(b) < port10Len {
			return 0, errTruncated("ofp10_phy_port", b, 0, port10Len)
		}
		p.PortNo = uint32(be.Uint16(b))
		copy(p.HWAddr[:], b[2:8])
		p.Name = portName(b[8:24])
		p.Config, p.State = be.Uint32(b[24:]), be.Uint32(b[28:])
		p.Curr, p.Advertised = be.Uint32(b[32:]), be.Uint32(b[36:])
		p.Supported, p.Peer = be.Uint32(b[40:]), be.Uint32(b[44:])
		return port10Len, nil
	}
	fixed := port11Len
	if version >= Version14 {
		fixed = port14Len
	}
	if len(b) < fixed {
		return 0, errTruncated("ofp_port", b, 0, fixed)
	}
	n := fixed
	if version >= Version14 {
		if n = int(be.Uint16(b[4:])); n < port14Len || n > len(b) {
			return 0, fmt.Errorf("ofp14_port: length %d, %d bytes left", n, len(b))
		}
	}
	p.PortNo = be.Uint32(b)
	copy(p.HWAddr[:], b[8:14])
	p.Name = portName(b[16:32])
	p.Config, p.State = be.Uint32(b[32:]), be.Uint32(b[36:])
	if version < Version14 {
		p.readEthernet(b[40:64])
		return n, nil
	}
	err := eachProp(b[port14Len:n], func(typ uint16, v, whole []byte) error {
		if typ == portPropEthType && len(v) == portEthPropLen-4 {
			p.readEthernet(v[4:])
			return nil
		}
		p.Properties = append(p.Properties, whole...)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("ofp14_port: %w", err)
	}
	return n, nil
}

// readEthernet reads curr, advertised, supported, peer, curr_speed and
// max_speed from the 24 bytes of b.
func (p *Port) readEthernet(b []byte) {
	p.Curr, p.Advertised = be.Uint32(b), be.Uint32(b[4:])
	p.Supported, p.Peer = be.Uint32(b[8:]), be.Uint32(b[12:])
	p.CurrSpeed, p.MaxSpeed = be.Uint32(b[16:]), be.Uint32(b[20:])
}

func portName(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// PortStatus is OFPT_PORT_STATUS (OpenFlow 1.3.5 §7.4.3, struct
// ofp_port_status): header | reason u8 | pad 7 | the port, in its
// version's layout (Port). Port is embedded: ps.Name is the port's name.
type PortStatus struct {
	Header
	Reason uint8
	Port
}

// Port status reasons (enum ofp_port_reason).
const (
	PortReasonAdd    uint8 = 0
	PortReasonDelete uint8 = 1
	PortReasonModify uint8 = 2
)

const portStatusLen = 16

func (m *PortStatus) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypePortStatus)
	b = append(b, m.Reason, 0, 0, 0, 0, 0, 0, 0)
	var err error
	if b, err = m.Port.append(b, b[start]); err != nil {
		return b[:start], fmt.Errorf("port_status: %w", err)
	}
	return finish(b, start)
}

func (m *PortStatus) UnmarshalBinary(b []byte) error {
	const name = "port_status"
	if err := checkHeader(&m.Header, b, TypePortStatus, name); err != nil {
		return err
	}
	if len(b) < portStatusLen {
		return errTruncated(name, b, HeaderLen, portStatusLen-HeaderLen)
	}
	m.Reason = b[8]
	n, err := m.Port.unmarshal(b[portStatusLen:], m.Version)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if portStatusLen+n != len(b) {
		return fmt.Errorf("%s: %d bytes after the port", name, len(b)-portStatusLen-n)
	}
	return nil
}

// PortDescRequest is an OFPMP_PORT_DESC request: an empty body in OpenFlow
// 1.3 and 1.4, which asks for every port; in 1.5 struct
// ofp15_port_desc_request, port_no u32 | pad 4 (PortAny: every port).
// Decoding an earlier version gives PortAny; its encoder does not write
// PortNo.
type PortDescRequest struct {
	Header
	Flags  uint16
	PortNo uint32
}

// NewPortDescRequest asks for every port.
func NewPortDescRequest(version uint8) *PortDescRequest {
	return &PortDescRequest{Header: Header{Version: version}, PortNo: PortAny}
}

func (m *PortDescRequest) AppendBinary(b []byte) ([]byte, error) {
	return appendIDRequest(b, &m.Header, MultipartPortDesc, m.Flags, m.PortNo)
}

func (m *PortDescRequest) UnmarshalBinary(b []byte) error {
	var err error
	m.Flags, m.PortNo, err = decodeIDRequest(&m.Header, b, MultipartPortDesc, "port_desc_request", PortAny)
	return err
}

// appendIDRequest encodes a multipart request of type mp whose body is
// empty before OpenFlow 1.5 and, from 1.5, id u32 | pad 4: the group desc
// and port desc requests.
func appendIDRequest(b []byte, h *Header, mp, flags uint16, id uint32) ([]byte, error) {
	b, start := appendMultipartHeader(b, h, TypeMultipartRequest, mp, flags)
	if b[start] >= Version15 {
		b = be.AppendUint32(b, id)
		b = append(b, 0, 0, 0, 0)
	}
	return finish(b, start)
}

// decodeIDRequest decodes what appendIDRequest encodes; before 1.5 the id
// is all (every group, every port).
func decodeIDRequest(h *Header, b []byte, mp uint16, name string, all uint32) (flags uint16, id uint32, err error) {
	got, flags, err := checkMultipart(h, b, TypeMultipartRequest, name)
	if err != nil {
		return 0, 0, err
	}
	want := multipartLen
	if h.Version >= Version15 {
		want += 8
	}
	if got != mp || len(b) != want {
		return 0, 0, fmt.Errorf("%s: multipart type %d, %d bytes", name, got, len(b))
	}
	id = all
	if h.Version >= Version15 {
		id = be.Uint32(b[16:])
	}
	return flags, id, nil
}

// PortDescReply is an OFPMP_PORT_DESC reply: the switch's ports, each in
// its version's layout (Port); one part, or from a Reassembler all parts'
// ports. With the port status messages that follow, it is how a
// controller learns port names as ovs-ofctl resolves them.
type PortDescReply struct {
	Header
	Flags uint16
	Ports []Port
}

func (m *PortDescReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartPortDesc, m.Flags)
	v := b[start]
	for i := range m.Ports {
		var err error
		if b, err = m.Ports[i].append(b, v); err != nil {
			return b[:start], fmt.Errorf("port_desc_reply: port[%d]: %w", i, err)
		}
	}
	return finish(b, start)
}

func (m *PortDescReply) UnmarshalBinary(b []byte) error {
	const name = "port_desc_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartPortDesc {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	m.Flags, m.Ports = flags, nil
	for off, i := multipartLen, 0; off < len(b); i++ {
		var p Port
		n, err := p.unmarshal(b[off:], m.Version)
		if err != nil {
			return fmt.Errorf("%s: port[%d]: %w", name, i, err)
		}
		m.Ports = append(m.Ports, p)
		off += n
	}
	return nil
}
