// Package textscan holds the byte-level scanning that the ovs-ofctl text
// parsers (openflow/ofctl, openflow/action) share.
package textscan

// ByteSet is a set of bytes, tested with one load rather than a scan of a
// string per byte of the text.
type ByteSet [256]bool

// NewByteSet returns the set of the bytes of s.
func NewByteSet(s string) *ByteSet {
	var b ByteSet
	for k := 0; k < len(s); k++ {
		b[s[k]] = true
	}
	return &b
}

// ValueLen is OVS's parse_value (lib/ofp-parse.c): the length of s up to a
// byte of delims, skipping over balanced parentheses.
func ValueLen(s string, delims *ByteSet) int {
	n := 0
	for n < len(s) && !delims[s[n]] {
		if s[n] != '(' {
			n++
			continue
		}
		for level := 0; n < len(s); {
			switch s[n] {
			case '(':
				level++
			case ')':
				level--
			}
			n++
			if level <= 0 {
				break
			}
		}
	}
	return n
}
