package openflow

import (
	"bytes"
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// PacketIn is OFPT_PACKET_IN of OpenFlow 1.3+ (OpenFlow 1.3.5 §7.4.1,
// struct ofp_packet_in):
//
//	header | buffer_id u32 | total_len u16 | reason u8 | table_id u8 |
//	cookie u64 | ofp_match (padded to 8) | pad 2 | data
type PacketIn struct {
	Header
	BufferID uint32
	TotalLen uint16
	Reason   uint8
	TableID  uint8
	Cookie   uint64
	Match    oxm.Match
	Data     []byte // the packet (or its first miss_send_len bytes)
}

const packetInLen = 24

func (m *PacketIn) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypePacketIn)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint16(b, m.TotalLen)
	b = append(b, m.Reason, m.TableID)
	b = be.AppendUint64(b, m.Cookie)
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("packet_in: match: %w", err)
	}
	b = append(b, 0, 0)
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *PacketIn) UnmarshalBinary(b []byte) error {
	const name = "packet_in"
	if err := checkHeader(&m.Header, b, TypePacketIn, name); err != nil {
		return err
	}
	if m.Version < Version13 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	if len(b) < packetInLen {
		return errTruncated(name, b, HeaderLen, packetInLen-HeaderLen)
	}
	m.BufferID = be.Uint32(b[8:])
	m.TotalLen = be.Uint16(b[12:])
	m.Reason, m.TableID = b[14], b[15]
	m.Cookie = be.Uint64(b[16:])
	n, err := unmarshalMatch(&m.Match, b[packetInLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	off := packetInLen + n
	if len(b)-off < 2 {
		return errTruncated(name+": pad", b, off, 2)
	}
	m.Data = append([]byte(nil), b[off+2:]...)
	return nil
}

// FlowRemoved is OFPT_FLOW_REMOVED of OpenFlow 1.3 and 1.4 (OpenFlow 1.3.5
// §7.4.2, struct ofp_flow_removed):
//
//	header | cookie u64 | priority u16 | reason u8 | table_id u8 |
//	duration_sec u32 | duration_nsec u32 | idle_timeout u16 |
//	hard_timeout u16 | packet_count u64 | byte_count u64 | ofp_match
type FlowRemoved struct {
	Header
	Cookie       uint64
	Priority     uint16
	Reason       uint8
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        oxm.Match
}

const flowRemovedLen = 48

func (m *FlowRemoved) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeFlowRemoved)
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint16(b, m.Priority)
	b = append(b, m.Reason, m.TableID)
	b = be.AppendUint32(b, m.DurationSec)
	b = be.AppendUint32(b, m.DurationNsec)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint64(b, m.PacketCount)
	b = be.AppendUint64(b, m.ByteCount)
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("flow_removed: match: %w", err)
	}
	return finish(b, start)
}

func (m *FlowRemoved) UnmarshalBinary(b []byte) error {
	const name = "flow_removed"
	if err := checkHeader(&m.Header, b, TypeFlowRemoved, name); err != nil {
		return err
	}
	if m.Version < Version13 || m.Version > Version14 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	if len(b) < flowRemovedLen {
		return errTruncated(name, b, HeaderLen, flowRemovedLen-HeaderLen)
	}
	m.Cookie = be.Uint64(b[8:])
	m.Priority = be.Uint16(b[16:])
	m.Reason, m.TableID = b[18], b[19]
	m.DurationSec = be.Uint32(b[20:])
	m.DurationNsec = be.Uint32(b[24:])
	m.IdleTimeout = be.Uint16(b[28:])
	m.HardTimeout = be.Uint16(b[30:])
	m.PacketCount = be.Uint64(b[32:])
	m.ByteCount = be.Uint64(b[40:])
	n, err := unmarshalMatch(&m.Match, b[flowRemovedLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	if flowRemovedLen+n != len(b) {
		return fmt.Errorf("%s: %d bytes after the match", name, len(b)-flowRemovedLen-n)
	}
	return nil
}

// PortStatus is OFPT_PORT_STATUS (OpenFlow 1.3.5 §7.4.3, struct
// ofp_port_status): header | reason u8 | pad 7 | ofp_port.
//
// Desc is the struct ofp_port, raw, and is what the encoder writes. The
// other fields are read from it by UnmarshalBinary for OpenFlow 1.3 (a
// 64-byte ofp_port) and 1.4+ (ofp_port with a length and properties):
//
//	1.3: port_no u32 | pad 4 | hw_addr 6 | pad 2 | name 16 | config u32 | state u32 | ...
//	1.4: port_no u32 | length u16 | pad 2 | hw_addr 6 | pad 2 | name 16 | config u32 | state u32 | props
type PortStatus struct {
	Header
	Reason uint8
	Desc   []byte

	PortNo uint32
	HWAddr [6]byte
	Name   string
	Config uint32
	State  uint32
}

// Port status reasons (enum ofp_port_reason).
const (
	PortReasonAdd    uint8 = 0
	PortReasonDelete uint8 = 1
	PortReasonModify uint8 = 2
)

const (
	portStatusLen = 16
	portDescLen   = 40 // through state, the part read in both layouts
)

func (m *PortStatus) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypePortStatus)
	b = append(b, m.Reason, 0, 0, 0, 0, 0, 0, 0)
	b = append(b, m.Desc...)
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
	m.Desc = append([]byte(nil), b[portStatusLen:]...)
	m.PortNo, m.HWAddr, m.Name, m.Config, m.State = 0, [6]byte{}, "", 0, 0
	d := m.Desc
	if m.Version < Version13 || len(d) < portDescLen {
		return nil
	}
	m.PortNo = be.Uint32(d)
	copy(m.HWAddr[:], d[8:14])
	name16 := d[16:32]
	if i := bytes.IndexByte(name16, 0); i >= 0 {
		name16 = name16[:i]
	}
	m.Name = string(name16)
	m.Config = be.Uint32(d[32:])
	m.State = be.Uint32(d[36:])
	return nil
}
