package action

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// The actions a list is nested in, for nestingRule: none (a flow's applied
// actions, a bucket's), or the action holding it.
const (
	outerNone         = ""
	outerClone        = "clone"
	outerCT           = "ct"
	outerWriteActions = "write_actions"
)

// nestingError is an action that may not stand where it does: its index
// in the list, OVS's words and the error OVS's decoder returns.
type nestingError struct {
	index int
	msg   string
	code  string
}

// err is e for a decoder: "action[i]: msg: CODE".
func (e *nestingError) err() error {
	return fmt.Errorf("action[%d]: %s: %w", e.index, e.msg, ofpErr(e.code))
}

// nestingRule is OVS's ofpacts_verify_nested over list l nested in outer:
// ct_mark and ct_label are written only inside ct, nat stands only inside
// ct, ct holds nothing but nat and writes to ct_mark or ct_label, and no
// nested list (clone, ct, write_actions) holds a meter. ovs-ofctl checks it
// as it parses each list, before the actions are checked against the
// match; OVS's decoder as it decodes each.
func nestingRule(l List, outer string) *nestingError {
	for i, a := range l {
		h, exp, isDst := mfDst(a)
		// NXM_NX_CT_MARK, NXM_NX_CT_LABEL: their only code points.
		ct := isDst && h.Class() == 1 && (h.Field() == 107 || h.Field() == 108)
		if ct && outer != outerCT {
			return &nestingError{i, "cannot set CT fields outside of ct action", "OFPBAC_BAD_SET_ARGUMENT"}
		}
		if _, ok := a.(*NAT); ok {
			if outer != outerCT {
				return &nestingError{i, `Cannot have NAT action outside of "ct" action`, "OFPBAC_BAD_SET_ARGUMENT"}
			}
			continue
		}
		if outer == outerNone {
			continue
		}
		if outer == outerCT {
			var dst *oxm.Info
			if isDst {
				if dst = oxm.ByField(&oxm.Field{Header: h, Experimenter: exp}); dst == nil {
					dst = oxm.ByHeaderAnyLen(h)
				}
			}
			switch {
			case dst == nil:
				return unsupportedNesting(i, a, outer)
			case !ct:
				return &nestingError{i, fmt.Sprintf("%s action doesn't support nested modification of %s", outer, dst.Name), "OFPBAC_BAD_ARGUMENT"}
			}
		}
		if s, ok := a.(*Std); ok && s.Type == ofpatMeter {
			return unsupportedNesting(i, a, outer)
		}
	}
	return nil
}

func unsupportedNesting(i int, a Action, outer string) *nestingError {
	return &nestingError{i, fmt.Sprintf("%s action doesn't support nested action %s", outer, ofpactName(a)), "OFPBAC_BAD_ARGUMENT"}
}

// ofpatMeter is OFPAT_METER, OpenFlow 1.5's meter action.
const ofpatMeter = 29

// mfDst is the field an action writes as OVS's ofpact_get_mf_dst sees it:
// that of a set_field (load: and set_field: alike, but not the OpenFlow
// 1.1 setters such as mod_nw_src) or of a move; false for any other action.
func mfDst(a Action) (oxm.Header, uint32, bool) {
	switch a := a.(type) {
	case *SetField:
		return a.Field, a.Experimenter, a.legacy == 0
	case *RegLoad:
		return a.Dst.Header, a.Dst.Experimenter, true
	case *Move:
		return a.Dst.Header, a.Dst.Experimenter, true
	}
	return 0, 0, false
}

// ofpactName is the name OVS gives a's kind of action (the OFPACT list of
// include/openvswitch/ofp-actions.h), as its errors say it.
func ofpactName(a Action) string {
	switch a := a.(type) {
	case *Output:
		return "output"
	case *Controller:
		return "controller"
	case *Std:
		if a.Type == 18 {
			return "strip_vlan" // pop_vlan
		}
		if spec, ok := stdSpecs[a.Type]; ok {
			return spec.name
		}
	case *SetField:
		if spec, ok := stdSpecs[a.legacy]; ok && a.legacy != 0 {
			return spec.name
		}
		return "set_field"
	case *RegLoad:
		return "set_field"
	case *Move:
		return "move"
	case *Stack:
		if a.Pop {
			return "pop"
		}
		return "push"
	case *Resubmit:
		return "resubmit"
	case *SetTunnel:
		return "set_tunnel"
	case *Note:
		return "note"
	case *FinTimeout:
		return "fin_timeout"
	case *DecTTL:
		return "dec_ttl"
	case *Clone:
		return "clone"
	case *CheckPktLarger:
		return "check_pkt_larger"
	case *DeleteField:
		return "delete_field"
	case *DecNSHTTL:
		return "dec_nsh_ttl"
	case *Debug:
		if a.Recirc {
			return "debug_recirc"
		}
		return "debug_slow"
	case *Conjunction:
		return "conjunction"
	case *Sample:
		return "sample"
	case *CT:
		return "ct"
	case *NAT:
		return "nat"
	case *Encap:
		return "encap"
	case *Decap:
		return "decap"
	case *Learn:
		return "learn"
	case *Multipath:
		return "multipath"
	case *Bundle:
		return "bundle"
	case *OutputReg:
		return "output_reg"
	case *OutputTrunc:
		return "output_trunc"
	case *nxNoArg:
		return nxNoArgNames[a.Sub]
	}
	return "unknown"
}

// inActionSet says whether OVS takes a in an action set (write_actions)
// it decodes (ofpact_is_allowed_in_actions_set): the setters and moves,
// the pushes, pops and TTL decrements, and the final actions (ct,
// ct_clear, resubmit, output, group).
func inActionSet(a Action) bool {
	switch a := a.(type) {
	case *Std:
		return a.Type != ofpatMeter
	case *nxNoArg:
		return a.Sub == nxCTClear
	case *SetField, *RegLoad, *Move, *SetTunnel, *Encap, *Decap, *DecTTL, *DecNSHTTL,
		*CT, *Resubmit, *Output:
		return true
	}
	return false
}
