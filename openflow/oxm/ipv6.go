package oxm

import (
	"net/netip"
	"strconv"
)

// AppendIPv6 appends a as glibc's inet_ntop writes it, which is what OVS
// prints (ipv6_format_addr). It differs from net/netip in one place: an
// address whose first six 16-bit words are zero and whose seventh is not
// (an "IPv4-compatible" address, e.g. ::10.0.0.1 or ::1:2, written
// ::0.1.0.2) ends in dotted decimal, as do IPv4-mapped ones (::ffff:a.b.c.d).
func AppendIPv6(b []byte, a [16]byte) []byte {
	var w [8]int
	for i := range w {
		w[i] = int(a[2*i])<<8 | int(a[2*i+1])
	}
	// The longest run of zero words, the first of equals, if at least 2.
	base, n := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > n {
			base, n = i, j-i
		}
		i = j
	}
	if n < 2 {
		base, n = -1, 0
	}
	for i := 0; i < 8; i++ {
		if base >= 0 && i >= base && i < base+n {
			if i == base {
				b = append(b, ':')
			}
			continue
		}
		if i != 0 {
			b = append(b, ':')
		}
		if i == 6 && base == 0 && (n == 6 || (n == 5 && w[5] == 0xffff)) {
			return netip.AddrFrom4([4]byte(a[12:])).AppendTo(b)
		}
		b = strconv.AppendUint(b, uint64(w[i]), 16)
	}
	if base >= 0 && base+n == 8 {
		b = append(b, ':')
	}
	return b
}

// AppendAddr appends an IPv4 address (4 bytes) dotted and an IPv6 one (16
// bytes) as AppendIPv6 does; any other length in hex.
func AppendAddr(b, v []byte) []byte {
	switch len(v) {
	case 4:
		return netip.AddrFrom4([4]byte(v)).AppendTo(b)
	case 16:
		return AppendIPv6(b, [16]byte(v))
	}
	return AppendHex(b, v)
}
