package oxm

import (
	"fmt"
	"net/netip"
)

// valueBuf lends the bytes parsed values are written to, so that a caller
// that copies them out (Builder) does not allocate each; a nil *valueBuf
// makes each with make.
type valueBuf struct{ b []byte }

// make returns n zeroed bytes. A slice made before b grows keeps the old
// array, still valid.
func (vb *valueBuf) make(n int) []byte {
	if vb == nil {
		return make([]byte, n)
	}
	if cap(vb.b)-len(vb.b) < n {
		vb.b = make([]byte, 0, max(256, n))
	}
	start := len(vb.b)
	vb.b = vb.b[:start+n]
	out := vb.b[start : start+n : start+n]
	clear(out)
	return out
}

func (vb *valueBuf) bytes(b ...byte) []byte {
	out := vb.make(len(b))
	copy(out, b)
	return out
}

func hexVal(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseMAC reads six groups of one or two hex digits separated by colons.
func parseMAC(s string, vb *valueBuf) ([]byte, error) {
	var v [6]byte
	i := 0
	for k := range v {
		if k > 0 {
			if i == len(s) || s[i] != ':' {
				return nil, fmt.Errorf("%q: bad Ethernet address", s)
			}
			i++
		}
		start := i
		for i < len(s) && i-start < 3 && hexVal(s[i]) >= 0 {
			v[k] = v[k]<<4 | byte(hexVal(s[i]))
			i++
		}
		if n := i - start; n == 0 || n > 2 {
			return nil, fmt.Errorf("%q: bad Ethernet address", s)
		}
	}
	if i != len(s) {
		return nil, fmt.Errorf("%q: bad Ethernet address", s)
	}
	return vb.bytes(v[:]...), nil
}

// appendAddr is a.AsSlice made in vb.
func appendAddr(vb *valueBuf, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return vb.bytes(b[:]...)
	}
	b := a.As16()
	return vb.bytes(b[:]...)
}
