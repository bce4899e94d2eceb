// Package openflow is ofactor's OpenFlow wire codec: the messages a
// controller of Open vSwitch sends and reads, in their OpenFlow 1.3, 1.4
// and 1.5 forms, with the Nicira and ONF extensions OVS uses (TLV tables,
// ONF bundles and flow monitor in 1.3). It is byte-faithful to what OVS
// itself writes; ovs-ofctl is its judge.
//
// Decoders are keyed on the header's version and encoders on
// Header.Version (0 writes OpenFlow 1.3): one Go type per message, whatever
// its framing in each version (a BundleControl is an ONF experimenter
// message in 1.3 and OFPT_BUNDLE_CONTROL in 1.4+). docs/codec.md lists the
// forms per version.
//
// Encoders append (AppendBinary, as encoding.BinaryAppender); decoders are
// UnmarshalBinary on one whole message. Every length field is checked against
// the bytes at hand before it is used. The package imports nothing from the
// rest of ofactor.
package openflow

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Protocol versions (ofp_header.version).
const (
	Version10 uint8 = 0x01
	Version11 uint8 = 0x02
	Version12 uint8 = 0x03
	Version13 uint8 = 0x04
	Version14 uint8 = 0x05
	Version15 uint8 = 0x06
)

// Type is ofp_header.type (OpenFlow 1.3.5 §7.1, enum ofp_type).
type Type uint8

// Message types of OpenFlow 1.3, and those OpenFlow 1.4 added.
const (
	TypeHello                 Type = 0
	TypeError                 Type = 1
	TypeEchoRequest           Type = 2
	TypeEchoReply             Type = 3
	TypeExperimenter          Type = 4
	TypeFeaturesRequest       Type = 5
	TypeFeaturesReply         Type = 6
	TypeGetConfigRequest      Type = 7
	TypeGetConfigReply        Type = 8
	TypeSetConfig             Type = 9
	TypePacketIn              Type = 10
	TypeFlowRemoved           Type = 11
	TypePortStatus            Type = 12
	TypePacketOut             Type = 13
	TypeFlowMod               Type = 14
	TypeGroupMod              Type = 15
	TypePortMod               Type = 16
	TypeTableMod              Type = 17
	TypeMultipartRequest      Type = 18
	TypeMultipartReply        Type = 19
	TypeBarrierRequest        Type = 20
	TypeBarrierReply          Type = 21
	TypeQueueGetConfigRequest Type = 22
	TypeQueueGetConfigReply   Type = 23
	TypeRoleRequest           Type = 24
	TypeRoleReply             Type = 25
	TypeGetAsyncRequest       Type = 26
	TypeGetAsyncReply         Type = 27
	TypeSetAsync              Type = 28
	TypeMeterMod              Type = 29
	TypeRoleStatus            Type = 30 // OpenFlow 1.4+
	TypeTableStatus           Type = 31 // OpenFlow 1.4+
	TypeRequestForward        Type = 32 // OpenFlow 1.4+
	TypeBundleControl         Type = 33 // OpenFlow 1.4+
	TypeBundleAddMessage      Type = 34 // OpenFlow 1.4+
)

// Experimenter IDs.
const (
	ExperimenterNicira uint32 = 0x00002320 // NX_VENDOR_ID
	ExperimenterONF    uint32 = 0x4f4e4600 // ONF_VENDOR_ID
)

// HeaderLen is the size of ofp_header.
const HeaderLen = 8

// MaxMessageLen is the largest message an ofp_header can describe.
const MaxMessageLen = 0xffff

// ErrTooLong is returned by encoders whose message would exceed 65535 bytes.
var ErrTooLong = errors.New("message longer than 65535 bytes")

// Header is ofp_header (OpenFlow 1.3.5 §7.1).
//
//	 0       1       2               4                               8
//	+-------+-------+---------------+-------------------------------+
//	|version| type  |    length     |              xid              |
//	+-------+-------+---------------+-------------------------------+
type Header struct {
	Version uint8
	Type    Type
	Length  uint16 // filled in by encoders; checked by decoders
	XID     uint32
}

// Hdr returns the header itself, so that every message embedding Header
// satisfies the Message interface's Hdr.
func (h *Header) Hdr() *Header { return h }

// UnmarshalBinary decodes the first 8 bytes of b.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) < HeaderLen {
		return fmt.Errorf("ofp_header: truncated: %d bytes, need %d", len(b), HeaderLen)
	}
	h.Version = b[0]
	h.Type = Type(b[1])
	h.Length = binary.BigEndian.Uint16(b[2:])
	h.XID = binary.BigEndian.Uint32(b[4:])
	if int(h.Length) < HeaderLen {
		return fmt.Errorf("ofp_header: length %d shorter than the header", h.Length)
	}
	return nil
}

// Message is one OpenFlow message. AppendBinary writes the whole message,
// header included, with the length filled in; UnmarshalBinary takes exactly
// one whole message.
type Message interface {
	Hdr() *Header
	AppendBinary(b []byte) ([]byte, error)
	UnmarshalBinary(b []byte) error
}

// appendHeader starts a message of type t at the end of b. It returns the
// offset of the header, for finish.
func appendHeader(b []byte, h *Header, t Type) ([]byte, int) {
	start := len(b)
	v := h.Version
	if v == 0 {
		v = Version13
	}
	b = append(b, v, byte(t), 0, 0)
	b = binary.BigEndian.AppendUint32(b, h.XID)
	return b, start
}

// finish patches the length of the message that starts at start.
func finish(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if n > MaxMessageLen {
		return b[:start], fmt.Errorf("%w (%d bytes)", ErrTooLong, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// checkHeader decodes the header of a whole message and checks that its
// length is exactly len(b) and its type is t.
func checkHeader(h *Header, b []byte, t Type, name string) error {
	if err := h.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if int(h.Length) != len(b) {
		return fmt.Errorf("%s: length field %d, message is %d bytes", name, h.Length, len(b))
	}
	if h.Type != t {
		return fmt.Errorf("%s: type %d, want %d", name, h.Type, t)
	}
	return nil
}

// Marshal encodes m into a new slice.
func Marshal(m Message) ([]byte, error) { return m.AppendBinary(nil) }

// be is the byte order of everything on the wire.
var be = binary.BigEndian

// errTruncated says that what starts at off needs n bytes and fewer remain.
func errTruncated(name string, b []byte, off, n int) error {
	return fmt.Errorf("%s: truncated at byte %d: need %d, have %d", name, off, n, len(b)-off)
}

// pad8 is the number of zero bytes that round n up to a multiple of 8.
func pad8(n int) int { return (8 - n%8) % 8 }
