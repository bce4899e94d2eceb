package reconciler

import (
	"fmt"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow/action"
)

// In ModeDiff and ModeCheck the machine looks and changes nothing: once the
// switch's tables are read and a desired version is there, it plans the
// round that would install it, publishes the plan, and (ModeCheck) has the
// switch judge it in a bundle it then discards. It plans each version once.

// look: PhaseIdle in ModeDiff or ModeCheck, a desired version not planned
// yet. Publishes Planned; ModeDiff then stays PhaseIdle, ModeCheck sends
// the check round (PhaseRound), or publishes Checked at once when the
// plan has nothing to bundle.
func (m *Machine) look() {
	v := m.st.version
	if m.planned == v {
		return
	}
	m.planned = v
	p := planAll(m.st, true)
	ev := &messages.Planned{Version: v, Changes: m.plannedChanges(&p), MissingPorts: m.st.MissingPorts()}
	// Nothing is installed: the keys stay dirty, for the view (Installed)
	// and for a plan of the next version.
	p.retry(m.st)
	if m.cfg.Mode == ModeDiff {
		m.publish(ev)
		return
	}
	if n := len(p.mAdd) + len(p.mMod) + len(p.mDel); n > 0 {
		ev.Unchecked = append(ev.Unchecked, plural(n, "meter")+" not checked: OVS cannot bundle meter_mods")
		p.mAdd, p.mMod, p.mDel = nil, nil, nil
	}
	if g := m.st.geneve; g.Unmapped && len(m.st.rendered) > 0 {
		n := 0
		for _, cs := range []*[]change{&p.fAdd, &p.fMod, &p.fDel} {
			kept := (*cs)[:0]
			for _, c := range *cs {
				if _, rendered := m.st.rendered[c.Key]; rendered {
					n++
					continue
				}
				kept = append(kept, c)
			}
			*cs = kept
		}
		if n > 0 {
			ev.Unchecked = append(ev.Unchecked, plural(n, "flow")+" naming the Geneve field not checked: the switch has not mapped the option")
		}
	}
	m.publish(ev)
	// OVS checks the groups and meters a flow uses at commit, not when
	// the bundle takes it: a discarded bundle never gets there, so those
	// references are checked here, against what the round would leave
	// desired, as ofproto_check_ofpacts does.
	refused := 0
	for _, cs := range []*[]change{&p.fAdd, &p.fMod} {
		kept := (*cs)[:0]
		for _, c := range *cs {
			if e := m.missingRef(c); e != "" {
				refused++
				m.publish(&messages.Rejected{Version: v, Kind: "flow", Text: describe(m.ofVersion, kindFlow, c), Error: e})
				continue
			}
			kept = append(kept, c)
		}
		*cs = kept
	}
	r := newRound(m.ofVersion, v, p, false)
	if r == nil || r.nBundle == 0 {
		m.publish(&messages.Checked{Version: v, Rejected: refused})
		return
	}
	r.check, r.refusedBefore = true, refused
	m.round = r
	m.started, m.lastProgress = m.now, m.now
	m.become(PhaseRound)
	m.fill()
}

// retry marks every change of the plan dirty again.
func (p *plans) retry(st *State) {
	for _, cs := range [][]change{p.mAdd, p.mMod, p.mDel} {
		st.meters.retry(cs)
	}
	for _, cs := range [][]change{p.gAdd, p.gMod, p.gDel} {
		st.groups.retry(cs)
	}
	for _, cs := range [][]change{p.fAdd, p.fMod, p.fDel} {
		st.flows.retry(cs)
	}
}

// plannedChanges describes a plan's changes in ovs-ofctl syntax, meters,
// groups, then flows, as a round would send them.
func (m *Machine) plannedChanges(p *plans) []messages.PlannedChange {
	var out []messages.PlannedChange
	add := func(k kind, op string, cs []change) {
		for _, c := range cs {
			pc := messages.PlannedChange{Kind: k.String(), Op: op}
			if c.Old.state == heldValue {
				pc.Old = describe(m.ofVersion, k, change{Key: c.Key, Old: c.Old})
			} else if c.Old.state == heldUnknown {
				pc.Old = "(contents unknown)"
			}
			if c.Val != "" {
				pc.New = describe(m.ofVersion, k, change{Key: c.Key, Val: c.Val})
			}
			out = append(out, pc)
		}
	}
	add(kindMeter, "add", p.mAdd)
	add(kindMeter, "modify", p.mMod)
	add(kindGroup, "add", p.gAdd)
	add(kindGroup, "modify", p.gMod)
	add(kindFlow, "add", p.fAdd)
	add(kindFlow, "modify", p.fMod)
	add(kindFlow, "delete", p.fDel)
	add(kindGroup, "delete", p.gDel)
	add(kindMeter, "delete", p.mDel)
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// missingRef returns the error OVS gives at commit for a flow that uses a
// group or meter that would not exist (OFPBAC_BAD_OUT_GROUP,
// OFPMMFC_INVALID_METER), or "". Like OVS it looks at the meter
// instruction (OpenFlow 1.5: the meter action) and at the group actions of
// the apply-actions list, not inside nested lists.
func (m *Machine) missingRef(c change) string {
	fm, err := flowkey.Decode(m.ofVersion, c.Key, c.Val)
	if err != nil {
		return ""
	}
	has := func(s *keyspace, id uint64) bool {
		_, ok := s.desired.Get(flowkey.IDKey(uint32(id)))
		return ok
	}
	for _, ins := range fm.Instructions {
		switch in := ins.(type) {
		case *action.Meter:
			if !has(m.st.meters, uint64(in.ID)) {
				return "OFPMMFC_INVALID_METER"
			}
		case *action.ApplyActions:
			for _, a := range in.Actions {
				std, ok := a.(*action.Std)
				switch {
				case !ok:
				case std.Type == stdGroup && !has(m.st.groups, std.Arg):
					return "OFPBAC_BAD_OUT_GROUP"
				case std.Type == stdMeter && !has(m.st.meters, std.Arg):
					return "OFPMMFC_INVALID_METER"
				}
			}
		}
	}
	return ""
}

// The standard action types of group (OFPAT_GROUP) and of OpenFlow 1.5's
// meter action (OFPAT_METER).
const (
	stdGroup = 22
	stdMeter = 29
)
