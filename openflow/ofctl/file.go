package ofctl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// token is one key[=value] of ovs-ofctl's syntax, split as OVS's
// ofputil_parse_key_value splits it (lib/ofp-parse.c): the key runs to one
// of ":=(, \t\r\n"; after ':' or '=' the value runs to a comma or white
// space, after '(' to the matching ')'; parentheses in a value nest, so
// "ct(commit,nat(dst=10.0.0.1))" is one value. Offsets are bytes in the
// text: off is the key, voff the value, end just past the token.
type token struct {
	key, val       string
	delim          byte // '=', ':', '(' or 0 when there is no value
	off, voff, end int
}

// text is the token as written.
func (t token) text(s string) string { return s[t.off:t.end] }

// separators are what may stand between tokens.
const separators = ", \t\r\n"

// nextToken returns the first token of s at or after pos; false at the end.
func nextToken(s string, pos int) (token, bool) {
	for pos < len(s) && strings.IndexByte(separators, s[pos]) >= 0 {
		pos++
	}
	if pos >= len(s) {
		return token{}, false
	}
	t := token{off: pos}
	k := pos
	for k < len(s) && strings.IndexByte(":=("+separators, s[k]) < 0 {
		k++
	}
	t.key = s[pos:k]
	if k == len(s) || strings.IndexByte(separators, s[k]) >= 0 {
		t.voff, t.end = k, k
		return t, true
	}
	t.delim = s[k]
	t.voff = k + 1
	stop := separators
	if t.delim == '(' {
		stop = ")"
	}
	n := valueLen(s[t.voff:], stop)
	t.val = s[t.voff : t.voff+n]
	t.end = t.voff + n
	if t.delim == '(' && t.end < len(s) {
		t.end++ // the ')'
	}
	return t, true
}

// valueLen is the length of the value at the start of s: up to a byte of
// stop that is not inside parentheses.
func valueLen(s, stop string) int {
	n := 0
	for n < len(s) && strings.IndexByte(stop, s[n]) < 0 {
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
			if level == 0 {
				break
			}
		}
	}
	return n
}

// pieces assembles the text handed to another parser (the match, a
// bucket's actions) from tokens of a line, remembering where each came
// from so that the other parser's error offsets map back to the line.
type pieces struct {
	b     []byte
	start []int // offset of each piece in b
	orig  []int // offset of each piece in the line
}

// add appends one piece, which starts at offset orig of the line,
// separated from the one before by a comma.
func (p *pieces) add(s string, orig int) {
	if len(p.b) > 0 {
		p.b = append(p.b, ',')
	}
	p.start = append(p.start, len(p.b))
	p.orig = append(p.orig, orig)
	p.b = append(p.b, s...)
}

func (p *pieces) String() string { return string(p.b) }

// at maps an offset in the assembled text to an offset in the line.
func (p *pieces) at(off int) int {
	i := len(p.start) - 1
	for i > 0 && p.start[i] > off {
		i--
	}
	if i < 0 {
		return 0
	}
	return p.orig[i] + off - p.start[i]
}

// eachLine calls f for every line of r that is not blank once its comment
// is cut (OVS's ds_get_preprocessed_line: '#' to the end of the line is a
// comment), with the line's text and position. It returns all of f's
// errors, each placed in the file, up to maxErrors.
func eachLine(name string, r io.Reader, f func(text string, pos Pos) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var errs []error
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		lead := len(text) - len(strings.TrimLeft(text, " \t\r\n\v\f"))
		if lead == len(text) {
			continue
		}
		if err := f(text, Pos{File: name, Line: n, Column: lead + 1}); err != nil {
			errs = append(errs, inFile(err, name, n))
			if len(errs) == maxErrors {
				errs = append(errs, fmt.Errorf("%s:%d: too many errors, stopped", name, n))
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return errors.Join(errs...)
}

// parseNum reads an unsigned number as OVS's str_to_u* do (strtoull with
// base 0): "0x" starts hex, a leading "0" octal, anything else decimal.
func parseNum(s string, bits int) (uint64, bool) {
	base := 10
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
	case len(s) > 1 && s[0] == '0':
		s, base = s[1:], 8
	}
	if s == "" || s[0] == '+' || s[0] == '-' || strings.IndexByte(s, '_') >= 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, base, bits)
	if err != nil {
		return 0, false
	}
	return v, true
}

// numValue parses token t's value as a number of bits bits.
func numValue(s string, t token, bits int) (uint64, error) {
	if t.val == "" {
		return 0, errToken(s, t, "%s needs a value", t.key)
	}
	v, ok := parseNum(t.val, bits)
	if !ok {
		return 0, errToken(s, t, "%s: %q is not a number from 0 to %d", t.key, t.val, uint64(1)<<bits-1)
	}
	return v, nil
}
