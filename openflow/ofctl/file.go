package ofctl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/internal/textscan"
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

type byteSet = textscan.ByteSet

var makeByteSet = textscan.NewByteSet

var (
	sepSet    = makeByteSet(separators)
	keyEnd    = makeByteSet(":=(" + separators)
	parenStop = makeByteSet(")")
)

// nextToken returns the first token of s at or after pos; false at the end.
func nextToken(s string, pos int) (token, bool) {
	t, ok := nextKey(s, pos)
	if ok {
		tokenValue(s, &t)
	}
	return t, ok
}

// nextKey is the first part of nextToken: the token's key, delimiter and
// value offset; tokenValue does the rest. ParseFlow stops at actions=
// without reading on to the end of the line.
func nextKey(s string, pos int) (token, bool) {
	for pos < len(s) && sepSet[s[pos]] {
		pos++
	}
	if pos >= len(s) {
		return token{}, false
	}
	t := token{off: pos}
	k := pos
	for k < len(s) && !keyEnd[s[k]] {
		k++
	}
	t.key = s[pos:k]
	if k == len(s) || sepSet[s[k]] {
		t.voff, t.end = k, k
		return t, true
	}
	t.delim = s[k]
	t.voff = k + 1
	return t, true
}

// tokenValue sets the value and end of token t of s, once nextKey found
// its key.
func tokenValue(s string, t *token) {
	if t.delim == 0 {
		return
	}
	stop := sepSet
	if t.delim == '(' {
		stop = parenStop
	}
	n := valueLen(s[t.voff:], stop)
	t.val = s[t.voff : t.voff+n]
	t.end = t.voff + n
	if t.delim == '(' && t.end < len(s) {
		t.end++ // the ')'
	}
}

// valueLen is textscan.ValueLen.
func valueLen(s string, stop *byteSet) int { return textscan.ValueLen(s, stop) }

// pieces assembles the text handed to another parser (the match, a
// bucket's actions) from tokens of a line, remembering where each came
// from so that the other parser's error offsets map back to the line.
type pieces struct {
	b     strings.Builder // String does not copy it
	spans []span
	// noSpans: only the text is wanted (ParseFlow's match, whose spans
	// it makes again only if the match has an error).
	noSpans bool
}

// span is where one piece starts in the assembled text and in the line.
type span struct{ start, orig int }

// add appends one piece, which starts at offset orig of the line,
// separated from the one before by a comma.
func (p *pieces) add(s string, orig int) { p.addEq(s, orig, -1) }

// addEq is add with the byte at eq (if eq >= 0) written as '='.
func (p *pieces) addEq(s string, orig, eq int) {
	if p.b.Len() > 0 {
		p.b.WriteByte(',')
	}
	if !p.noSpans {
		p.spans = append(p.spans, span{p.b.Len(), orig})
	}
	if eq < 0 {
		p.b.WriteString(s)
		return
	}
	p.b.WriteString(s[:eq])
	p.b.WriteByte('=')
	p.b.WriteString(s[eq+1:])
}

func (p *pieces) String() string { return p.b.String() }

// at maps an offset in the assembled text to an offset in the line.
func (p *pieces) at(off int) int {
	i := len(p.spans) - 1
	for i > 0 && p.spans[i].start > off {
		i--
	}
	if i < 0 {
		return 0
	}
	return p.spans[i].orig + off - p.spans[i].start
}

// eachLine calls f for every line of r that is not blank once its comment
// is cut (OVS's ds_get_preprocessed_line: '#' to the end of the line is a
// comment), with the line's text and position. It returns all of f's
// errors, each placed in the file, up to maxErrors.
func eachLine(name string, r io.Reader, f func(text string, pos Pos) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var (
		errs     []error
		block    []byte // lines read ahead, ending at ends
		ends     []int
		carry    []byte // a line read that did not fit in the block
		hasCarry bool
		n        int // lines handed out
		more     = true
		stopped  bool // at maxErrors
	)
	for !stopped {
		// Read lines ahead into one block, made one string: one
		// allocation for many lines rather than one each. A line that
		// would take the block past lineBlock waits for the next one, so
		// that the string stays within its size class.
		block, ends = block[:0], ends[:0]
		if hasCarry {
			block, ends, hasCarry = append(block, carry...), append(ends, len(carry)), false
		}
		for more && len(block) < lineBlock {
			if more = sc.Scan(); !more {
				break
			}
			line := sc.Bytes()
			if len(ends) > 0 && len(block)+len(line) > lineBlock {
				carry, hasCarry = append(carry[:0], line...), true
				break
			}
			block = append(block, line...)
			ends = append(ends, len(block))
		}
		if len(ends) == 0 {
			break
		}
		lines, start := string(block), 0
		for _, end := range ends {
			text := lines[start:end]
			start = end
			n++
			if err := eachLineText(text, name, n, f); err != nil {
				errs = append(errs, err)
				if len(errs) == maxErrors {
					errs = append(errs, fmt.Errorf("%s:%d: too many errors, stopped", name, n))
					stopped = true
					break
				}
			}
		}
	}
	// Stopped, it read ahead of the line it stopped at: a line too long
	// past that one is not an error it got to.
	if err := sc.Err(); err != nil && !(stopped && err == bufio.ErrTooLong) {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	return errors.Join(errs...)
}

// lineBlock is how many bytes of lines eachLine reads ahead.
const lineBlock = 32 << 10 // a size class of Go's allocator

// eachLineText is eachLine's work on line n: cut the comment, skip a blank
// line, call f, place its error in the file.
func eachLineText(text, name string, n int, f func(text string, pos Pos) error) error {
	if i := strings.IndexByte(text, '#'); i >= 0 {
		text = text[:i]
	}
	lead := 0
	for lead < len(text) && asciiSpace[text[lead]] {
		lead++
	}
	if lead == len(text) {
		return nil
	}
	if err := f(text, Pos{File: name, Line: n, Column: lead + 1}); err != nil {
		return inFile(err, name, n)
	}
	return nil
}

var asciiSpace = makeByteSet(" \t\r\n\v\f")

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
