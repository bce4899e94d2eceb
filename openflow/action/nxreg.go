package action

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Move copies bits between fields (move:SRC->DST), written as one of
//
//	NXAST_REG_MOVE (6, struct nx_action_reg_move): n_bits u16 | src_ofs u16 |
//	    dst_ofs u16 | src u32 | dst u32
//	OFPAT_COPY_FIELD (28, OpenFlow 1.5 struct ofp15_action_copy_field):
//	    n_bits u16 | src_offset u16 | dst_offset u16 | pad 2 | src | dst | pad
//	ONFACT_COPY_FIELD (ONF exp_type 3200, OpenFlow 1.3 extension): the same
//	    after the ONF header.
type Move struct {
	Src, Dst Subfield // same Bits
	Enc      uint8    // MoveNX, MoveOF15 or MoveONF
}

// Encodings of Move.
const (
	MoveNX   = 0
	MoveOF15 = 1
	MoveONF  = 2
)

func (a *Move) AppendBinary(b []byte) ([]byte, error) {
	if a.Src.Bits != a.Dst.Bits {
		return nil, fmt.Errorf("move: %d bits to %d", a.Src.Bits, a.Dst.Bits)
	}
	var start int
	switch a.Enc {
	case MoveNX:
		b, start = appendNXHeader(b, nxRegMove)
		b = be.AppendUint16(b, uint16(a.Src.Bits))
		b = be.AppendUint16(be.AppendUint16(b, uint16(a.Src.Ofs)), uint16(a.Dst.Ofs))
		return finishAction(a.Dst.appendHeader(a.Src.appendHeader(b)), start)
	case MoveOF15:
		b, start = appendOFHeader(b, 28)
	default:
		b, start = appendONFHeader(b, 3200)
	}
	b = be.AppendUint16(b, uint16(a.Src.Bits))
	b = be.AppendUint16(be.AppendUint16(b, uint16(a.Src.Ofs)), uint16(a.Dst.Ofs))
	b = append(b, 0, 0)
	return finishAction(a.Dst.appendHeader(a.Src.appendHeader(b)), start)
}

func (a *Move) AppendText(b []byte) ([]byte, error) {
	b = a.Src.appendText(append(b, "move:"...))
	return a.Dst.appendText(append(b, "->"...)), nil
}

// decodeMoveHeaders reads the source and destination headers that follow
// a move's fixed part, and checks that only zeros follow them.
func decodeMoveHeaders(p []byte, n, srcOfs, dstOfs int, enc uint8) (Action, error) {
	sh, sexp, k1, err := pullField(p)
	if err != nil {
		return nil, fmt.Errorf("move: source: %w", err)
	}
	dh, dexp, k2, err := pullField(p[k1:])
	if err != nil {
		return nil, fmt.Errorf("move: destination: %w", err)
	}
	if !allZero(p[k1+k2:]) {
		return nil, fmt.Errorf("move: %w", ofpErr("NXBRC_MUST_BE_ZERO"))
	}
	return &Move{
		Src: Subfield{Header: sh, Experimenter: sexp, Ofs: srcOfs, Bits: n},
		Dst: Subfield{Header: dh, Experimenter: dexp, Ofs: dstOfs, Bits: n},
		Enc: enc,
	}, nil
}

func decodeRegMove(ctx Context, b []byte) (Action, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("move: length %d: %w", len(b), ofpErr("OFPBMC_BAD_LEN"))
	}
	return decodeMoveHeaders(b[16:], int(be.Uint16(b[10:])), int(be.Uint16(b[12:])), int(be.Uint16(b[14:])), MoveNX)
}

// decodeCopyField decodes body (from n_bits on) of both copy_field forms.
func decodeCopyField(body []byte, enc uint8) (Action, error) {
	if len(body) < 8 {
		return nil, badLen("copy_field")
	}
	return decodeMoveHeaders(body[8:], int(be.Uint16(body)), int(be.Uint16(body[2:])), int(be.Uint16(body[4:])), enc)
}

func decodeOFCopyField(ctx Context, b []byte) (Action, error) {
	if ctx.Version < 6 {
		return nil, nil
	}
	return decodeCopyField(b[4:], MoveOF15)
}

func decodeONFCopyField(ctx Context, b []byte) (Action, error) {
	return decodeCopyField(onfBody(b), MoveONF)
}

func parseMove(ctx Context, kw, s string, hasArg bool) (Action, error) {
	src, dst, err := parseArrow(s)
	if err != nil {
		return nil, err
	}
	a := &Move{}
	if a.Src, err = parseSubfieldCtx(ctx, src); err != nil {
		return nil, err
	}
	if a.Dst, err = parseSubfieldCtx(ctx, dst); err != nil {
		return nil, shiftErr(err, len(src)+2, dst)
	}
	if a.Src.Bits != a.Dst.Bits {
		return nil, fmt.Errorf("source field is %d bits wide but destination is %d bits wide", a.Src.Bits, a.Dst.Bits)
	}
	if ctx.Version >= 6 {
		// OpenFlow 1.5's copy_field names the fields by the headers of
		// that version.
		a.Enc, a.Src, a.Dst = MoveOF15, a.Src.withVersion(ctx.Version), a.Dst.withVersion(ctx.Version)
	}
	return a, nil
}

// RegLoad is NXAST_REG_LOAD (7, struct nx_action_reg_load: ofs_nbits u16 |
// dst u32 | value u64): load:VALUE->DST.
type RegLoad struct {
	Dst   Subfield
	Value uint64
}

func (a *RegLoad) AppendBinary(b []byte) ([]byte, error) {
	if a.Dst.Bits < 1 || a.Dst.Bits > 64 {
		return nil, fmt.Errorf("load: %d bits", a.Dst.Bits)
	}
	b, start := appendNXHeader(b, nxRegLoad)
	b = be.AppendUint16(b, ofsNbits(a.Dst.Ofs, a.Dst.Bits))
	b = be.AppendUint32(b, uint32(a.Dst.Header))
	return finishAction(be.AppendUint64(b, a.Value), start)
}

func (a *RegLoad) AppendText(b []byte) ([]byte, error) {
	b = appendHex64(append(b, "load:"...), a.Value)
	return a.Dst.appendText(append(b, "->"...)), nil
}

func decodeRegLoad(ctx Context, b []byte) (Action, error) {
	if len(b) != 24 {
		return nil, badLen("load")
	}
	return &RegLoad{Dst: subfieldOf(be.Uint32(b[12:]), be.Uint16(b[10:])), Value: be.Uint64(b[16:])}, nil
}

func decodeRegLoad2(ctx Context, b []byte) (Action, error) {
	return decodeSetFieldTLV(ctx, nxBody(b), true, true)
}

// parseLoad is load:VALUE->DST (parse_reg_load): VALUE an integer of any
// width that fits in DST's bits. OpenFlow 1.5 writes it as a masked
// set_field; before, a field with a 4-byte NXM header takes one
// NXAST_REG_LOAD per run of up to 64 bits, any other (tun_metadata, an
// experimenter field) an NXAST_REG_LOAD2.
func parseLoad(ctx Context, kw, s string, hasArg bool) (Action, error) {
	val, dst, err := parseArrow(s)
	if err != nil {
		return nil, err
	}
	sf, err := parseSubfieldCtx(ctx, dst)
	if err != nil {
		return nil, shiftErr(err, len(val)+2, dst)
	}
	info := sf.info()
	var buf [16]byte
	v, ok := parseIntBytesInto(buf[:0], val)
	if !ok || info == nil {
		return nil, fmt.Errorf("%s: cannot parse integer value", s)
	}
	if bitLen(v) > sf.Bits {
		return nil, fmt.Errorf("%s: value %s does not fit into %d bits", s, oxm.AppendHex(nil, v), sf.Bits)
	}
	if ctx.Version < 6 && sf.Header.Class() != 0xffff && !info.VarLen && sf.Bits <= 64 {
		return &RegLoad{Dst: sf, Value: beUint64(v)}, nil
	}
	// A whole field's worth of value and mask: for tun_metadata as many
	// bytes as the switch's TLV map says, or 124 without one.
	n := info.Bytes
	if info.VarLen {
		n = (sf.Ofs + sf.Bits + 7) / 8
		if l := info.FieldBits(ctx.OXM) / 8; l > n {
			n = l
		}
	}
	value, mask := make([]byte, n), make([]byte, n)
	for i := 0; i < sf.Bits; i++ {
		bit := sf.Ofs + i
		mask[n-1-bit/8] |= 1 << (bit % 8)
		if k := len(v) - 1 - i/8; k >= 0 && v[k]>>(i%8)&1 != 0 {
			value[n-1-bit/8] |= 1 << (bit % 8)
		}
	}
	return setFieldFor(ctx, info, value, mask, true), nil
}

// parseIntBytes reads an unsigned integer of any width as OVS's
// parse_int_string does: 0x hex, or decimal (up to 64 bits), big-endian.
func parseIntBytes(s string) ([]byte, bool) { return parseIntBytesInto(nil, s) }

// parseIntBytesInto is parseIntBytes appending to buf (empty; its room
// saves allocating for most values).
func parseIntBytesInto(buf []byte, s string) ([]byte, bool) {
	if h, ok := strings.CutPrefix(s, "0x"); ok || strings.HasPrefix(s, "0X") {
		if !ok {
			h = s[2:]
		}
		if h == "" {
			return nil, false
		}
		out := append(buf, make([]byte, (len(h)+1)/2)...)
		for k := 0; k < len(h); k++ {
			d, ok := hexDigit(h[len(h)-1-k])
			if !ok {
				return nil, false
			}
			out[len(out)-1-k/2] |= d << (4 * (k % 2))
		}
		return out, true
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false
	}
	return be.AppendUint64(buf, v), true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// bitLen is the number of significant bits of the big-endian v.
func bitLen(v []byte) int {
	for k, c := range v {
		if c != 0 {
			n := 8 * (len(v) - k)
			for c&0x80 == 0 {
				c <<= 1
				n--
			}
			return n
		}
	}
	return 0
}

// beUint64 is the big-endian v's low 64 bits.
func beUint64(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}

// setFieldFor picks OVS's encoding for setting value/mask (the field's
// width) in field info (encode_SET_FIELD): everything is a set_field in
// OpenFlow 1.5; before, a whole field is OFPAT_SET_FIELD (1.2+) unless it
// came from load: (load says NXAST_REG_LOAD), a field with no 4-byte NXM
// header (tun_metadata, experimenter fields) is REG_LOAD2, and the rest
// one NXAST_REG_LOAD per run of mask bits. Set-field headers are the
// version's, Nicira ones those of no version (nx_put_entry with 0).
func setFieldFor(ctx Context, info *oxm.Info, value, mask []byte, load bool) Action {
	if info.VarLen {
		value, mask = tunMetadataMinimal(value, mask)
		if mask == nil {
			mask = allFF[:len(value):len(value)]
		}
	}
	whole := allOnes(mask)
	if ctx.Version >= 6 || (ctx.Version >= 3 && whole && !load) {
		a := NewSetField(info, ctx.Version, value, mask)
		a.FromLoad = load
		if whole {
			a.Mask = nil
		}
		return a
	}
	h, exp := info.HeaderFor(0)
	if info.VarLen || h.Class() == 0xffff {
		a := &SetField{Field: exactHeader(h, len(value)), Experimenter: exp, Value: value, Mask: mask, Load2: true}
		if whole {
			a.Mask = nil
		}
		return a
	}
	n := len(value) * 8
	bit := func(b []byte, i int) bool { return b[len(b)-1-i/8]>>(i%8)&1 != 0 }
	var seq actionSeq
	// next_load_segment: runs of mask bits from bit 0 up, each at most
	// 64 bits.
	for i := 0; i < n; {
		if !bit(mask, i) {
			i++
			continue
		}
		lo := i
		for i < n && bit(mask, i) && i-lo < 64 {
			i++
		}
		hi := i - 1
		var v uint64
		for k := hi; k >= lo; k-- {
			v <<= 1
			if bit(value, k) {
				v |= 1
			}
		}
		seq = append(seq, &RegLoad{Dst: Subfield{Header: h, Ofs: lo, Bits: hi - lo + 1}, Value: v})
	}
	if len(seq) == 1 {
		return seq[0]
	}
	return seq
}

// parseSetField is set_field:VALUE[/MASK]->FIELD.
func parseSetField(ctx Context, kw, s string, hasArg bool) (Action, error) {
	i := strings.LastIndex(s, "->")
	if i < 0 {
		return nil, &SyntaxError{Token: s, Msg: "missing ->"}
	}
	val, dst := s[:i], s[i+2:]
	info := ctx.OXM.ByFieldName(dst)
	switch {
	case info == nil:
		return nil, &SyntaxError{Offset: i + 2, Token: dst, Msg: dst + " is not a valid OXM field name"}
	case !info.Writable:
		return nil, &SyntaxError{Offset: i + 2, Token: dst, Msg: dst + " is read-only"}
	}
	value, mask, err := parseValue(ctx, info, val)
	if err != nil {
		return nil, err
	}
	if mask == nil {
		// setFieldFor keeps an exact mask only for tun_metadata's
		// REG_LOAD2: otherwise it only reads it, and a shared one does.
		if isTunMetadata(info.Header) || len(value) > len(allFF) {
			mask = make([]byte, len(value))
			for k := range mask {
				mask[k] = 0xff
			}
		} else {
			mask = allFF[:len(value):len(value)]
		}
	}
	return setFieldFor(ctx, info, value, mask, false), nil
}

// allFF is an exact mask that parseSetField lends setFieldFor, which
// only reads it (never written).
var allFF = func() (b [128]byte) {
	for k := range b {
		b[k] = 0xff
	}
	return b
}()

func init() {
	registerNX(nxRegMove, decodeRegMove)
	registerOF(28, decodeOFCopyField)
	registerONF(3200, decodeONFCopyField)
	registerParser("move", parseMove)
	registerNX(nxRegLoad, decodeRegLoad)
	registerNX(nxRegLoad2, decodeRegLoad2)
	registerParser("load", parseLoad)
	registerParser("set_field", parseSetField)
}

// validate is nxm_reg_move_check, after OVS's header lookup (an unknown
// header is OFPBMC_BAD_FIELD there).
func (a *Move) validate(ctx Context) error {
	for _, sf := range []Subfield{a.Src, a.Dst} {
		if sf.info() == nil {
			return fmt.Errorf("move: unknown field 0x%08x: %w", uint32(sf.Header), ofpErr("OFPBMC_BAD_FIELD"))
		}
	}
	if err := a.Src.check(); err != nil {
		return err
	}
	return a.Dst.checkDst()
}

func (a *RegLoad) validate(ctx Context) error {
	if err := a.Dst.checkDst(); err != nil {
		return err
	}
	if a.Dst.Bits < 64 && a.Value>>a.Dst.Bits != 0 {
		return badArg("load: %#x does not fit %d bits", a.Value, a.Dst.Bits)
	}
	return nil
}

// tunMetadataMinimal sizes a value written to a tun_metadata field the way
// OVS does (meta-flow.c mf_field_len): a variable-length field is written
// without its leading zero bytes, value and mask alike, so set_field:0x7 is
// a one-byte TLV whatever the option's mapped length. Writing it otherwise
// would make a flow dumped back from the switch differ from ours.
func tunMetadataMinimal(value, mask []byte) ([]byte, []byte) {
	if allOnes(mask) {
		mask = nil // the whole field: OVS writes no mask
	}
	n := significant(value)
	if mask != nil {
		n = max(n, significant(mask))
		mask = mask[len(mask)-n:]
	}
	return value[len(value)-n:], mask
}

// significant is the length of b without its leading zero bytes.
func significant(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return len(b) - i
		}
	}
	return 0
}
