package action

import (
	"fmt"
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
		b = be.AppendUint32(be.AppendUint32(b, uint32(a.Src.Header)), uint32(a.Dst.Header))
		return finishAction(b, start)
	case MoveOF15:
		b, start = appendOFHeader(b, 28)
	default:
		b, start = appendONFHeader(b, 3200)
	}
	b = be.AppendUint16(b, uint16(a.Src.Bits))
	b = be.AppendUint16(be.AppendUint16(b, uint16(a.Src.Ofs)), uint16(a.Dst.Ofs))
	b = append(b, 0, 0)
	b = be.AppendUint32(be.AppendUint32(b, uint32(a.Src.Header)), uint32(a.Dst.Header))
	return finishAction(b, start)
}

func (a *Move) AppendText(b []byte) ([]byte, error) {
	b = a.Src.appendText(append(b, "move:"...))
	return a.Dst.appendText(append(b, "->"...)), nil
}

func decodeRegMove(ctx Context, b []byte) (Action, error) {
	if len(b) != 24 {
		return nil, fmt.Errorf("move: length %d: %w", len(b), ofpErr("OFPBMC_BAD_LEN"))
	}
	n := int(be.Uint16(b[10:]))
	return &Move{
		Src: Subfield{Header: oxm.Header(be.Uint32(b[16:])), Ofs: int(be.Uint16(b[12:])), Bits: n},
		Dst: Subfield{Header: oxm.Header(be.Uint32(b[20:])), Ofs: int(be.Uint16(b[14:])), Bits: n},
	}, nil
}

// decodeCopyField decodes body (from n_bits on) of both copy_field forms;
// experimenter OXM headers are not supported and stay raw.
func decodeCopyField(body []byte, enc uint8) (Action, error) {
	if len(body) < 16 {
		return nil, badLen("copy_field")
	}
	src, dst := oxm.Header(be.Uint32(body[8:])), oxm.Header(be.Uint32(body[12:]))
	if src.Class() == 0xffff || dst.Class() == 0xffff {
		return nil, nil
	}
	n := int(be.Uint16(body))
	return &Move{
		Src: Subfield{Header: src, Ofs: int(be.Uint16(body[2:])), Bits: n},
		Dst: Subfield{Header: dst, Ofs: int(be.Uint16(body[4:])), Bits: n},
		Enc: enc,
	}, nil
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
		a.Enc = MoveOF15
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

// parseLoad is load:VALUE->DST. OpenFlow 1.5 writes it as a masked
// set_field, and a field only REG_LOAD2 can name (tun_metadata) as that.
func parseLoad(ctx Context, kw, s string, hasArg bool) (Action, error) {
	val, dst, err := parseArrow(s)
	if err != nil {
		return nil, err
	}
	sf, err := parseSubfieldCtx(ctx, dst)
	if err != nil {
		return nil, shiftErr(err, len(val)+2, dst)
	}
	v, err := parseNum(val, 64)
	if err != nil {
		return nil, err
	}
	if sf.Bits < 64 && v>>sf.Bits != 0 {
		return nil, fmt.Errorf("%s does not fit in %d bits", val, sf.Bits)
	}
	if ctx.Version < 6 && !isTunMetadata(sf.Header) && sf.Bits <= 64 {
		return &RegLoad{Dst: sf, Value: v}, nil
	}
	// Wider than 64 bits: several REG_LOADs; OpenFlow 1.5: a set_field.
	// A tun_metadata field is as long as the switch's TLV map says (the
	// subfield's header carries it); other fields are their full width.
	n := (fieldBits(sf.Header) + 7) / 8
	if info := oxm.ByHeader(sf.Header); info != nil {
		n = info.Bytes
	}
	if isTunMetadata(sf.Header) {
		n = (sf.Ofs + sf.Bits + 7) / 8
	}
	value, mask := make([]byte, n), make([]byte, n)
	for i := 0; i < sf.Bits; i++ {
		bit := sf.Ofs + i
		mask[n-1-bit/8] |= 1 << (bit % 8)
		if i < 64 && v>>i&1 != 0 {
			value[n-1-bit/8] |= 1 << (bit % 8)
		}
	}
	return setFieldFor(ctx, sf.Header, value, mask, true), nil
}

// setFieldFor picks OVS's encoding for setting value/mask in field h
// (encode_SET_FIELD): everything is a set_field in OpenFlow 1.5; before, a
// whole field is OFPAT_SET_FIELD (1.2+) unless it came from load: (load
// says NXAST_REG_LOAD), tun_metadata is REG_LOAD2, and the rest one
// NXAST_REG_LOAD per run of mask bits.
func setFieldFor(ctx Context, h oxm.Header, value, mask []byte, load bool) Action {
	if isTunMetadata(h) {
		value, mask = tunMetadataMinimal(value, mask)
	}
	h = h&^0x1ff | oxm.Header(len(value))
	if ctx.Version >= 6 || (ctx.Version >= 3 && allOnes(mask) && !load) {
		a := &SetField{Field: h, Value: value, Mask: mask, FromLoad: load}
		if allOnes(mask) && !load {
			a.Mask = nil
		}
		return a
	}
	if isTunMetadata(h) {
		return &SetField{Field: h, Value: value, Mask: mask, Load2: true}
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
		seq = append(seq, &RegLoad{Dst: Subfield{Header: nxmHeader(h), Ofs: lo, Bits: hi - lo + 1}, Value: v})
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
	info, err := ctx.OXM.Resolve(dst)
	if err != nil {
		return nil, &SyntaxError{Offset: i + 2, Token: dst, Msg: "unknown field"}
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
	return setFieldFor(ctx, info.Header, value, mask, false), nil
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
		if lookupField(sf.Header) == nil {
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
