package ofctl

import (
	"fmt"
	"strconv"
	"strings"

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

// shorthands are the protocol keywords of ovs-fields(7) ("ip", "tcp6", ...):
// an eth_type and maybe an ip_proto (nil), as the values Build reads.
var shorthands = map[string]struct{ eth, proto []byte }{}

func init() {
	for name, sh := range map[string][2]int{
		"ip": {0x0800, -1}, "ipv6": {0x86dd, -1}, "icmp": {0x0800, 1}, "icmp6": {0x86dd, 58},
		"tcp": {0x0800, 6}, "tcp6": {0x86dd, 6}, "udp": {0x0800, 17}, "udp6": {0x86dd, 17},
		"sctp": {0x0800, 132}, "sctp6": {0x86dd, 132},
		"arp": {0x0806, -1}, "rarp": {0x8035, -1}, "mpls": {0x8847, -1}, "mplsm": {0x8848, -1},
	} {
		var proto []byte
		if sh[1] >= 0 {
			proto = []byte{byte(sh[1])}
		}
		shorthands[name] = struct{ eth, proto []byte }{[]byte{byte(sh[0] >> 8), byte(sh[0])}, proto}
	}
}

var (
	ethType, nwProto = oxm.ByName("eth_type"), oxm.ByName("nw_proto")
	matchSep         = makeByteSet(", \t")
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
// returns it in canonical form (oxm.Match.Normalize). Fields may be
// separated by commas or spaces. ctx gives tun_metadata lengths and the
// "geneve" name; it may be nil.
func ParseMatch(s string, ctx *oxm.Context) (oxm.Match, error) {
	var b oxm.Builder
	for off := 0; off < len(s); {
		if matchSep[s[off]] {
			off++
			continue
		}
		end := off + 1
		for end < len(s) && !matchSep[s[end]] {
			end++
		}
		tok := s[off:end]
		key, val, hasVal := strings.Cut(tok, "=")
		if !hasVal {
			if key == "eth" {
				off = end // the default packet type, which OF1.3 cannot express
				continue
			}
			if sh, ok := shorthands[key]; ok {
				b.Add(oxm.Set{Info: ethType, Value: sh.eth})
				if sh.proto != nil {
					b.Add(oxm.Set{Info: nwProto, Value: sh.proto})
				}
				off = end
				continue
			}
		}
		key = printedOnly(key)
		i, err := ctx.Resolve(key)
		if err != nil {
			b.Release()
			return oxm.Match{}, &SyntaxError{Offset: off, Token: key, Msg: "unknown field or keyword"}
		}
		if !hasVal {
			b.Release()
			return oxm.Match{}, &SyntaxError{Offset: off, Token: key, Msg: "expected field=value"}
		}
		if err := b.AddText(i, val, ctx); err != nil {
			b.Release()
			return oxm.Match{}, &SyntaxError{Offset: off + len(key) + 1, Token: val, Msg: err.Error()}
		}
		off = end
	}
	return b.Match(), nil
}

// AppendMatch appends m exactly as ovs-ofctl -O OpenFlow13 dump-flows prints
// a match (lib/match.c match_format), without priority. Fields the
// registry does not know are not printed.
func AppendMatch(b []byte, m *oxm.Match) []byte {
	f := &matchFormatter{v: m.View(), b: b, start: len(b)}
	f.format()
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
