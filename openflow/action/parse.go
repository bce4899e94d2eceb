package action

// Parsing framework, for the files of each action family.
//
// ParseList splits the text the way ovs-ofctl does
// (ofputil_parse_key_value): items are separated by commas (and white
// space) outside parentheses; an item is "kw", "kw:value", "kw=value" or
// "kw(value)", where a "(value)" may be followed by "->rest" (then the
// value is "value)->rest", as OVS hands check_pkt_larger its argument).
// The keyword, lower-cased, selects the parseFunc registered with
// registerParser(kw, f); a keyword that is a port (LOCAL, 5) is an output.
//
// A parseFunc returns one Action, or an actionSeq when the text stands for
// several actions (OVS writes one "load:" as several NXAST_REG_LOADs). Its
// errors are reported at the value's offset; a *SyntaxError it returns has
// its Offset taken relative to the value and shifted by ParseList. A
// parseFunc that parses part of its value at offset k (a nested action list,
// ct's exec(...)) returns shiftErr(err, k).
//
// Helpers: splitArgs(s) splits "a,b(c,d),e" at top-level commas with each
// piece's offset (an empty s has no pieces); splitKV("k=v") cuts at '=' or
// ':'; parseNum(s, bits) reads decimal or 0x hex; parseSubfield(s) /
// parseSubfieldCtx(ctx, s) read NXM_NX_REG0[0..15] (also reg0, "geneve"
// with ctx.OXM); parseValue(ctx, info, s) reads a field value; parsePort(s)
// reads a port; parseHexDots reads 01.02.03; parseArrow cuts "a->b";
// ParseList(ctx, s) parses a nested list (then shiftErr(err, off, s)).
// setFieldFor(ctx, header, value, mask, fromLoad) picks OVS's encoding for
// setting a field (set_field, REG_LOAD runs, REG_LOAD2).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/internal/textscan"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// actionSeq is several actions that one item of text stands for; ParseList
// splices them into the list.
type actionSeq List

func (s actionSeq) AppendBinary(b []byte) ([]byte, error) { return List(s).AppendBinary(b) }
func (s actionSeq) AppendText(b []byte) ([]byte, error)   { return List(s).AppendText(b) }

// item is one "kw:value" of a list; off and valOff are offsets in the text.
type item struct {
	key, val    string
	hasVal      bool
	off, valOff int
}

type byteSet = textscan.ByteSet

var makeByteSet = textscan.NewByteSet

var (
	itemSep   = makeByteSet(", \t\r\n")
	itemKey   = makeByteSet(":=(, \t\r\n")
	parenStop = makeByteSet(")")
)

// splitItems splits s as ofputil_parse_key_value does, repeatedly.
func splitItems(s string) []item {
	var items []item
	for it, i, ok := nextItem(s, 0); ok; it, i, ok = nextItem(s, i) {
		items = append(items, it)
	}
	return items
}

// nextItem is one step of splitItems: the item at or after offset i of s
// and the offset to go on from; false at the end.
func nextItem(s string, i int) (item, int, bool) {
	for i < len(s) && itemSep[s[i]] {
		i++
	}
	if i == len(s) {
		return item{}, i, false
	}
	it := item{off: i}
	k := i
	for k < len(s) && !itemKey[s[k]] {
		k++
	}
	it.key = s[i:k]
	if k == len(s) || (s[k] != ':' && s[k] != '=' && s[k] != '(') {
		return it, k, true
	}
	delims := itemSep
	if s[k] == '(' {
		delims = parenStop
	}
	v := k + 1
	e := v + valueLen(s[v:], delims)
	if s[k] == '(' && strings.HasPrefix(s[e:], ")->") {
		e += valueLen(s[e:], itemSep)
	}
	it.val, it.hasVal, it.valOff = s[v:e], true, v
	i = e
	if i < len(s) {
		i++ // the delimiter
	}
	return it, i, true
}

// valueLen is textscan.ValueLen.
func valueLen(s string, stop *byteSet) int { return textscan.ValueLen(s, stop) }

// ParseList parses an action list in ovs-ofctl's syntax ("drop" is the
// empty list). ctx.Version picks the encodings, as ovs-ofctl -O does.
// Errors are *SyntaxError with the offset in s.
func ParseList(ctx Context, s string) (List, error) {
	l, err := parseListRaw(ctx, s)
	if err != nil {
		return nil, err
	}
	resolveL4Ports(ctx, l)
	return resolveVLANPushes(ctx, l), nil
}

// parseListRaw is ParseList leaving pushIfNeeded in the list, for a caller
// that joins several lists into one before resolving them.
func parseListRaw(ctx Context, s string) (List, error) { return parseListOffs(ctx, s, 0, nil) }

// parseListOffs is parseListRaw that, with offs, appends where each action
// came from (its item's offset in s, plus base).
//
// The list is checked as ovs-ofctl checks each list it parses, nested in
// ctx.nest (nestingRule).
func parseListOffs(ctx Context, s string, base int, offs *[]int) (List, error) {
	l := List{}
	drop := false
	var buf [8]int
	at := buf[:0] // where each action came from, in s
	for it, i, ok := nextItem(s, 0); ok; it, i, ok = nextItem(s, i) {
		if strings.EqualFold(it.key, "drop") {
			drop = true
			continue
		}
		a, err := parseItem(ctx, it)
		if err != nil {
			return nil, err
		}
		if seq, ok := a.(actionSeq); ok {
			l = append(l, seq...)
		} else {
			l = append(l, a)
		}
		for len(at) < len(l) {
			at = append(at, it.off)
		}
		for offs != nil && len(*offs) < len(l) {
			*offs = append(*offs, base+it.off)
		}
	}
	if drop && len(l) > 0 {
		return nil, &SyntaxError{Offset: 0, Token: "drop", Msg: "drop must not be combined with other actions"}
	}
	if e := nestingRule(l, ctx.nest); e != nil {
		return nil, &SyntaxError{Offset: at[e.index], Msg: e.msg}
	}
	return l, nil
}

// parseItem parses one item of an action list.
func parseItem(ctx Context, it item) (Action, error) {
	kw := strings.ToLower(it.key)
	f := parsers[kw]
	if f == nil {
		if p, err := parsePort(ctx, it.key); err == nil && !it.hasVal {
			return &Output{Port: port32(p), MaxLen: 0}, nil
		} else if pe := (*oxm.PortNameError)(nil); errors.As(err, &pe) && !it.hasVal {
			return nil, &SyntaxError{Offset: it.off, Token: it.key, Msg: "unknown action, or " + err.Error()}
		}
		return nil, &SyntaxError{Offset: it.off, Token: it.key, Msg: "unknown action"}
	}
	a, err := f(ctx, kw, it.val, it.hasVal)
	if err != nil {
		return nil, shiftErr(err, it.valOff, it.val)
	}
	return a, nil
}

// shiftErr makes err a *SyntaxError at offset off of the enclosing text:
// a *SyntaxError's own offset is taken relative to off; any other error
// is reported at off, with token tok.
func shiftErr(err error, off int, tok string) error {
	var se *SyntaxError
	if errors.As(err, &se) {
		return &SyntaxError{Offset: off + se.Offset, Token: se.Token, Msg: se.Msg}
	}
	return &SyntaxError{Offset: off, Token: tok, Msg: err.Error()}
}

// arg is one piece of a comma-separated argument list and its offset.
type arg struct {
	s   string
	off int
}

// splitArgs splits s at commas outside parentheses and brackets, trimming
// spaces; empty pieces are kept ("resubmit(,5)" has two pieces), but an
// empty s has none.
func splitArgs(s string) []arg {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	out := make([]arg, 0, strings.Count(s, ",")+1) // at least enough
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '(', '[':
				depth++
				continue
			case ')', ']':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		p, off := s[start:i], start
		t := strings.TrimLeft(p, " \t")
		off += len(p) - len(t)
		out = append(out, arg{s: strings.TrimRight(t, " \t"), off: off})
		start = i + 1
	}
	return out
}

// splitKV cuts "key=value" or "key:value"; ok is false for a bare key.
func splitKV(s string) (key, value string, ok bool) {
	if i := strings.IndexAny(s, "=:"); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// parseNum reads an unsigned number of at most bits bits, in decimal or
// with 0x in hex (C's strtoull base 0, as OVS's str_to_u64).
func parseNum(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 0, bits)
	if err != nil || strings.Contains(s, "_") {
		return 0, fmt.Errorf("%q is not a %d-bit number", s, bits)
	}
	return v, nil
}

// parsePort reads a port as ofputil_port_from_string: a reserved port's
// name (any case; NONE for ANY), a number in OVS's 16-bit numbering (or
// OpenFlow 1.1's 0xffffff00 and up, the same ports), or a name in the
// switch's port map (ctx.OXM.Ports).
func parsePort(ctx Context, s string) (uint16, error) { return ctx.OXM.ParsePort(s) }

// parseSubfield reads FIELD[], FIELD[n], FIELD[a..b] or FIELD (the whole
// field), FIELD being any name oxm knows (NXM_NX_REG0, reg0, OXM_OF_...).
func parseSubfield(s string) (Subfield, error) { return parseSubfieldCtx(Context{}, s) }

// parseSubfieldCtx is parseSubfield knowing the switch's tun_metadata
// lengths and its "geneve" field (ctx.OXM). The header is the one OVS
// writes for the field in a subfield (nx_put_mff_header with version 0);
// a tun_metadata field is as long as the TLV map says, or, with none, as
// long as it can be (124 bytes), as ovs-ofctl writes it.
func parseSubfieldCtx(ctx Context, s string) (Subfield, error) {
	osf, rest, err := ctx.OXM.ParseSubfield(s)
	if err == nil && rest != "" {
		err = fmt.Errorf("%s: trailing garbage %q", s, rest)
	}
	if err != nil {
		return Subfield{}, &SyntaxError{Token: s, Msg: err.Error()}
	}
	return subfieldFor(ctx, osf, 0), nil
}

// subfieldFor is the Subfield of osf with the header OVS writes for its
// field in protocol version (0 for the Nicira actions' subfields).
func subfieldFor(ctx Context, osf oxm.Subfield, version uint8) Subfield {
	h, exp := osf.Info.HeaderFor(version)
	if osf.Info.VarLen {
		h = h&^0xff | oxm.Header(osf.Info.FieldBits(ctx.OXM)/8)
	}
	return Subfield{Header: h, Experimenter: exp, Ofs: osf.Ofs, Bits: osf.Bits}
}

// withVersion is sf with the header OVS writes for its field in protocol
// version (copy_field in OpenFlow 1.5 writes OXM_OF_ETH_SRC where the
// Nicira actions write NXM_OF_ETH_SRC).
func (sf Subfield) withVersion(version uint8) Subfield {
	info := sf.info()
	if info == nil {
		return sf
	}
	h, exp := info.HeaderFor(version)
	if info.VarLen {
		h = h&^0xff | oxm.Header(sf.Header.Length())
	}
	sf.Header, sf.Experimenter = h, exp
	return sf
}

// parseHexDots reads bytes written as note: and userdata= are: hex pairs,
// optionally separated by dots.
func parseHexDots(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); {
		if s[i] == '.' {
			i++
			continue
		}
		if i+2 > len(s) {
			return nil, fmt.Errorf("odd number of hex digits in %q", s)
		}
		v, err := strconv.ParseUint(s[i:i+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad hex in %q", s)
		}
		out = append(out, byte(v))
		i += 2
	}
	return out, nil
}

// parseArrow cuts "src->dst".
func parseArrow(s string) (src, dst string, err error) {
	src, dst, ok := strings.Cut(s, "->")
	if !ok {
		return "", "", &SyntaxError{Token: s, Msg: "missing ->"}
	}
	return src, dst, nil
}
