package action

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Nicira action subtypes of this file's family (lib/ofp-actions.c enum
// ofp_raw_action_type).
const (
	nxastMultipath      = 10
	nxastBundle         = 12
	nxastBundleLoad     = 13
	nxastWriteMetadata  = 22
	nxastSample         = 29
	nxastConjunction    = 34
	nxastSample2        = 38
	nxastSample3        = 41
	nxastClone          = 42
	nxastEncap          = 46
	nxastDecap          = 47
	nxastDecNSHTTL      = 48
	nxastCheckPktLarger = 49
	nxastDeleteField    = 50
	nxastDebugSlow      = 254
	nxastDebugRecirc    = 255
)

func init() {
	registerNX(nxastMultipath, decodeMultipath)
	registerNX(nxastBundle, decodeBundle)
	registerNX(nxastBundleLoad, decodeBundle)
	registerNX(nxastWriteMetadata, decodeNXWriteMetadata)
	registerNX(nxastSample, decodeSample)
	registerNX(nxastSample2, decodeSample)
	registerNX(nxastSample3, decodeSample)
	registerNX(nxastConjunction, decodeConjunction)
	registerNX(nxastClone, decodeClone)
	registerNX(nxastEncap, decodeEncap)
	registerNX(nxastDecap, decodeDecap)
	registerNX(nxastDecNSHTTL, decodeDecNSHTTL)
	registerNX(nxastCheckPktLarger, decodeCheckPktLarger)
	registerNX(nxastDeleteField, decodeDeleteField)
	registerNX(nxastDebugSlow, decodeDebug)
	registerNX(nxastDebugRecirc, decodeDebug)

	registerParser("multipath", parseMultipath)
	registerParser("bundle", parseBundle)
	registerParser("bundle_load", parseBundle)
	registerParser("sample", parseSample)
	registerParser("conjunction", parseConjunction)
	registerParser("clone", parseClone)
	registerParser("encap", parseEncap)
	registerParser("decap", parseDecap)
	registerParser("dec_nsh_ttl", parseDecNSHTTL)
	registerParser("check_pkt_larger", parseCheckPktLarger)
	registerParser("delete_field", parseDeleteField)
	registerParser("debug_slow", parseDebug)
	registerParser("debug_recirc", parseDebug)
}

// Conjunction is NXAST_CONJUNCTION (struct nx_action_conjunction): this
// flow is clause Clause (0-based) of NClauses of conjunctive match ID.
type Conjunction struct {
	ID       uint32
	Clause   uint8 // 0-based on the wire; printed 1-based
	NClauses uint8
}

func decodeConjunction(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, nxaError(ctx, "conjunction", "OFPBAC_BAD_LEN")
	}
	a := &Conjunction{Clause: b[10], NClauses: b[11], ID: be.Uint32(b[12:])}
	if a.NClauses < 2 || a.NClauses > 64 || a.Clause >= a.NClauses {
		return nil, nxaError(ctx, "conjunction", "NXBAC_BAD_CONJUNCTION")
	}
	return a, nil
}

func (a *Conjunction) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastConjunction)
	b = append(b, a.Clause, a.NClauses)
	b = be.AppendUint32(b, a.ID)
	return finishAction(b, start)
}

func (a *Conjunction) AppendText(b []byte) ([]byte, error) {
	return fmt.Appendf(b, "conjunction(%d,%d/%d)", a.ID, int(a.Clause)+1, a.NClauses), nil
}

func parseConjunction(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	const syntax = `"conjunction" syntax is "conjunction(id,i/n)"`
	id, rest, ok := strings.Cut(arg, ",")
	clause, n, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil, nxaSyntax(arg, syntax)
	}
	idv, err1 := strconv.ParseUint(strings.TrimSpace(id), 0, 32)
	cv, err2 := strconv.ParseUint(strings.TrimSpace(clause), 10, 8)
	nv, err3 := strconv.ParseUint(strings.TrimSpace(n), 10, 8)
	switch {
	case err1 != nil || err2 != nil || err3 != nil:
		return nil, nxaSyntax(arg, syntax)
	case nv < 2:
		return nil, nxaSyntax(arg, "conjunction must have at least 2 clauses")
	case nv > 64:
		return nil, nxaSyntax(arg, "conjunction must have at most 64 clauses")
	case cv < 1:
		return nil, nxaSyntax(arg, "clause index must be positive")
	case cv > nv:
		return nil, nxaSyntax(arg, "clause index must be less than or equal to number of clauses")
	}
	return &Conjunction{ID: uint32(idv), Clause: uint8(cv - 1), NClauses: uint8(nv)}, nil
}

// Sample is NXAST_SAMPLE, NXAST_SAMPLE2 and NXAST_SAMPLE3 (struct
// nx_action_sample, struct nx_action_sample2): IPFIX sampling.
type Sample struct {
	Probability    uint16
	CollectorSetID uint32
	ObsDomainID    uint32
	ObsPointID     uint32
	SamplingPort   uint16 // 0xffff (OFPP_NONE): none
	Direction      uint8  // 0 default, 1 ingress, 2 egress
	Subtype        uint16 // the wire form it came in; 0 picks the smallest
}

func decodeSample(ctx Context, b []byte) (Action, error) {
	sub := be.Uint16(b[8:])
	want := 32
	if sub == nxastSample {
		want = 24
	}
	if len(b) != want {
		return nil, nxaError(ctx, "sample", "OFPBAC_BAD_LEN")
	}
	a := &Sample{
		Probability:    be.Uint16(b[10:]),
		CollectorSetID: be.Uint32(b[12:]),
		ObsDomainID:    be.Uint32(b[16:]),
		ObsPointID:     be.Uint32(b[20:]),
		SamplingPort:   0xffff,
		Subtype:        sub,
	}
	if sub != nxastSample {
		a.SamplingPort = be.Uint16(b[24:])
	}
	if sub == nxastSample3 {
		if !allZero(b[27:32]) {
			return nil, nxaError(ctx, "sample", "NXBRC_MUST_BE_ZERO")
		}
		a.Direction = b[26]
		if a.Direction > 2 {
			return nil, nxaError(ctx, "sample", "OFPBAC_BAD_ARGUMENT")
		}
	}
	if a.Probability == 0 {
		return nil, nxaError(ctx, "sample", "OFPBAC_BAD_ARGUMENT")
	}
	return a, nil
}

func (a *Sample) AppendBinary(b []byte) ([]byte, error) {
	sub := uint16(nxastSample)
	switch {
	case a.Subtype == nxastSample3 || a.Direction != 0:
		sub = nxastSample3
	case a.Subtype == nxastSample2 || a.SamplingPort != 0xffff:
		sub = nxastSample2
	}
	b, start := appendNXHeader(b, sub)
	b = be.AppendUint16(b, a.Probability)
	b = be.AppendUint32(b, a.CollectorSetID)
	b = be.AppendUint32(b, a.ObsDomainID)
	b = be.AppendUint32(b, a.ObsPointID)
	if sub != nxastSample {
		b = be.AppendUint16(b, a.SamplingPort)
		b = append(b, a.Direction)
	}
	return finishAction(b, start)
}

func (a *Sample) AppendText(b []byte) ([]byte, error) {
	b = fmt.Appendf(b, "sample(probability=%d,collector_set_id=%d,obs_domain_id=%d,obs_point_id=%d",
		a.Probability, a.CollectorSetID, a.ObsDomainID, a.ObsPointID)
	if a.SamplingPort != 0xffff {
		b = append(b, ",sampling_port="...)
		b = appendPort(b, a.SamplingPort)
	}
	switch a.Direction {
	case 1:
		b = append(b, ",ingress"...)
	case 2:
		b = append(b, ",egress"...)
	}
	return append(b, ')'), nil
}

func parseSample(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &Sample{SamplingPort: 0xffff}
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		var err error
		switch kv.key {
		case "probability":
			var v uint64
			v, err = strconv.ParseUint(kv.value, 0, 16)
			a.Probability = uint16(v)
			if err == nil && v == 0 {
				err = fmt.Errorf("invalid probability value %q", kv.value)
			}
		case "collector_set_id":
			a.CollectorSetID, err = nxaUint32(kv.value)
		case "obs_domain_id":
			a.ObsDomainID, err = nxaUint32(kv.value)
		case "obs_point_id":
			a.ObsPointID, err = nxaUint32(kv.value)
		case "sampling_port":
			var ok bool
			if a.SamplingPort, ok = nxaParsePort(kv.value); !ok {
				err = fmt.Errorf("%s: unknown port", kv.value)
			}
		case "ingress":
			a.Direction = 1
		case "egress":
			a.Direction = 2
		default:
			err = fmt.Errorf("invalid key %q in \"sample\" argument", kv.key)
		}
		if err != nil {
			return nil, kv.shift(nxaSyntax(kv.value, err.Error()))
		}
	}
	if a.Probability == 0 {
		return nil, nxaSyntax(arg, `non-zero "probability" must be specified on sample`)
	}
	return a, nil
}

// Clone is NXAST_CLONE (struct ext_action_header, then the actions): runs
// Actions on a copy of the packet.
type Clone struct {
	Actions List
}

func decodeClone(ctx Context, b []byte) (Action, error) {
	if len(b) < 16 {
		return nil, nxaError(ctx, "clone", "OFPBAC_BAD_LEN")
	}
	l, err := DecodeList(ctx, b[16:])
	if err != nil {
		return nil, fmt.Errorf("clone: %w", err)
	}
	return &Clone{Actions: l}, nil
}

func (a *Clone) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastClone)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b, err := a.Actions.AppendBinary(b)
	if err != nil {
		return b[:start], fmt.Errorf("clone: %w", err)
	}
	return finishAction(b, start)
}

func (a *Clone) AppendText(b []byte) ([]byte, error) {
	b = append(b, "clone("...)
	if len(a.Actions) == 0 {
		return append(b, "drop)"...), nil // ofpacts_format of nothing
	}
	b, err := a.Actions.AppendText(b)
	if err != nil {
		return b, err
	}
	return append(b, ')'), nil
}

// validate checks the nested actions as OVS does inside clone.
func (a *Clone) validate(ctx Context) error {
	if err := Validate(ctx, a.Actions); err != nil {
		return fmt.Errorf("clone: %w", err)
	}
	if err := nxaConjunctionRule(a.Actions); err != nil {
		return fmt.Errorf("clone: %w", err)
	}
	return nil
}

// nxaConjunctionRule is ofpacts_verify's rule that a list holding a
// conjunction holds nothing but conjunctions and notes.
func nxaConjunctionRule(l List) error {
	conj, other := false, false
	for _, a := range l {
		switch a.(type) {
		case *Conjunction:
			conj = true
		case *Note:
		default:
			other = true
		}
	}
	if conj && other {
		return fmt.Errorf("conjunction along with other actions: %w", ofpErr("NXBAC_BAD_CONJUNCTION"))
	}
	return nil
}

func parseClone(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	if s := strings.TrimSpace(arg); s == "" || s == "drop" {
		return &Clone{}, nil
	}
	l, err := ParseList(ctx, arg)
	if err != nil {
		return nil, err
	}
	return &Clone{Actions: l}, nil
}

// CheckPktLarger is NXAST_CHECK_PKT_LARGER (struct
// nx_action_check_pkt_larger): Dst (one bit) := packet longer than PktLen.
type CheckPktLarger struct {
	PktLen uint16
	Dst    Subfield
}

func decodeCheckPktLarger(ctx Context, b []byte) (Action, error) {
	if len(b) != 24 {
		return nil, nxaError(ctx, "check_pkt_larger", "OFPBAC_BAD_LEN")
	}
	a := &CheckPktLarger{PktLen: be.Uint16(b[10:])}
	ofs := int(be.Uint16(b[12:]))
	h, n, err := nxaPullHeader(ctx, b[14:])
	if err != nil {
		return nil, fmt.Errorf("check_pkt_larger: %w", err)
	}
	if !allZero(b[14+n:]) {
		return nil, nxaError(ctx, "check_pkt_larger", "NXBRC_MUST_BE_ZERO")
	}
	a.Dst = Subfield{Header: h, Ofs: ofs, Bits: 1}
	if err := nxaCheckDst(ctx, a.Dst); err != nil {
		return nil, fmt.Errorf("check_pkt_larger: %w", err)
	}
	return a, nil
}

func (a *CheckPktLarger) AppendBinary(b []byte) ([]byte, error) {
	if a.Dst.Header == 0 {
		return b, errors.New("check_pkt_larger: no destination")
	}
	b, start := appendNXHeader(b, nxastCheckPktLarger)
	b = be.AppendUint16(b, a.PktLen)
	b = be.AppendUint16(b, uint16(a.Dst.Ofs))
	b = nxaAppendHeader(b, a.Dst.Header)
	for len(b)-start < 24 {
		b = append(b, 0)
	}
	return finishAction(b, start)
}

func (a *CheckPktLarger) AppendText(b []byte) ([]byte, error) {
	b = fmt.Appendf(b, "check_pkt_larger(%d)->", a.PktLen)
	return a.Dst.appendText(b), nil
}

// parseCheckPktLarger takes "1500)->DST" (how ovs-ofctl's key-value splitter
// hands it over) as well as "1500" with the "->DST" after it.
func parseCheckPktLarger(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	val, dst, ok := strings.Cut(arg, "->")
	if !ok {
		return nil, nxaSyntax(arg, `check_pkt_larger: missing "->"`)
	}
	val = strings.TrimSuffix(strings.TrimSpace(val), ")")
	sf, err := parseSubfieldCtx(ctx, strings.TrimSpace(dst))
	if err != nil {
		return nil, err
	}
	if sf.Bits != 1 {
		return nil, nxaSyntax(dst, "Only 1-bit destination field is allowed")
	}
	n, err := strconv.ParseUint(val, 0, 16)
	if err != nil {
		return nil, nxaSyntax(val, "invalid packet length")
	}
	return &CheckPktLarger{PktLen: uint16(n), Dst: sf}, nil
}

// DeleteField is NXAST_DELETE_FIELD (struct nx_action_delete_field): removes
// a tunnel metadata TLV from the packet.
type DeleteField struct {
	Field *oxm.Info
}

func decodeDeleteField(ctx Context, b []byte) (Action, error) {
	if len(b) != 24 {
		return nil, nxaError(ctx, "delete_field", "OFPBAC_BAD_LEN")
	}
	h, n, err := nxaPullHeader(ctx, b[10:])
	if err != nil {
		return nil, fmt.Errorf("delete_field: %w", err)
	}
	_ = n // OVS does not look at the padding
	return &DeleteField{Field: oxm.ByHeader(h)}, nil
}

func (a *DeleteField) AppendBinary(b []byte) ([]byte, error) {
	if a.Field == nil {
		return b, errors.New("delete_field: no field")
	}
	b, start := appendNXHeader(b, nxastDeleteField)
	b = nxaAppendHeader(b, a.Field.Header)
	for len(b)-start < 24 {
		b = append(b, 0)
	}
	return finishAction(b, start)
}

func (a *DeleteField) AppendText(b []byte) ([]byte, error) {
	return append(append(b, "delete_field:"...), a.Field.Name...), nil
}

func parseDeleteField(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	f, err := ctx.OXM.Resolve(strings.TrimSpace(arg))
	if err != nil || f == nil {
		return nil, nxaSyntax(arg, "unknown field")
	}
	return &DeleteField{Field: f}, nil
}

// DecNSHTTL is NXAST_DEC_NSH_TTL (a bare header).
type DecNSHTTL struct{}

func decodeDecNSHTTL(ctx Context, b []byte) (Action, error) {
	if nxaBefore13(ctx) {
		return nil, nil // NX1.3+ only: unknown before, as in OVS
	}
	if len(b) != 16 {
		return nil, nxaError(ctx, "dec_nsh_ttl", "OFPBAC_BAD_LEN")
	}
	return &DecNSHTTL{}, nil
}

func (a *DecNSHTTL) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastDecNSHTTL)
	return finishAction(b, start)
}

func (a *DecNSHTTL) AppendText(b []byte) ([]byte, error) { return append(b, "dec_nsh_ttl"...), nil }

func parseDecNSHTTL(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	return &DecNSHTTL{}, nil
}

// Debug is NXAST_DEBUG_SLOW or NXAST_DEBUG_RECIRC: OVS's testing actions.
// ovs-vswitchd accepts them only with --enable-dummy and ovs-ofctl never
// decodes them (OFPBAC_BAD_VENDOR_TYPE), so neither does this package; they
// can still be written.
type Debug struct {
	Recirc bool // debug_recirc, else debug_slow
}

func decodeDebug(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, nxaError(ctx, "debug", "OFPBAC_BAD_LEN")
	}
	return nil, nxaError(ctx, "debug", "OFPBAC_BAD_VENDOR_TYPE")
}

func (a *Debug) AppendBinary(b []byte) ([]byte, error) {
	sub := uint16(nxastDebugSlow)
	if a.Recirc {
		sub = nxastDebugRecirc
	}
	b, start := appendNXHeader(b, sub)
	return finishAction(b, start)
}

func (a *Debug) AppendText(b []byte) ([]byte, error) {
	if a.Recirc {
		return append(b, "debug_recirc"...), nil
	}
	return append(b, "debug_slow"...), nil
}

func parseDebug(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	return &Debug{Recirc: kw == "debug_recirc"}, nil
}

// decodeNXWriteMetadata rejects NXAST_WRITE_METADATA (struct
// nx_action_write_metadata): OVS turns it into the write_metadata
// instruction, which an action list may not hold.
func decodeNXWriteMetadata(ctx Context, b []byte) (Action, error) {
	if len(b) != 32 {
		return nil, nxaError(ctx, "write_metadata", "OFPBAC_BAD_LEN")
	}
	if !allZero(b[10:16]) {
		return nil, nxaError(ctx, "write_metadata", "NXBRC_MUST_BE_ZERO")
	}
	return nil, nxaError(ctx, "write_metadata", "OFPBIC_UNSUP_INST")
}

// nxaError is the OVS error called name, wrapped with where.
func nxaError(ctx Context, where, name string) error {
	return fmt.Errorf("%s: %w", where, ofpErr(name))
}

// nxaSyntax is a SyntaxError about tok; the caller's framework adds the
// offset.
func nxaSyntax(tok, msg string) error { return &SyntaxError{Token: tok, Msg: msg} }

// nxaChomp drops one trailing comma (ds_chomp(s, ',')).
func nxaChomp(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == ',' {
		return b[:len(b)-1]
	}
	return b
}

// nxaBefore13 reports a version before OpenFlow 1.3, in which OVS does not
// know the NSH-era actions (encap, decap, dec_nsh_ttl).
func nxaBefore13(ctx Context) bool { return ctx.Version != 0 && ctx.Version < 4 }

// nxaSpan is strspn: the length of the prefix of s made of bytes in set.
func nxaSpan(s, set string) int {
	n := 0
	for n < len(s) && strings.IndexByte(set, s[n]) >= 0 {
		n++
	}
	return n
}

func nxaUint32(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	return uint32(v), err
}

// nxaKV is one key[=:(]value of an action's arguments, off the offset of
// the value in the text split.
type nxaKV struct {
	key, value  string
	keyOff, off int
}

// shift places err at kv in the text that was split: at the value, or at
// the key when there is no value.
func (kv nxaKV) shift(err error) error {
	if kv.value == "" {
		return shiftErr(err, kv.keyOff, kv.key)
	}
	return shiftErr(err, kv.off, kv.value)
}

// nxaKeyValues splits s as ofputil_parse_key_value does (splitItems).
func nxaKeyValues(s string) ([]nxaKV, error) {
	var out []nxaKV
	for _, it := range splitItems(s) {
		out = append(out, nxaKV{key: it.key, value: it.val, keyOff: it.off, off: it.valOff})
	}
	return out, nil
}

func nxaParsePort(s string) (uint16, bool) {
	p, err := parsePort(s)
	return p, err == nil
}

// nxHashFields names enum nx_hash_fields (flow_hash_fields_to_str).
var nxHashFields = []string{"eth_src", "symmetric_l4", "symmetric_l3l4",
	"symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3"}

// nxMPAlgs names enum nx_mp_algorithm.
var nxMPAlgs = []string{"modulo_n", "hash_threshold", "hrw", "iter_hash"}

func nxaIndex(names []string, s string) (uint16, bool) {
	for i, n := range names {
		if n == s {
			return uint16(i), true
		}
	}
	return 0, false
}

// Multipath is NXAST_MULTIPATH (struct nx_action_multipath, 32 bytes):
// Dst := a link in [0, MaxLink] chosen from a hash of Fields.
type Multipath struct {
	Fields    uint16 // enum nx_hash_fields
	Basis     uint16
	Algorithm uint16 // enum nx_mp_algorithm
	MaxLink   uint16 // n_links - 1
	Arg       uint32
	Dst       Subfield
}

func decodeMultipath(ctx Context, b []byte) (Action, error) {
	if len(b) != 32 {
		return nil, nxaError(ctx, "multipath", "OFPBAC_BAD_LEN")
	}
	a := &Multipath{Fields: be.Uint16(b[10:]), Basis: be.Uint16(b[12:]),
		Algorithm: be.Uint16(b[16:]), MaxLink: be.Uint16(b[18:]), Arg: be.Uint32(b[20:])}
	ofs, bits := splitOfsNbits(be.Uint16(b[26:]))
	h, err := nxaFieldByHeader(ctx, be.Uint32(b[28:]))
	if err != nil {
		return nil, fmt.Errorf("multipath: %w", err)
	}
	a.Dst = Subfield{Header: h, Ofs: ofs, Bits: bits}
	if int(a.Fields) >= len(nxHashFields) || int(a.Algorithm) >= len(nxMPAlgs) ||
		bits < nxaLog2Ceil(uint32(a.MaxLink)+1) {
		return nil, nxaError(ctx, "multipath", "OFPBAC_BAD_ARGUMENT")
	}
	if err := nxaCheckDst(ctx, a.Dst); err != nil {
		return nil, fmt.Errorf("multipath: %w", err)
	}
	return a, nil
}

// nxaLog2Ceil is log_2_ceil: bits needed for n distinct values.
func nxaLog2Ceil(n uint32) int {
	bits := 0
	for uint64(1)<<bits < uint64(n) {
		bits++
	}
	return bits
}

func (a *Multipath) AppendBinary(b []byte) ([]byte, error) {
	if a.Dst.Header == 0 {
		return b, fmt.Errorf("multipath: %w", errNoField)
	}
	b, start := appendNXHeader(b, nxastMultipath)
	b = be.AppendUint16(b, a.Fields)
	b = be.AppendUint16(b, a.Basis)
	b = append(b, 0, 0)
	b = be.AppendUint16(b, a.Algorithm)
	b = be.AppendUint16(b, a.MaxLink)
	b = be.AppendUint32(b, a.Arg)
	b = append(b, 0, 0)
	b = be.AppendUint16(b, ofsNbits(a.Dst.Ofs, a.Dst.Bits))
	b = nxaAppendHeader(b, a.Dst.Header)
	return finishAction(b, start)
}

func (a *Multipath) AppendText(b []byte) ([]byte, error) {
	b = fmt.Appendf(b, "multipath(%s,%d,%s,%d,%d,", nxaName(nxHashFields, a.Fields), a.Basis,
		nxaName(nxMPAlgs, a.Algorithm), int(a.MaxLink)+1, a.Arg)
	return append(a.Dst.appendText(b), ')'), nil
}

func nxaName(names []string, i uint16) string {
	if int(i) < len(names) {
		return names[i]
	}
	return "<unknown>"
}

// parseMultipath parses "fields, basis, algorithm, n_links, arg, dst"
// (multipath_parse).
func parseMultipath(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	tok := strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' })
	if len(tok) < 6 {
		return nil, nxaSyntax(arg, "not enough arguments to multipath action")
	}
	a := &Multipath{}
	var ok bool
	if a.Fields, ok = nxaIndex(nxHashFields, tok[0]); !ok {
		return nil, nxaSyntax(tok[0], "unknown fields")
	}
	if a.Algorithm, ok = nxaIndex(nxMPAlgs, tok[2]); !ok {
		return nil, nxaSyntax(tok[2], "unknown algorithm")
	}
	basis, err1 := strconv.ParseUint(tok[1], 10, 16)
	links, err2 := strconv.ParseUint(tok[3], 10, 32)
	arg32, err3 := strconv.ParseUint(tok[4], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nxaSyntax(arg, "bad number in multipath action")
	}
	if links < 1 || links > 65536 {
		return nil, nxaSyntax(tok[3], "n_links is not in valid range 1 to 65536")
	}
	a.Basis, a.MaxLink, a.Arg = uint16(basis), uint16(links-1), uint32(arg32)
	var err error
	if a.Dst, err = parseSubfieldCtx(ctx, tok[5]); err != nil {
		return nil, err
	}
	if a.Dst.Bits < 16 && links > 1<<a.Dst.Bits {
		return nil, nxaSyntax(tok[5], "destination field has fewer possible values than n_links")
	}
	return a, nil
}

// nxBundleAlgs names enum nx_bd_algorithm.
var nxBundleAlgs = []string{"active_backup", "hrw"}

// nxmInPort is the NXM_OF_IN_PORT header, bundle's only member type.
const nxmInPort = 0x00000002

// Bundle is NXAST_BUNDLE and NXAST_BUNDLE_LOAD (struct nx_action_bundle, 32
// bytes, then the member ports as u16, zero-padded to 8): output to (or,
// with Dst, load into Dst) one live member chosen from a hash of Fields.
type Bundle struct {
	Algorithm uint16 // enum nx_bd_algorithm
	Fields    uint16 // enum nx_hash_fields
	Basis     uint16
	Dst       Subfield // bundle_load only
	Members   []uint16
}

func decodeBundle(ctx Context, b []byte) (Action, error) {
	if len(b) < 32 {
		return nil, nxaError(ctx, "bundle", "OFPBAC_BAD_LEN")
	}
	load := be.Uint16(b[8:]) == nxastBundleLoad
	a := &Bundle{Algorithm: be.Uint16(b[10:]), Fields: be.Uint16(b[12:]), Basis: be.Uint16(b[14:])}
	n := int(be.Uint16(b[20:]))
	ofsNbits, dst := be.Uint16(b[22:]), be.Uint32(b[24:])
	// The order of the checks, and the load case forgetting the earlier
	// ones, are decode_bundle's.
	var err error
	if int(a.Fields) >= len(nxHashFields) || n > 2048 || int(a.Algorithm) >= len(nxBundleAlgs) ||
		be.Uint32(b[16:]) != nxmInPort || !allZero(b[28:32]) {
		err = nxaError(ctx, "bundle", "OFPBAC_BAD_ARGUMENT")
	}
	if load {
		h, herr := nxaFieldByHeader(ctx, dst)
		if herr != nil {
			return nil, fmt.Errorf("bundle_load: %w", herr)
		}
		ofs, bits := splitOfsNbits(ofsNbits)
		a.Dst, err = Subfield{Header: h, Ofs: ofs, Bits: bits}, nil
		if bits < 16 {
			err = nxaError(ctx, "bundle_load: fewer than 16 bits", "OFPBAC_BAD_ARGUMENT")
		}
	} else if ofsNbits != 0 || dst != 0 {
		err = nxaError(ctx, "bundle", "OFPBAC_BAD_ARGUMENT")
	}
	if 32+2*n > len(b) {
		return nil, nxaError(ctx, "bundle: members", "OFPBAC_BAD_LEN")
	}
	if err != nil {
		return nil, err
	}
	for i := range n {
		a.Members = append(a.Members, be.Uint16(b[32+2*i:]))
	}
	if err := a.check(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// check is bundle_check: a writable destination, members that can be
// output to (not the controller; OFPP_NONE is skipped).
func (a *Bundle) check(ctx Context) error {
	if a.Dst.Header != 0 {
		if err := nxaCheckDst(ctx, a.Dst); err != nil {
			return fmt.Errorf("bundle_load: %w", err)
		}
	}
	for _, p := range a.Members {
		if p != portNone && !validOutPort(p) || p == portController {
			return nxaError(ctx, fmt.Sprintf("bundle: member %d", p), "OFPBAC_BAD_OUT_PORT")
		}
	}
	return nil
}

func (a *Bundle) AppendBinary(b []byte) ([]byte, error) {
	sub := uint16(nxastBundle)
	if a.Dst.Header != 0 {
		sub = nxastBundleLoad
	}
	b, start := appendNXHeader(b, sub)
	b = be.AppendUint16(b, a.Algorithm)
	b = be.AppendUint16(b, a.Fields)
	b = be.AppendUint16(b, a.Basis)
	b = be.AppendUint32(b, nxmInPort)
	b = be.AppendUint16(b, uint16(len(a.Members)))
	if a.Dst.Header != 0 {
		b = be.AppendUint16(b, ofsNbits(a.Dst.Ofs, a.Dst.Bits))
		b = nxaAppendHeader(b, a.Dst.Header)
	} else {
		b = append(b, 0, 0, 0, 0, 0, 0)
	}
	b = append(b, 0, 0, 0, 0)
	for _, p := range a.Members {
		b = be.AppendUint16(b, p)
	}
	return finishAction(b, start)
}

func (a *Bundle) AppendText(b []byte) ([]byte, error) {
	kw := "bundle"
	if a.Dst.Header != 0 {
		kw = "bundle_load"
	}
	b = fmt.Appendf(b, "%s(%s,%d,%s,ofport,", kw, nxaName(nxHashFields, a.Fields), a.Basis,
		nxaName(nxBundleAlgs, a.Algorithm))
	if a.Dst.Header != 0 {
		b = append(a.Dst.appendText(b), ',')
	}
	b = append(b, "members:"...)
	for i, p := range a.Members {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPort(b, p)
	}
	return append(b, ')'), nil
}

// parseBundle parses "fields, basis, algorithm, ofport, [dst,]
// members:p1,p2..." (bundle_parse, bundle_parse_load; "slaves:" is the
// old spelling).
func parseBundle(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	head, ports, ok := strings.Cut(arg, "members:")
	if !ok {
		head, ports, ok = strings.Cut(arg, "slaves:")
	}
	if !ok {
		return nil, nxaSyntax(arg, "missing member delimiter, expected `members'")
	}
	tok := strings.FieldsFunc(head, func(r rune) bool { return r == ',' || r == ' ' })
	want := 4
	if kw == "bundle_load" {
		want = 5
	}
	if len(tok) != want {
		return nil, nxaSyntax(head, "not enough arguments")
	}
	a := &Bundle{}
	var ok1, ok2 bool
	a.Fields, ok1 = nxaIndex(nxHashFields, tok[0])
	a.Algorithm, ok2 = nxaIndex(nxBundleAlgs, tok[2])
	basis, err := strconv.ParseUint(tok[1], 10, 16)
	if !ok1 || !ok2 || err != nil || tok[3] != "ofport" {
		return nil, nxaSyntax(head, "bad bundle arguments")
	}
	a.Basis = uint16(basis)
	if want == 5 {
		if a.Dst, err = parseSubfieldCtx(ctx, tok[4]); err != nil {
			return nil, err
		}
	}
	for _, p := range strings.FieldsFunc(ports, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, ok := nxaParsePort(p)
		if !ok {
			return nil, nxaSyntax(p, "bad port number")
		}
		a.Members = append(a.Members, n)
	}
	return a, nil
}

// Packet types (include/openvswitch/packets.h PT_*).
const (
	ptEth          = 0x00000000
	ptNSH          = 0x0001894f
	ptMPLS         = 0x00018847
	ptMPLSMC       = 0x00018848
	ptUseNextProto = 0x0000fffe
)

var encapNames = map[uint32]string{ptEth: "ethernet", ptNSH: "nsh", ptMPLS: "mpls", ptMPLSMC: "mpls_mc"}

// EncapProp is one encap property (struct ofp_ed_prop_header; OVS knows
// only the NSH class 4: md_type 1, tlv 2).
type EncapProp struct {
	Class    uint16
	Type     uint8
	MDType   uint8  // md_type
	TLVClass uint16 // tlv
	TLVType  uint8
	TLVData  []byte
	TLVPad   []byte // the TLV's padding as received (OVS copies it); nil: zeros
}

// Encap is NXAST_ENCAP (struct nx_action_encap, 16 bytes: hdr_size u16,
// new_pkt_type u32; then properties).
type Encap struct {
	HdrSize    uint16
	PacketType uint32
	Props      []EncapProp
}

func decodeEncap(ctx Context, b []byte) (Action, error) {
	if nxaBefore13(ctx) {
		return nil, nil // NX1.3+ only: unknown before, as in OVS
	}
	if len(b) < 16 {
		return nil, nxaError(ctx, "encap", "OFPBAC_BAD_LEN")
	}
	a := &Encap{HdrSize: be.Uint16(b[10:]), PacketType: be.Uint32(b[12:])}
	if _, ok := encapNames[a.PacketType]; !ok {
		return nil, nxaError(ctx, "encap", "NXBAC_BAD_HEADER_TYPE")
	}
	for p := b[16:]; len(p) > 0; {
		if len(p) < 4 {
			return nil, nxaError(ctx, "encap: property", "OFPBAC_BAD_LEN")
		}
		pr := EncapProp{Class: be.Uint16(p), Type: p[2]}
		n := int(p[3])
		padded := (n + 7) &^ 7
		if n < 4 || padded > len(p) {
			return nil, nxaError(ctx, "encap: property", "OFPBAC_BAD_LEN")
		}
		switch {
		case pr.Class == 4 && pr.Type == 1:
			if n < 5 || n > 8 {
				return nil, nxaError(ctx, "encap: md_type", "NXBAC_BAD_ED_PROP")
			}
			pr.MDType = p[4]
		case pr.Class == 4 && pr.Type == 2:
			if n < 8 || n != 8+(int(p[7])+7)&^7 {
				return nil, nxaError(ctx, "encap: tlv", "NXBAC_BAD_ED_PROP")
			}
			pr.TLVClass, pr.TLVType = be.Uint16(p[4:]), p[6]
			pr.TLVData = append([]byte(nil), p[8:8+int(p[7])]...)
			pr.TLVPad = append([]byte(nil), p[8+int(p[7]):n]...)
		default:
			return nil, nxaError(ctx, "encap: property", "NXBAC_UNKNOWN_ED_PROP")
		}
		a.Props = append(a.Props, pr)
		p = p[padded:]
	}
	return a, nil
}

func (a *Encap) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastEncap)
	b = be.AppendUint16(b, a.HdrSize)
	b = be.AppendUint32(b, a.PacketType)
	for _, p := range a.Props {
		b = be.AppendUint16(b, p.Class)
		switch {
		case p.Class == 4 && p.Type == 1:
			b = append(b, p.Type, 5, p.MDType, 0, 0, 0)
		case p.Class == 4 && p.Type == 2 && len(p.TLVData) < 256:
			n := (len(p.TLVData) + 7) &^ 7
			b = append(b, p.Type, byte(8+n))
			b = be.AppendUint16(b, p.TLVClass)
			b = append(b, p.TLVType, byte(len(p.TLVData)))
			b = append(b, p.TLVData...)
			pad := make([]byte, n-len(p.TLVData))
			copy(pad, p.TLVPad)
			b = append(b, pad...)
		default:
			return b[:start], fmt.Errorf("encap: property class %d type %d: not supported", p.Class, p.Type)
		}
	}
	return finishAction(b, start)
}

func (a *Encap) AppendText(b []byte) ([]byte, error) {
	name, ok := encapNames[a.PacketType]
	if !ok {
		name = "UNKNOWN"
	}
	b = append(append(b, "encap("...), name...)
	if len(a.Props) > 0 {
		b = append(b, '(')
		for i, p := range a.Props {
			if i > 0 {
				b = append(b, ',')
			}
			if p.Type == 1 {
				b = fmt.Appendf(b, "md_type=%d", p.MDType)
			} else {
				b = fmt.Appendf(b, "tlv(0x%04x,%d,", p.TLVClass, p.TLVType)
				b = append(nxaAppendSubvalue(b, p.TLVData), ')')
			}
		}
		b = append(b, ')')
	}
	return append(b, ')'), nil
}

// parseEncap parses "ethernet", "mpls", "mpls_mc" or
// "nsh(md_type=N,tlv(0xCLASS,TYPE,0xHEX),...)".
func parseEncap(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	if len(kvs) != 1 {
		return nil, nxaSyntax(arg, "Missing encap hdr")
	}
	a := &Encap{}
	found := false
	for pt, n := range encapNames {
		if n == kvs[0].key {
			a.PacketType, found = pt, true
		}
	}
	if !found {
		return nil, nxaSyntax(kvs[0].key, "Encap hdr not supported")
	}
	props, err := nxaKeyValues(kvs[0].value)
	if err != nil {
		return nil, err
	}
	for _, kv := range props {
		if a.PacketType != ptNSH {
			return nil, nxaSyntax(kv.key, "Invalid property")
		}
		p, err := parseEncapProp(kv)
		if err != nil {
			return nil, err
		}
		a.Props = append(a.Props, p)
	}
	return a, nil
}

func parseEncapProp(kv nxaKV) (EncapProp, error) {
	p := EncapProp{Class: 4}
	if kv.value == "" {
		return p, nxaSyntax(kv.key, "Value missing for encap property")
	}
	switch kv.key {
	case "md_type":
		n, err := strconv.ParseUint(kv.value, 0, 8)
		if err != nil || n < 1 || n > 2 {
			return p, nxaSyntax(kv.value, "invalid md_type")
		}
		p.Type, p.MDType = 1, uint8(n)
	case "tlv":
		parts := strings.Split(kv.value, ",")
		if len(parts) != 3 || !strings.HasPrefix(parts[0], "0x") || !strings.HasPrefix(parts[2], "0x") {
			return p, nxaSyntax(kv.value, "Invalid NSH TLV header")
		}
		c, err1 := strconv.ParseUint(parts[0][2:], 16, 16)
		t, err2 := strconv.ParseUint(parts[1], 10, 8)
		h := parts[2][2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		d, err3 := hex.DecodeString(h)
		if err1 != nil || err2 != nil || err3 != nil || len(d) > 125 {
			return p, nxaSyntax(kv.value, "Invalid NSH TLV header")
		}
		p.Type, p.TLVClass, p.TLVType, p.TLVData = 2, uint16(c), uint8(t), d
	default:
		return p, nxaSyntax(kv.key, "Invalid property")
	}
	return p, nil
}

// Decap is NXAST_DECAP (struct nx_action_decap, 16 bytes: pad 2,
// new_pkt_type u32; 0x0000fffe: take it from the removed header).
type Decap struct {
	PacketType uint32
}

func decodeDecap(ctx Context, b []byte) (Action, error) {
	if nxaBefore13(ctx) {
		return nil, nil // NX1.3+ only: unknown before, as in OVS
	}
	if len(b) < 16 {
		return nil, nxaError(ctx, "decap", "OFPBAC_BAD_LEN")
	}
	if len(b) > 16 {
		return nil, nxaError(ctx, "decap", "NXBAC_UNKNOWN_ED_PROP")
	}
	return &Decap{PacketType: be.Uint32(b[12:])}, nil
}

func (a *Decap) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastDecap)
	b = append(b, 0, 0)
	b = be.AppendUint32(b, a.PacketType)
	return finishAction(b, start)
}

func (a *Decap) AppendText(b []byte) ([]byte, error) {
	b = append(b, "decap("...)
	if a.PacketType != ptUseNextProto {
		b = fmt.Appendf(b, "packet_type(ns=%d,type=%#x)", a.PacketType>>16, a.PacketType&0xffff)
	}
	return append(b, ')'), nil
}

// parseDecap parses "" or "packet_type(ns=N,type=T)".
func parseDecap(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &Decap{PacketType: ptUseNextProto}
	kvs, err := nxaKeyValues(arg)
	if err != nil || len(kvs) == 0 {
		return a, err
	}
	if kvs[0].key != "packet_type" {
		return nil, nxaSyntax(kvs[0].key, "Invalid decap argument")
	}
	pt, err := nxaKeyValues(kvs[0].value)
	if err != nil {
		return nil, err
	}
	if len(pt) != 2 || pt[0].key != "ns" || pt[1].key != "type" {
		return nil, nxaSyntax(kvs[0].value, "Missing packet_type attribute ns or type")
	}
	ns, err1 := strconv.ParseUint(pt[0].value, 0, 16)
	typ, err2 := strconv.ParseUint(pt[1].value, 0, 16)
	if err1 != nil || err2 != nil || ns >= 5 {
		return nil, nxaSyntax(kvs[0].value, "Unsupported packet_type")
	}
	a.PacketType = uint32(ns)<<16 | uint32(typ)
	return a, nil
}
