package ofactortest

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/ofperr"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// A flow_mod is handled in OVS's two steps (ofproto/ofproto.c): decoding
// and ofproto_flow_mod_init, which need nothing but the message and the
// TLV map and which a bundle does when the message is added; then
// ofproto_flow_mod_start, which looks at the tables and which a bundle
// does at commit.

// flowLen is struct ofp_flow_mod up to the match.
const flowLen = 48

// cookieNone is OVS_BE64_MAX: no new cookie.
const cookieNone = ^uint64(0)

// flowOp is a decoded flow_mod (struct ofputil_flow_mod and what
// ofproto_flow_mod_init makes of it).
type flowOp struct {
	cmd        uint8
	table      uint8
	priority   uint16
	match      oxm.Match
	key        string
	cookie     uint64 // criteria
	cookieMask uint64
	newCookie  uint64 // cookieNone: keep
	outPort    uint32
	outGroup   uint32
	flags      uint16
	idle, hard uint16
	importance uint16
	ins        action.Instructions
	keepCounts bool
	raw        []byte // the flow_mod, for refusal hooks
}

// decodeFlowMod is ofputil_decode_flow_mod and ofproto_flow_mod_init of
// an OpenFlow 1.3 flow_mod (raw is the whole message, length checked).
func decodeFlowMod(st *state, raw []byte) (*flowOp, string) {
	be := binary.BigEndian
	v := raw[0]
	op := &flowOp{
		table:      raw[24],
		cmd:        raw[25],
		idle:       be.Uint16(raw[26:]),
		hard:       be.Uint16(raw[28:]),
		priority:   be.Uint16(raw[30:]),
		outGroup:   openflow.GroupAny,
		newCookie:  cookieNone,
		cookie:     be.Uint64(raw[8:]),
		cookieMask: be.Uint64(raw[16:]),
		raw:        raw,
	}
	buffer, outPort, outGroup := be.Uint32(raw[32:]), be.Uint32(raw[36:]), be.Uint32(raw[40:])
	rawFlags := be.Uint16(raw[44:])

	n, e := checkMatch(raw[flowLen:], &st.tlv)
	if e != "" {
		return nil, e
	}
	if _, err := op.match.UnmarshalOXM(raw[flowLen : flowLen+n]); err != nil {
		return nil, "OFPBMC_BAD_LEN"
	}
	op.match.Normalize()
	if op.cmd == openflow.FlowAdd {
		op.newCookie, op.cookie, op.cookieMask = op.cookie, 0, 0
	}
	del := op.cmd == openflow.FlowDelete || op.cmd == openflow.FlowDeleteStrict
	if op.table == openflow.TableAll && !del {
		return nil, "OFPFMFC_BAD_TABLE_ID"
	}
	if v >= openflow.Version14 && op.cmd == openflow.FlowAdd {
		op.importance = be.Uint16(raw[46:])
	}
	if !portValid(outPort) {
		return nil, "OFPBAC_BAD_OUT_PORT"
	}
	op.outPort = outPort
	if del {
		op.outGroup = outGroup
	}
	if e := ctConsistent(&op.match); e != "" {
		return nil, e
	}
	if op.cmd > openflow.FlowDeleteStrict {
		return nil, "OFPFMFC_BAD_COMMAND"
	}
	actx := action.Context{Version: v, OXM: st.tunContext(), Table: op.table}
	ins, err := action.DecodeInstructions(actx, raw[flowLen+n:])
	if err != nil {
		return nil, errName(err, "OFPBIC_BAD_LEN")
	}
	if e := tunFieldsMapped(ins, &st.tlv); e != "" {
		return nil, e
	}
	if rawFlags&^0x1f != 0 {
		return nil, "OFPFMFC_BAD_FLAGS"
	}
	op.flags = rawFlags
	op.keepCounts = rawFlags&openflow.FlowResetCounts == 0
	if err := action.ValidateInstructions(actx, ins); err != nil {
		return nil, errName(err, "OFPBAC_BAD_TYPE")
	}
	op.ins = canonicalInstructions(ins)
	op.key = ruleKey(op.priority, &op.match)
	switch op.cmd {
	case openflow.FlowAdd, openflow.FlowModify, openflow.FlowModifyStrict:
		// add_flow_init: a template rule is made even for a modify.
		if op.table == tableInternal {
			return nil, "OFPBRC_EPERM"
		}
		if buffer != openflow.NoBuffer {
			return nil, "OFPBRC_BUFFER_UNKNOWN"
		}
	}
	return op, ""
}

// errName is the OVS name of the *ofperr.Error err wraps, or def.
func errName(err error, def string) string {
	var oe *ofperr.Error
	if errors.As(err, &oe) {
		return oe.Name
	}
	return def
}

// portValid is ofputil_port_from_ofp11's check: a port number below
// OFPP_MAX or one of the reserved ports; others are OFPBAC_BAD_OUT_PORT.
func portValid(p uint32) bool { return p < 0xff00 || p >= openflow.PortMax }

// ctConsistent refuses conntrack original-direction addresses of the
// wrong IP version for the match's eth_type.
func ctConsistent(m *oxm.Match) string {
	var v4, v6 bool
	dl := uint16(0)
	for i := range m.Fields {
		info := oxm.ByHeaderAnyLen(m.Fields[i].Header)
		if info == nil {
			continue
		}
		switch info.Name {
		case "ct_nw_src", "ct_nw_dst":
			v4 = true
		case "ct_ipv6_src", "ct_ipv6_dst":
			v6 = true
		case "eth_type":
			dl = uint16(beUint(m.Fields[i].Value))
		}
	}
	if v4 && dl != 0x0800 || v6 && dl != 0x86dd {
		return "OFPBAC_MATCH_INCONSISTENT"
	}
	return ""
}

// canonicalInstructions is the form OVS stores instructions in (struct
// ofpact): meter, apply_actions, clear_actions, write_actions,
// write_metadata, goto_table; an empty apply_actions is nothing.
func canonicalInstructions(is action.Instructions) action.Instructions {
	order := func(i action.Instruction) int {
		switch i.(type) {
		case *action.Meter:
			return 0
		case *action.ApplyActions:
			return 1
		case *action.ClearActions:
			return 2
		case *action.WriteActions:
			return 3
		case *action.WriteMetadata:
			return 4
		case *action.GotoTable:
			return 5
		}
		return 6
	}
	out := make(action.Instructions, 0, len(is))
	for k := 0; k <= 6; k++ {
		for _, i := range is {
			if order(i) != k {
				continue
			}
			if a, ok := i.(*action.ApplyActions); ok && len(a.Actions) == 0 {
				continue
			}
			out = append(out, i)
		}
	}
	return out
}

// ruleKey identifies a rule within its table: priority and match.
func ruleKey(priority uint16, m *oxm.Match) string {
	b := []byte{byte(priority >> 8), byte(priority)}
	b, _ = m.AppendOXM(b)
	return string(b)
}

// newRule makes a rule and the derived state the tables index it by.
func newRule(table uint8, priority uint16, m oxm.Match, ins action.Instructions, now time.Time) *rule {
	r := &rule{table: table, priority: priority, match: m, ins: ins, created: now, modified: now, used: now}
	r.matchBytes, _ = m.AppendOXM(nil)
	r.key = ruleKey(priority, &m)
	r.insBytes, _ = ins.AppendBinary(nil)
	r.tlv = tunMetadataUsed(&m)
	for _, i := range ins {
		switch i := i.(type) {
		case *action.Meter:
			r.meter = i.ID
		case *action.ApplyActions:
			r.walk(i.Actions)
		case *action.WriteActions:
			r.walk(i.Actions)
		}
	}
	return r
}

// walk notes what a rule's actions use, through nested lists as OVS's
// OFPACT_FOR_EACH_FLATTENED goes (clone, ct, write_actions).
func (r *rule) walk(l action.List) {
	for _, a := range l {
		switch a := a.(type) {
		case *action.Std:
			if a.Type == stdGroup {
				r.groups = append(r.groups, uint32(a.Arg))
			}
		case *action.Clone:
			r.walk(a.Actions)
		case *action.CT:
			r.walk(a.Actions)
		}
		r.tlv |= actionTunMetadata(a)
	}
}

// stdGroup is OFPAT_GROUP.
const stdGroup = 22

// actionTunMetadata is the bitmap of tun_metadata fields an action
// names (what OVS's ofpacts_tlv_bitmap counts for the common actions).
func actionTunMetadata(a action.Action) uint64 {
	var hs []oxm.Header
	switch a := a.(type) {
	case *action.SetField:
		hs = append(hs, a.Field)
	case *action.Move:
		hs = append(hs, a.Src.Header, a.Dst.Header)
	case *action.RegLoad:
		hs = append(hs, a.Dst.Header)
	}
	var bits uint64
	for _, h := range hs {
		if info := oxm.ByHeaderAnyLen(h); info != nil {
			if n := info.TunMetadata(); n >= 0 {
				bits |= 1 << n
			}
		}
	}
	return bits
}

// tunFieldsMapped refuses actions that name a tun_metadata field the TLV
// map does not map (NXFMFC_INVALID_TLV_FIELD, as OVS finds it decoding).
func tunFieldsMapped(is action.Instructions, tlv *[64]tlvEntry) string {
	var bits uint64
	var walk func(l action.List)
	walk = func(l action.List) {
		for _, a := range l {
			bits |= actionTunMetadata(a)
			switch a := a.(type) {
			case *action.Clone:
				walk(a.Actions)
			case *action.CT:
				walk(a.Actions)
			}
		}
	}
	for _, i := range is {
		switch i := i.(type) {
		case *action.ApplyActions:
			walk(i.Actions)
		case *action.WriteActions:
			walk(i.Actions)
		}
	}
	for n := range 64 {
		if bits&(1<<n) != 0 && !tlv[n].valid {
			return "NXFMFC_INVALID_TLV_FIELD"
		}
	}
	return ""
}

// outputsTo reports whether a rule's actions output to port p (OFPP_ANY:
// any rule), as ofproto_rule_has_out_port decides.
func (r *rule) outputsTo(p uint32) bool {
	if p == openflow.PortAny {
		return true
	}
	var found bool
	var walk func(l action.List)
	walk = func(l action.List) {
		for _, a := range l {
			switch a := a.(type) {
			case *action.Output:
				found = found || a.Port == p
			case *action.Controller:
				found = found || p == openflow.PortController
			case *action.Clone:
				walk(a.Actions)
			case *action.CT:
				walk(a.Actions)
			}
		}
	}
	for _, i := range r.ins {
		switch i := i.(type) {
		case *action.ApplyActions:
			walk(i.Actions)
		case *action.WriteActions:
			walk(i.Actions)
		}
	}
	return found
}

// outputsToGroup is ofproto_rule_has_out_group.
func (r *rule) outputsToGroup(g uint32) bool {
	if g == openflow.GroupAny {
		return true
	}
	for _, x := range r.groups {
		if x == g {
			return true
		}
	}
	return false
}
