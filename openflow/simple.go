package openflow

import (
	"encoding/binary"
	"fmt"
)

// Hello is OFPT_HELLO (OpenFlow 1.3.5 §7.5.1): the header, whose version
// is the highest the sender speaks, and hello elements, raw in Elements.
// The one element defined is OFPHET_VERSIONBITMAP (type 1):
//
//	type u16 = 1 | length u16 (4 + 4n, without padding) | bitmaps u32 × n |
//	zero padding to 8
//
// where bit v of bitmap i is version 32i+v. VersionBitmap reads it as OVS
// does (lib/ofp-util.c ofputil_decode_hello).
type Hello struct {
	Header
	Elements []byte
}

// NewHello returns a HELLO advertising the given versions (each below 32)
// with a version bitmap element, the header version being the highest of
// them. OVS leaves the element out when the versions are 1 to N with none
// missing; sending it always is as valid, and says exactly which.
func NewHello(versions ...uint8) *Hello {
	var bitmap uint32
	max := uint8(0)
	for _, v := range versions {
		if v < 32 {
			bitmap |= 1 << v
		}
		if v > max {
			max = v
		}
	}
	e := []byte{0, 1, 0, 8} // OFPHET_VERSIONBITMAP, length 8
	e = binary.BigEndian.AppendUint32(e, bitmap)
	return &Hello{Header: Header{Version: max}, Elements: e}
}

// VersionBitmap returns the versions a HELLO advertises, bit v for version
// v, as OVS reads them: every version from 1 up to the header's, unless a
// well-formed version bitmap element says otherwise (the last one wins;
// only its first 32-bit word counts, bit 0 is cleared, and an element whose
// bitmap is empty or not a whole number of words is ignored). Elements
// that do not fit stop the reading.
func (m *Hello) VersionBitmap() uint32 {
	bm := uint32(0xfffffffe) // a header version above 31: every version
	if m.Version < 32 {
		bm = (uint32(1)<<m.Version - 1) << 1
	}
	e := m.Elements
	for len(e) >= 4 {
		typ := binary.BigEndian.Uint16(e)
		n := int(binary.BigEndian.Uint16(e[2:]))
		if n < 4 || n+pad8(n) > len(e) {
			break
		}
		if typ == 1 && n > 4 && (n-4)%4 == 0 {
			if v := binary.BigEndian.Uint32(e[4:]) &^ 1; v != 0 {
				bm = v
			}
		}
		e = e[n+pad8(n):]
	}
	return bm
}

func (m *Hello) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeHello)
	b = append(b, m.Elements...)
	return finish(b, start)
}

func (m *Hello) UnmarshalBinary(b []byte) error {
	if err := checkHeader(&m.Header, b, TypeHello, "hello"); err != nil {
		return err
	}
	m.Elements = append([]byte(nil), b[HeaderLen:]...)
	return nil
}

// payloadMsg is the shape of the messages that are a header and opaque data.
type payloadMsg struct {
	Header
	Data []byte
}

func (m *payloadMsg) append(b []byte, t Type) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, t)
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *payloadMsg) unmarshal(b []byte, t Type, name string) error {
	if err := checkHeader(&m.Header, b, t, name); err != nil {
		return err
	}
	m.Data = append([]byte(nil), b[HeaderLen:]...)
	return nil
}

// EchoRequest is OFPT_ECHO_REQUEST (§7.5.2).
type EchoRequest struct{ payloadMsg }

func (m *EchoRequest) AppendBinary(b []byte) ([]byte, error) { return m.append(b, TypeEchoRequest) }
func (m *EchoRequest) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeEchoRequest, "echo_request")
}

// EchoReply is OFPT_ECHO_REPLY (§7.5.3).
type EchoReply struct{ payloadMsg }

func (m *EchoReply) AppendBinary(b []byte) ([]byte, error) { return m.append(b, TypeEchoReply) }
func (m *EchoReply) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeEchoReply, "echo_reply")
}

// NewEchoReply answers req with the same xid and data.
func NewEchoReply(req *EchoRequest) *EchoReply {
	r := &EchoReply{}
	r.Header = Header{Version: req.Version, XID: req.XID}
	r.Data = req.Data
	return r
}

// BarrierRequest is OFPT_BARRIER_REQUEST (§7.3.8).
type BarrierRequest struct{ payloadMsg }

// NewBarrierRequest returns a barrier request of version.
func NewBarrierRequest(version uint8) *BarrierRequest {
	m := &BarrierRequest{}
	m.Version = version
	return m
}

func (m *BarrierRequest) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, TypeBarrierRequest)
}
func (m *BarrierRequest) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeBarrierRequest, "barrier_request")
}

// BarrierReply is OFPT_BARRIER_REPLY (§7.3.8).
type BarrierReply struct{ payloadMsg }

func (m *BarrierReply) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, TypeBarrierReply)
}
func (m *BarrierReply) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeBarrierReply, "barrier_reply")
}

// FeaturesRequest is OFPT_FEATURES_REQUEST (§7.3.1).
type FeaturesRequest struct{ payloadMsg }

func (m *FeaturesRequest) AppendBinary(b []byte) ([]byte, error) {
	return m.append(b, TypeFeaturesRequest)
}
func (m *FeaturesRequest) UnmarshalBinary(b []byte) error {
	return m.unmarshal(b, TypeFeaturesRequest, "features_request")
}

// Unknown is any message this package does not decode, kept whole.
type Unknown struct {
	Header
	Data []byte // the body after the header
}

func (m *Unknown) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, m.Type)
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *Unknown) UnmarshalBinary(b []byte) error {
	if err := m.Header.UnmarshalBinary(b); err != nil {
		return err
	}
	if int(m.Length) != len(b) {
		return fmt.Errorf("message type %d: length field %d, message is %d bytes", m.Type, m.Length, len(b))
	}
	m.Data = append([]byte(nil), b[HeaderLen:]...)
	return nil
}
