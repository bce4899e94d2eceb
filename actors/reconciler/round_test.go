package reconciler

import (
	"encoding/binary"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// synthFlow returns a key and value shaped like canonical flow bytes.
func synthFlow(i int, variant byte) (string, string) {
	k := make([]byte, keyFixed+8)
	k[0] = byte(8 + i%16)
	binary.BigEndian.PutUint16(k[1:], 100)
	binary.BigEndian.PutUint32(k[keyFixed+4:], uint32(i))
	v := make([]byte, valFixed+8)
	v[valFixed] = variant
	return string(k), string(v)
}

// drive plays a switch that takes everything: it acknowledges each Send
// with consecutive xids and answers every barrier. refuse names xids to
// refuse, by the position of the item in the round.
func drive(t *testing.T, r *round, refuse map[int]string) (windows int) {
	t.Helper()
	xid := uint32(100)
	var pending [][]openflow.Message
	send := func(msgs []openflow.Message) {
		r.sentWindow(xid)
		w := r.windows[len(r.windows)-1]
		for i, s := range w.slots {
			if s >= 0 {
				if e, ok := refuse[int(s)]; ok {
					r.onError(xid+uint32(i), e)
				}
			}
		}
		xid += uint32(len(msgs))
		pending = append(pending, msgs)
		windows++
	}
	for r.moreAdds() && r.inFlight() < maxWindows {
		send(r.nextWindow())
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
				send(r.nextWindow())
			}
			if r.addsDone() {
				send(r.commitPhase())
			}
		}
	}
	if r.phase != phaseCommit || r.inFlight() != 0 {
		t.Fatalf("round ended in phase %d with %d windows in flight", r.phase, r.inFlight())
	}
	return windows
}

func TestRoundStreamsWindows(t *testing.T) {
	flows := newKeyspace()
	const n = 3*minWindow + 5
	for i := range n {
		flows.put(synthFlow(i, 0))
	}
	r := newRound(openflow.Version13, 1, flows, newKeyspace(), newKeyspace())
	if got := drive(t, r, nil); got != 4+1 {
		t.Errorf("%d Sends, want 4 windows and the commit", got)
	}
	if r.sent != n || r.confirmed != n {
		t.Errorf("sent %d confirmed %d, want %d", r.sent, r.confirmed, n)
	}
	if refused := r.finish(flows, newKeyspace(), newKeyspace()); len(refused) != 0 {
		t.Fatalf("refused %d", len(refused))
	}
	if flows.installedLen() != n || !flows.synced() {
		t.Fatalf("installed %d of %d, synced %v", flows.installedLen(), n, flows.synced())
	}
}

func TestRoundAttributesErrorsAcrossWindows(t *testing.T) {
	flows := newKeyspace()
	const n = 2*minWindow + 1
	for i := range n {
		flows.put(synthFlow(i, 0))
	}
	r := newRound(openflow.Version13, 1, flows, newKeyspace(), newKeyspace())
	culprit := minWindow + 7 // in the second window
	drive(t, r, map[int]string{culprit: "OFPBAC_BAD_OUT_GROUP"})
	refused := r.finish(flows, newKeyspace(), newKeyspace())
	if len(refused) != 1 || refused[0] != r.all[culprit] {
		t.Fatalf("refused %v, want item %d", refused, culprit)
	}
	if flows.installedLen() != n-1 {
		t.Fatalf("installed %d, want %d", flows.installedLen(), n-1)
	}
	// Rejected is not retried until it changes.
	if a, m, d := flows.plan(); len(a)+len(m)+len(d) != 0 {
		t.Fatalf("rejected flow planned again: %d %d %d", len(a), len(m), len(d))
	}
}

func TestUpdateInstalledIsADelta(t *testing.T) {
	flows := newKeyspace()
	for i := range 1000 {
		flows.put(synthFlow(i, 0))
	}
	flows.plan()
	for k, v := range flows.desired {
		flows.installedAs(k, v)
	}
	if !flows.synced() || len(flows.dirty) != 0 {
		t.Fatal("not synced")
	}
	k, _ := synthFlow(17, 0)
	flows.installedAs(k, "") // the switch lost one flow
	k2, v2 := synthFlow(5000, 0)
	flows.installedAs(k2, v2) // and has one we never wanted
	if len(flows.dirty) != 2 {
		t.Fatalf("dirty %d keys, want 2", len(flows.dirty))
	}
	adds, mods, dels := flows.plan()
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
		s.plan()
		return s
	}
	s := fresh()
	if !s.replaceSame(keys, vals, errs) || len(s.dirty) != 0 {
		t.Fatalf("unchanged set: dirty %d", len(s.dirty))
	}
	// One value changed, one key added twice (the first value stays).
	k2 := slicesClone(keys)
	v2 := slicesClone(vals)
	_, v2[17] = synthFlow(17, 1)
	nk, nv := synthFlow(n, 0)
	_, nv2 := synthFlow(n, 1)
	k2, v2 = append(k2, nk, nk), append(v2, nv, nv2)
	if !s.replaceSame(k2, v2, errs) {
		t.Fatal("changed set refused")
	}
	if len(s.dirty) != 2 || s.desired[keys[17]] != v2[17] || s.desired[nk] != nv {
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
