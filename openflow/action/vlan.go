package action

import "github.com/ofactor/ofactor/openflow/oxm"

// pushIfNeeded is what mod_vlan_vid and mod_vlan_pcp parse to before
// ParseList knows whether the packet has a VLAN header at that point: OVS
// (ofpact_vlan_vid/ofpact_vlan_pcp's push_vlan_if_needed) writes a
// push_vlan:0x8100 in front of the set when neither the flow's match
// (Context.FlowHasVLAN) nor an earlier action of the list guarantees one.
// set_vlan_vid and set_vlan_pcp never push. It never leaves ParseList.
type pushIfNeeded struct{ Action }

// resolveVLANPushes replaces l's pushIfNeeded with their action, after a
// push_vlan where the packet has no VLAN header yet, tracking the header
// as check_SET_VLAN_VID, check_PUSH_VLAN and check_STRIP_VLAN do. OpenFlow
// 1.0 has no push_vlan: there the set alone pushes.
func resolveVLANPushes(ctx Context, l List) List {
	out, _ := resolveVLANPushesFrom(ctx, ctx.FlowHasVLAN, l)
	return out
}

// resolveVLANPushesFrom is resolveVLANPushes from a known state (has: the
// packet has a VLAN header before l); it also returns the state after l.
func resolveVLANPushesFrom(ctx Context, has bool, l List) (List, bool) {
	// Most lists have no mod_vlan_*: keep them as they are, but still
	// follow the VLAN header for the write_actions after them.
	var out List
	if hasVLANWork(l) {
		out = make(List, 0, len(l)+1)
	}
	for _, a := range l {
		switch a := a.(type) {
		case *pushIfNeeded:
			if !has && (ctx.Version == 0 || ctx.Version >= 2) {
				out = append(out, &Std{Type: 17, Arg: 0x8100})
			}
			out = append(out, a.Action) // out is not nil: l has work
			has = true
			continue
		case *Std:
			switch a.Type {
			case 1, 2, 17: // set_vlan_vid, set_vlan_pcp, push_vlan
				has = true
			case 18: // pop_vlan (strip_vlan)
				has = false
			}
		case *Clone:
			// OVS checks the nested list with the packet as the actions
			// before the clone leave it; what the clone does to the VLAN
			// does not reach the actions after it.
			a.Actions, _ = resolveVLANPushesFrom(ctx, has, a.Actions)
		case *SetField:
			if info := oxm.ByHeader(a.Field); info != nil && a.Mask == nil {
				switch info.Name {
				case "vlan_vid":
					has = len(a.Value) == 2 && a.Value[0]&0x10 != 0 // OFPVID_PRESENT
				case "vlan_pcp":
					has = true
				}
			}
		}
		if out != nil {
			out = append(out, a)
		}
	}
	if out == nil {
		return l, has
	}
	return out, has
}

// hasVLANWork says whether l holds a pushIfNeeded, at any depth of clone.
func hasVLANWork(l List) bool {
	for _, a := range l {
		switch a := a.(type) {
		case *pushIfNeeded:
			return true
		case *Clone:
			if hasVLANWork(a.Actions) {
				return true
			}
		}
	}
	return false
}
