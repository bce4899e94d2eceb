package oxm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Context carries what a field's text form depends on besides the text: the
// switch's Geneve TLV map (NXT_TLV_TABLE_REPLY).
type Context struct {
	// TunMetadataLen is each tun_metadata field's mapped option length in
	// bytes; 0 means unmapped, in which case the value takes as many bytes as
	// its significant bytes need, as ovs-ofctl does without a TLV table.
	TunMetadataLen [64]uint8
	// Geneve is the index of the negotiated Geneve field that the symbolic
	// name "geneve" stands for, or -1.
	Geneve int
	// Ports is the switch's port names (in_port=vm1); nil: a port name is
	// an error that says it needs them, as ovs-ofctl --no-names says.
	Ports PortMap
}

// PortMap is a switch's port names (OVS struct ofputil_port_map): the
// OpenFlow port number of a name, and the name of a port number. Numbers
// are OpenFlow 1.1+ port numbers of physical ports (below 0xffffff00).
type PortMap interface {
	PortNumber(name string) (uint32, bool)
	PortName(port uint32) (string, bool)
}

// PortNameError is a port that is neither a number nor a reserved port's
// name: a port name, which needs the switch's port map (NoMap), or one the
// map does not have.
type PortNameError struct {
	Name  string
	NoMap bool
}

func (e *PortNameError) Error() string {
	if e.NoMap {
		return fmt.Sprintf("%q is not a port number or reserved port name: a port name needs the switch's ports (none given)", e.Name)
	}
	return fmt.Sprintf("%q is not a port of the switch (not in the port map)", e.Name)
}

// ParsePort reads a port as ofputil_port_from_string does, in OVS's 16-bit
// numbering: a decimal number, a reserved port's name in any case, or a
// name (quoted or not) in c's port map.
func (c *Context) ParsePort(s string) (uint16, error) {
	if p, ok := ParsePort(s); ok {
		return p, nil
	}
	if s == "" || s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '+' {
		return 0, fmt.Errorf("%q is not a valid port number", s)
	}
	name := s
	if s[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return 0, fmt.Errorf("%s: bad quoted port name", s)
		}
		name = u
	}
	if c == nil || c.Ports == nil {
		return 0, &PortNameError{Name: name, NoMap: true}
	}
	p, ok := c.Ports.PortNumber(name)
	switch {
	case !ok:
		return 0, &PortNameError{Name: name}
	case p >= 0xffffff00: // a reserved port: the bridge's own is LOCAL
		return uint16(p), nil
	case p > 0xffff:
		return 0, fmt.Errorf("port %q is number %d, outside OpenFlow's port numbers", name, p)
	}
	return uint16(p), nil
}

// AppendPortName writes a port as ofputil_format_port does with a port
// map: a reserved port by name, a named port by its name (quoted if it
// has to be), any other by number.
func (c *Context) AppendPortName(b []byte, p uint16) []byte {
	if p < 0xff00 && c != nil && c.Ports != nil {
		if name, ok := c.Ports.PortName(uint32(p)); ok {
			return AppendPortNameText(b, name)
		}
	}
	return AppendPort(b, p)
}

// AppendPortNameText writes a port name as namemap_put_name does: as it
// is, or in double quotes when it holds anything but letters, digits, '-',
// '_' and '.', or could be read as a number or a reserved port.
func AppendPortNameText(b []byte, name string) []byte {
	plain := name != ""
	for k := 0; k < len(name); k++ {
		c := name[k]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			plain = false
		}
	}
	if _, isPort := ParsePort(name); plain && !isPort && !(name[0] >= '0' && name[0] <= '9') {
		return append(b, name...)
	}
	return strconv.AppendQuote(b, name)
}

// NewContext returns a Context with no TLV map and no Geneve field. (The
// zero Context has Geneve 0, i.e. tun_metadata0.)
func NewContext() *Context { return &Context{Geneve: -1} }

// Resolve finds a field by name like ByName, and also resolves the symbolic
// name "geneve" to tun_metadata<Geneve>.
func (c *Context) Resolve(name string) (*Info, error) {
	if name == "geneve" {
		if c == nil || c.Geneve < 0 || c.Geneve > 63 {
			return nil, errors.New("geneve: no Geneve field is mapped")
		}
		return byName["tun_metadata"+strconv.Itoa(c.Geneve)], nil
	}
	if i := ByName(name); i != nil {
		return i, nil
	}
	return nil, fmt.Errorf("%s: unknown field", name)
}

// ValueLen is the number of value bytes field i has on the wire in ctx: its
// width, or for tun_metadata the mapped length (0 if unmapped).
func (i *Info) ValueLen(ctx *Context) int {
	if n := i.TunMetadata(); n >= 0 {
		if ctx == nil {
			return 0
		}
		return int(ctx.TunMetadataLen[n])
	}
	return i.Bytes
}

var portNames = []struct {
	name string
	port uint16
}{
	{"UNSET", 0xfff7}, {"IN_PORT", 0xfff8}, {"TABLE", 0xfff9}, {"NORMAL", 0xfffa}, {"FLOOD", 0xfffb},
	{"ALL", 0xfffc}, {"CONTROLLER", 0xfffd}, {"LOCAL", 0xfffe}, {"ANY", 0xffff},
	{"NONE", 0xffff},
}

// AppendPort appends an OpenFlow 1.0 port number as ovs-ofctl writes it
// (ofputil_format_port): reserved ports by name, others in decimal.
func AppendPort(b []byte, p uint16) []byte {
	for _, n := range portNames {
		if n.port == p {
			return append(b, n.name...)
		}
	}
	return strconv.AppendUint(b, uint64(p), 10)
}

// ParsePort parses a port name or number (ofputil_port_from_string).
func ParsePort(s string) (uint16, bool) {
	for _, n := range portNames {
		if strings.EqualFold(n.name, s) {
			return n.port, true
		}
	}
	v, err := strconv.ParseUint(s, 10, 32) // decimal only, as ofputil_port_from_string
	if err != nil {
		return 0, false
	}
	if v >= 0xffffff00 {
		v = v - 0xffff0000
	} else if v > 0xffff {
		return 0, false
	}
	return uint16(v), true
}

// Port32To16 maps an OpenFlow 1.1+ port to OVS's 16-bit port space
// (ofputil_port_from_ofp11): reserved ports 0xffffff00+ to 0xff00+. Ports
// OVS would reject (0xff00 to 0xfffffeff) come back truncated.
func Port32To16(p uint32) uint16 { return uint16(p) }

// Port16To32 is ofputil_port_to_ofp11, the inverse of Port32To16.
func Port16To32(p uint16) uint32 {
	if p >= 0xff00 {
		return 0xffff0000 | uint32(p)
	}
	return uint32(p)
}

var ctStateNames = []string{"new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"}
var tcpFlagNames = []string{"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
	"[200]", "[400]", "[800]"}
var tunFlagNames = []string{"oam"}

func flagName(names []string, bit int) string {
	if bit < len(names) {
		return names[bit]
	}
	return ""
}

// AppendFlags writes flags as format_flags_masked does: "a|b" when fully
// masked by max, else "+a-b" for each masked bit, lowest first.
func AppendFlags(b []byte, names []string, v, m, max uint32) []byte {
	if m == max {
		if v == 0 {
			return append(b, '0')
		}
		first := true
		for x := v; x != 0; x &= x - 1 {
			bit := bits.TrailingZeros32(x)
			if !first {
				b = append(b, '|')
			}
			first = false
			if n := flagName(names, bit); n != "" {
				b = append(b, n...)
			} else {
				b = fmt.Appendf(b, "0x%x", uint32(1)<<bit)
			}
		}
		return b
	}
	if m == 0 {
		return append(b, "0/0"...)
	}
	for x := m; x != 0; x &= x - 1 {
		bit := bits.TrailingZeros32(x)
		if v&(1<<bit) != 0 {
			b = append(b, '+')
		} else {
			b = append(b, '-')
		}
		if n := flagName(names, bit); n != "" {
			b = append(b, n...)
		} else {
			b = append(b, "[Unknown]"...)
		}
	}
	return b
}

// AppendHex writes bytes as OVS's ds_put_hex: "0x" and the value without
// leading zeros, or "0".
func AppendHex(b []byte, v []byte) []byte {
	i := 0
	for i < len(v) && v[i] == 0 {
		i++
	}
	if i == len(v) {
		return append(b, '0')
	}
	b = append(b, '0', 'x')
	if v[i] >= 0x10 {
		b = append(b, hexDigits[v[i]>>4])
	}
	b = append(b, hexDigits[v[i]&15])
	for _, c := range v[i+1:] {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

const hexDigits = "0123456789abcdef"

func beUint(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}

func allOnes(m []byte) bool {
	for _, c := range m {
		if c != 0xff {
			return false
		}
	}
	return true
}

func allZero(m []byte) bool {
	for _, c := range m {
		if c != 0 {
			return false
		}
	}
	return true
}

// cidr returns the prefix length of mask m, or -1 if m is not a prefix.
func cidr(m []byte) int {
	n := 0
	for _, c := range m {
		n += bits.LeadingZeros8(^c)
		if c != 0xff {
			break
		}
	}
	for k := 0; k < len(m)*8; k++ {
		bit := m[k/8]&(0x80>>(k%8)) != 0
		if bit != (k < n) {
			return -1
		}
	}
	return n
}

// AppendValue appends value[/mask] as OVS prints it for field i (mf_format).
// mask is nil for an exact value. value and mask have the field's wire
// width (or the mapped length for tun_metadata).
func (i *Info) AppendValue(b []byte, value, mask []byte) []byte {
	if mask != nil && allOnes(mask) {
		mask = nil
	}
	switch i.Format {
	case FormatEthernet:
		b = appendMAC(b, value)
		if mask != nil {
			b = appendMAC(append(b, '/'), mask)
		}
		return b
	case FormatIPv4, FormatIPv6:
		return appendIPMasked(b, value, mask)
	case FormatPort16:
		if mask == nil && len(value) == 2 {
			return AppendPort(b, binary.BigEndian.Uint16(value))
		}
	case FormatPort32:
		if mask == nil && len(value) == 4 {
			p := binary.BigEndian.Uint32(value)
			if p >= 0xffffff00 || p < 0xff00 {
				return AppendPort(b, Port32To16(p))
			}
		}
	case FormatCTState, FormatTCPFlags, FormatTunFlags:
		names, max := ctStateNames, uint32(0xff)
		if i.Format == FormatTCPFlags {
			names, max = tcpFlagNames, 0xfff
		} else if i.Format == FormatTunFlags {
			names, max = tunFlagNames, 0x7 // FLOW_TNL_F_MASK: public bit 1 never fills it
		}
		m := max
		if mask != nil {
			m = uint32(beUint(mask))
		}
		if i.Format == FormatTunFlags {
			m &= 1
		}
		return AppendFlags(b, names, uint32(beUint(value)), m, max)
	case FormatPacketType:
		if len(value) == 4 {
			m := uint32(0xffffffff)
			if mask != nil && len(mask) == 4 {
				m = uint32(beUint(mask))
			}
			return AppendPacketType(b, uint32(beUint(value)), m)
		}
	case FormatFrag:
		m := uint8(3)
		if mask != nil && len(mask) == 1 {
			m = mask[0]
		}
		if len(value) == 1 {
			if s := FragName(value[0], m); s != "" {
				return append(b, s...)
			}
		}
	case FormatDecimal:
		if len(value) <= 8 {
			b = strconv.AppendUint(b, beUint(value), 10)
			if mask != nil {
				b = AppendHex(append(b, '/'), mask)
			}
			return b
		}
	}
	b = AppendHex(b, value)
	if mask != nil {
		b = AppendHex(append(b, '/'), mask)
	}
	return b
}

// FragName names an ip_frag value/mask as match_format does; "" if none.
func FragName(v, m uint8) string {
	switch m & 3 {
	case 3:
		return [4]string{"no", "first", "<error>", "later"}[v&3]
	case 1:
		return [2]string{"no", "yes"}[v&1]
	case 2:
		return [2]string{"not_later", "later"}[(v>>1)&1]
	}
	return ""
}

func appendMAC(b []byte, v []byte) []byte {
	for k, c := range v {
		if k > 0 {
			b = append(b, ':')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

func appendIPMasked(b, v, m []byte) []byte {
	if len(v) != 4 && len(v) != 16 {
		return AppendHex(b, v)
	}
	b = AppendAddr(b, v)
	if m == nil {
		return b
	}
	if n := cidr(m); n >= 0 {
		return strconv.AppendInt(append(b, '/'), int64(n), 10)
	}
	return AppendAddr(append(b, '/'), m)
}

// ParseValue parses value[/mask] for field i with its wire width (for an
// unmapped tun_metadata the significant bytes). mask is nil when exact.
func (i *Info) ParseValue(s string) (value, mask []byte, err error) {
	return i.ParseValueCtx(s, nil)
}

// ParseValueCtx is ParseValue with the tun_metadata lengths of ctx.
func (i *Info) ParseValueCtx(s string, ctx *Context) (value, mask []byte, err error) {
	n := i.Bytes
	if i.VarLen {
		n = i.ValueLen(ctx)
	}
	return i.parseChecked(s, n, nil, ctx)
}

// parseChecked is ParseValueCtx for a value of n bytes, made in vb.
func (i *Info) parseChecked(s string, n int, vb *valueBuf, ctx *Context) (value, mask []byte, err error) {
	value, mask, err = i.parse(s, n, vb, ctx)
	if err != nil {
		return nil, nil, err
	}
	if mask != nil && !i.Maskable && !allOnes(mask) {
		return nil, nil, fmt.Errorf("%s: field does not support masking", i.Name)
	}
	if mask != nil && !(i.VarLen && n == 0) && coversBits(mask, i.Bits) {
		mask = nil
	}
	return value, mask, nil
}

func (i *Info) parse(s string, n int, vb *valueBuf, ctx *Context) (v, m []byte, err error) {
	vs, ms, masked := strings.Cut(s, "/")
	switch i.Format {
	case FormatEthernet:
		if v, err = parseMAC(vs, vb); err == nil && masked {
			m, err = parseMAC(ms, vb)
		}
		return v, m, err
	case FormatIPv4, FormatIPv6:
		return parseIPMasked(vs, ms, masked, n, vb)
	case FormatPort16, FormatPort32:
		if !masked {
			p, err := ctx.ParsePort(s)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", i.Name, err)
			}
			v = vb.make(n)
			if n == 4 {
				binary.BigEndian.PutUint32(v, Port16To32(p))
			} else {
				binary.BigEndian.PutUint16(v, p)
			}
			return v, nil, nil
		}
	case FormatFrag:
		for _, f := range fragNames {
			if f.name == s {
				return vb.bytes(f.v), vb.bytes(f.m), nil
			}
		}
	case FormatCTState, FormatTCPFlags, FormatTunFlags:
		if s != "" && (s[0] < '0' || s[0] > '9') {
			return i.parseFlags(s, n, vb)
		}
	case FormatPacketType:
		if v, err = parsePacketType(s, vb); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", i.Name, err)
		}
		return v, nil, nil
	}
	if v, err = parseInt(vs, n, vb); err == nil && masked {
		m, err = parseInt(ms, n, vb)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", i.Name, err)
	}
	if i.VarLen && n == 0 {
		// Unmapped, as ovs-ofctl has it without the switch's TLV map
		// (mf_field_len): the field is as long as the value's significant
		// bytes, or the mask's if that is longer, and masked unless the
		// mask is all 124 bytes of ones; the value is value&mask.
		if m != nil && allOnes(m) {
			m = nil
		}
		if m != nil {
			for k := range v {
				v[k] &= m[k]
			}
		}
		v, m = shrink(v, m)
	}
	return v, m, nil
}

// parsePacketType reads "(NS,TYPE)" (mf_from_packet_type_string): each a
// 16-bit number, decimal or 0x hex.
func parsePacketType(s string, vb *valueBuf) ([]byte, error) {
	inner, ok := strings.CutPrefix(s, "(")
	if !ok {
		return nil, fmt.Errorf("%q: bad syntax for packet type missing '('", s)
	}
	inner, ok = strings.CutSuffix(inner, ")")
	ns, typ, comma := strings.Cut(inner, ",")
	if !ok || !comma {
		return nil, fmt.Errorf("%q: bad syntax for packet type (expected (NS,TYPE))", s)
	}
	a, err1 := parseInt(ns, 2, vb)
	b, err2 := parseInt(typ, 2, vb)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%q: bad syntax for packet type (expected (NS,TYPE), each 0 to 0xffff)", s)
	}
	return vb.bytes(a[0], a[1], b[0], b[1]), nil
}

// AppendPacketType writes a packet type as format_packet_type_masked does
// inside "packet_type=": (NS,TYPE), each in decimal up to 9 and in hex
// beyond, a masked one as VALUE/0xMASK, a wildcarded one as "*".
func AppendPacketType(b []byte, v, m uint32) []byte {
	b = append(b, '(')
	b = appendU16Masked(b, uint16(v>>16), uint16(m>>16))
	b = append(b, ',')
	b = appendU16Masked(b, uint16(v), uint16(m))
	return append(b, ')')
}

func appendU16Masked(b []byte, v, m uint16) []byte {
	if m == 0 {
		return append(b, '*')
	}
	if v > 9 {
		b = strconv.AppendUint(append(b, "0x"...), uint64(v), 16)
	} else {
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	if m != 0xffff {
		b = strconv.AppendUint(append(b, "/0x"...), uint64(m), 16)
	}
	return b
}

var fragNames = []struct {
	name string
	v, m uint8
}{{"no", 0, 3}, {"yes", 1, 1}, {"first", 1, 3}, {"later", 3, 3}, {"not_later", 0, 2}}

// shrink trims an unmapped tun_metadata value (and mask) to its
// significant bytes: none at all for a zero value (and mask).
func shrink(v, m []byte) ([]byte, []byte) {
	k := 0
	for k < len(v) && v[k] == 0 && (m == nil || m[k] == 0) {
		k++
	}
	if m != nil {
		m = m[k:]
	}
	return v[k:], m
}

// parseInt parses a decimal or 0x-hex integer of any width into n bytes
// (n == 0: up to 124 bytes, unmapped tun_metadata).
func parseInt(s string, n int, vb *valueBuf) ([]byte, error) {
	if out, ok := parseSmallInt(s, n, vb); ok {
		return out, nil
	}
	return parseBigInt(s, n, vb)
}

// parseBigInt is parseInt for any value.
func parseBigInt(s string, n int, vb *valueBuf) ([]byte, error) {
	x, ok := new(big.Int).SetString(s, 0)
	if strings.HasPrefix(s, "0") && !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		x, ok = new(big.Int).SetString(s, 10) // OVS reads a leading 0 as decimal
	}
	if !ok || x.Sign() < 0 {
		return nil, fmt.Errorf("%q: bad value", s)
	}
	max := n
	if max == 0 {
		max = 124
	}
	bs := x.Bytes()
	if len(bs) > max {
		return nil, fmt.Errorf("%q: value too large", s)
	}
	if n == 0 {
		n = max
	}
	out := vb.make(n)
	copy(out[n-len(bs):], bs)
	return out, nil
}

// parseSmallInt is parseInt's fast path for the common case, plain
// decimal or 0x-hex that fits in 64 bits and in n bytes; anything else
// (ok false) goes the general way, which gives the same value or error.
func parseSmallInt(s string, n int, vb *valueBuf) (out []byte, ok bool) {
	var x uint64
	var err error
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		x, err = strconv.ParseUint(s[2:], 16, 64)
	} else {
		x, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil || n == 0 || (n < 8 && x>>(8*n) != 0) {
		return nil, false
	}
	out = vb.make(n)
	for k := n - 1; k >= 0 && x != 0; k-- {
		out[k] = byte(x)
		x >>= 8
	}
	return out, true
}

func parseIPMasked(vs, ms string, masked bool, n int, vb *valueBuf) (v, m []byte, err error) {
	a, err := netip.ParseAddr(vs)
	if err != nil || (n == 4) != a.Is4() {
		return nil, nil, fmt.Errorf("%q: bad IP address", vs)
	}
	v = appendAddr(vb, a)
	if !masked {
		return v, nil, nil
	}
	if bitsN, err := strconv.Atoi(ms); err == nil {
		if bitsN < 0 || bitsN > n*8 {
			return nil, nil, fmt.Errorf("%q: bad prefix length", ms)
		}
		m = vb.make(n)
		for k := 0; k < bitsN; k++ {
			m[k/8] |= 0x80 >> (k % 8)
		}
		return v, m, nil
	}
	ma, err := netip.ParseAddr(ms)
	if err != nil || ma.Is4() != a.Is4() {
		return nil, nil, fmt.Errorf("%q: bad IP mask", ms)
	}
	return v, appendAddr(vb, ma), nil
}

// parseFlags reads "+a-b" (masked) or "a|b" (exact) flag names.
func (i *Info) parseFlags(s string, n int, vb *valueBuf) (v, m []byte, err error) {
	names, max := ctStateNames, uint32(0xff)
	if i.Format == FormatTCPFlags {
		names, max = tcpFlagNames, 0xfff
	} else if i.Format == FormatTunFlags {
		names, max = tunFlagNames, 1
	}
	var val, mask uint32
	find := func(name string) (uint32, error) {
		for k, nm := range names {
			if nm == name {
				return 1 << k, nil
			}
		}
		return 0, fmt.Errorf("%s: %q: unknown flag", i.Name, name)
	}
	if s[0] == '+' || s[0] == '-' {
		for s != "" {
			sign := s[0]
			if sign != '+' && sign != '-' {
				return nil, nil, fmt.Errorf("%s: %q: expected + or -", i.Name, s)
			}
			end := strings.IndexAny(s[1:], "+-") + 1
			if end == 0 {
				end = len(s)
			}
			bit, err := find(s[1:end])
			if err != nil {
				return nil, nil, err
			}
			if mask&bit != 0 {
				return nil, nil, fmt.Errorf("%s: %q: flag given twice", i.Name, s[1:end])
			}
			mask |= bit
			if sign == '+' {
				val |= bit
			}
			s = s[end:]
		}
	} else {
		for _, name := range strings.Split(s, "|") {
			bit, err := find(name)
			if err != nil {
				return nil, nil, err
			}
			val |= bit
		}
		mask = max
	}
	v, m = vb.make(n), vb.make(n)
	putUint(v, uint64(val))
	putUint(m, uint64(mask))
	return v, m, nil
}

func putUint(b []byte, x uint64) {
	for k := len(b) - 1; k >= 0; k-- {
		b[k] = byte(x)
		x >>= 8
	}
}

// coversBits reports whether mask has all of the low n bits set: an exact
// match for a field of n significant bits.
func coversBits(mask []byte, n int) bool {
	for k := len(mask) - 1; k >= 0 && n > 0; k-- {
		want := byte(0xff)
		if n < 8 {
			want = byte(1)<<n - 1
		}
		if mask[k]&want != want {
			return false
		}
		n -= 8
	}
	return true
}

// ValidValue is mf_is_value_valid: whether v (the field's width) is a
// value field i can hold. Most fields take any value; the narrow ones, and
// ports and the NSH header fields, do not.
func (i *Info) ValidValue(v []byte) bool {
	x := beUint(v)
	switch i.Name {
	case "in_port_oxm", "actset_output":
		return x < 0xff00 || x >= 0xffffff00
	case "nw_tos": // the DSCP bits of the TOS byte
		return x&^0xfc == 0
	case "ip_dscp": // OXM's DSCP, shifted down
		return x <= 0x3f
	case "nw_ecn", "ip_frag":
		return x <= 3
	case "tcp_flags":
		return x <= 0x0fff
	case "arp_op":
		return x <= 0xff
	case "dl_vlan":
		return x&0xf000 == 0
	case "vlan_vid":
		return x&0xe000 == 0
	case "dl_vlan_pcp", "vlan_pcp", "mpls_tc":
		return x <= 7
	case "ipv6_label", "mpls_label":
		return x <= 0xfffff
	case "mpls_bos", "tun_flags":
		return x <= 1
	case "ct_state":
		return x <= 0xff
	case "nsh_ttl":
		return x <= 63
	case "nsh_mdtype":
		return x == 1 || x == 2
	case "nsh_spi":
		return x <= 0xffffff
	}
	return true
}
