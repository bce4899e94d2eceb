package action

import (
	"fmt"
	"strconv"
	"strings"
)

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
