package action

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Nicira subtypes of the conntrack family.
const (
	nxastCT  = 35
	nxastNAT = 36
)

// NX_CT_F_* (include/openflow/nicira-ext.h).
const (
	CTCommit = 1 << 0
	CTForce  = 1 << 1
)

// ctRecircNone is NX_CT_RECIRC_NONE: no recirculation table.
const ctRecircNone = 0xff

func init() {
	registerNX(nxastCT, decodeCT)
	registerNX(nxastNAT, decodeNAT)
	registerParser("ct", parseCT)
	registerParser("nat", parseNATAction)
}

// CT is NXAST_CT (struct nx_action_conntrack), 24 bytes then the nested
// actions (a NAT first, if any, printed outside "exec(...)"):
//
//	 0       2       4               8       10      12              16
//	+-------+-------+---------------+-------+-------+---------------+
//	| 0xffff|  len  | vendor 0x2320 |  35   | flags |   zone_src    |
//	+-------+---+---+-----------+---+-------+-------+---------------+
//	| zone  |tbl|   pad (3)     |  alg  |  actions ...
//	+-------+---+---------------+-------+----------------
//
// zone is zone_ofs_nbits when zone_src names a field, else the zone.
type CT struct {
	Flags       uint16   // CTCommit, CTForce
	ZoneSrc     Subfield // zero Header: the zone is ZoneImm
	ZoneImm     uint16
	RecircTable uint8 // 255: none
	Alg         uint16
	Actions     List
}

func decodeCT(ctx Context, b []byte) (Action, error) {
	if len(b) < 24 {
		return nil, nxaError(ctx, "ct", "OFPBAC_BAD_LEN")
	}
	a := &CT{Flags: be.Uint16(b[10:]), RecircTable: b[18], Alg: be.Uint16(b[22:])}
	if a.Flags&CTForce != 0 && a.Flags&CTCommit == 0 {
		return nil, nxaError(ctx, "ct", "OFPBAC_BAD_ARGUMENT")
	}
	if h := be.Uint32(b[12:]); h != 0 {
		h, err := nxaFieldByHeader(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("ct: zone: %w", err)
		}
		ofs, bits := splitOfsNbits(be.Uint16(b[16:]))
		a.ZoneSrc = Subfield{Header: h, Ofs: ofs, Bits: bits}
		if err := nxaCheck(ctx, a.ZoneSrc); err != nil {
			return nil, fmt.Errorf("ct: zone: %w", err)
		}
		if bits != 16 {
			return nil, nxaError(ctx, "ct: zone", "OFPBAC_BAD_SET_LEN")
		}
	} else {
		a.ZoneImm = be.Uint16(b[16:])
	}
	l, err := DecodeList(ctx, b[24:])
	if err != nil {
		return nil, fmt.Errorf("ct: %w", err)
	}
	a.Actions = l
	if a.Flags&CTCommit == 0 {
		// Without commit only an argument-less nat may follow.
		for _, x := range l {
			if r, ok := x.(*Raw); ok {
				return nil, fmt.Errorf("ct: %w", rawError(r.Data))
			}
			n, ok := x.(*NAT)
			if !ok || n.Flags != 0 || n.Min.IsValid() {
				return nil, nxaError(ctx, "ct", "OFPBAC_BAD_ARGUMENT")
			}
		}
	}
	return a, nil
}

func (a *CT) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastCT)
	b = be.AppendUint16(b, a.Flags)
	if a.ZoneSrc.Header != 0 {
		b = nxaAppendHeader(b, a.ZoneSrc.Header)
		b = be.AppendUint16(b, ofsNbits(a.ZoneSrc.Ofs, a.ZoneSrc.Bits))
	} else {
		b = append(b, 0, 0, 0, 0)
		b = be.AppendUint16(b, a.ZoneImm)
	}
	b = append(b, a.RecircTable, 0, 0, 0)
	b = be.AppendUint16(b, a.Alg)
	b, err := a.Actions.AppendBinary(b)
	if err != nil {
		return b[:start], fmt.Errorf("ct: %w", err)
	}
	return finishAction(b, start)
}

func (a *CT) AppendText(b []byte) ([]byte, error) {
	b = append(b, "ct("...)
	if a.Flags&CTCommit != 0 {
		b = append(b, "commit,"...)
	}
	if a.Flags&CTForce != 0 {
		b = append(b, "force,"...)
	}
	if a.RecircTable != ctRecircNone {
		b = fmt.Appendf(b, "table=%d,", a.RecircTable)
	}
	if a.ZoneSrc.Header != 0 {
		b = append(a.ZoneSrc.appendText(append(b, "zone="...)), ',')
	} else if a.ZoneImm != 0 {
		b = fmt.Appendf(b, "zone=%d,", a.ZoneImm)
	}
	rest := a.Actions
	if len(rest) > 0 {
		if n, ok := rest[0].(*NAT); ok {
			b, _ = n.AppendText(b)
			b = append(b, ',')
			rest = rest[1:]
		}
	}
	if len(rest) > 0 {
		var err error
		if b, err = rest.AppendText(append(b, "exec("...)); err != nil {
			return b, err
		}
		b = append(b, "),"...)
	}
	switch a.Alg {
	case 0:
	case 21:
		b = append(b, "alg=ftp,"...)
	case 69:
		b = append(b, "alg=tftp,"...)
	default:
		b = fmt.Appendf(b, "alg=%d,", a.Alg)
	}
	return append(nxaChomp(b), ')'), nil
}

// validate checks the zone subfield and the actions inside ct as OVS
// decodes them (nestingRule: nat, and writes to ct_mark or ct_label).
func (a *CT) validate(ctx Context) error {
	if a.ZoneSrc.Header != 0 {
		if err := nxaCheck(ctx, a.ZoneSrc); err != nil {
			return fmt.Errorf("ct: zone: %w", err)
		}
	}
	if err := validateNested(ctx, a.Actions, outerCT); err != nil {
		return fmt.Errorf("ct: %w", err)
	}
	return nil
}

// parseCT parses the inside of "ct(...)" (parse_CT): nat(...) and exec(...)
// actions are kept in the order written.
func parseCT(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &CT{RecircTable: ctRecircNone}
	// nxaKeyValues, without the slice.
	for it, k, ok := nextItem(arg, 0); ok; it, k, ok = nextItem(arg, k) {
		kv := nxaKV{key: it.key, value: it.val, keyOff: it.off, off: it.valOff}
		switch kv.key {
		case "commit":
			a.Flags |= CTCommit
		case "force":
			a.Flags |= CTForce
		case "table":
			t, err := strconv.ParseUint(kv.value, 0, 8)
			if err != nil {
				return nil, kv.shift(nxaSyntax(kv.value, "unknown table"))
			}
			if t == ctRecircNone {
				return nil, kv.shift(nxaSyntax(kv.value, "invalid table 0xff"))
			}
			a.RecircTable = uint8(t)
		case "zone":
			// Not a number unless it starts with a digit: skip making
			// ParseUint's error for "NXM_NX_REG13[0..15]".
			if v := kv.value; v != "" && '0' <= v[0] && v[0] <= '9' {
				if z, err := strconv.ParseUint(v, 0, 16); err == nil {
					a.ZoneImm = uint16(z)
					break
				}
			}
			sf, err := parseSubfieldCtx(ctx, kv.value)
			if err != nil {
				return nil, kv.shift(err)
			}
			a.ZoneSrc = sf
		case "alg":
			switch kv.value {
			case "ftp":
				a.Alg = 21
			case "tftp":
				a.Alg = 69
			default:
				return nil, kv.shift(nxaSyntax(kv.value, "invalid conntrack helper"))
			}
		case "nat":
			n, err := parseNAT(kv.value)
			if err != nil {
				return nil, kv.shift(err)
			}
			a.Actions = append(a.Actions, n)
		case "exec":
			ctx := ctx
			ctx.nest = outerCT
			l, err := ParseList(ctx, kv.value)
			if err != nil {
				return nil, kv.shift(err)
			}
			a.Actions = append(a.Actions, l...)
		default:
			return nil, shiftErr(nxaSyntax(kv.key, `invalid argument to "ct" action`), kv.keyOff, kv.key)
		}
	}
	if a.Flags&CTForce != 0 && a.Flags&CTCommit == 0 {
		return nil, nxaSyntax(arg, `"force" flag requires "commit" flag.`)
	}
	if err := a.validate(ctx); err != nil {
		return nil, nxaSyntax(arg, err.Error())
	}
	return a, nil
}

// NX_NAT_F_* (include/openflow/nicira-ext.h).
const (
	NATSrc         = 1 << 0
	NATDst         = 1 << 1
	NATPersistent  = 1 << 2
	NATProtoHash   = 1 << 3
	NATProtoRandom = 1 << 4
	natFlagsMask   = 0x1f
)

// NX_NAT_RANGE_*: which optional fields follow struct nx_action_nat.
const (
	natRangeIPv4Min  = 1 << 0
	natRangeIPv4Max  = 1 << 1
	natRangeIPv6Min  = 1 << 2
	natRangeIPv6Max  = 1 << 3
	natRangeProtoMin = 1 << 4
	natRangeProtoMax = 1 << 5
)

// NAT is NXAST_NAT (struct nx_action_nat): 16 bytes (pad 2, flags,
// range_present), then the present range fields in order (IPv4 min, max or
// IPv6 min, max; port min, max), zero-padded to 8. It is valid only inside
// a ct action.
type NAT struct {
	Flags              uint16     // NATSrc, NATDst, ...
	Min, Max           netip.Addr // zero Addr: absent
	ProtoMin, ProtoMax uint16     // 0: absent
}

func decodeNAT(ctx Context, b []byte) (Action, error) {
	if len(b) < 16 {
		return nil, nxaError(ctx, "nat", "OFPBAC_BAD_LEN")
	}
	a := &NAT{Flags: be.Uint16(b[12:])}
	if a.Flags&^natFlagsMask != 0 ||
		a.Flags&(NATSrc|NATDst) == NATSrc|NATDst ||
		a.Flags&(NATProtoHash|NATProtoRandom) == NATProtoHash|NATProtoRandom ||
		!a.decodeRange(be.Uint16(b[14:]), b[16:]) {
		return nil, nxaError(ctx, "nat", "OFPBAC_BAD_ARGUMENT")
	}
	return a, nil
}

// decodeRange reads the fields present says follow (decode_NXAST_RAW_NAT):
// a range needs its minimum, addresses are of one family and nonzero, and
// no maximum is below its minimum. Bytes after them are padding.
func (a *NAT) decodeRange(present uint16, opts []byte) bool {
	take := func(n int) ([]byte, bool) {
		if len(opts) < n {
			return nil, false
		}
		v := opts[:n]
		opts = opts[n:]
		return v, true
	}
	addrs := func(n int, maxToo bool) bool {
		v, ok := take(n)
		if !ok || allZero(v) {
			return false
		}
		a.Min, _ = netip.AddrFromSlice(v)
		if !maxToo {
			return true
		}
		if v, ok = take(n); !ok {
			return false
		}
		a.Max, _ = netip.AddrFromSlice(v)
		return !a.Max.Less(a.Min)
	}
	switch {
	case present&natRangeIPv4Min != 0:
		if present&(natRangeIPv6Min|natRangeIPv6Max) != 0 || !addrs(4, present&natRangeIPv4Max != 0) {
			return false
		}
	case present&natRangeIPv4Max != 0:
		return false
	case present&natRangeIPv6Min != 0:
		if !addrs(16, present&natRangeIPv6Max != 0) {
			return false
		}
	case present&natRangeIPv6Max != 0:
		return false
	}
	switch {
	case present&natRangeProtoMin != 0:
		v, ok := take(2)
		if !a.Min.IsValid() || !ok || be.Uint16(v) == 0 {
			return false
		}
		a.ProtoMin = be.Uint16(v)
		if present&natRangeProtoMax != 0 {
			if v, ok = take(2); !ok || be.Uint16(v) < a.ProtoMin {
				return false
			}
			a.ProtoMax = be.Uint16(v)
		}
	case present&natRangeProtoMax != 0:
		return false
	}
	return true
}

func (a *NAT) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastNAT)
	b = append(b, 0, 0)
	b = be.AppendUint16(b, a.Flags)
	b = append(b, 0, 0) // range_present, written below
	var present uint16
	if a.Min.IsValid() {
		minFlag, maxFlag := uint16(natRangeIPv4Min), uint16(natRangeIPv4Max)
		if a.Min.Is6() {
			minFlag, maxFlag = natRangeIPv6Min, natRangeIPv6Max
		}
		if !a.Min.IsUnspecified() {
			b = append(b, a.Min.AsSlice()...)
			present |= minFlag
		}
		if a.Max.IsValid() && !a.Max.IsUnspecified() {
			b = append(b, a.Max.AsSlice()...)
			present |= maxFlag
		}
		if a.ProtoMin != 0 {
			b = be.AppendUint16(b, a.ProtoMin)
			present |= natRangeProtoMin
		}
		if a.ProtoMax != 0 {
			b = be.AppendUint16(b, a.ProtoMax)
			present |= natRangeProtoMax
		}
	}
	be.PutUint16(b[start+14:], present)
	return finishAction(b, start)
}

// AppendText writes format_NAT's form; like OVS it prints the flags only
// along with an address range.
func (a *NAT) AppendText(b []byte) ([]byte, error) {
	b = append(b, "nat"...)
	if a.Flags&(NATSrc|NATDst) == 0 {
		return b, nil
	}
	if a.Flags&NATSrc != 0 {
		b = append(b, "(src"...)
	} else {
		b = append(b, "(dst"...)
	}
	if a.Min.IsValid() {
		bracket := a.Min.Is6() && a.ProtoMin != 0
		b = append(b, '=')
		b = natAppendAddr(b, a.Min, bracket)
		if a.Max.IsValid() && !a.Max.IsUnspecified() && a.Max != a.Min {
			b = natAppendAddr(append(b, '-'), a.Max, bracket)
		}
		if a.ProtoMin != 0 {
			b = fmt.Appendf(b, ":%d", a.ProtoMin)
			if a.ProtoMax != 0 && a.ProtoMax != a.ProtoMin {
				b = fmt.Appendf(b, "-%d", a.ProtoMax)
			}
		}
		b = append(b, ',')
		if a.Flags&NATPersistent != 0 {
			b = append(b, "persistent,"...)
		}
		if a.Flags&NATProtoHash != 0 {
			b = append(b, "hash,"...)
		}
		if a.Flags&NATProtoRandom != 0 {
			b = append(b, "random,"...)
		}
	}
	return append(nxaChomp(b), ')'), nil
}

func natAppendAddr(b []byte, ip netip.Addr, bracket bool) []byte {
	if bracket {
		b = append(b, '[')
	}
	b = oxm.AppendAddr(b, ip.AsSlice())
	if bracket {
		b = append(b, ']')
	}
	return b
}

// parseNATAction is "nat" on its own, which OVS accepts only inside ct
// (nestingRule).
func parseNATAction(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	return parseNAT(arg)
}

// parseNAT parses the inside of "nat(...)" (parse_NAT).
func parseNAT(arg string) (*NAT, error) {
	a := &NAT{}
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		switch kv.key {
		case "src", "dst":
			if kv.key == "src" {
				a.Flags |= NATSrc
			} else {
				a.Flags |= NATDst
			}
			if kv.value != "" {
				if err := a.parseRange(kv.value); err != nil {
					return nil, kv.shift(err)
				}
			}
		case "persistent":
			a.Flags |= NATPersistent
		case "hash":
			a.Flags |= NATProtoHash
		case "random":
			a.Flags |= NATProtoRandom
		default:
			return nil, shiftErr(nxaSyntax(kv.key, `invalid key in "nat" argument`), kv.keyOff, kv.key)
		}
	}
	switch {
	case a.Flags&(NATSrc|NATDst) == NATSrc|NATDst:
		return nil, nxaSyntax(arg, `May only specify one of "src" or "dst".`)
	case a.Flags&(NATSrc|NATDst) == 0 && a.Flags != 0:
		return nil, nxaSyntax(arg, `Flags allowed only with "src" or "dst".`)
	case a.Flags&(NATProtoHash|NATProtoRandom) == NATProtoHash|NATProtoRandom:
		return nil, nxaSyntax(arg, `Both "hash" and "random" are not allowed.`)
	}
	return a, nil
}

// parseRange parses str_to_nat_range's syntax: ADDR[-ADDR][:PORT[-PORT]],
// IPv6 addresses optionally in brackets (needed before a port).
func (a *NAT) parseRange(s string) error {
	bad := nxaSyntax(s, "invalid nat range")
	rest := s
	var ok bool
	if a.Min, rest, ok = natScanAddr(rest, netip.Addr{}); !ok {
		return bad
	}
	if strings.HasPrefix(rest, "-") {
		if a.Max, rest, ok = natScanAddr(rest[1:], a.Min); !ok || a.Max.Less(a.Min) {
			return bad
		}
	}
	if strings.HasPrefix(rest, ":") {
		var p uint64
		var err error
		n := nxaSpan(rest[1:], "0123456789")
		if p, err = strconv.ParseUint(rest[1:1+n], 10, 16); err != nil {
			return bad
		}
		a.ProtoMin, rest = uint16(p), rest[1+n:]
		if strings.HasPrefix(rest, "-") {
			n = nxaSpan(rest[1:], "0123456789")
			if p, err = strconv.ParseUint(rest[1:1+n], 10, 16); err != nil || uint16(p) < a.ProtoMin {
				return bad
			}
			a.ProtoMax, rest = uint16(p), rest[1+n:]
		}
	}
	if rest != "" {
		return nxaSyntax(rest, "garbage after nat range")
	}
	// OVS writes a zero minimum as absent and its decoder refuses a
	// maximum without a minimum (decode_NXAST_RAW_NAT): refuse here what
	// the switch would, and keep a zero range absent so that it prints as
	// OVS prints it.
	if a.Min.IsValid() && a.Min.IsUnspecified() {
		if a.Max.IsValid() && !a.Max.IsUnspecified() {
			return bad
		}
		a.Min, a.Max = netip.Addr{}, netip.Addr{}
	}
	if a.ProtoMin == 0 && a.ProtoMax != 0 {
		return bad
	}
	return nil
}

// natScanAddr reads an address from the front of s: IPv4, or IPv6 bare or
// in brackets; with a valid like, of the same family.
func natScanAddr(s string, like netip.Addr) (netip.Addr, string, bool) {
	if n := nxaSpan(s, "0123456789."); n > 0 && (!like.IsValid() || like.Is4()) {
		if ip, err := netip.ParseAddr(s[:n]); err == nil && ip.Is4() {
			return ip, s[n:], true
		}
	}
	if like.IsValid() && like.Is4() {
		return netip.Addr{}, s, false
	}
	var text, rest string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, s, false
		}
		text, rest = s[1:end], s[end+1:]
	} else {
		n := nxaSpan(s, "0123456789abcdefABCDEF:.")
		text, rest = s[:n], s[n:]
	}
	ip, err := netip.ParseAddr(text)
	if err != nil || !ip.Is6() || ip.Zone() != "" {
		return netip.Addr{}, s, false
	}
	return ip, rest, true
}

var errNoField = errors.New("no field")
