package oxm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ofpmtOXM is OFPMT_OXM, struct ofp_match's type (OpenFlow 1.3.5 §7.2.2).
const ofpmtOXM = 1

// AppendOXM appends struct ofp_match (OpenFlow 1.3.5 §7.2.2): type OFPMT_OXM,
// length (without padding), the fields as they stand in m, zero padding to a
// multiple of 8. Call Normalize first for OVS's canonical encoding.
//
//	+--------+--------+--------------------+---------+
//	| type=1 | length | OXM TLVs ...       | pad ->8 |
//	+--------+--------+--------------------+---------+
func (m *Match) AppendOXM(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, 0, ofpmtOXM, 0, 0)
	for k := range m.Fields {
		var err error
		if b, err = m.Fields[k].AppendBinary(b); err != nil {
			return b[:start], fmt.Errorf("match: oxm[%d]: %w", k, err)
		}
	}
	n := len(b) - start
	if n > 0xffff {
		return b[:start], errors.New("match: longer than 65535 bytes")
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	for (len(b)-start)%8 != 0 {
		b = append(b, 0)
	}
	return b, nil
}

// AppendBinary appends one OXM TLV. The header's mask bit and length are
// taken from Value, Mask and the class.
func (f *Field) AppendBinary(b []byte) ([]byte, error) {
	n := len(f.Value)
	if f.Mask != nil {
		if len(f.Mask) != n {
			return b, errors.New("mask and value differ in length")
		}
		n *= 2
	}
	if f.Header.Class() == 0xffff {
		n += 4
	}
	if n > 0xff {
		return b, errors.New("field too long")
	}
	h := MakeHeader(f.Header.Class(), f.Header.Field(), f.Mask != nil, uint8(n))
	b = binary.BigEndian.AppendUint32(b, uint32(h))
	if f.Header.Class() == 0xffff {
		b = binary.BigEndian.AppendUint32(b, f.Experimenter)
	}
	b = append(b, f.Value...)
	return append(b, f.Mask...), nil
}

// UnmarshalOXM reads struct ofp_match from the front of b and returns the
// bytes it takes, padding included. Unknown fields are kept as they are.
func (m *Match) UnmarshalOXM(b []byte) (n int, err error) {
	if len(b) < 4 {
		return 0, errors.New("match: truncated")
	}
	if t := binary.BigEndian.Uint16(b); t != ofpmtOXM {
		return 0, fmt.Errorf("match: type %d is not OFPMT_OXM", t)
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	padded := (length + 7) / 8 * 8
	if length < 4 {
		return 0, fmt.Errorf("match: bad length %d", length)
	}
	if padded > len(b) {
		return 0, fmt.Errorf("match: length %d exceeds %d bytes", length, len(b))
	}
	fields, err := UnmarshalFields(b[4:length])
	if err != nil {
		return 0, fmt.Errorf("match: %w", err)
	}
	m.Fields = fields
	return padded, nil
}

// UnmarshalFields decodes a sequence of OXM TLVs that fills b exactly.
func UnmarshalFields(b []byte) ([]Field, error) {
	var out []Field
	for off := 0; off < len(b); {
		k := len(out)
		if len(b)-off < 4 {
			return nil, fmt.Errorf("oxm[%d]: truncated", k)
		}
		h := Header(binary.BigEndian.Uint32(b[off:]))
		body := int(h.Length())
		if len(b)-off-4 < body {
			return nil, fmt.Errorf("oxm[%d]: length %d exceeds %d bytes", k, body, len(b)-off-4)
		}
		p := b[off+4 : off+4+body]
		f := Field{Header: h}
		if h.Class() == 0xffff {
			if len(p) < 4 {
				return nil, fmt.Errorf("oxm[%d]: experimenter field shorter than 4 bytes", k)
			}
			f.Experimenter = binary.BigEndian.Uint32(p)
			p = p[4:]
		}
		if h.HasMask() {
			if len(p)%2 != 0 {
				return nil, fmt.Errorf("oxm[%d]: masked field of odd length %d", k, len(p))
			}
			f.Value = bytes.Clone(p[:len(p)/2])
			f.Mask = bytes.Clone(p[len(p)/2:])
		} else {
			f.Value = bytes.Clone(p)
		}
		out = append(out, f)
		off += 4 + body
	}
	return out, nil
}

// Get returns the first field with h's class, field number (and
// experimenter), ignoring mask bit and length, or nil.
func (m *Match) Get(h Header) *Field {
	for k := range m.Fields {
		if hdrKey(m.Fields[k].Header) == hdrKey(h) {
			return &m.Fields[k]
		}
	}
	return nil
}

// Lookup returns the first field whose Info is i, or nil.
func (m *Match) Lookup(i *Info) *Field {
	for k := range m.Fields {
		if ByField(&m.Fields[k]) == i {
			return &m.Fields[k]
		}
	}
	return nil
}

// Equal reports whether a and b have the same fields in the same order.
func (m *Match) Equal(o *Match) bool {
	if len(m.Fields) != len(o.Fields) {
		return false
	}
	for k := range m.Fields {
		a, b := &m.Fields[k], &o.Fields[k]
		if hdrKey(a.Header) != hdrKey(b.Header) || a.Experimenter != b.Experimenter ||
			!bytes.Equal(a.Value, b.Value) || !bytes.Equal(a.Mask, b.Mask) ||
			(a.Mask == nil) != (b.Mask == nil) {
			return false
		}
	}
	return true
}
