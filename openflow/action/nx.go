package action

import (
	"fmt"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Nicira action subtypes (OVS lib/ofp-actions.c, enum ofp_raw_action_type).
const (
	nxResubmit        = 1
	nxSetTunnel       = 2
	nxPopQueue        = 5
	nxRegMove         = 6
	nxRegLoad         = 7
	nxNote            = 8
	nxSetTunnel64     = 9
	nxResubmitTable   = 14
	nxOutputReg       = 15
	nxExit            = 17
	nxDecTTL          = 18
	nxFinTimeout      = 19
	nxController      = 20
	nxDecTTLCntIDs    = 21
	nxWriteMetadata   = 22
	nxStackPush       = 27
	nxStackPop        = 28
	nxOutputReg2      = 32
	nxRegLoad2        = 33
	nxController2     = 37
	nxOutputTrunc     = 39
	nxCTClear         = 43
	nxResubmitTableCT = 44
)

// Resubmit is NXAST_RESUBMIT (1), NXAST_RESUBMIT_TABLE (14) and
// NXAST_RESUBMIT_TABLE_CT (44) (struct nx_action_resubmit):
//
//	nx header (10) | in_port u16 | table u8 | pad 3
//
// InPort 0xfff8 (IN_PORT) keeps the packet's port; Table 255 the current
// table. Sub is the subtype it is written as.
type Resubmit struct {
	InPort uint16
	Table  uint8
	Sub    uint16
}

func (a *Resubmit) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, a.Sub)
	b = be.AppendUint16(b, a.InPort)
	if a.Sub == nxResubmit {
		b = append(b, 0)
	} else {
		b = append(b, a.Table)
	}
	return finishAction(b, start)
}

// AppendText is format_RESUBMIT: resubmit:PORT when only a port is given,
// resubmit([PORT],[TABLE][,ct]) otherwise.
func (a *Resubmit) AppendText(b []byte) ([]byte, error) {
	table := a.Table
	if a.Sub == nxResubmit {
		table = 0xff
	}
	if a.InPort != portInPort && table == 0xff && a.Sub != nxResubmitTableCT {
		return appendPort(append(b, "resubmit:"...), a.InPort), nil
	}
	b = append(b, "resubmit("...)
	if a.InPort != portInPort {
		b = appendPort(b, a.InPort)
	}
	b = append(b, ',')
	if table != 0xff {
		b = fmt.Appendf(b, "%d", table)
	}
	if a.Sub == nxResubmitTableCT {
		b = append(b, ",ct"...)
	}
	return append(b, ')'), nil
}

func decodeResubmit(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen("resubmit")
	}
	a := &Resubmit{InPort: be.Uint16(b[10:]), Table: b[12], Sub: be.Uint16(b[8:])}
	if a.Sub != nxResubmit && !allZero(b[13:16]) {
		return nil, badArg("resubmit: nonzero padding")
	}
	if a.Sub == nxResubmit {
		a.Table = 0xff // NXAST_RESUBMIT has padding there
	}
	return a, nil
}

// parseResubmit is parse_RESUBMIT: resubmit:PORT or resubmit([PORT][,TABLE[,ct]]).
func parseResubmit(ctx Context, kw, s string, hasArg bool) (Action, error) {
	a := &Resubmit{InPort: portInPort, Table: 0xff, Sub: nxResubmitTable}
	args := splitArgs(s)
	if len(args) == 0 {
		return nil, fmt.Errorf("resubmit needs a port or a table")
	}
	if len(args) > 3 {
		return nil, &SyntaxError{Offset: args[3].off, Token: args[3].s, Msg: "too many arguments"}
	}
	if args[0].s != "" {
		p, err := parsePort(ctx, args[0].s)
		if err != nil {
			return nil, &SyntaxError{Offset: args[0].off, Token: args[0].s, Msg: err.Error()}
		}
		a.InPort = p
	}
	if len(args) > 1 && args[1].s != "" {
		v, err := parseNum(args[1].s, 8)
		if err != nil || v == 255 {
			return nil, &SyntaxError{Offset: args[1].off, Token: args[1].s, Msg: "bad table"}
		}
		a.Table = uint8(v)
	}
	if len(args) > 2 {
		if args[2].s != "ct" {
			return nil, &SyntaxError{Offset: args[2].off, Token: args[2].s, Msg: "expected ct"}
		}
		a.Sub = nxResubmitTableCT
	}
	if len(args) == 1 && args[0].s == "" || len(args) > 1 && a.InPort == portInPort && a.Table == 0xff {
		return nil, &SyntaxError{Token: s, Msg: "at least one of in_port and table must be given"}
	}
	return a, nil
}

// nxNoArg is a Nicira action with no arguments: NXAST_POP_QUEUE,
// NXAST_EXIT and NXAST_CT_CLEAR. (OVS 3.1 rejects NXAST_DEC_TTL outside
// OpenFlow 1.0, so it stays raw.)
type nxNoArg struct{ Sub uint16 }

var nxNoArgNames = map[uint16]string{
	nxPopQueue: "pop_queue", nxExit: "exit", nxCTClear: "ct_clear",
}

func (a *nxNoArg) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, a.Sub)
	return finishAction(b, start)
}

func (a *nxNoArg) AppendText(b []byte) ([]byte, error) {
	return append(b, nxNoArgNames[a.Sub]...), nil
}

func decodeNXNoArg(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen(nxNoArgNames[be.Uint16(b[8:])])
	}
	return &nxNoArg{Sub: be.Uint16(b[8:])}, nil
}

// Exported names for the argument-less Nicira actions.
var (
	PopQueue Action = &nxNoArg{Sub: nxPopQueue}
	Exit     Action = &nxNoArg{Sub: nxExit}
	CTClear  Action = &nxNoArg{Sub: nxCTClear}
)

// SetTunnel is NXAST_SET_TUNNEL (2: pad 2 | tun_id u32) or, when Is64 or
// the ID does not fit 32 bits, NXAST_SET_TUNNEL64 (9: pad 6 | tun_id u64).
type SetTunnel struct {
	ID   uint64
	Is64 bool
}

func (a *SetTunnel) AppendBinary(b []byte) ([]byte, error) {
	if a.Is64 || a.ID > 0xffffffff {
		b, start := appendNXHeader(b, nxSetTunnel64)
		b = append(b, 0, 0, 0, 0, 0, 0)
		return finishAction(be.AppendUint64(b, a.ID), start)
	}
	b, start := appendNXHeader(b, nxSetTunnel)
	return finishAction(be.AppendUint32(append(b, 0, 0), uint32(a.ID)), start)
}

func (a *SetTunnel) AppendText(b []byte) ([]byte, error) {
	b = append(b, "set_tunnel"...)
	if a.Is64 || a.ID > 0xffffffff {
		b = append(b, "64"...)
	}
	return fmt.Appendf(b, ":%#x", a.ID), nil
}

func decodeSetTunnel(ctx Context, b []byte) (Action, error) {
	if be.Uint16(b[8:]) == nxSetTunnel64 {
		if len(b) != 24 {
			return nil, badLen("set_tunnel64")
		}
		return &SetTunnel{ID: be.Uint64(b[16:]), Is64: true}, nil
	}
	if len(b) != 16 {
		return nil, badLen("set_tunnel")
	}
	return &SetTunnel{ID: uint64(be.Uint32(b[12:]))}, nil
}

func parseSetTunnel(ctx Context, kw, s string, hasArg bool) (Action, error) {
	v, err := parseNum(s, 64)
	if err != nil {
		return nil, err
	}
	if ctx.Version >= 3 {
		// OVS writes set_field:ID->tun_id from OpenFlow 1.2 on.
		return &SetField{Field: 0x80004c08, Value: be.AppendUint64(nil, v)}, nil
	}
	return &SetTunnel{ID: v, Is64: kw == "set_tunnel64"}, nil
}

// Note is NXAST_NOTE (8, struct nx_action_note): opaque bytes after the
// subtype. Decoded, Data includes the padding, as OVS keeps it.
type Note struct{ Data []byte }

func (a *Note) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxNote)
	b = append(b, a.Data...)
	for len(b)-start < 16 {
		b = append(b, 0)
	}
	return finishAction(b, start)
}

func (a *Note) AppendText(b []byte) ([]byte, error) {
	return appendHexDots(append(b, "note:"...), a.Data), nil
}

func decodeNote(ctx Context, b []byte) (Action, error) {
	return &Note{Data: append([]byte(nil), nxBody(b)...)}, nil
}

func parseNote(ctx Context, kw, s string, hasArg bool) (Action, error) {
	d, err := parseHexDots(s)
	if err != nil {
		return nil, err
	}
	return &Note{Data: d}, nil
}

// FinTimeout is NXAST_FIN_TIMEOUT (19, struct nx_action_fin_timeout:
// fin_idle_timeout u16 | fin_hard_timeout u16 | pad 2).
type FinTimeout struct {
	Idle, Hard uint16
}

func (a *FinTimeout) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxFinTimeout)
	b = be.AppendUint16(be.AppendUint16(b, a.Idle), a.Hard)
	return finishAction(b, start)
}

func (a *FinTimeout) AppendText(b []byte) ([]byte, error) {
	b = append(b, "fin_timeout("...)
	if a.Idle != 0 {
		b = fmt.Appendf(b, "idle_timeout=%d,", a.Idle)
	}
	if a.Hard != 0 {
		b = fmt.Appendf(b, "hard_timeout=%d,", a.Hard)
	}
	if b[len(b)-1] == ',' {
		b = b[:len(b)-1]
	}
	return append(b, ')'), nil
}

func decodeFinTimeout(ctx Context, b []byte) (Action, error) {
	if len(b) != 16 {
		return nil, badLen("fin_timeout")
	}
	return &FinTimeout{Idle: be.Uint16(b[10:]), Hard: be.Uint16(b[12:])}, nil
}

func parseFinTimeout(ctx Context, kw, s string, hasArg bool) (Action, error) {
	a := &FinTimeout{}
	for _, p := range splitArgs(s) {
		k, v, _ := splitKV(p.s)
		n, err := parseNum(v, 16)
		if err != nil {
			return nil, &SyntaxError{Offset: p.off, Token: p.s, Msg: err.Error()}
		}
		switch k {
		case "idle_timeout":
			a.Idle = uint16(n)
		case "hard_timeout":
			a.Hard = uint16(n)
		default:
			return nil, &SyntaxError{Offset: p.off, Token: k, Msg: "unknown fin_timeout argument"}
		}
	}
	return a, nil
}

// DecTTL is OFPAT_DEC_NW_TTL when IDs is nil and !CntIDs, else
// NXAST_DEC_TTL_CNT_IDS (21, struct nx_action_cnt_ids: n_controllers u16 |
// zero 4 | controller ids u16 ... | pad), which prints dec_ttl(ids).
type DecTTL struct {
	IDs    []uint16
	CntIDs bool
}

func (a *DecTTL) AppendBinary(b []byte) ([]byte, error) {
	if !a.CntIDs && len(a.IDs) == 0 {
		return (&Std{Type: 24}).AppendBinary(b)
	}
	b, start := appendNXHeader(b, nxDecTTLCntIDs)
	b = be.AppendUint16(b, uint16(len(a.IDs)))
	b = append(b, 0, 0, 0, 0)
	for _, id := range a.IDs {
		b = be.AppendUint16(b, id)
	}
	return finishAction(b, start)
}

func (a *DecTTL) AppendText(b []byte) ([]byte, error) {
	if !a.CntIDs && len(a.IDs) == 0 {
		return append(b, "dec_ttl"...), nil
	}
	b = append(b, "dec_ttl("...)
	for i, id := range a.IDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", id)
	}
	return append(b, ')'), nil
}

func decodeDecTTLCntIDs(ctx Context, b []byte) (Action, error) {
	n := int(be.Uint16(b[10:]))
	if !allZero(b[12:16]) {
		return nil, fmt.Errorf("dec_ttl: %w", ofpErr("NXBRC_MUST_BE_ZERO"))
	}
	if 16+2*n > len(b) {
		return nil, badLen("dec_ttl")
	}
	a := &DecTTL{CntIDs: true, IDs: []uint16{}}
	for i := 0; i < n; i++ {
		a.IDs = append(a.IDs, be.Uint16(b[16+2*i:]))
	}
	return a, nil
}

// parseDecTTL: dec_ttl is the standard action, dec_ttl(ids) and dec_ttl()
// the Nicira one. ovs-ofctl 3.1 writes dec_ttl() as OFPAT_DEC_NW_TTL, but
// OVN sends NXAST_DEC_TTL_CNT_IDS with no ids, which dump-flows prints as
// dec_ttl(): parsing it back to that keeps OVN's flows round-tripping.
func parseDecTTL(ctx Context, kw, s string, hasArg bool) (Action, error) {
	s = strings.TrimSpace(s)
	if !hasArg {
		return &DecTTL{}, nil
	}
	a := &DecTTL{CntIDs: true, IDs: []uint16{}}
	if s == "" {
		return a, nil
	}
	for _, p := range splitArgs(s) {
		v, err := parseNum(p.s, 16)
		if err != nil {
			return nil, &SyntaxError{Offset: p.off, Token: p.s, Msg: err.Error()}
		}
		a.IDs = append(a.IDs, uint16(v))
	}
	return a, nil
}

// decodeDecTTL turns OFPAT_DEC_NW_TTL into a DecTTL, so both encodings of
// dec_ttl are one type.
func decodeDecNwTTL(ctx Context, b []byte) (Action, error) {
	if len(b) != 8 {
		return nil, badLen("dec_ttl")
	}
	return &DecTTL{}, nil
}

func init() {
	registerNX(nxResubmit, decodeResubmit)
	registerNX(nxResubmitTable, decodeResubmit)
	registerNX(nxResubmitTableCT, decodeResubmit)
	registerParser("resubmit", parseResubmit)
	for sub, name := range nxNoArgNames {
		registerNX(sub, decodeNXNoArg)
		registerParser(name, func(ctx Context, kw, s string, hasArg bool) (Action, error) {
			if s != "" {
				return nil, fmt.Errorf("%s takes no argument", kw)
			}
			return &nxNoArg{Sub: sub}, nil
		})
	}
	registerNX(nxSetTunnel, decodeSetTunnel)
	registerNX(nxSetTunnel64, decodeSetTunnel)
	registerParser("set_tunnel", parseSetTunnel)
	registerParser("set_tunnel64", parseSetTunnel)
	registerNX(nxNote, decodeNote)
	registerParser("note", parseNote)
	registerNX(nxFinTimeout, decodeFinTimeout)
	registerParser("fin_timeout", parseFinTimeout)
	registerNX(nxDecTTLCntIDs, decodeDecTTLCntIDs)
	registerOF(24, decodeDecNwTTL)
	registerParser("dec_ttl", parseDecTTL)
	_ = oxm.Header(0)
}
