// Package oxm is the OpenFlow match: OXM/NXM TLVs (OpenFlow 1.3.5 §7.2.3,
// OVS lib/nx-match.c), the registry of fields OVS knows
// (include/openvswitch/meta-flow.h) and their values as ovs-ofctl writes them.
package oxm

// Header is an OXM/NXM header as on the wire:
//
//	 0               2             3 bit 0         4
//	+---------------+-------------+-+---------------+
//	|     class     |   field     |M|    length     |
//	+---------------+-------------+-+---------------+
//
// For the experimenter class 0xffff the 4-byte experimenter ID follows the
// header and counts in length.
type Header uint32

func MakeHeader(class uint16, field uint8, hasMask bool, length uint8) Header {
	h := Header(class)<<16 | Header(field&0x7f)<<9 | Header(length)
	if hasMask {
		h |= 1 << 8
	}
	return h
}

func (h Header) Class() uint16 { return uint16(h >> 16) }
func (h Header) Field() uint8  { return uint8(h>>9) & 0x7f }
func (h Header) HasMask() bool { return h&(1<<8) != 0 }
func (h Header) Length() uint8 { return uint8(h) }

// Field is one match TLV: value and, when masked, mask (same length).
// In a match made by Build, Builder or Normalize the fields' values and
// masks are slices of one shared array, each capped at its own length:
// appending to one copies it, but writing into one in place is seen by
// every copy of the match.
type Field struct {
	Header       Header // as on the wire; HasMask and Length agree with Value/Mask
	Experimenter uint32 // for class 0xffff
	Value        []byte
	Mask         []byte // nil when exact
}

// Match is an OpenFlow match: its fields in canonical order, the order in
// which OVS itself writes them (lib/nx-match.c nx_put_raw).
type Match struct {
	Fields []Field
}
