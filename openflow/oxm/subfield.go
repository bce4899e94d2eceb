package oxm

import (
	"fmt"
	"strconv"
	"strings"
)

// Subfield is bits [Ofs, Ofs+Bits) of a field (OVS struct mf_subfield),
// written NAME[a..b].
type Subfield struct {
	Info      *Info
	Ofs, Bits int
}

// FieldBits is the width of field i in ctx: its bits, or for a mapped
// tun_metadata field the mapped length (ovs-ofctl without a TLV map takes
// the largest, 124 bytes).
func (i *Info) FieldBits(ctx *Context) int {
	if i.VarLen {
		if n := i.ValueLen(ctx); n > 0 {
			return 8 * n
		}
	}
	return i.Bits
}

// ByFieldName finds a field by the names a match takes (mf_from_name):
// its name or extra name, not its NXM/OXM header names. ctx resolves
// "geneve"; it may be nil.
func (c *Context) ByFieldName(name string) *Info {
	if name == "geneve" {
		i, _ := c.Resolve(name)
		return i
	}
	i := byName[name]
	if i == nil || i.Name != name && i.ExtraName != name {
		return nil
	}
	return i
}

// ParseSubfield reads NAME, NAME[], NAME[n] or NAME[a..b] from the front
// of s, as mf_parse_subfield__ does: NAME is a field's name or any of its
// NXM/OXM header names (with OVS's "_W" suffix allowed), and no bits means
// the whole field. It returns what follows the subfield.
func (c *Context) ParseSubfield(s string) (Subfield, string, error) {
	n := 0
	for n < len(s) && s[n] != '[' && s[n] != '-' {
		n++
	}
	name := s[:n]
	i := byName[strings.TrimSuffix(name, "_W")]
	if name == "geneve" || i == nil {
		var err error
		if i, err = c.Resolve(name); err != nil {
			return Subfield{}, s, fmt.Errorf("%s: unknown field `%s'", s, name)
		}
	}
	width := i.FieldBits(c)
	sf := Subfield{Info: i, Bits: width}
	rest := s[n:]
	if !strings.HasPrefix(rest, "[") {
		return sf, rest, nil
	}
	end := strings.IndexByte(rest, ']')
	start, last := 0, width-1
	bad := func() error {
		return fmt.Errorf("%s: syntax error expecting [] or [<bit>] or [<start>..<end>]", s)
	}
	if end < 0 {
		return Subfield{}, s, bad()
	}
	if bits := rest[1:end]; bits != "" {
		lo, hi, isRange := strings.Cut(bits, "..")
		a, err := strconv.Atoi(lo)
		b := a
		if err == nil && isRange {
			b, err = strconv.Atoi(hi)
		}
		if err != nil || a < 0 || b < 0 {
			return Subfield{}, s, bad()
		}
		start, last = a, b
	}
	switch {
	case start > last:
		return Subfield{}, s, fmt.Errorf("%s: starting bit %d is after ending bit %d", s, start, last)
	case start >= width:
		return Subfield{}, s, fmt.Errorf("%s: starting bit %d is not valid because field is only %d bits wide", s, start, width)
	case last >= width:
		return Subfield{}, s, fmt.Errorf("%s: ending bit %d is not valid because field is only %d bits wide", s, last, width)
	}
	sf.Ofs, sf.Bits = start, last-start+1
	return sf, rest[end+1:], nil
}

// SubfieldSet is the setting that matches subfield sf to val (the
// subfield's bits, big-endian, any length), as parse_subfield does: the
// field's other bits are left as they are (Set.Bits). It is an error if
// val does not fit in the subfield.
func (sf Subfield) SubfieldSet(val []byte) (Set, error) {
	i := sf.Info
	n := i.Bytes
	if i.VarLen {
		n = (sf.Ofs + sf.Bits + 7) / 8
	}
	for k := 0; k < len(val); k++ {
		if val[k] == 0 {
			continue
		}
		if bit := 8*(len(val)-k) - leadingZeros8(val[k]); bit > sf.Bits {
			return Set{}, fmt.Errorf("value %s does not fit into %d bits", AppendHex(nil, val), sf.Bits)
		}
		break
	}
	v, m := make([]byte, n), make([]byte, n)
	for b := 0; b < sf.Bits; b++ {
		at := sf.Ofs + b
		m[n-1-at/8] |= 1 << (at % 8)
		if k := len(val) - 1 - b/8; k >= 0 && val[k]>>(b%8)&1 != 0 {
			v[n-1-at/8] |= 1 << (at % 8)
		}
	}
	return Set{Info: i, Value: v, Mask: m, Bits: true}, nil
}

func leadingZeros8(c byte) int {
	n := 0
	for c&0x80 == 0 && n < 8 {
		c <<= 1
		n++
	}
	return n
}
