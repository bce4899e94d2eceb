package reconciler

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
)

func keys(cs []change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Key
	}
	return out
}

func TestKeyspacePlan(t *testing.T) {
	s := newKeyspace()
	s.setInstalled(map[string]string{"a": "1", "b": "2", "c": "3"})
	s.replace(map[string]string{"a": "1", "b": "20", "d": "4"})
	adds, mods, dels := s.plan(true)
	if got := fmt.Sprint(keys(adds), keys(mods), keys(dels)); got != "[d] [b] [c]" {
		t.Fatalf("plan = %s, want [d] [b] [c]", got)
	}
	if mods[0].Old != holding("2") || mods[0].Val != "20" {
		t.Errorf("mod = %+v", mods[0])
	}
	// Nothing is dirty until the round reports back.
	if a, m, d := s.plan(true); len(a)+len(m)+len(d) != 0 {
		t.Fatalf("second plan not empty: %v %v %v", a, m, d)
	}
	s.installedAs("d", holding("4"))
	s.installedAs("b", holding("20"))
	s.installedAs("c", nothing)
	if !s.inSync() {
		t.Fatal("not synced after the round")
	}
	if s.installedLen() != 3 {
		t.Fatalf("installed %d, want 3", s.installedLen())
	}
}

func TestKeyspaceRejectedUntilChanged(t *testing.T) {
	s := newKeyspace()
	s.setInstalled(map[string]string{})
	s.put("x", "bad")
	adds, _, _ := s.plan(true)
	if len(adds) != 1 {
		t.Fatalf("adds = %v", adds)
	}
	s.rejectedAs("x", "bad", "OFPBAC_BAD_OUT_GROUP", 1)
	if a, m, d := s.plan(true); len(a)+len(m)+len(d) != 0 {
		t.Fatalf("a rejected flow is retried unchanged: %v %v %v", a, m, d)
	}
	s.put("x", "bad") // same value: still rejected
	if a, _, _ := s.plan(true); len(a) != 0 {
		t.Fatalf("same value retried: %v", a)
	}
	s.put("x", "good")
	if a, _, _ := s.plan(true); len(a) != 1 || a[0].Val != "good" {
		t.Fatalf("changed value not retried: %v", a)
	}
}

func TestKeyspaceDesiredMovesDuringRound(t *testing.T) {
	s := newKeyspace()
	s.setInstalled(map[string]string{})
	s.put("k", "v1")
	s.plan(true)
	s.put("k", "v2") // arrives while v1 is in flight
	s.installedAs("k", holding("v1"))
	adds, mods, _ := s.plan(true)
	if len(adds) != 0 || len(mods) != 1 || mods[0].Val != "v2" || mods[0].Old != holding("v1") {
		t.Fatalf("coalesced change lost: adds %v mods %v", adds, mods)
	}
}

func TestKeyspaceDeltaTouchesOnlyChanges(t *testing.T) {
	s := newKeyspace()
	big := make(map[string]string, 10000)
	for i := range 10000 {
		big[fmt.Sprint(i)] = "v"
	}
	s.replace(big)
	s.setInstalled(big)
	if len(s.dirty) != 0 {
		t.Fatalf("dirty after identical dump: %d", len(s.dirty))
	}
	s.put("5", "w")
	s.remove("6")
	if len(s.dirty) != 2 || len(s.instDiff) != 2 {
		t.Fatalf("dirty = %d, installed differences %d, want 2 and 2", len(s.dirty), len(s.instDiff))
	}
	_, mods, dels := s.plan(true)
	if len(mods) != 1 || len(dels) != 1 {
		t.Fatalf("mods %v dels %v", mods, dels)
	}
}

func TestKeyspaceRetryAfterAbort(t *testing.T) {
	s := newKeyspace()
	s.setInstalled(map[string]string{})
	s.put("a", "1")
	adds, _, _ := s.plan(true)
	s.retry(adds)
	if again, _, _ := s.plan(true); len(again) != 1 {
		t.Fatalf("aborted change not planned again: %v", again)
	}
}

func TestModCommand(t *testing.T) {
	base := string(make([]byte, flowkey.ValFixed))
	if modCommand(change{Val: base + "A", Old: holding(base + "B")}) != uint16(openflow.FlowModifyStrict) {
		t.Error("instructions-only change should be MODIFY_STRICT")
	}
	cookie := "\x01" + base[1:]
	if modCommand(change{Val: cookie + "A", Old: holding(base + "A")}) != uint16(openflow.FlowAdd) {
		t.Error("cookie change must be an ADD")
	}
	if modCommand(change{Val: base + "A", Old: held{state: heldUnknown}}) != uint16(openflow.FlowAdd) {
		t.Error("a flow held with unknown contents must be ADDed")
	}
}

// A full put equal to the last one is known by its digest; a change made
// since (a delta) or a put that differs must not be taken for it.
func TestReplaceSameDigest(t *testing.T) {
	keys := []string{"k1", "k2", "k3"}
	vals := []string{"v1", "v2", "v3"}
	errs := make([]error, len(keys))
	s := newKeyspace()
	next := map[string]string{}
	for i := range keys {
		next[keys[i]] = vals[i]
	}
	s.replace(next)
	if !s.replaceSame(keys, vals, errs) || !s.digestOK {
		t.Fatal("first full put: want taken, digest kept")
	}
	s.plan(true)
	// The same put again: nothing to do.
	if !s.replaceSame(keys, vals, errs) || len(s.dirty) != 0 {
		t.Fatalf("same put: %d dirty", len(s.dirty))
	}
	// A delta since: the same put must put k2 back.
	s.put("k2", "changed")
	s.plan(true)
	if s.digestOK {
		t.Fatal("a delta must drop the digest")
	}
	if !s.replaceSame(keys, vals, errs) || s.desired.Val("k2") != "v2" {
		t.Fatalf("put after a delta: k2 = %q", s.desired.Val("k2"))
	}
	// A put that differs in one value, or drops an entry by an error.
	vals2 := []string{"v1", "v2", "other"}
	if !s.replaceSame(keys, vals2, errs) || s.desired.Val("k3") != "other" {
		t.Fatalf("changed put: k3 = %q", s.desired.Val("k3"))
	}
	if digestOf(keys, vals, errs) == digestOf(keys, vals, []error{nil, errors.New("x"), nil}) {
		t.Fatal("an entry left out must change the digest")
	}
	if digestOf(keys, vals, errs) == digestOf([]string{"k2", "k1", "k3"}, []string{"v2", "v1", "v3"}, errs) {
		t.Fatal("order must change the digest")
	}
}

// A dump read before anything is desired is taken as it is; the first
// plan then still deletes what is installed and not desired.
func TestKeyspaceDumpBeforeDesired(t *testing.T) {
	s := newKeyspace()
	s.setInstalled(map[string]string{"a": "1", "b": "2", "c": "3"})
	if s.installedLen() != 3 || s.inSync() || s.check(func(string) bool { return false }) != nil {
		t.Fatalf("installed %d, synced %v", s.installedLen(), s.inSync())
	}
	s.setInstalled(map[string]string{"a": "1", "b": "2", "c": "3"})
	s.replace(map[string]string{"a": "1", "b": "20", "d": "4"})
	adds, mods, dels := s.plan(true)
	if len(adds) != 1 || adds[0].Key != "d" || len(mods) != 1 || mods[0].Key != "b" || len(dels) != 1 || dels[0].Key != "c" {
		t.Fatalf("plan: adds %v mods %v dels %v", adds, mods, dels)
	}
}

// A restart: a large dump read before anything is desired, then a put of
// the same flows. The differences empty, and trim makes them anew (a Go
// map keeps the room of its million entries otherwise).
func TestKeyspaceTrimAfterMatchedDump(t *testing.T) {
	s := newKeyspace()
	m := make(map[string]string, 10000)
	for i := range 10000 {
		m[fmt.Sprint("k", i)] = "v"
	}
	s.setInstalled(m)
	if s.diffPeak != len(m) {
		t.Fatalf("peak %d after the dump, want %d", s.diffPeak, len(m))
	}
	s.replace(m)
	if len(s.instDiff) != 0 || !s.inSync() {
		t.Fatalf("%d differences after the matching put", len(s.instDiff))
	}
	s.trim()
	if s.diffPeak != 0 {
		t.Fatalf("peak %d after trim: the differences were not made anew", s.diffPeak)
	}
}
