package action

import (
	"fmt"
	"strconv"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// AppendBinary writes the actions in order.
func (l List) AppendBinary(b []byte) ([]byte, error) {
	for i, a := range l {
		var err error
		if b, err = a.AppendBinary(b); err != nil {
			return nil, fmt.Errorf("action[%d]: %w", i, err)
		}
	}
	return b, nil
}

// AppendText writes the actions as ovs-ofctl prints them, separated by
// commas; an empty list is "drop".
func (l List) AppendText(b []byte) ([]byte, error) {
	if len(l) == 0 {
		return append(b, "drop"...), nil
	}
	for i, a := range l {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = a.AppendText(b); err != nil {
			return nil, fmt.Errorf("action[%d]: %w", i, err)
		}
	}
	return b, nil
}

// String is the list's text, for logs and test failures.
func (l List) String() string {
	b, err := l.AppendText(nil)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// Subfield is bits [Ofs, Ofs+Bits) of a field (OVS struct mf_subfield),
// written NXM_NX_REG0[0..15]. Header is the field's NXM/OXM header without
// the mask bit, as the action writes it; an experimenter field (class
// 0xffff: NSH, ERSPAN, ONF's actset_output) has its Experimenter after it
// on the wire, which makes it an 8-byte header where an action has room
// for one (nx_put_mff_header).
type Subfield struct {
	Header       oxm.Header
	Experimenter uint32
	Ofs          int
	Bits         int
}

// ofsNbits packs a subfield's offset and width as nxm_encode_ofs_nbits.
func ofsNbits(ofs, bits int) uint16 { return uint16(ofs<<6 | (bits-1)&0x3f) }

// splitOfsNbits unpacks ofsNbits.
func splitOfsNbits(v uint16) (ofs, bits int) { return int(v >> 6), int(v&0x3f) + 1 }

// subfieldOf builds the Subfield of an ofs_nbits pair and a 4-byte header.
func subfieldOf(h uint32, on uint16) Subfield {
	ofs, bits := splitOfsNbits(on)
	return Subfield{Header: oxm.Header(h), Ofs: ofs, Bits: bits}
}

// info is the subfield's field, nil if unknown.
func (sf Subfield) info() *oxm.Info { return lookupFieldExp(sf.Header, sf.Experimenter) }

// appendHeader writes the subfield's header as nx_put_mff_header does: 4
// bytes, or 8 with the experimenter for class 0xffff.
func (sf Subfield) appendHeader(b []byte) []byte {
	b = be.AppendUint32(b, uint32(sf.Header))
	if sf.Header.Class() == 0xffff {
		b = be.AppendUint32(b, sf.Experimenter)
	}
	return b
}

// headerLen is how many bytes appendHeader writes.
func (sf Subfield) headerLen() int {
	if sf.Header.Class() == 0xffff {
		return 8
	}
	return 4
}

// pullHeader reads a field header as nx_pull_header__ does: 4 bytes, or 8
// with the experimenter for class 0xffff. ok is false when b is too short
// or the header's length is less than its experimenter ID.
func pullHeader(b []byte) (h oxm.Header, exp uint32, n int, ok bool) {
	if len(b) < 4 {
		return 0, 0, 0, false
	}
	h = oxm.Header(be.Uint32(b))
	if h.Class() != 0xffff {
		return h, 0, 4, true
	}
	if len(b) < 8 || h.Length() < 4 {
		return 0, 0, 0, false
	}
	return h, be.Uint32(b[4:]), 8, true
}

// pullField reads a field header as nx_pull_header does, for an action
// that names a field (move, stack, output_reg2): 4 bytes, or 8 with the
// experimenter for class 0xffff; a header cut short is OFPBMC_BAD_LEN, an
// unknown field (or one of the wrong length) OFPBMC_BAD_FIELD, a known
// one with the mask bit OFPBMC_BAD_MASK. The header is kept as on the
// wire (a tun_metadata field's length is the switch's TLV map's).
func pullField(b []byte) (h oxm.Header, exp uint32, n int, err error) {
	h, exp, n, ok := pullHeader(b)
	if !ok {
		return 0, 0, 0, ofpErr("OFPBMC_BAD_LEN")
	}
	look := h
	if h.HasMask() {
		// nxm_make_exact_header: half the payload.
		payload := int(h.Length())
		if h.Class() == 0xffff {
			payload -= 4
		}
		look = exactHeader(h&^0x1ff, payload/2)
	}
	info := oxm.ByHeaderAnyLen(look)
	if info == nil || h.Class() == 0xffff && lookupFieldExp(exactHeader(look, info.Bytes), exp) != info {
		return 0, 0, 0, ofpErr("OFPBMC_BAD_FIELD")
	}
	if !info.VarLen && lookupFieldExp(look, exp) == nil || info.VarLen && look.Length() >= 128 {
		return 0, 0, 0, ofpErr("OFPBMC_BAD_FIELD")
	}
	if h.HasMask() {
		return 0, 0, 0, ofpErr("OFPBMC_BAD_MASK")
	}
	return h, exp, n, nil
}

// fieldName is the name OVS prints for a field in a subfield: its NXM name
// (NXM_NX_REG0, or OXM_OF_... when it has no NXM one).
func fieldName(h oxm.Header) string { return fieldNameExp(h, 0) }

func fieldNameExp(h oxm.Header, exp uint32) string {
	if info := lookupFieldExp(h, exp); info != nil {
		if info.NXMName != "" {
			return info.NXMName
		}
		return info.Name
	}
	if h.Class() == 0xffff {
		return fmt.Sprintf("0x%08x:0x%08x", uint32(h), exp)
	}
	return fmt.Sprintf("0x%08x", uint32(h))
}

// fieldBits is the width of the field with header h, 0 if unknown. A
// field whose width depends on the switch (tun_metadata) counts by its
// header length.
func fieldBits(h oxm.Header) int { return fieldBitsExp(h, 0) }

func fieldBitsExp(h oxm.Header, exp uint32) int {
	if info := lookupFieldExp(h, exp); info != nil {
		// tun_metadata counts as its largest (992 bits), as ovs-ofctl,
		// which knows no TLV map, takes it whatever its header's length.
		return info.Bits
	}
	return 0
}

// appendText writes the subfield as OVS does: NAME[] for the whole field,
// NAME[n] for one bit, NAME[a..b] otherwise.
func (sf Subfield) appendText(b []byte) []byte {
	b = append(b, fieldNameExp(sf.Header, sf.Experimenter)...)
	switch {
	case sf.Ofs == 0 && sf.Bits == fieldBitsExp(sf.Header, sf.Experimenter):
		return append(b, "[]"...)
	case sf.Bits == 1:
		return append(strconv.AppendInt(append(b, '['), int64(sf.Ofs), 10), ']')
	default:
		b = append(strconv.AppendInt(append(b, '['), int64(sf.Ofs), 10), '.', '.')
		return append(strconv.AppendInt(b, int64(sf.Ofs+sf.Bits-1), 10), ']')
	}
}

// String is the subfield's text.
func (sf Subfield) String() string { return string(sf.appendText(nil)) }

// check reports a subfield that reaches past its field's end
// (OFPBAC_BAD_SET_ARGUMENT? OVS: mf_check_src/dst).
func (sf Subfield) check() error {
	n := fieldBitsExp(sf.Header, sf.Experimenter)
	switch {
	case n == 0:
		return fmt.Errorf("unknown field 0x%08x: %w", uint32(sf.Header), ofpErr("OFPBAC_BAD_SET_TYPE"))
	case sf.Bits < 1 || sf.Ofs >= n || sf.Ofs+sf.Bits > n:
		return fmt.Errorf("%s: bits %d..%d past the field's %d: %w",
			fieldNameExp(sf.Header, sf.Experimenter), sf.Ofs, sf.Ofs+sf.Bits-1, n, ofpErr("OFPBAC_BAD_SET_LEN"))
	}
	return nil
}

// checkDst is mf_check_dst: check, and the field must be writable.
func (sf Subfield) checkDst() error {
	if err := sf.check(); err != nil {
		return err
	}
	if !sf.info().Writable {
		return fmt.Errorf("%s is not writable: %w", fieldNameExp(sf.Header, sf.Experimenter), ofpErr("OFPBAC_BAD_SET_ARGUMENT"))
	}
	return nil
}

// lookupField is the field of header h as OVS finds it for a subfield
// (nxm_field_by_header): the length must be the field's, doubled when the
// mask bit is set. An experimenter field needs lookupFieldExp.
func lookupField(h oxm.Header) *oxm.Info {
	if h.Class() == 0xffff {
		return nil
	}
	return oxm.ByHeader(h)
}

// lookupFieldExp is lookupField for any header, the experimenter ID
// checked for class 0xffff.
func lookupFieldExp(h oxm.Header, exp uint32) *oxm.Info {
	if h.Class() != 0xffff {
		return oxm.ByHeader(h)
	}
	return oxm.ByField(&oxm.Field{Header: h, Experimenter: exp})
}

// Reserved ports in OVS's 16-bit numbering (OF1.0, Nicira actions).
// OpenFlow 1.1+ writes them as 0xffffff00 + the low byte.
const (
	portMax        = 0xff00
	portInPort     = 0xfff8
	portController = 0xfffd
	portLocal      = 0xfffe
	portNone       = 0xffff
)

var portNames = map[uint16]string{
	0xfff7: "UNSET", 0xfff8: "IN_PORT", 0xfff9: "TABLE", 0xfffa: "NORMAL",
	0xfffb: "FLOOD", 0xfffc: "ALL", 0xfffd: "CONTROLLER", 0xfffe: "LOCAL",
	0xffff: "ANY",
}

// port16 maps an OpenFlow 1.1+ port to OVS's 16-bit numbering; ok is false
// for the ports in between, which OVS rejects (ofputil_port_from_ofp11).
func port16(p uint32) (uint16, bool) {
	switch {
	case p < portMax:
		return uint16(p), true
	case p >= 0xffffff00:
		return uint16(p - 0xffff0000), true
	}
	return 0, false
}

// port32 is port16's inverse.
func port32(p uint16) uint32 {
	if p >= portMax {
		return uint32(p) + 0xffff0000
	}
	return uint32(p)
}

// validOutPort is ofpact_check_output_port: a physical port or a
// reserved port that can be output to.
func validOutPort(p uint16) bool {
	return p < portMax || (p >= portInPort && p <= portLocal)
}

// appendPort writes a 16-bit port as ofputil_format_port.
func appendPort(b []byte, p uint16) []byte {
	if name, ok := portNames[p]; ok {
		return append(b, name...)
	}
	return strconv.AppendUint(b, uint64(p), 10)
}

// appendPort32 writes an OpenFlow 1.1+ port.
func appendPort32(b []byte, p uint32) []byte {
	if q, ok := port16(p); ok {
		return appendPort(b, q)
	}
	return strconv.AppendUint(b, uint64(p), 10)
}

// appendHexDots writes bytes as OVS writes note and userdata: 01.02.03.
const hexDigits = "0123456789abcdef"

func appendHexDots(b, data []byte) []byte {
	for i, c := range data {
		if i > 0 {
			b = append(b, '.')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// appendHex64 writes v as C's "%#"PRIx64: 0 or 0x...
func appendHex64(b []byte, v uint64) []byte {
	if v == 0 {
		return append(b, '0')
	}
	return append(append(b, "0x"...), strconv.FormatUint(v, 16)...)
}

// oxmToNXM maps OXM_OF_* fields (class 0x8000, by field number) to the
// NXM header of the same field, where OVS has one of the same shape: OVS
// names a field in a subfield or a reg_load by its NXM header
// (nxm_header_from_mff), in any version.
var oxmToNXM = map[uint8]oxm.Header{
	3: 0x00000206, 4: 0x00000406, 5: 0x00000602, 9: 0x00013801, 10: 0x00000c01,
	11: 0x00000e04, 12: 0x00001004, 13: 0x00001202, 14: 0x00001402, 15: 0x00001602,
	16: 0x00001802, 19: 0x00001a01, 20: 0x00001c01, 21: 0x00001e02, 22: 0x00002004,
	23: 0x00002204, 24: 0x00012206, 25: 0x00012406, 26: 0x00012610, 27: 0x00012810,
	28: 0x00013604, 29: 0x00012a01, 30: 0x00012c01, 31: 0x00012e10, 32: 0x00013006,
	33: 0x00013206, 38: 0x00012008,
}

// nxmHeader is h without its mask bit, as an NXM header when the field has
// one.
func nxmHeader(h oxm.Header) oxm.Header {
	h &^= 0x100
	if h.Class() == 0x8000 {
		if n, ok := oxmToNXM[h.Field()]; ok {
			return n
		}
	}
	return h
}

// appendValue writes value[/mask] of the field info as ovs-ofctl does.
func appendValue(b []byte, info *oxm.Info, value, mask []byte) []byte {
	return info.AppendValue(b, value, mask)
}

// parseValue reads value[/mask] of the field info; tun_metadata takes its
// length from ctx.OXM.
func parseValue(ctx Context, info *oxm.Info, s string) (value, mask []byte, err error) {
	return info.ParseValueCtx(s, ctx.OXM)
}

// parseValueCtx is parseValue (both names are in use).
func parseValueCtx(ctx Context, info *oxm.Info, s string) (value, mask []byte, err error) {
	return parseValue(ctx, info, s)
}
