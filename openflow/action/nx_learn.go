package action

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Nicira subtypes of learn.
const (
	nxastLearn  = 16
	nxastLearn2 = 45
)

// NX_LEARN_F_* (include/openflow/nicira-ext.h).
const (
	LearnSendFlowRem   = 1 << 0
	LearnDeleteLearned = 1 << 1
	LearnWriteResult   = 1 << 2
)

// The parts of a flow_mod_spec header (struct nx_action_learn's comment).
const (
	LearnSrcField     = 0 << 13
	LearnSrcImmediate = 1 << 13
	LearnDstMatch     = 0 << 11
	LearnDstLoad      = 1 << 11
	LearnDstOutput    = 2 << 11
	learnSrcMask      = 1 << 13
	learnDstMask      = 3 << 11
	learnNBitsMask    = 0x3ff
)

func init() {
	registerNX(nxastLearn, decodeLearn)
	registerNX(nxastLearn2, decodeLearn)
	registerParser("learn", parseLearn)
}

// Learn is NXAST_LEARN (struct nx_action_learn, 32 bytes) and NXAST_LEARN2
// (struct nx_action_learn2, 40 bytes: limit u32, result_dst_ofs u16, pad
// u16, then the result_dst NXM header when LearnWriteResult is set), each
// followed by flow_mod_specs and zero padding:
//
//	 0       2       4               8       10      12      14      16
//	+-------+-------+---------------+-------+-------+-------+-------+
//	| 0xffff|  len  | vendor 0x2320 |16 / 45| idle  | hard  | prio  |
//	+-------+-------+---------------+-------+-------+-------+-------+
//	|            cookie             | flags |tbl|pad|finidl |finhrd |
//	+-------------------------------+-------+-------+-------+-------+
type Learn struct {
	Table          uint8 // never 255
	IdleTimeout    uint16
	HardTimeout    uint16
	FinIdleTimeout uint16
	FinHardTimeout uint16
	Priority       uint16
	Cookie         uint64
	Flags          uint16 // LearnSendFlowRem, LearnDeleteLearned, LearnWriteResult
	Limit          uint32
	ResultDst      Subfield // one bit, with LearnWriteResult
	Specs          []LearnSpec
	V2             bool // write NXAST_LEARN2 even without limit or result_dst
}

// LearnSpec is one flow_mod_spec: Bits bits from a field (SrcField, Bits
// wide) or an immediate (Imm, ceil(Bits/8) bytes, big-endian) to a match
// field, a load or an output.
type LearnSpec struct {
	Src      uint16 // LearnSrcField or LearnSrcImmediate
	Dst      uint16 // LearnDstMatch, LearnDstLoad or LearnDstOutput
	Bits     int
	SrcField Subfield
	Imm      []byte
	DstField Subfield // unused for LearnDstOutput
}

const learnDefaultPriority = 0x8000 // OFP_DEFAULT_PRIORITY

func decodeLearn(ctx Context, b []byte) (Action, error) {
	v2 := be.Uint16(b[8:]) == nxastLearn2
	hdr, allowed := 32, uint16(LearnSendFlowRem|LearnDeleteLearned)
	if v2 {
		hdr, allowed = 40, LearnSendFlowRem|LearnDeleteLearned|LearnWriteResult
	}
	if len(b) < hdr {
		return nil, nxaError(ctx, "learn", "OFPBAC_BAD_LEN")
	}
	if v2 && be.Uint16(b[38:]) != 0 {
		return nil, nxaError(ctx, "learn", "NXBAC_MUST_BE_ZERO")
	}
	a := &Learn{
		IdleTimeout:    be.Uint16(b[10:]),
		HardTimeout:    be.Uint16(b[12:]),
		Priority:       be.Uint16(b[14:]),
		Cookie:         be.Uint64(b[16:]),
		Flags:          be.Uint16(b[24:]),
		Table:          b[26],
		FinIdleTimeout: be.Uint16(b[28:]),
		FinHardTimeout: be.Uint16(b[30:]),
		V2:             v2,
	}
	if b[27] != 0 || a.Table == 0xff || a.Flags&^allowed != 0 {
		return nil, nxaError(ctx, "learn", "OFPBAC_BAD_ARGUMENT")
	}
	p := b[hdr:]
	if v2 {
		a.Limit = be.Uint32(b[32:])
		ofs := int(be.Uint16(b[36:]))
		if a.Flags&LearnWriteResult != 0 {
			h, n, err := nxaPullHeader(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("learn: result_dst: %w", err)
			}
			if f := oxm.ByHeader(h); f == nil || !f.Writable {
				return nil, nxaError(ctx, "learn: result_dst: read-only", "OFPBAC_BAD_SET_ARGUMENT")
			}
			a.ResultDst = Subfield{Header: h, Ofs: ofs, Bits: 1}
			p = p[n:]
		} else if ofs != 0 {
			return nil, nxaError(ctx, "learn", "OFPBAC_BAD_ARGUMENT")
		}
	}
	for i := 0; len(p) >= 2; i++ {
		h := be.Uint16(p)
		if h == 0 {
			break
		}
		s, rest, err := decodeLearnSpec(ctx, h, p[2:])
		if err != nil {
			return nil, fmt.Errorf("learn: spec[%d]: %w", i, err)
		}
		a.Specs = append(a.Specs, s)
		p = rest
	}
	if !allZero(p) {
		return nil, nxaError(ctx, "learn", "OFPBAC_BAD_ARGUMENT")
	}
	return a, nil
}

// decodeLearnSpec decodes the flow_mod_spec whose header h was just read;
// p is what follows it.
func decodeLearnSpec(ctx Context, h uint16, p []byte) (LearnSpec, []byte, error) {
	s := LearnSpec{Src: h & learnSrcMask, Dst: h & learnDstMask, Bits: int(h & learnNBitsMask)}
	if !(s.Dst == LearnDstMatch || s.Dst == LearnDstLoad ||
		s.Dst == LearnDstOutput && s.Src == LearnSrcField) {
		return s, nil, nxaError(ctx, "header", "OFPBAC_BAD_ARGUMENT")
	}
	need := 6
	if s.Src == LearnSrcImmediate {
		need = 2 * ((s.Bits + 15) / 16)
	}
	if s.Dst != LearnDstOutput {
		need += 6
	}
	if len(p) < need {
		return s, nil, nxaError(ctx, "args", "OFPBAC_BAD_LEN")
	}
	sub := func() (Subfield, error) {
		h, err := nxaFieldByHeader(ctx, be.Uint32(p))
		sf := Subfield{Header: h, Ofs: int(be.Uint16(p[4:])), Bits: s.Bits}
		p = p[6:]
		return sf, err
	}
	var err error
	if s.Src == LearnSrcField {
		if s.SrcField, err = sub(); err != nil {
			return s, nil, fmt.Errorf("src: %w", err)
		}
	} else {
		n := 2 * ((s.Bits + 15) / 16)
		s.Imm = append([]byte(nil), p[n-(s.Bits+7)/8:n]...)
		p = p[n:]
	}
	if s.Dst != LearnDstOutput {
		if s.DstField, err = sub(); err != nil {
			return s, nil, fmt.Errorf("dst: %w", err)
		}
	}
	return s, p, nil
}

func (a *Learn) AppendBinary(b []byte) ([]byte, error) {
	v2 := a.V2 || a.Limit != 0 || a.Flags&LearnWriteResult != 0
	sub := uint16(nxastLearn)
	if v2 {
		sub = nxastLearn2
	}
	b, start := appendNXHeader(b, sub)
	b = be.AppendUint16(b, a.IdleTimeout)
	b = be.AppendUint16(b, a.HardTimeout)
	b = be.AppendUint16(b, a.Priority)
	b = be.AppendUint64(b, a.Cookie)
	b = be.AppendUint16(b, a.Flags)
	b = append(b, a.Table, 0)
	b = be.AppendUint16(b, a.FinIdleTimeout)
	b = be.AppendUint16(b, a.FinHardTimeout)
	if v2 {
		b = be.AppendUint32(b, a.Limit)
		b = be.AppendUint16(b, uint16(a.ResultDst.Ofs))
		b = append(b, 0, 0)
		if a.Flags&LearnWriteResult != 0 {
			if a.ResultDst.Header == 0 {
				return b[:start], fmt.Errorf("learn: result_dst: %w", errNoField)
			}
			b = nxaAppendHeader(b, a.ResultDst.Header)
		}
	}
	for i, s := range a.Specs {
		var err error
		if b, err = s.appendBinary(b); err != nil {
			return b[:start], fmt.Errorf("learn: spec[%d]: %w", i, err)
		}
	}
	return finishAction(b, start)
}

func (s *LearnSpec) appendBinary(b []byte) ([]byte, error) {
	h := uint16(s.Bits) | s.Src | s.Dst
	if s.Bits < 0 || s.Bits > learnNBitsMask || h == 0 {
		return b, fmt.Errorf("%d bits", s.Bits) // 0 would end the specs
	}
	b = be.AppendUint16(b, h)
	if s.Src == LearnSrcField {
		if s.SrcField.Header == 0 {
			return b, errNoField
		}
		b = nxaAppendHeader(b, s.SrcField.Header)
		b = be.AppendUint16(b, uint16(s.SrcField.Ofs))
	} else {
		n, m := 2*((s.Bits+15)/16), (s.Bits+7)/8
		imm := s.Imm
		if len(imm) > m {
			imm = imm[len(imm)-m:]
		}
		for i := 0; i < n-len(imm); i++ {
			b = append(b, 0)
		}
		b = append(b, imm...)
	}
	if s.Dst != LearnDstOutput {
		if s.DstField.Header == 0 {
			return b, errNoField
		}
		b = nxaAppendHeader(b, s.DstField.Header)
		b = be.AppendUint16(b, uint16(s.DstField.Ofs))
	}
	return b, nil
}

// AppendText writes learn_format's form.
func (a *Learn) AppendText(b []byte) ([]byte, error) {
	b = fmt.Appendf(b, "learn(table=%d", a.Table)
	if a.IdleTimeout != 0 {
		b = fmt.Appendf(b, ",idle_timeout=%d", a.IdleTimeout)
	}
	if a.HardTimeout != 0 {
		b = fmt.Appendf(b, ",hard_timeout=%d", a.HardTimeout)
	}
	if a.FinIdleTimeout != 0 {
		b = fmt.Appendf(b, ",fin_idle_timeout=%d", a.FinIdleTimeout)
	}
	if a.FinHardTimeout != 0 {
		b = fmt.Appendf(b, ",fin_hard_timeout=%d", a.FinHardTimeout)
	}
	if a.Priority != learnDefaultPriority {
		b = fmt.Appendf(b, ",priority=%d", a.Priority)
	}
	if a.Flags&LearnSendFlowRem != 0 {
		b = append(b, ",send_flow_rem"...)
	}
	if a.Flags&LearnDeleteLearned != 0 {
		b = append(b, ",delete_learned"...)
	}
	if a.Cookie != 0 {
		b = fmt.Appendf(b, ",cookie=%#x", a.Cookie)
	}
	if a.Limit != 0 {
		b = fmt.Appendf(b, ",limit=%d", a.Limit)
	}
	if a.Flags&LearnWriteResult != 0 {
		b = a.ResultDst.appendText(append(b, ",result_dst="...))
	}
	for _, s := range a.Specs {
		b = s.appendText(append(b, ','))
	}
	return append(b, ')'), nil
}

func (s *LearnSpec) appendText(b []byte) []byte {
	switch {
	case s.Src == LearnSrcImmediate && s.Dst == LearnDstMatch:
		f := oxm.ByHeader(s.DstField.Header)
		if f != nil && s.DstField.Ofs == 0 && s.Bits == f.Bits {
			v := make([]byte, f.Bytes)
			copy(v[max(0, len(v)-len(s.Imm)):], s.Imm)
			return appendValue(append(append(b, f.Name...), '='), f, v, nil)
		}
		b = s.DstField.appendText(b)
		return nxaAppendSubvalue(append(b, '='), s.Imm)
	case s.Src == LearnSrcField && s.Dst == LearnDstMatch:
		b = s.DstField.appendText(b)
		if s.SrcField.Header != s.DstField.Header || s.SrcField.Ofs != s.DstField.Ofs {
			b = s.SrcField.appendText(append(b, '='))
		}
		return b
	case s.Src == LearnSrcImmediate && s.Dst == LearnDstLoad:
		b = nxaAppendSubvalue(append(b, "load:"...), s.Imm)
		return s.DstField.appendText(append(b, "->"...))
	case s.Src == LearnSrcField && s.Dst == LearnDstLoad:
		b = s.SrcField.appendText(append(b, "load:"...))
		return s.DstField.appendText(append(b, "->"...))
	default:
		return s.SrcField.appendText(append(b, "output:"...))
	}
}

// nxaAppendSubvalue is mf_format_subvalue: hex without leading zero bytes,
// "0" for zero.
func nxaAppendSubvalue(b []byte, v []byte) []byte {
	for i, c := range v {
		if c != 0 {
			b = fmt.Appendf(b, "0x%x", c)
			return hex.AppendEncode(b, v[i+1:])
		}
	}
	return append(b, '0')
}

// parseLearn parses the inside of "learn(...)" (learn_parse).
func parseLearn(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &Learn{Table: 1, Priority: learnDefaultPriority}
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	u16 := func(v string, dst *uint16) error {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return nxaSyntax(v, "invalid number")
		}
		*dst = uint16(n)
		return nil
	}
	for _, kv := range kvs {
		var err error
		switch kv.key {
		case "table":
			t, perr := strconv.ParseUint(kv.value, 10, 8)
			if perr != nil || t == 255 {
				return nil, kv.shift(nxaSyntax(kv.value, "table id not valid for `learn' action"))
			}
			a.Table = uint8(t)
		case "priority":
			err = u16(kv.value, &a.Priority)
		case "idle_timeout":
			err = u16(kv.value, &a.IdleTimeout)
		case "hard_timeout":
			err = u16(kv.value, &a.HardTimeout)
		case "fin_idle_timeout":
			err = u16(kv.value, &a.FinIdleTimeout)
		case "fin_hard_timeout":
			err = u16(kv.value, &a.FinHardTimeout)
		case "cookie":
			var c uint64
			if c, err = strconv.ParseUint(kv.value, 0, 64); err != nil {
				err = nxaSyntax(kv.value, "invalid cookie")
			}
			a.Cookie = c
		case "send_flow_rem":
			a.Flags |= LearnSendFlowRem
		case "delete_learned":
			a.Flags |= LearnDeleteLearned
		case "limit":
			if a.Limit, err = nxaUint32(kv.value); err != nil {
				err = nxaSyntax(kv.value, "invalid limit")
			}
		case "result_dst":
			a.Flags |= LearnWriteResult
			if a.ResultDst, err = parseSubfieldCtx(ctx, kv.value); err == nil && a.ResultDst.Bits != 1 {
				err = nxaSyntax(kv.value, "result_dst in 'learn' action must be a single bit")
			} else if f := oxm.ByHeader(a.ResultDst.Header); err == nil && !f.Writable {
				err = nxaSyntax(kv.value, "result_dst is read-only")
			}
		default:
			var s LearnSpec
			if s, err = parseLearnSpec(ctx, kv.key, kv.value); err == nil {
				a.Specs = append(a.Specs, s)
			}
		}
		if err != nil {
			return nil, kv.shift(err)
		}
	}
	return a, nil
}

// parseLearnSpec parses one flow_mod_spec (learn_parse_spec): "DST[=SRC]"
// with SRC a subfield or an immediate (the whole field's value in the
// field's syntax, else an integer), "load:SRC->DST" (SRC an integer, else
// a subfield), "output:SRC". Experimenter fields cannot be learned.
func parseLearnSpec(ctx Context, name, value string) (LearnSpec, error) {
	var s LearnSpec
	noExp := func(sf Subfield, text string) error {
		if sf.Header.Class() == 0xffff {
			return nxaSyntax(text, fmt.Sprintf("experimenter OXM field '%s' not supported", text))
		}
		return nil
	}
	if dst, err := parseSubfieldCtx(ctx, name); err == nil {
		if err := noExp(dst, name); err != nil {
			return s, err
		}
		s.Dst, s.DstField, s.Bits = LearnDstMatch, dst, dst.Bits
		if value == "" {
			s.Src, s.SrcField = LearnSrcField, dst
			return s, nil
		}
		src, serr := Subfield{}, errNotSubfield
		if looksLikeSubfield(ctx, value) {
			src, serr = parseSubfieldCtx(ctx, value)
		}
		if serr == nil {
			if src.Bits != dst.Bits {
				return s, nxaSyntax(value, fmt.Sprintf("bit widths of %s (%d) and %s (%d) differ", name, dst.Bits, value, src.Bits))
			}
			s.Src, s.SrcField = LearnSrcField, src
			return s, nil
		}
		s.Src = LearnSrcImmediate
		f := dst.info()
		if dst.Ofs == 0 && dst.Bits == f.FieldBits(ctx.OXM) {
			v, m, err := parseValueCtx(ctx, f, value)
			if err != nil {
				return s, nxaSyntax(value, fmt.Sprintf("%s value %s cannot be parsed as a subfield or an immediate value (%v)", name, value, err))
			}
			if m != nil && !nxaAllOnes(m) {
				return s, nxaSyntax(value, "wildcards not allowed here")
			}
			s.Imm = nxaTrim(v, dst.Bits)
			return s, nil
		}
		v, ok := parseIntBytes(value)
		if !ok {
			return s, nxaSyntax(value, fmt.Sprintf("%s value %s cannot be parsed as a subfield or an immediate value", name, value))
		}
		if bitLen(v) > dst.Bits {
			return s, nxaSyntax(value, fmt.Sprintf("value %s does not fit into %d bits", value, dst.Bits))
		}
		s.Imm = nxaTrim(v, dst.Bits)
		return s, nil
	}
	switch name {
	case "load":
		i := strings.Index(value, "->")
		switch {
		case i == 0:
			return s, nxaSyntax(value, "load: missing source before `->'")
		case i < 0:
			return s, nxaSyntax(value, "load: missing `->'")
		}
		if v, ok := parseIntBytes(value[:i]); ok {
			d, err := parseSubfieldCtx(ctx, value[i+2:])
			if err != nil {
				return s, err
			}
			if err := noExp(d, value[i+2:]); err != nil {
				return s, err
			}
			if bitLen(v) > d.Bits {
				return s, nxaSyntax(value, fmt.Sprintf("value does not fit into %d bits", d.Bits))
			}
			s.Dst, s.DstField, s.Bits = LearnDstLoad, d, d.Bits
			s.Src, s.Imm = LearnSrcImmediate, nxaTrim(v, d.Bits)
			return s, nil
		}
		src, err := parseSubfieldCtx(ctx, value[:i])
		if err != nil {
			return s, err
		}
		d, err := parseSubfieldCtx(ctx, value[i+2:])
		if err != nil {
			return s, err
		}
		if src.Bits != d.Bits {
			return s, nxaSyntax(value, "source and destination field sizes differ")
		}
		s.Dst, s.DstField, s.Bits = LearnDstLoad, d, d.Bits
		s.Src, s.SrcField = LearnSrcField, src
		return s, nil
	case "output":
		sf, err := parseSubfieldCtx(ctx, value)
		if err != nil {
			return s, err
		}
		s.Src, s.Dst, s.SrcField, s.Bits = LearnSrcField, LearnDstOutput, sf, sf.Bits
		return s, nil
	}
	return s, nxaSyntax(name, "unknown keyword in learn action")
}

// errNotSubfield: the text names no field.
var errNotSubfield = errors.New("not a subfield")

// looksLikeSubfield says whether s starts with a field's name, which is
// when mf_parse_subfield can take it; a learn spec's source is tried as
// that before as an immediate, and immediates are the common case.
func looksLikeSubfield(ctx Context, s string) bool {
	n := strings.IndexAny(s, "[-")
	if n < 0 {
		n = len(s)
	}
	name := strings.TrimSuffix(s[:n], "_W")
	return oxm.ByName(name) != nil || name == "geneve"
}

// nxaSpanNot is strcspn.
func nxaSpanNot(s, set string) int {
	if i := strings.IndexAny(s, set); i >= 0 {
		return i
	}
	return len(s)
}

func nxaAllOnes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// nxaTrim keeps the ceil(bits/8) low-order bytes of the big-endian v.
func nxaTrim(v []byte, bits int) []byte {
	n := (bits + 7) / 8
	if len(v) >= n {
		return append([]byte(nil), v[len(v)-n:]...)
	}
	out := make([]byte, n)
	copy(out[n-len(v):], v)
	return out
}

// nxaParseImmediate parses an integer (decimal or 0x hex of any length)
// that must fit in bits, as ceil(bits/8) big-endian bytes.
func nxaParseImmediate(s string, bits int) ([]byte, error) {
	v, ok := new(big.Int).SetString(strings.TrimSpace(s), 0)
	if !ok || v.Sign() < 0 {
		return nil, nxaSyntax(s, "invalid immediate value")
	}
	if v.BitLen() > bits {
		return nil, nxaSyntax(s, fmt.Sprintf("value does not fit into %d bits", bits))
	}
	return v.FillBytes(make([]byte, (bits+7)/8)), nil
}

// nxaCheck is mf_check_src/mf_check_dst's bounds check.
func nxaCheck(ctx Context, s Subfield) error {
	n := fieldBits(s.Header)
	if n == 0 {
		return nxaError(ctx, "field", "OFPBAC_BAD_SET_TYPE")
	}
	if s.Bits <= 0 || s.Ofs >= n || s.Ofs+s.Bits > n {
		return nxaError(ctx, s.String(), "OFPBAC_BAD_SET_LEN")
	}
	return nil
}

// nxaCheckDst is mf_check_dst: nxaCheck, and the field must be writable.
func nxaCheckDst(ctx Context, s Subfield) error {
	if err := nxaCheck(ctx, s); err != nil {
		return err
	}
	if f := oxm.ByHeader(s.Header); f == nil || !f.Writable {
		return nxaError(ctx, s.String()+": not writable", "OFPBAC_BAD_SET_ARGUMENT")
	}
	return nil
}

// nxaFieldByHeader is mf_vl_mff_mf_from_nxm_header for a 4-byte header
// (no experimenter fields): the field's header as actions write it (its
// NXM one if it has one, as nxm_header_from_mff), or
// OFPBAC_BAD_SET_ARGUMENT.
func nxaFieldByHeader(ctx Context, h uint32) (oxm.Header, error) {
	hd := oxm.Header(h)
	f := oxm.ByHeader(hd)
	if f == nil || hd.HasMask() || hd.Class() == 0xffff || int(hd.Length()) > f.Bytes ||
		!f.VarLen && int(hd.Length()) != f.Bytes {
		return 0, nxaError(ctx, fmt.Sprintf("field %#08x", h), "OFPBAC_BAD_SET_TYPE")
	}
	if f.VarLen {
		// tun_metadata: the mapped length, else the largest.
		n := f.ValueLen(ctx.OXM)
		if n == 0 {
			n = f.Bytes
		}
		return oxm.MakeHeader(hd.Class(), hd.Field(), false, uint8(n)), nil
	}
	return nxmHeader(hd), nil
}

// nxaPullHeader is nx_pull_header: a 4-byte header, or 8 with the
// experimenter for class 0xffff. It returns the header and the bytes used.
func nxaPullHeader(ctx Context, b []byte) (oxm.Header, int, error) {
	if len(b) < 4 {
		return 0, 0, nxaError(ctx, "field", "OFPBAC_BAD_LEN")
	}
	hd := oxm.Header(be.Uint32(b))
	if hd.HasMask() {
		// A known field with a mask is a bad mask, anything else a bad field.
		name := "OFPBMC_BAD_FIELD"
		exact := oxm.MakeHeader(hd.Class(), hd.Field(), false, hd.Length()/2)
		if _, err := nxaFieldByHeader(ctx, uint32(exact)); err == nil && hd.Length()%2 == 0 && hd.Class() != 0xffff {
			name = "OFPBMC_BAD_MASK"
		}
		return 0, 0, nxaError(ctx, fmt.Sprintf("field %#08x", uint32(hd)), name)
	}
	if hd.Class() != 0xffff {
		// nx_pull_header's error for an unknown field is not
		// mf_vl_mff_mf_from_nxm_header's.
		h, err := nxaFieldByHeader(ctx, uint32(hd))
		if err != nil {
			return 0, 0, nxaError(ctx, fmt.Sprintf("field %#08x", uint32(hd)), "OFPBMC_BAD_FIELD")
		}
		return h, 4, nil
	}
	if len(b) < 8 {
		return 0, 0, nxaError(ctx, "field", "OFPBAC_BAD_LEN")
	}
	f := oxm.ByHeader(hd)
	if f == nil || hd.HasMask() || f.Experimenter != be.Uint32(b[4:]) || int(hd.Length()) != f.Bytes+4 {
		return 0, 0, nxaError(ctx, fmt.Sprintf("field %#08x", uint32(hd)), "OFPBMC_BAD_FIELD")
	}
	return hd, 8, nil
}

// nxaAppendHeader writes a field's action header (nx_put_mff_header), with
// the experimenter for class 0xffff.
func nxaAppendHeader(b []byte, h oxm.Header) []byte {
	h = nxmHeader(h)
	b = be.AppendUint32(b, uint32(h))
	if h.Class() == 0xffff {
		var exp uint32
		if f := oxm.ByHeader(h); f != nil {
			exp = f.Experimenter
		}
		b = be.AppendUint32(b, exp)
	}
	return b
}
