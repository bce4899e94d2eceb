package ofactortest

import (
	"time"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// criteria select rules, as OVS's struct rule_criteria.
type criteria struct {
	table      uint8
	match      *oxm.Match
	key        string // strict: priority and match
	cookie     uint64
	cookieMask uint64
	outPort    uint32
	outGroup   uint32
	write      bool // rules to modify or delete: read-only ones are refused
}

// collect is collect_rules_loose and collect_rules_strict: the rules c
// selects, sorted. Finding only read-only rules (table 254's) when c is
// for writing is OFPBRC_EPERM.
func (st *state) collect(c criteria, strict bool) ([]*rule, string) {
	var out []*rule
	readonly := 0
	consider := func(r *rule) {
		if c.table != openflow.TableAll && c.table != r.table ||
			!r.outputsTo(c.outPort) || !r.outputsToGroup(c.outGroup) ||
			(r.cookie^c.cookie)&c.cookieMask != 0 {
			return
		}
		if c.write && r.table == tableInternal {
			readonly++
			return
		}
		out = append(out, r)
	}
	matches := func(r *rule) bool {
		if strict {
			return r.key == c.key
		}
		return looseMatch(&r.match, c.match)
	}
	if c.cookieMask == ^uint64(0) {
		// OVS looks the cookie up in its cookie index, which spans every
		// table, hidden ones too; collect_rule then checks the table.
		for t := range st.tables {
			for _, r := range st.tables[t] {
				if r.cookie == c.cookie && matches(r) {
					consider(r)
				}
			}
		}
	} else {
		for t := range st.tables {
			if c.table == openflow.TableAll && t == tableInternal ||
				c.table != openflow.TableAll && t != int(c.table) {
				continue
			}
			if strict {
				if r := st.tables[t][c.key]; r != nil {
					consider(r)
				}
				continue
			}
			for _, r := range st.tables[t] {
				if matches(r) {
					consider(r)
				}
			}
		}
	}
	if len(out) == 0 && readonly > 0 {
		return nil, "OFPBRC_EPERM"
	}
	sortRules(out)
	return out, ""
}

// startFlowMod is ofproto_flow_mod_start: the flow_mod applied to the
// tables, its changes journaled.
func (s *Switch) startFlowMod(op *flowOp, j *journal) string {
	c := criteria{
		table: op.table, match: &op.match, key: op.key,
		cookie: op.cookie, cookieMask: op.cookieMask,
		outPort: openflow.PortAny, outGroup: openflow.GroupAny, write: true,
	}
	switch op.cmd {
	case openflow.FlowAdd:
		return s.addFlow(op, j)
	case openflow.FlowModify, openflow.FlowModifyStrict:
		old, e := s.st.collect(c, op.cmd == openflow.FlowModifyStrict)
		if e != "" {
			return e
		}
		if len(old) == 0 {
			// In OpenFlow 1.2+ a modify never adds (OVS's
			// modify_may_add_flow needs a new cookie, which only 1.0
			// and 1.1 give a modify).
			return ""
		}
		if e := s.checkActions(op.ins); e != "" {
			return e
		}
		now := s.cfg.now()
		repl := make([]*rule, len(old))
		for k, o := range old {
			// A modify keeps what the rule was but its actions.
			r := newRule(o.table, o.priority, o.match, op.ins, now)
			r.cookie, r.idle, r.hard, r.importance, r.flags, r.created = o.cookie, o.idle, o.hard, o.importance, o.flags, o.created
			r.used = o.used
			if op.keepCounts {
				r.packets, r.bytes = o.packets, o.bytes
			}
			if e := s.fault.refusesFlow(r, op.raw); e != "" {
				return e
			}
			repl[k] = r
		}
		for k, o := range old {
			s.st.replace(o, repl[k], j)
		}
		return ""
	case openflow.FlowDelete, openflow.FlowDeleteStrict:
		c.outPort, c.outGroup = op.outPort, op.outGroup
		old, e := s.st.collect(c, op.cmd == openflow.FlowDeleteStrict)
		if e != "" {
			return e
		}
		for _, o := range old {
			s.st.remove(o, j)
		}
		return ""
	}
	return "OFPFMFC_BAD_COMMAND"
}

// addFlow is add_flow_start: an identical rule (same table, priority and
// match) is replaced, keeping its counters unless reset_counts; a new one
// that overlaps a rule of the same priority is refused when the flow_mod
// says check_overlap.
func (s *Switch) addFlow(op *flowOp, j *journal) string {
	if e := s.checkActions(op.ins); e != "" {
		return e
	}
	r := s.ruleOf(op, s.cfg.now())
	if e := s.fault.refusesFlow(r, op.raw); e != "" {
		return e
	}
	old := s.st.find(op.table, op.key)
	if old == nil {
		if op.flags&openflow.FlowCheckOverlap != 0 && s.st.overlapsAny(r) {
			return "OFPFMFC_OVERLAP"
		}
		s.st.insert(r, j)
		return ""
	}
	if r.cookie == cookieNone {
		r.cookie = old.cookie
	}
	r.used = old.used
	if op.keepCounts {
		r.packets, r.bytes = old.packets, old.bytes
	}
	s.st.replace(old, r, j)
	return ""
}

// ruleOf is the rule an add makes (ofproto_rule_create).
func (s *Switch) ruleOf(op *flowOp, now time.Time) *rule {
	r := newRule(op.table, op.priority, op.match, op.ins, now)
	r.cookie = op.newCookie
	r.idle, r.hard, r.importance = op.idle, op.hard, op.importance
	r.flags = op.flags & 0x1f
	return r
}

// overlapsAny is classifier_rule_overlaps: another rule of the same
// priority in the same table that some packet could match as well.
func (st *state) overlapsAny(r *rule) bool {
	for _, o := range st.tables[r.table] {
		if o.priority == r.priority && overlaps(&o.match, &r.match) {
			return true
		}
	}
	return false
}

// checkActions is ofproto_check_ofpacts: the meter and the groups the
// instructions name must exist.
func (s *Switch) checkActions(is action.Instructions) string {
	var e string
	var walk func(l action.List)
	walk = func(l action.List) {
		for _, a := range l {
			if e != "" {
				return
			}
			switch a := a.(type) {
			case *action.Std:
				if a.Type == stdGroup {
					if _, ok := s.st.groups[uint32(a.Arg)]; !ok {
						e = "OFPBAC_BAD_OUT_GROUP"
					}
				}
			case *action.Clone:
				walk(a.Actions)
			case *action.CT:
				walk(a.Actions)
			}
		}
	}
	for _, i := range is {
		switch i := i.(type) {
		case *action.Meter:
			if _, ok := s.st.meters[i.ID]; !ok || i.ID == 0 {
				return "OFPMMFC_INVALID_METER"
			}
		case *action.ApplyActions:
			walk(i.Actions)
		case *action.WriteActions:
			walk(i.Actions)
		}
		if e != "" {
			return e
		}
	}
	return ""
}
