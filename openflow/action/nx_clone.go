package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

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
	if err := validateNested(ctx, a.Actions, outerClone); err != nil {
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
	// Raw: the enclosing list resolves mod_vlan_vid's pushes in clone too,
	// with the packet as the actions before the clone leave it.
	ctx.nest = outerClone
	l, err := parseListRaw(ctx, arg)
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
