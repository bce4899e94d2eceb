package reconciler

import (
	"time"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
)

// Drift: out-of-band changes to the switch's flows, as the flow monitor
// reports them (another controller, an operator's ovs-ofctl). Each one
// updates the installed side in O(1); once the changes have been quiet
// for healQuiet (or healMax after the first), the heal round sends what
// now differs: an extra flow removed, a deleted one added back, a modified
// one set back. A burst is coalesced while its updates keep coming; the
// switch sends a large one (a del-flows of 100k) in pieces and pauses the
// monitor when ofactor falls 128 KiB behind, so such a burst is healed by
// a round for the first piece and, once the monitor resumes, a dump and
// one round for the rest (make bench, the del-flows row): a few rounds,
// never one per flow.
//
// An object set back more than conflictLimit times within conflictWindow
// is another controller fighting: it is held back (not sent) for a
// backoff that doubles each time, up to conflictMax, reported as a
// Conflict, and set back again once the backoff is over: when the other
// party has stopped, the desired state wins.

const (
	healQuiet      = 5 * time.Millisecond
	healMax        = 250 * time.Millisecond
	conflictLimit  = 3
	conflictWindow = 10 * time.Second
	conflictFirst  = time.Second
	conflictMax    = time.Minute
)

// driftEvent is what an out-of-band change did to one flow.
type driftEvent uint8

const (
	driftAdded driftEvent = iota
	driftRemoved
	driftModified
)

// flowUpdate is one out-of-band change of a flow: its key and, for an
// addition or modification, its value as the switch now holds it (flags
// and importance, which updates do not carry, taken from what was
// installed before).
type flowUpdate struct {
	event  driftEvent
	flow   flowkey.Flow // value without flags and importance: see value
	reason int          // for a removal, OVS's OFPRR_* (-1: none)
}

// drifting is the machine's account of drift since the last Drift event.
type drifting struct {
	counts      messages.Drift
	first, last time.Time // of the changes not healed yet
	buffered    []flowUpdate
}

// conflict is one object's record of being set back.
type conflict struct {
	count     int
	since     time.Time     // start of the window count counts in
	backoff   time.Duration // the last hold-back
	heldUntil time.Time
	kind      kind
	key       string
}

// flowDrift takes one out-of-band flow change. While the switch's tables
// are being read it is kept for after (the dump may or may not include it;
// applying the changes in order after it is right either way). Otherwise
// the installed side takes it, the object's conflict record counts it,
// and the heal round is due once the changes are quiet.
func (m *Machine) flowDrift(u flowUpdate) {
	switch {
	case m.phase == PhaseDumping:
		m.drift.buffered = append(m.drift.buffered, u)
	case m.read:
		m.applyDrift(u)
	}
}

// applyDrift puts one change into the installed side.
func (m *Machine) applyDrift(u flowUpdate) {
	s := m.st.flows
	u.flow = m.canonicalUpdate(u.flow, u.event == driftRemoved)
	key := u.flow.Key()
	prev := s.installedOf(key)
	switch u.event {
	case driftRemoved:
		if !prev.has() {
			return // already known gone
		}
		s.installedAs(key, nothing)
		switch u.reason {
		case reasonIdleTimeout, reasonHardTimeout:
			// The flow did what it said: a desired flow with a timeout is
			// not put back when it expires (until it is desired anew).
			if d, ok := s.desired.Get(key); ok && d == prev.val {
				s.expiredAs(key, d)
			}
			return
		case reasonGroupDelete, reasonMeterDelete:
			// Someone deleted a group or meter this flow used: read them
			// now rather than at the next audit, to restore them first.
			m.auditSoon = true
		}
		m.drift.counts.Flows.Removed++
	default:
		val := u.flow.Value()
		if prev.state == heldValue && len(prev.val) >= flowkey.ValFixed && len(val) >= flowkey.ValFixed {
			// Updates carry no flags or importance: keep the installed ones.
			val = val[:12] + prev.val[12:16] + val[16:]
		}
		if prev.is(val) {
			return
		}
		s.installedAs(key, holding(val))
		if prev.has() {
			m.drift.counts.Flows.Modified++
		} else {
			m.drift.counts.Flows.Added++
		}
	}
	m.countConflict(kindFlow, key)
	if m.drift.first.IsZero() {
		m.drift.first = m.now
	}
	m.drift.last = m.now
	m.outOfSync("drift")
	m.healing = true
	if m.timers[TimerHeal] == 0 && m.monitor != monPaused {
		m.setTimer(TimerHeal, healQuiet)
	}
}

// healDue: TimerHeal fell due. Until the changes have been quiet for
// healQuiet (and no longer than healMax after the first) it waits on;
// then it reports the drift and kicks the heal round.
func (m *Machine) healDue() {
	if m.drift.first.IsZero() {
		return
	}
	quiet, age := m.now.Sub(m.drift.last), m.now.Sub(m.drift.first)
	if quiet < healQuiet && age < healMax {
		m.setTimer(TimerHeal, min(healQuiet-quiet, healMax-age))
		return
	}
	m.reportDrift("monitor")
	if m.auditSoon && m.phase == PhaseIdle {
		m.auditSoon = false
		m.audit(false)
		return
	}
	m.kick()
}

// reportDrift publishes the drift counted so far.
func (m *Machine) reportDrift(by string) {
	d := m.drift.counts
	m.drift.counts, m.drift.first, m.drift.last = messages.Drift{}, time.Time{}, time.Time{}
	if driftTotal(d) == 0 {
		return
	}
	d.By = by
	m.log.Info("out-of-band changes", zap.String("by", by), zap.Int("flows_added", d.Flows.Added),
		zap.Int("flows_removed", d.Flows.Removed), zap.Int("flows_modified", d.Flows.Modified))
	m.publish(&d)
}

// replayDrift applies the changes kept while the tables were read.
func (m *Machine) replayDrift() {
	b := m.drift.buffered
	m.drift.buffered = nil
	for _, u := range b {
		m.applyDrift(u)
	}
}

// countConflict counts an out-of-band change of a desired object (or of
// an object we removed); past conflictLimit in conflictWindow, the object
// is held back (see drift's comment).
func (m *Machine) countConflict(k kind, key string) {
	s := m.st.keyspace(k)
	if _, desired := s.desired.Get(key); !desired && !s.installedOf(key).has() || s.keepsUndesired(key) {
		return // gone, as desired; or a flow of the switch's own (learned) that we leave be
	}
	ck := string(rune('0'+k)) + key
	c := m.conflicts[ck]
	if c == nil {
		c = &conflict{kind: k, key: key, since: m.now}
		m.conflicts[ck] = c
	}
	if m.now.Sub(c.since) > conflictWindow {
		c.count, c.since = 0, m.now
	}
	c.count++
	if c.count <= conflictLimit || m.now.Before(c.heldUntil) {
		return
	}
	if c.backoff == 0 {
		c.backoff = conflictFirst
	} else {
		c.backoff = min(2*c.backoff, conflictMax)
	}
	c.heldUntil = m.now.Add(c.backoff)
	s.hold(key)
	text := describe(m.ofVersion, k, change{Key: key, Val: s.desired.Val(key), Old: s.installedOf(key)})
	m.log.Warn("another party keeps changing an object: holding it back", zap.Stringer("kind", k),
		zap.String(k.String(), text), zap.Int("count", c.count), zap.Duration("backoff", c.backoff))
	m.publish(&messages.Conflict{Kind: k.String(), Text: text, Count: c.count, Backoff: c.backoff})
	m.armConflict()
}

// armConflict sets TimerConflict for the earliest hold-back to end.
func (m *Machine) armConflict() {
	var next time.Time
	for _, c := range m.conflicts {
		if !c.heldUntil.IsZero() && (next.IsZero() || c.heldUntil.Before(next)) {
			next = c.heldUntil
		}
	}
	if next.IsZero() {
		m.cancelTimer(TimerConflict)
		return
	}
	m.setTimer(TimerConflict, max(next.Sub(m.now), time.Millisecond))
}

// conflictDue: TimerConflict fell due: the objects whose hold-back is over
// are sent again (kick); records quiet for a window are forgotten.
func (m *Machine) conflictDue() {
	for ck, c := range m.conflicts {
		if !c.heldUntil.IsZero() && !m.now.Before(c.heldUntil) {
			c.heldUntil = time.Time{}
			m.st.keyspace(c.kind).release(c.key)
		}
		if c.heldUntil.IsZero() && m.now.Sub(c.since) > conflictWindow+c.backoff {
			delete(m.conflicts, ck)
		}
	}
	m.armConflict()
	m.kick()
}

// held is how many objects are held back from a conflict.
func (m *Machine) held() int {
	n := 0
	for _, c := range m.conflicts {
		if !c.heldUntil.IsZero() {
			n++
		}
	}
	return n
}

// zeroValue is a flow value of zeros and no instructions: what a key
// alone is decoded with.
var zeroValue = string(make([]byte, flowkey.ValFixed))

// canonicalUpdate returns a flow of the monitor in canonical form, as a
// dump's flows are put (State.canonicalizeFlows): OVS writes some matches
// otherwise than the canonical bytes (in OpenFlow 1.5 more than in 1.3).
// Only a flow that is not a desired one as it comes is normalized, so that
// an update about a flow of ours costs no decoding; removed says the
// update carries only the key.
func (m *Machine) canonicalUpdate(f flowkey.Flow, removed bool) flowkey.Flow {
	if d, ok := m.st.flows.desired.Get(f.Key()); ok && (removed || d == f.Value()) {
		return f
	}
	probe := f
	if removed {
		probe = flowkey.FromStrings(f.Key(), zeroValue)
	}
	c, ok := flowkey.Canonical(m.ofVersion, probe)
	if !ok {
		return f // kept as the switch wrote it: deleting it by these bytes works
	}
	if removed {
		return flowkey.FromStrings(c.Key(), "")
	}
	return c
}
