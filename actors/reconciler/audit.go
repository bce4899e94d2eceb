package reconciler

import (
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
)

// The audit: what no flow monitor reports (groups, meters, the Geneve TLV
// map) is read again every AuditInterval and compared with what the
// machine believes the switch holds; every AuditFlowsEvery-th audit, and
// every audit when the monitor is off, the flows too. What differs is put
// right by the next round like any drift; a TLV map that lost the Geneve
// option has the negotiator map it again. Objects the switch refused are
// tried again at each audit (the switch may take them now).

// Audit defaults.
const (
	DefaultAuditInterval   = 60 * time.Second
	DefaultAuditFlowsEvery = 10
	auditBusyRetry         = time.Second // an audit due while a round runs waits this long
)

// armAudit sets the audit timer, when audits are on.
func (m *Machine) armAudit() {
	if m.cfg.AuditInterval > 0 && m.cfg.Mode == ModeApply {
		m.setTimer(TimerAudit, m.cfg.AuditInterval)
	}
}

// auditDue: TimerAudit fell due. In PhaseIdle the audit reads the switch
// (PhaseDumping, marked as an audit); in any other connected phase it waits
// a little and tries again.
func (m *Machine) auditDue() {
	switch m.phase {
	case PhaseIdle:
	case PhaseDisconnected:
		return // the next connect reads everything anyway
	default:
		m.setTimer(TimerAudit, auditBusyRetry)
		return
	}
	m.audits++
	m.audit(m.cfg.NoFlowMonitor || m.monitorRefused || m.cfg.AuditFlowsEvery <= 1 || m.audits%m.cfg.AuditFlowsEvery == 0)
}

// audit reads the groups, meters and TLV map (and the flows, withFlows):
// PhaseDumping, marked as an audit.
func (m *Machine) audit(withFlows bool) {
	g := m.st.geneve
	m.auditing = true
	m.readTables(newDump(withFlows, g.Enabled && !g.Unmapped && !m.cfg.GeneveOff))
}

// auditDrift counts how what an audit read differs from what the machine
// believed the switch holds.
func (m *Machine) auditDrift(d *dump) messages.Drift {
	dr := messages.Drift{By: "audit"}
	dr.Groups = m.st.groups.differences(d.groups)
	dr.Meters = m.st.meters.differences(d.meters)
	if d.flows != nil {
		dr.Flows = m.st.flows.differences(d.flows)
	}
	return dr
}

// differences counts the keys of got (what the switch holds) that the
// installed side lacks (added), holds otherwise (modified), and the keys it
// has that got lacks (removed).
func (s *keyspace) differences(got map[string]string) (c messages.DriftCounts) {
	for k, v := range got {
		switch h := s.installedOf(k); {
		case !h.has():
			c.Added++
		case !h.is(v):
			c.Modified++
		}
	}
	for k, h := range s.instDiff {
		if _, ok := got[k]; h.has() && !ok {
			c.Removed++
		}
	}
	for k := range s.desired.Keys() {
		if _, differs := s.instDiff[k]; differs {
			continue
		}
		if _, ok := got[k]; !ok {
			c.Removed++
		}
	}
	return c
}

func driftTotal(d messages.Drift) int {
	n := 0
	for _, c := range []messages.DriftCounts{d.Flows, d.Groups, d.Meters} {
		n += c.Added + c.Removed + c.Modified
	}
	return n
}

// audited ends an audit: its drift reported, the TLV map checked, the
// refused objects given another chance, the next audit armed.
func (m *Machine) audited(d *dump, drift messages.Drift) {
	n := driftTotal(drift)
	if n > 0 {
		m.publish(&drift)
		m.outOfSync("drift")
		m.healing = true
		m.log.Warn("audit found out-of-band changes", zap.Int("flows", driftTotal(messages.Drift{Flows: drift.Flows})),
			zap.Int("groups", driftTotal(messages.Drift{Groups: drift.Groups})),
			zap.Int("meters", driftTotal(messages.Drift{Meters: drift.Meters})))
	}
	if d.tlv != nil && !m.geneveMapped(d) {
		m.log.Warn("audit: the switch's TLV map lost the Geneve option: negotiating again", zap.Int("index", m.st.geneve.Index))
		m.ready.Renegotiate = true
		n++
	}
	m.st.requeueRejected(func(kind, _ string) bool { return kind == "flow" })
	m.publish(&messages.Audited{Flows: d.flows != nil, Differences: n})
	m.armAudit()
}

// geneveMapped reports whether an audit's TLV map still maps the
// negotiated option where the machine believes it is.
func (m *Machine) geneveMapped(d *dump) bool {
	g := m.st.geneve
	for _, tm := range d.tlv.Mappings {
		if tm.OptionClass == g.Class && tm.OptionType == g.Type {
			return int(tm.Index) == g.Index && tm.OptionLen == g.Len
		}
	}
	return false
}

// requeueRejected plans again the refused objects that retry accepts (by
// kind and OVS error name): the next round sends them, and until the
// switch takes one it still counts as refused (the status does not flap).
func (s *State) requeueRejected(retry func(kind, err string) bool) {
	for _, k := range kinds {
		ks := s.keyspace(k)
		for key, r := range ks.rejected {
			if !r.retry && !r.expired && retry(k.String(), r.err) {
				r.retry = true
				ks.rejected[key] = r
				ks.dirty[key] = struct{}{}
			}
		}
	}
}

// usesGroupOrMeter reports whether an OVS error says a flow named a group
// or meter that did not exist: once groups or meters change, such a flow
// may be taken.
func usesGroupOrMeter(kind, err string) bool {
	return kind == "flow" && (strings.Contains(err, "GROUP") || strings.Contains(err, "METER"))
}

// onlyRetries reports whether every item of r tries a refused object again.
func (s *State) onlyRetries(r *round) bool {
	for _, it := range r.all {
		if rj, ok := s.keyspace(it.kind).rejected[it.c.Key]; !ok || !rj.retry || rj.val != it.c.Val {
			return false
		}
	}
	return len(r.all) > 0
}
