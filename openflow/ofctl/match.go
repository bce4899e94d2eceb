package ofctl

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// SyntaxError is text that does not parse: Offset is the byte offset in the
// text handed to the parser, Token what stands there, Msg what was expected.
type SyntaxError struct {
	Offset int
	Token  string
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("column %d: %s", e.Offset+1, e.Msg)
	}
	return fmt.Sprintf("column %d: %q: %s", e.Offset+1, e.Token, e.Msg)
}

// shorthands are the protocol keywords of ovs-fields(7) ("ip", "tcp6", ...,
// ofp_parse_protocol): an eth_type and maybe an ip_proto (nil), as the
// values Build reads.
var shorthands = map[string]*shorthand{}

type shorthand struct{ eth, proto []byte }

func init() {
	for name, sh := range map[string][2]int{
		"ip": {0x0800, -1}, "ipv4": {0x0800, -1}, "ip4": {0x0800, -1},
		"ipv6": {0x86dd, -1}, "ip6": {0x86dd, -1}, "icmp": {0x0800, 1}, "icmp6": {0x86dd, 58},
		"tcp": {0x0800, 6}, "tcp6": {0x86dd, 6}, "udp": {0x0800, 17}, "udp6": {0x86dd, 17},
		"sctp": {0x0800, 132}, "sctp6": {0x86dd, 132},
		"arp": {0x0806, -1}, "rarp": {0x8035, -1}, "mpls": {0x8847, -1}, "mplsm": {0x8848, -1},
	} {
		var proto []byte
		if sh[1] >= 0 {
			proto = []byte{byte(sh[1])}
		}
		shorthands[name] = &shorthand{[]byte{byte(sh[0] >> 8), byte(sh[0])}, proto}
	}
}

var (
	ethType, nwProto = oxm.ByName("eth_type"), oxm.ByName("nw_proto")
	packetType       = oxm.ByName("packet_type")
	matchSep         = makeByteSet(", \t\r\n")
	matchKeyEnd      = makeByteSet("=:(, \t\r\n")
	matchParenStop   = makeByteSet(")")
)

// printedOnly maps names OVS 3.1 prints in a match but does not parse to
// the names it parses; accepting them lets every printed match parse again.
func printedOnly(key string) string {
	switch key {
	case "gtpu_flags":
		return "tun_gtpu_flags"
	case "gtpu_msgtype":
		return "tun_gtpu_msgtype"
	}
	return key
}

// ParseMatch parses the match part of a flow as ovs-ofctl add-flows accepts
// it ("ip,metadata=0x1,nw_dst=192.168.30.1/24,ct_state=+trk-new") and
// returns it in canonical form (oxm.Match.Normalize), for OpenFlow 1.3.
// Fields may be separated by commas or spaces. ctx gives tun_metadata
// lengths, the "geneve" name and the switch's port names; it may be nil.
func ParseMatch(s string, ctx *oxm.Context) (oxm.Match, error) {
	return parseMatch(s, ctx, openflow.Version13, nil, nil)
}

// matchNote is a field of a match that OVS does not install as given:
// where it stands in the text and the oxm problem.
type matchNote struct {
	off int
	key string
	oxm.Problem
}

// parseMatch is ParseMatch for protocol version; with notes not nil it
// reports the fields OVS drops or the switch refuses for want of a
// prerequisite (oxm.Problem).
func parseMatch(s string, ctx *oxm.Context, version uint8, notes *[]matchNote, facts *oxm.Facts) (oxm.Match, error) {
	return parseMatchKeep(s, ctx, version, notes, facts, false)
}

// parseMatchKeep is parseMatch; with notes, the first pass checks only
// whether there is anything to note, and only then (keep) a second pass
// says what.
func parseMatchKeep(s string, ctx *oxm.Context, version uint8, notes *[]matchNote, facts *oxm.Facts, keep bool) (oxm.Match, error) {
	var b oxm.Builder
	if keep {
		b.Keep()
	}
	err := eachMatchToken(s, func(mt matchToken) error {
		switch {
		case mt.short != nil:
			b.Add(oxm.Set{Info: ethType, Value: mt.short.eth})
			if mt.short.proto != nil {
				b.Add(oxm.Set{Info: nwProto, Value: mt.short.proto})
			}
			return nil
		case mt.key == "eth":
			// packet_type (0,0): what any Ethernet-layer field implies.
			b.Add(oxm.Set{Info: packetType, Value: []byte{0, 0, 0, 0}})
			return nil
		}
		i := ctx.ByFieldName(printedOnly(mt.key))
		switch {
		case i == nil && strings.IndexByte(mt.key, '[') >= 0:
			set, err := subfieldSetting(ctx, mt.key, mt.val)
			if err != nil {
				return &SyntaxError{Offset: mt.off, Token: s[mt.off:mt.end], Msg: err.Error()}
			}
			b.Add(set)
			return nil
		case i == nil && mt.key == "geneve":
			return &SyntaxError{Offset: mt.off, Token: mt.key, Msg: "no Geneve field is mapped (geneve stands for the negotiated tun_metadata field)"}
		case i == nil:
			return &SyntaxError{Offset: mt.off, Token: mt.key, Msg: "unknown field or keyword"}
		}
		val := mt.val
		if val == "" {
			// ofp_parse_field: no value matches on the field's presence
			// only ("0/0"), which is nothing but for tun_metadata.
			val = "0/0"
		}
		if err := b.AddText(i, val, ctx); err != nil {
			return &SyntaxError{Offset: mt.voff, Token: mt.val, Msg: err.Error()}
		}
		if i.Header == 0 && i.Name != "dl_vlan" && i.Name != "dl_vlan_pcp" {
			// tun_tos, tun_ttl, skb_priority: no NXM or OXM code point.
			return &SyntaxError{Offset: mt.off, Token: s[mt.off:mt.end],
				Msg: i.Name + " has no OpenFlow encoding: no protocol can send the flow (ovs-ofctl: OFPBAC_MATCH_INCONSISTENT)"}
		}
		return nil
	})
	if err != nil {
		b.Release()
		return oxm.Match{}, err
	}
	if !keep {
		m, suspect := b.FinishQuick(version, facts)
		if !suspect || notes == nil {
			return m, nil
		}
		return parseMatchKeep(s, ctx, version, notes, facts, true)
	}
	var problems []oxm.Problem
	m := b.FinishFacts(version, &problems, facts)
	if len(problems) > 0 {
		// Where each setting came from, wanted only now: the tokens
		// again, a shorthand with a protocol counting twice.
		var offs []int
		var keys []string
		eachMatchToken(s, func(mt matchToken) error {
			offs, keys = append(offs, mt.off), append(keys, mt.key)
			if mt.short != nil && mt.short.proto != nil {
				offs, keys = append(offs, mt.off), append(keys, mt.key)
			}
			return nil
		})
		for _, p := range problems {
			*notes = append(*notes, matchNote{off: offs[p.Index], key: keys[p.Index], Problem: p})
		}
	}
	return m, nil
}

// matchToken is one key[=value] of a match: where it is in the text, and
// the protocol shorthand it names, if it is one.
type matchToken struct {
	key, val       string
	off, voff, end int
	short          *shorthand
}

// eachMatchToken splits a match as ofputil_parse_key_value does: the key
// runs to one of "=:(" or a separator; after '=' or ':' the value runs to
// a separator, over balanced parentheses; after '(' to the matching ')'.
// It stops at the first error fn returns.
func eachMatchToken(s string, fn func(matchToken) error) error {
	for off := 0; off < len(s); {
		if matchSep[s[off]] {
			off++
			continue
		}
		k := off
		for k < len(s) && !matchKeyEnd[s[k]] {
			k++
		}
		mt := matchToken{key: s[off:k], off: off, voff: k, end: k}
		if k < len(s) && !matchSep[s[k]] {
			stop := matchSep
			if s[k] == '(' {
				stop = matchParenStop
			}
			mt.voff = k + 1
			n := valueLen(s[mt.voff:], stop)
			mt.val, mt.end = s[mt.voff:mt.voff+n], mt.voff+n
			if s[k] == '(' && mt.end < len(s) {
				mt.end++
			}
		}
		if mt.end == k {
			mt.short = shorthands[mt.key] // a protocol takes no value
		}
		if err := fn(mt); err != nil {
			return err
		}
		off = mt.end
	}
	return nil
}

// subfieldSetting is a match on part of a field, NAME[bits]=VALUE
// (parse_subfield): VALUE an integer, decimal or 0x hex, that fits in the
// bits.
func subfieldSetting(ctx *oxm.Context, key, val string) (oxm.Set, error) {
	sf, rest, err := ctx.ParseSubfield(key)
	if err != nil {
		return oxm.Set{}, err
	}
	if rest != "" {
		return oxm.Set{}, fmt.Errorf("%s: trailing garbage %q", key, rest)
	}
	v, ok := parseIntString(val)
	if !ok {
		return oxm.Set{}, fmt.Errorf("%s: cannot parse integer value: %s", key, val)
	}
	set, err := sf.SubfieldSet(v)
	if err != nil {
		return oxm.Set{}, fmt.Errorf("%s: %w", key, err)
	}
	if !sf.Info.Maskable && (sf.Ofs != 0 || sf.Bits != sf.Info.Bits) {
		return oxm.Set{}, fmt.Errorf("%s: %s does not support masking", key, sf.Info.Name)
	}
	return set, nil
}

// parseIntString reads an unsigned integer of any length as OVS's
// parse_int_string does: 0x hex, or decimal.
func parseIntString(s string) ([]byte, bool) {
	if h, ok := strings.CutPrefix(s, "0x"); ok || strings.HasPrefix(s, "0X") {
		if !ok {
			h = s[2:]
		}
		if h == "" {
			return nil, false
		}
		out := make([]byte, (len(h)+1)/2)
		for k := 0; k < len(h); k++ {
			d := unhex(h[len(h)-1-k])
			if d < 0 {
				return nil, false
			}
			out[len(out)-1-k/2] |= byte(d) << (4 * (k % 2))
		}
		return out, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false
	}
	out := make([]byte, 8)
	for k := 7; k >= 0; k-- {
		out[k] = byte(v)
		v >>= 8
	}
	return out, true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// AppendMatch appends m exactly as ovs-ofctl -O OpenFlow13 dump-flows prints
// a match (lib/match.c match_format), without priority. Fields the
// registry does not know are not printed.
func AppendMatch(b []byte, m *oxm.Match) []byte {
	f := &matchFormatter{v: m.View(), b: b, start: len(b)}
	f.format()
	f.v.Release()
	if len(f.b) > f.start && f.b[len(f.b)-1] == ',' {
		f.b = f.b[:len(f.b)-1]
	}
	return f.b
}

type matchFormatter struct {
	v     oxm.View
	b     []byte
	start int
}

func be(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}

func isOnes(m []byte) bool {
	for _, c := range m {
		if c != 0xff {
			return false
		}
	}
	return true
}

func (f *matchFormatter) key(name string) { f.b = append(append(f.b, name...), '=') }

// hexMasked is format_uint32_masked / format_be64_masked: "%#x[/%#x]".
func (f *matchFormatter) hexMasked(name, slot string) {
	if v, m := f.v.Get(slot); v != nil {
		f.key(name)
		f.b = cHex(f.b, be(v))
		if !isOnes(m) {
			f.b = cHex(append(f.b, '/'), be(m))
		}
		f.b = append(f.b, ',')
	}
}

// decMasked is format_be16_masked: decimal when exact, else "0x%x/0x%x".
func (f *matchFormatter) decMasked(name, slot string) {
	if v, m := f.v.Get(slot); v != nil {
		f.key(name)
		if isOnes(m) {
			f.b = strconv.AppendUint(f.b, be(v), 10)
		} else {
			f.b = fmt.Appendf(f.b, "0x%x/0x%x", be(v), be(m))
		}
		f.b = append(f.b, ',')
	}
}

// value prints slot with field info's own formatting (mf_format).
func (f *matchFormatter) value(name, slot, info string) {
	if v, m := f.v.Get(slot); v != nil {
		f.key(name)
		f.b = append(oxm.ByName(info).AppendValue(f.b, v, m), ',')
	}
}

// cHex is C's "%#x": "0x" and hex digits, but plain "0" for zero.
func cHex(b []byte, x uint64) []byte {
	if x == 0 {
		return append(b, '0')
	}
	return strconv.AppendUint(append(b, "0x"...), x, 16)
}
