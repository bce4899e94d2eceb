package reconciler

import (
	"encoding/binary"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
)

// synthFlow returns a key and value shaped like canonical flow bytes.
func synthFlow(i int, variant byte) (string, string) {
	k := make([]byte, flowkey.KeyFixed+8)
	k[0] = byte(8 + i%16)
	binary.BigEndian.PutUint16(k[1:], 100)
	binary.BigEndian.PutUint32(k[flowkey.KeyFixed+4:], uint32(i))
	v := make([]byte, flowkey.ValFixed+8)
	v[flowkey.ValFixed] = variant
	return string(k), string(v)
}

// drive plays a switch that takes everything: it acknowledges each window
// with consecutive xids and answers every barrier. refuse names xids to
// refuse, by the position of the item in the round.
func drive(t *testing.T, r *round, refuse map[int]string) (windows int) {
	t.Helper()
	xid, ref := uint32(100), uint64(0)
	send := func(o *outgoing) {
		r.sentWindow(o.w.ref, xid)
		if len(o.routing) != len(o.msgs) {
			t.Fatalf("window: %d messages, %d routings", len(o.msgs), len(o.routing))
		}
		for i, s := range o.w.slots {
			if s >= 0 {
				if e, ok := refuse[int(s)]; ok {
					r.onError(xid+uint32(i), e)
				}
			}
		}
		xid += uint32(len(o.msgs))
		windows++
	}
	next := func() uint64 { ref++; return ref }
	for r.moreAdds() && r.inFlight() < maxWindows {
		send(r.nextWindow(next()))
	}
	for i := 0; i < len(r.windows); i++ {
		w := r.windows[i]
		if !r.onBarrier(w.first + uint32(len(w.slots)) - 1) {
			t.Fatalf("window %d: barrier not recognised", i)
		}
		if r.inFlight() > maxWindows {
			t.Fatalf("%d windows in flight, max %d", r.inFlight(), maxWindows)
		}
		if r.phase == phaseAdd {
			for r.moreAdds() && r.inFlight() < maxWindows {
				send(r.nextWindow(next()))
			}
			if r.addsDone() {
				send(r.endPhase(next()))
			}
		}
	}
	if r.phase != phaseCommit || r.inFlight() != 0 {
		t.Fatalf("round ended in phase %d with %d windows in flight", r.phase, r.inFlight())
	}
	return windows
}

// synthState returns a State desiring n synthetic flows, and the round that
// installs them on an empty switch.
func synthState(t *testing.T, n int) (*State, *round) {
	t.Helper()
	st := NewState()
	for _, k := range kinds {
		st.keyspace(k).setInstalled(map[string]string{})
	}
	for i := range n {
		st.flows.put(synthFlow(i, 0))
	}
	return st, newRound(openflow.Version13, 1, planAll(st, true), false)
}

func TestRoundStreamsWindows(t *testing.T) {
	const n = 3*minWindow + 5
	st, r := synthState(t, n)
	flows := st.flows
	if got := drive(t, r, nil); got != 4+1 {
		t.Errorf("%d Sends, want 4 windows and the commit", got)
	}
	if r.sent != n || r.confirmed != n {
		t.Errorf("sent %d confirmed %d, want %d", r.sent, r.confirmed, n)
	}
	if refused, _ := r.finish(st); len(refused) != 0 {
		t.Fatalf("refused %d", len(refused))
	}
	if flows.installedLen() != n || !flows.inSync() {
		t.Fatalf("installed %d of %d, in sync %v", flows.installedLen(), n, flows.inSync())
	}
}

func TestRoundAttributesErrorsAcrossWindows(t *testing.T) {
	const n = 2*minWindow + 1
	st, r := synthState(t, n)
	flows := st.flows
	culprit := minWindow + 7 // in the second window
	drive(t, r, map[int]string{culprit: "OFPBAC_BAD_OUT_GROUP"})
	refused, _ := r.finish(st)
	if len(refused) != 1 || refused[0] != r.all[culprit] {
		t.Fatalf("refused %v, want item %d", refused, culprit)
	}
	if flows.installedLen() != n-1 {
		t.Fatalf("installed %d, want %d", flows.installedLen(), n-1)
	}
	// Rejected is not retried until it changes.
	if a, m, d := flows.plan(true); len(a)+len(m)+len(d) != 0 {
		t.Fatalf("rejected flow planned again: %d %d %d", len(a), len(m), len(d))
	}
}

func TestUpdateInstalledIsADelta(t *testing.T) {
	flows := newKeyspace()
	for i := range 1000 {
		flows.put(synthFlow(i, 0))
	}
	flows.plan(true)
	for k, v := range flows.desired.All() {
		flows.installedAs(k, holding(v))
	}
	if !flows.inSync() || len(flows.dirty) != 0 {
		t.Fatal("not synced")
	}
	k, _ := synthFlow(17, 0)
	flows.installedAs(k, nothing) // the switch lost one flow
	k2, v2 := synthFlow(5000, 0)
	flows.installedAs(k2, holding(v2)) // and has one we never wanted
	if len(flows.dirty) != 2 {
		t.Fatalf("dirty %d keys, want 2", len(flows.dirty))
	}
	adds, mods, dels := flows.plan(true)
	if len(adds) != 1 || adds[0].Key != k || len(mods) != 0 || len(dels) != 1 || dels[0].Key != k2 {
		t.Fatalf("plan %v %v %v", adds, mods, dels)
	}
}

func TestReplaceSame(t *testing.T) {
	const n = 10000
	keys, vals := make([]string, n), make([]string, n)
	for i := range n {
		keys[i], vals[i] = synthFlow(i, 0)
	}
	errs := make([]error, n+2)
	fresh := func() *keyspace {
		s := newKeyspace()
		for i := range keys {
			s.put(keys[i], vals[i])
		}
		s.plan(true)
		return s
	}
	s := fresh()
	if !s.replaceSame(keys, vals, errs) || len(s.dirty) != 0 {
		t.Fatalf("unchanged set: dirty %d", len(s.dirty))
	}
	// One value changed, one key added twice (the later value wins).
	k2 := slicesClone(keys)
	v2 := slicesClone(vals)
	_, v2[17] = synthFlow(17, 1)
	nk, nv := synthFlow(n, 0)
	_, nv2 := synthFlow(n, 1)
	k2, v2 = append(k2, nk, nk), append(v2, nv, nv2)
	if !s.replaceSame(k2, v2, errs) {
		t.Fatal("changed set refused")
	}
	if len(s.dirty) != 2 || s.desired.Val(keys[17]) != v2[17] || s.desired.Val(nk) != nv2 {
		t.Fatalf("dirty %d", len(s.dirty))
	}
	// A key missing: refused, nothing changed.
	s = fresh()
	if s.replaceSame(keys[1:], vals[1:], errs) || len(s.dirty) != 0 {
		t.Fatal("a removal must take the exact path")
	}
	// A key missing and another given twice: the count matches, the sum
	// does not.
	k3, v3 := slicesClone(keys), slicesClone(vals)
	k3[0], v3[0] = keys[1], vals[1]
	if s.replaceSame(k3, v3, errs) || len(s.dirty) != 0 {
		t.Fatal("a duplicate hiding a removal must take the exact path")
	}
	// The running sum follows removals.
	s.remove(keys[5])
	s.put(keys[5], vals[5])
	if !s.replaceSame(keys, vals, errs) {
		t.Fatal("sum lost after remove and put")
	}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
