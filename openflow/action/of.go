package action

import (
	"fmt"
	"strconv"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Output is OFPAT_OUTPUT (OpenFlow 1.3.5 §7.2.5, struct ofp_action_output):
//
//	type=0 u16 | len=16 u16 | port u32 | max_len u16 | pad 6
//
// Port is in OpenFlow 1.1+ numbering (LOCAL = 0xfffffffe); MaxLen counts
// only for the controller port.
type Output struct {
	Port   uint32
	MaxLen uint16
}

func (a *Output) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendOFHeader(b, 0)
	b = be.AppendUint32(b, a.Port)
	b = be.AppendUint16(b, a.MaxLen)
	return finishAction(append(b, 0, 0, 0, 0, 0, 0), start)
}

// AppendText writes output:5, a reserved port by name, and CONTROLLER:max_len.
func (a *Output) AppendText(b []byte) ([]byte, error) {
	p, ok := port16(a.Port)
	if !ok || p < portMax {
		b = append(b, "output:"...)
	}
	b = appendPort32(b, a.Port)
	if ok && p == portController {
		b = fmt.Appendf(b, ":%d", a.MaxLen)
	}
	return b, nil
}

// Std is a standard action with at most one argument, which sits at byte 4
// (struct ofp_action_push, ofp_action_group, ofp_action_set_queue, ...,
// and OpenFlow 1.1's set_vlan_vid ... set_tp_dst, §A.2.5 of 1.1). For
// set_dl_src/dst Arg holds the MAC address in its low 48 bits.
type Std struct {
	Type uint16
	Arg  uint64
}

// stdSpec says how a Std action is written.
type stdSpec struct {
	name       string // ovs-ofctl keyword
	size       int    // bytes of argument: 0, 1, 2, 4 or 6
	form       byte   // text: ':' kw:arg, '(' kw(arg), 'x' kw:0x%04x, 'm' MAC, 'i' IPv4, 0 bare
	minV, maxV uint8  // versions OVS decodes it in (OpenFlow 1.1's set_* in every later one, deprecated)
}

var stdSpecs = map[uint16]stdSpec{
	1:  {"set_vlan_vid", 2, ':', 2, 0xff},
	2:  {"set_vlan_pcp", 1, ':', 2, 0xff},
	3:  {"mod_dl_src", 6, 'm', 2, 0xff},
	4:  {"mod_dl_dst", 6, 'm', 2, 0xff},
	5:  {"mod_nw_src", 4, 'i', 2, 0xff},
	6:  {"mod_nw_dst", 4, 'i', 2, 0xff},
	7:  {"mod_nw_tos", 1, ':', 2, 0xff},
	8:  {"mod_nw_ecn", 1, ':', 2, 0xff},
	9:  {"mod_tp_src", 2, ':', 2, 0xff},
	10: {"mod_tp_dst", 2, ':', 2, 0xff},
	13: {"set_mpls_label", 4, '(', 2, 0xff},
	14: {"set_mpls_tc", 1, '(', 2, 0xff},
	15: {"set_mpls_ttl", 1, '(', 2, 0xff},
	16: {"dec_mpls_ttl", 0, 0, 2, 0xff},
	17: {"push_vlan", 2, 'x', 2, 0xff},
	18: {"pop_vlan", 0, 0, 2, 0xff},
	19: {"push_mpls", 2, 'x', 2, 0xff},
	20: {"pop_mpls", 2, 'x', 2, 0xff},
	21: {"set_queue", 4, ':', 2, 0xff},
	22: {"group", 4, ':', 2, 0xff},
	23: {"mod_nw_ttl", 1, ':', 2, 0xff},
	24: {"dec_ttl", 0, 0, 2, 0xff},
	29: {"meter", 4, ':', 6, 0xff},
}

func (a *Std) AppendBinary(b []byte) ([]byte, error) {
	spec, ok := stdSpecs[a.Type]
	if !ok {
		return nil, fmt.Errorf("unknown standard action type %d", a.Type)
	}
	b, start := appendOFHeader(b, a.Type)
	for i := spec.size - 1; i >= 0; i-- {
		b = append(b, byte(a.Arg>>(8*i)))
	}
	return finishAction(b, start)
}

func (a *Std) AppendText(b []byte) ([]byte, error) {
	spec, ok := stdSpecs[a.Type]
	if !ok {
		return nil, fmt.Errorf("unknown standard action type %d", a.Type)
	}
	b = append(b, spec.name...)
	switch spec.form {
	case ':':
		b = strconv.AppendUint(append(b, ':'), a.Arg, 10)
	case '(':
		b = append(strconv.AppendUint(append(b, '('), a.Arg, 10), ')')
	case 'x':
		b = fmt.Appendf(b, ":0x%04x", a.Arg)
	case 'm':
		v := a.Arg
		b = fmt.Appendf(b, ":%02x:%02x:%02x:%02x:%02x:%02x",
			byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case 'i':
		b = fmt.Appendf(b, ":%d.%d.%d.%d", byte(a.Arg>>24), byte(a.Arg>>16), byte(a.Arg>>8), byte(a.Arg))
	}
	return b, nil
}

// decodeStd decodes every Std type; OVS ignores the padding.
func decodeStd(ctx Context, b []byte) (Action, error) {
	t := be.Uint16(b)
	spec := stdSpecs[t]
	if ctx.Version < spec.minV || ctx.Version > spec.maxV {
		return nil, nil
	}
	want := 8
	if spec.size > 4 {
		want = 16
	}
	if len(b) != want {
		return nil, badLen(spec.name)
	}
	var v uint64
	for i := 0; i < spec.size; i++ {
		v = v<<8 | uint64(b[4+i])
	}
	if err := checkStdArg(t, v); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	return &Std{Type: t, Arg: v}, nil
}

// decodeOutput decodes OFPAT_OUTPUT.
func decodeOutput(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen("output")
	}
	return &Output{Port: be.Uint32(b[4:]), MaxLen: be.Uint16(b[8:])}, nil
}

// SetField is OFPAT_SET_FIELD (OpenFlow 1.3.5 §7.2.5, struct
// ofp_action_set_field: type=25 | len | OXM TLV | pad to 8), and also
// Nicira's NXAST_REG_LOAD2, which carries the same TLV after the Nicira
// header and which OVS prints the same way. A Mask (OpenFlow 1.5, or
// REG_LOAD2) sets only some bits. An experimenter field (class 0xffff:
// NSH, ERSPAN) has its Experimenter between header and value.
type SetField struct {
	Field        oxm.Header // without the mask bit, length as for an exact value
	Experimenter uint32     // for class 0xffff
	Value        []byte
	Mask         []byte // nil: the whole field
	Load2        bool   // written as NXAST_REG_LOAD2
	// FromLoad: parsed from load: in OpenFlow 1.5, where OVS writes a
	// set_field but still prints load: (ofpact raw NXAST_RAW_REG_LOAD).
	FromLoad bool
	// legacy is the OpenFlow 1.1 action it was parsed from (mod_nw_src is
	// 5), which OVS checks as that action, not as a set_field. Parsing
	// only.
	legacy uint16
}

// NewSetField is set_field:VALUE[/MASK]->FIELD for field info as OVS
// writes it in protocol version (its header for that version, the
// experimenter ID for class 0xffff): OFPAT_SET_FIELD, with a mask only in
// OpenFlow 1.5. value (and mask, nil for all ones) have the field's width.
func NewSetField(info *oxm.Info, version uint8, value, mask []byte) *SetField {
	h, exp := info.HeaderFor(version)
	return &SetField{Field: exactHeader(h, len(value)), Experimenter: exp, Value: value, Mask: mask}
}

// exactHeader is h with the length of an exact value of n bytes (and the
// experimenter ID for class 0xffff).
func exactHeader(h oxm.Header, n int) oxm.Header {
	if h.Class() == 0xffff {
		n += 4
	}
	return h&^0x1ff | oxm.Header(n&0xff)
}

func (a *SetField) appendTLV(b []byte) []byte {
	h := a.Field &^ 0x1ff
	n := len(a.Value)
	if a.Mask != nil {
		h |= 0x100
		n *= 2
	}
	if h.Class() == 0xffff {
		b = be.AppendUint32(b, uint32(h)|uint32((n+4)&0xff))
		b = be.AppendUint32(b, a.Experimenter)
	} else {
		b = be.AppendUint32(b, uint32(h)|uint32(n&0xff))
	}
	return append(append(b, a.Value...), a.Mask...)
}

func (a *SetField) AppendBinary(b []byte) ([]byte, error) {
	if a.Mask != nil && len(a.Mask) != len(a.Value) {
		return nil, fmt.Errorf("set_field: mask of %d bytes for value of %d", len(a.Mask), len(a.Value))
	}
	var start int
	if a.Load2 {
		b, start = appendNXHeader(b, nxRegLoad2)
	} else {
		b, start = appendOFHeader(b, 25)
	}
	return finishAction(a.appendTLV(b), start)
}

// info is the field set, nil if unknown.
func (a *SetField) info() *oxm.Info { return lookupFieldExp(a.Field, a.Experimenter) }

// AppendText writes set_field:VALUE[/MASK]->FIELD, the value as the field
// is written in a match.
func (a *SetField) AppendText(b []byte) ([]byte, error) {
	info := a.info()
	if info == nil {
		return nil, fmt.Errorf("set_field: unknown field 0x%08x", uint32(a.Field))
	}
	if a.FromLoad {
		mask := a.Mask
		if mask == nil {
			mask = make([]byte, len(a.Value))
			for k := range mask {
				mask[k] = 0xff
			}
		}
		return setFieldFor(Context{Version: 4}, info, a.Value, mask, true).AppendText(b)
	}
	mask := a.Mask
	if allOnes(mask) {
		mask = nil
	}
	b = appendValue(append(b, "set_field:"...), info, a.Value, mask)
	return append(append(b, "->"...), info.Name...), nil
}

func allOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// decodeSetFieldTLV decodes the OXM TLV of a set_field or reg_load2 (tlv
// runs to the action's end), checking it in the order OVS's
// decode_ofpat_set_field does (nx_pull_entry), with its error codes. A
// header OVS finds no field for gives (nil, nil): kept raw (Validate:
// setFieldRawError).
func decodeSetFieldTLV(ctx Context, tlv []byte, maskOK, load2 bool) (Action, error) {
	h, hdr, exp, err := setFieldHeader(tlv)
	if err != nil {
		return nil, fmt.Errorf("set_field: %w", err)
	}
	info, badLen := oxm.ActionField(h, exp)
	if info == nil {
		if known := fieldOfAnyLength(h, exp); known != nil {
			// A known field of another length is refused here, before the
			// actions after it; an unknown one is kept.
			code := "OFPBAC_BAD_SET_TYPE"
			if badLen {
				code = "OFPBAC_BAD_SET_LEN"
			}
			return nil, fmt.Errorf("set_field: %s of %d bytes: %w", known.Name, h.Length(), ofpErr(code))
		}
		return nil, nil
	}
	payload := int(h.Length()) - (hdr - 4)
	n := payload
	if h.HasMask() {
		n /= 2
	}
	end := 4 + int(h.Length())
	if end > len(tlv) {
		return nil, fmt.Errorf("set_field: %s runs past the action: %w", info.Name, ofpErr("OFPBMC_BAD_LEN"))
	}
	if h.HasMask() {
		// is_mask_consistent: no value bit outside the mask.
		for k := 0; k < n; k++ {
			if tlv[hdr+k]&^tlv[hdr+n+k] != 0 {
				return nil, fmt.Errorf("set_field: %s: value bits outside the mask: %w", info.Name, ofpErr("OFPBMC_BAD_WILDCARDS"))
			}
		}
	}
	if h.HasMask() && !maskOK {
		return nil, fmt.Errorf("set_field: masked %s: %w", info.Name, ofpErr("OFPBAC_BAD_SET_MASK"))
	}
	if !allZero(tlv[end:]) {
		return nil, fmt.Errorf("set_field: nonzero padding: %w", ofpErr("OFPBAC_BAD_SET_ARGUMENT"))
	}
	a := &SetField{Field: exactHeader(h, n), Experimenter: exp, Value: append([]byte(nil), tlv[hdr:hdr+n]...), Load2: load2}
	if h.HasMask() {
		a.Mask = append([]byte(nil), tlv[hdr+n:hdr+2*n]...)
	}
	return a, nil
}

// setFieldHeader reads the OXM header of a set_field TLV as nx_pull_header
// does: an experimenter header needs its ID, and a length that counts it;
// hdr is the header's size.
func setFieldHeader(tlv []byte) (h oxm.Header, hdr int, exp uint32, err error) {
	if len(tlv) < 4 {
		return 0, 0, 0, ofpErr("OFPBMC_BAD_LEN")
	}
	h, hdr = oxm.Header(be.Uint32(tlv)), 4
	if h.Class() == 0xffff {
		if len(tlv) < 8 || h.Length() < 4 {
			return 0, 0, 0, fmt.Errorf("experimenter field: %w", ofpErr("OFPBMC_BAD_LEN"))
		}
		hdr, exp = 8, be.Uint32(tlv[4:])
	}
	return h, hdr, exp, nil
}

// setFieldRawError is OVS's error for a set_field TLV it finds no field
// for (oxm.ActionField): OFPBAC_BAD_SET_LEN or OFPBAC_BAD_SET_TYPE.
func setFieldRawError(tlv []byte) error {
	h, _, exp, err := setFieldHeader(tlv)
	if err != nil {
		return err
	}
	if _, badLen := oxm.ActionField(h, exp); badLen {
		return ofpErr("OFPBAC_BAD_SET_LEN")
	}
	return ofpErr("OFPBAC_BAD_SET_TYPE")
}

// fieldOfAnyLength finds the field of h's class and field number whatever
// h's length says (oxm.ByHeader insists on the right one), so that a wrong
// length can be reported as such.
func fieldOfAnyLength(h oxm.Header, exp uint32) *oxm.Info {
	info := oxm.ByHeaderAnyLen(h)
	if info == nil || h.Class() == 0xffff && lookupFieldExp(exactHeader(h, info.Bytes), exp) != info {
		return nil
	}
	return info
}

// validate is the rest of decode_ofpat_set_field: OXM_OF_IN_PORT and
// read-only fields cannot be set, and vlan_vid needs OFPVID_PRESENT.
func (a *SetField) validate(ctx Context) error {
	info := a.info()
	switch {
	case info == nil:
		return fmt.Errorf("set_field: unknown field 0x%08x: %w", uint32(a.Field), ofpErr("OFPBAC_BAD_SET_TYPE"))
	case a.Field&^0x1ff == 0x80000000, !info.Writable:
		return fmt.Errorf("set_field: %s is not writable: %w", info.Name, ofpErr("OFPBAC_BAD_SET_ARGUMENT"))
	case info.Name == "vlan_vid" && (len(a.Value) != 2 || a.Value[0]&0x10 == 0 || a.Value[0] > 0x1f ||
		a.Mask != nil && a.Mask[0]&0x10 == 0):
		return fmt.Errorf("set_field: vlan_vid without OFPVID_PRESENT: %w", ofpErr("OFPBAC_BAD_SET_ARGUMENT"))
	case !info.VarLen && info.Name != "vlan_vid" && !info.ValidValue(a.Value):
		return fmt.Errorf("set_field: %s: %x is not a valid value: %w", info.Name, a.Value, ofpErr("OFPBAC_BAD_SET_ARGUMENT"))
	}
	return nil
}

// isTunMetadata is true of tun_metadata0..63, whose length the switch
// decides (NXM_NX_TUN_METADATA: class 1, fields 40..103).
func isTunMetadata(h oxm.Header) bool {
	return h.Class() == 1 && h.Field() >= 40 && h.Field() < 104
}

func decodeSetField(ctx Context, b []byte) (Action, error) {
	if ctx.Version < 3 {
		return nil, nil
	}
	return decodeSetFieldTLV(ctx, b[4:], ctx.Version >= 6, false)
}

func init() {
	registerOF(0, decodeOutput)
	for t := range stdSpecs {
		if t != 24 { // dec_ttl: nx.go
			registerOF(t, decodeStd)
		}
	}
	registerOF(25, decodeSetField)
}

// stdFields are the OpenFlow 1.2+ set_field fields of OpenFlow 1.1's
// set_* actions, which OVS writes as set_field there.
var stdFields = map[uint16]string{
	1: "vlan_vid", 2: "vlan_pcp", 3: "eth_src", 4: "eth_dst", 5: "ip_src",
	6: "ip_dst", 7: "ip_dscp", 8: "ip_ecn", 9: "tcp_src", 10: "tcp_dst",
	13: "mpls_label", 14: "mpls_tc",
}

// stdAliases are other keywords for a Std action.
var stdAliases = map[string]uint16{
	"mod_vlan_vid": 1, "mod_vlan_pcp": 2, "strip_vlan": 18, "mod_nw_ttl": 23,
}

// parseStd parses every Std keyword for ctx.Version.
func parseStd(t uint16) parseFunc {
	return func(ctx Context, kw, s string, hasArg bool) (Action, error) {
		spec := stdSpecs[t]
		if spec.size == 0 {
			if s != "" {
				return nil, fmt.Errorf("%s takes no argument", kw)
			}
			return &Std{Type: t}, nil
		}
		var v uint64
		var err error
		switch spec.form {
		case 'm':
			var m [6]byte
			_, err = fmt.Sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5])
			for _, c := range m {
				v = v<<8 | uint64(c)
			}
		case 'i':
			var q [4]byte
			_, err = fmt.Sscanf(s, "%d.%d.%d.%d", &q[0], &q[1], &q[2], &q[3])
			v = uint64(be.Uint32(q[:]))
		default:
			v, err = parseNum(s, spec.size*8)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: bad argument %q", kw, s)
		}
		if (t == 9 || t == 10) && ctx.Version >= 3 {
			// The field it sets depends on the flow's protocol: settled
			// by the check (l4Port).
			return &l4Port{Std{Type: t, Arg: v}}, nil
		}
		if _, isField := stdFields[t]; ctx.Version >= spec.minV && (ctx.Version == 2 || !isField) {
			if ctx.Version == 2 && (kw == "mod_vlan_vid" || kw == "mod_vlan_pcp") {
				return &pushIfNeeded{&Std{Type: t, Arg: v}}, nil
			}
			return &Std{Type: t, Arg: v}, nil
		}
		name, ok := stdFields[t]
		info := oxm.ByName(name)
		if !ok || info == nil || ctx.Version < 3 {
			return nil, fmt.Errorf("%s is not supported in this OpenFlow version", kw)
		}
		switch t {
		case 1:
			v |= 0x1000 // OFPVID_PRESENT
		case 7:
			v >>= 2
		}
		n := info.Bytes
		value := make([]byte, n)
		for i := range value {
			value[n-1-i] = byte(v >> (8 * i))
		}
		sf := NewSetField(info, ctx.Version, value, nil)
		sf.legacy = t
		if kw == "mod_vlan_vid" || kw == "mod_vlan_pcp" {
			return &pushIfNeeded{sf}, nil
		}
		return sf, nil
	}
}

func init() {
	for t, spec := range stdSpecs {
		if t != 24 && t != 29 {
			registerParser(spec.name, parseStd(t))
		}
	}
	for kw, t := range stdAliases {
		registerParser(kw, parseStd(t))
	}
	registerParser("meter", func(ctx Context, kw, s string, hasArg bool) (Action, error) {
		if ctx.Version < 6 && ctx.nest == outerNone {
			return nil, fmt.Errorf("meter is an instruction before OpenFlow 1.5")
		}
		// Nested, ovs-ofctl takes it whatever the version, and refuses it
		// (nestingRule).
		ctx.Version = max(ctx.Version, 6)
		return parseStd(29)(ctx, kw, s, hasArg)
	})
}

func (a *Output) validate(ctx Context) error {
	if p, ok := port16(a.Port); !ok || !validOutPort(p) {
		return fmt.Errorf("output to port %#x: %w", a.Port, ofpErr("OFPBAC_BAD_OUT_PORT"))
	}
	return nil
}

// checkStdArg rejects the arguments OVS's decoders reject.
func checkStdArg(t uint16, v uint64) error {
	bad := false
	switch t {
	case 1: // set_vlan_vid
		bad = v > 0xfff
	case 2, 14: // set_vlan_pcp, set_mpls_tc
		bad = v > 7
	case 7: // mod_nw_tos: DSCP bits only
		bad = v&3 != 0
	case 8: // mod_nw_ecn
		bad = v > 3
	case 13: // set_mpls_label
		bad = v > 0xfffff
	case 17: // push_vlan: 802.1Q or 802.1ad
		bad = v != 0x8100 && v != 0x88a8
	case 19: // push_mpls: unicast or multicast MPLS
		bad = v != 0x8847 && v != 0x8848
	}
	if bad {
		return fmt.Errorf("argument %#x: %w", v, ofpErr("OFPBAC_BAD_ARGUMENT"))
	}
	return nil
}

// fitsBits reports whether the big-endian value v fits in bits bits.
func fitsBits(v []byte, bits int) bool {
	for i := range v {
		hi := 8*(len(v)-i) - bits // bits of v[i] above the limit
		if hi >= 8 && v[i] != 0 || hi > 0 && hi < 8 && v[i]>>(8-hi) != 0 {
			return false
		}
	}
	return true
}
