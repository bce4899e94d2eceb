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
// members:p1,p2..." as bundle_parse and bundle_parse_load do: tokens split
// by strtok at ", " (the member delimiter at ": ", the members at ", []",
// so members:[1,2] works), "slaves" the old spelling of "members", names
// in any case, at most 2048 members.
func parseBundle(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	tk := strtok{s: arg}
	fields, basis, alg, typ := tk.next(", "), tk.next(", "), tk.next(", "), tk.next(", ")
	dst := ""
	if kw == "bundle_load" {
		dst = tk.next(", ")
	}
	delim := tk.next(": ")
	if delim == "" {
		return nil, nxaSyntax(arg, arg+": not enough arguments to bundle action")
	}
	if !strings.EqualFold(delim, "members") && !strings.EqualFold(delim, "slaves") {
		return nil, nxaSyntax(delim, fmt.Sprintf("%s: missing member delimiter, expected `members', got `%s'", arg, delim))
	}
	a := &Bundle{}
	for len(a.Members) < 2048 {
		m := tk.next(", []")
		if m == "" {
			break
		}
		p, err := parsePort(ctx, m)
		if err != nil {
			return nil, nxaSyntax(m, m+": bad port number ("+err.Error()+")")
		}
		a.Members = append(a.Members, p)
	}
	basisV, _ := strconv.Atoi(basis) // atoi, as OVS
	a.Basis = uint16(basisV)
	var ok bool
	if a.Fields, ok = nxaIndexFold(nxHashFields, fields); !ok {
		return nil, nxaSyntax(fields, fmt.Sprintf("%s: unknown fields `%s'", arg, fields))
	}
	if a.Algorithm, ok = nxaIndexFold(nxBundleAlgs, alg); !ok {
		return nil, nxaSyntax(alg, fmt.Sprintf("%s: unknown algorithm `%s'", arg, alg))
	}
	if !strings.EqualFold(typ, "ofport") {
		return nil, nxaSyntax(typ, fmt.Sprintf("%s: unknown member_type `%s'", arg, typ))
	}
	if dst != "" {
		var err error
		if a.Dst, err = parseSubfieldCtx(ctx, dst); err != nil {
			return nil, err
		}
		if a.Dst.Header.Class() == 0xffff {
			return nil, nxaSyntax(dst, fmt.Sprintf("%s: experimenter OXM field '%s' not supported", arg, dst))
		}
	}
	return a, nil
}

// strtok splits s as C's strtok_r does: each token runs to a byte of
// the delimiters given for it, leading delimiters skipped.
type strtok struct{ s string }

func (t *strtok) next(delims string) string {
	s := strings.TrimLeft(t.s, delims)
	if s == "" {
		t.s = ""
		return ""
	}
	i := strings.IndexAny(s, delims)
	if i < 0 {
		t.s = ""
		return s
	}
	t.s = s[i+1:]
	return s[:i]
}

func nxaIndexFold(names []string, s string) (uint16, bool) {
	for i, n := range names {
		if strings.EqualFold(n, s) {
			return uint16(i), true
		}
	}
	return 0, false
}

// Packet types (include/openvswitch/packets.h PT_*).
