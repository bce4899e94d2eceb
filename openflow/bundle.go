package openflow

import "fmt"

// ONF experimenter message types of the OpenFlow 1.3 bundle extension.
const (
	ONFTBundleControl    uint32 = 2300
	ONFTBundleAddMessage uint32 = 2301
)

// Bundle control types (enum ofp_bundle_ctrl_type) and flags.
const (
	BundleOpenRequest    uint16 = 0
	BundleOpenReply      uint16 = 1
	BundleCloseRequest   uint16 = 2
	BundleCloseReply     uint16 = 3
	BundleCommitRequest  uint16 = 4
	BundleCommitReply    uint16 = 5
	BundleDiscardRequest uint16 = 6
	BundleDiscardReply   uint16 = 7

	BundleAtomic  uint16 = 1 << 0
	BundleOrdered uint16 = 1 << 1
)

// appendONFOrNative starts a message that OpenFlow 1.3 carries as an ONF
// experimenter message of exp_type onft and OpenFlow 1.4+ as its own type t
// (bundles, role status), with the same body. It returns the message with
// the framing appended and the offset of the header, for finish.
func appendONFOrNative(b []byte, h *Header, t Type, onft uint32) ([]byte, int) {
	if h.Version == 0 || h.Version == Version13 {
		return appendExperimenterHeader(b, h, ExperimenterONF, onft)
	}
	return appendHeader(b, h, t)
}

// checkONFOrNative checks the framing of a whole message appendONFOrNative
// writes and returns the offset of its body.
func checkONFOrNative(h *Header, b []byte, t Type, onft uint32, name string) (int, error) {
	if err := h.UnmarshalBinary(b); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case h.Version == Version13:
		return experimenterHeaderLen, checkExperimenter(h, b, ExperimenterONF, onft, name)
	case h.Version >= Version14:
		return HeaderLen, checkHeader(h, b, t, name)
	}
	return 0, fmt.Errorf("%s: version %#x not supported", name, h.Version)
}

// BundleControl is OFPT_BUNDLE_CONTROL of OpenFlow 1.4+ (struct
// ofp_bundle_ctrl_msg), or in OpenFlow 1.3 the ONF experimenter message
// ONFT_BUNDLE_CONTROL (2300) with the same body; Version picks the framing:
//
//	1.3: header (type 4) | 0x4f4e4600 | 2300 u32 | body
//	1.4: header (type 33) | body
//	body: bundle_id u32 | type u16 | flags u16 | properties
//
// Type shadows Header.Type: it is the bundle control type.
type BundleControl struct {
	Header
	BundleID   uint32
	Type       uint16
	Flags      uint16
	Properties []byte
}

func (m *BundleControl) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version < Version13 {
		return b, fmt.Errorf("bundle_control: version %#x has no bundles", m.Version)
	}
	b, start := appendONFOrNative(b, &m.Header, TypeBundleControl, ONFTBundleControl)
	b = be.AppendUint32(b, m.BundleID)
	b = be.AppendUint16(b, m.Type)
	b = be.AppendUint16(b, m.Flags)
	b = append(b, m.Properties...)
	return finish(b, start)
}

func (m *BundleControl) UnmarshalBinary(b []byte) error {
	const name = "bundle_control"
	off, err := checkONFOrNative(&m.Header, b, TypeBundleControl, ONFTBundleControl, name)
	if err != nil {
		return err
	}
	if len(b)-off < 8 {
		return errTruncated(name, b, off, 8)
	}
	m.BundleID = be.Uint32(b[off:])
	m.Type = be.Uint16(b[off+4:])
	m.Flags = be.Uint16(b[off+6:])
	m.Properties = nil
	if len(b) > off+8 {
		m.Properties = append([]byte(nil), b[off+8:]...)
	}
	return nil
}

// BundleAdd is OFPT_BUNDLE_ADD_MESSAGE of OpenFlow 1.4+ (struct
// ofp_bundle_add_msg), or in OpenFlow 1.3 ONFT_BUNDLE_ADD_MESSAGE (2301),
// framed as BundleControl is:
//
//	body: bundle_id u32 | pad u16 | flags u16 | message | properties
//
// The inner Message must have the outer one's version and xid (OVS
// refuses others); NewBundleAdd sets them so. Properties is whatever
// follows the inner message, raw.
type BundleAdd struct {
	Header
	BundleID   uint32
	Flags      uint16
	Message    Message
	Properties []byte
}

// NewBundleAdd wraps m for bundle id, with m's version and xid.
func NewBundleAdd(id uint32, flags uint16, m Message) *BundleAdd {
	h := m.Hdr()
	return &BundleAdd{Header: Header{Version: h.Version, XID: h.XID}, BundleID: id, Flags: flags, Message: m}
}

func (m *BundleAdd) AppendBinary(b []byte) ([]byte, error) {
	const name = "bundle_add"
	if m.Version != 0 && m.Version < Version13 {
		return b, fmt.Errorf("%s: version %#x has no bundles", name, m.Version)
	}
	if m.Message == nil {
		return b, fmt.Errorf("%s: no message", name)
	}
	b, start := appendONFOrNative(b, &m.Header, TypeBundleAddMessage, ONFTBundleAddMessage)
	b = be.AppendUint32(b, m.BundleID)
	b = be.AppendUint16(b, 0)
	b = be.AppendUint16(b, m.Flags)
	var err error
	if b, err = m.Message.AppendBinary(b); err != nil {
		return b[:start], fmt.Errorf("%s: message: %w", name, err)
	}
	b = append(b, m.Properties...)
	return finish(b, start)
}

func (m *BundleAdd) UnmarshalBinary(b []byte) error {
	const name = "bundle_add"
	off, err := checkONFOrNative(&m.Header, b, TypeBundleAddMessage, ONFTBundleAddMessage, name)
	if err != nil {
		return err
	}
	if len(b)-off < 8+HeaderLen {
		return errTruncated(name, b, off, 8+HeaderLen)
	}
	m.BundleID = be.Uint32(b[off:])
	m.Flags = be.Uint16(b[off+6:])
	in := b[off+8:]
	n := int(be.Uint16(in[2:]))
	if n < HeaderLen || n > len(in) {
		return fmt.Errorf("%s: message: length %d, %d bytes left", name, n, len(in))
	}
	if m.Message, err = Decode(in[:n]); err != nil {
		return fmt.Errorf("%s: message: %w", name, err)
	}
	m.Properties = nil
	if len(in) > n {
		m.Properties = append([]byte(nil), in[n:]...)
	}
	return nil
}
