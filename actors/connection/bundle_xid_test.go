package connection

import (
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// OVS reports a message that fails at COMMIT with its ADD_MESSAGE's xid,
// after the barrier that follows the adds: that xid must still reach its
// holder until a barrier after the COMMIT.
func TestBarrierKeepsBundleAddsUntilCommit(t *testing.T) {
	tb := newTable()
	a := pid("a")
	// OPEN, ADD, ADD, BARRIER
	first, _ := tb.alloc(a, 4)
	tb.lookup(first + 1).bundle = bundleAdd
	tb.lookup(first + 2).bundle = bundleAdd
	tb.barrier(tb.lookup(first + 3))
	if tb.lookup(first) != nil {
		t.Error("OPEN still open after the barrier")
	}
	if tb.lookup(first+1) == nil || tb.lookup(first+2) == nil {
		t.Fatal("bundle adds finished by a barrier before COMMIT")
	}
	// COMMIT, BARRIER
	c, _ := tb.alloc(a, 2)
	tb.lookup(c).bundle = bundleEnd
	if tb.lookup(first+2) == nil {
		t.Fatal("a commit-time error for the second add would find no holder")
	}
	tb.barrier(tb.lookup(c + 1))
	if n := tb.inFlight(a); n != 0 {
		t.Fatalf("%d transactions open after the barrier that follows COMMIT", n)
	}
}

func TestBundleRoleOf(t *testing.T) {
	enc := func(m openflow.Message) []byte {
		b, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fm := openflow.NewFlowMod(openflow.Version13, openflow.FlowAdd)
	for _, v := range []uint8{openflow.Version13, openflow.Version14} {
		ctl := func(typ uint16) []byte {
			return enc(&openflow.BundleControl{Header: openflow.Header{Version: v}, BundleID: 1, Type: typ})
		}
		inner := openflow.NewFlowMod(v, openflow.FlowAdd)
		cases := []struct {
			b    []byte
			want bundleRole
		}{
			{enc(openflow.NewBundleAdd(1, 0, inner)), bundleAdd},
			{ctl(openflow.BundleOpenRequest), notBundle},
			{ctl(openflow.BundleCommitRequest), bundleEnd},
			{ctl(openflow.BundleDiscardRequest), bundleEnd},
			{enc(fm), notBundle},
			{enc(&openflow.BarrierRequest{}), notBundle},
		}
		for i, c := range cases {
			if got := bundleRoleOf(c.b); got != c.want {
				t.Errorf("version %d case %d: role %d, want %d", v, i, got, c.want)
			}
		}
	}
}

// Many windows: each barrier keeps its window's adds and looks at its own
// window alone; an add refused on the way (completed) drops out; a window
// sent after the COMMIT stays open until its own barrier.
func TestBarrierKeepsAddsAcrossWindows(t *testing.T) {
	tb := newTable()
	a := pid("a")
	var adds []uint32
	for w := range 5 {
		first, _ := tb.alloc(a, 101) // 100 ADD_MESSAGEs and a BARRIER
		for i := range uint32(100) {
			tb.lookup(first + i).bundle = bundleAdd
			adds = append(adds, first+i)
		}
		if w == 2 {
			tb.complete(tb.lookup(adds[7])) // refused: its error came
		}
		tb.barrier(tb.lookup(first + 100))
		if got, want := tb.inFlight(a), len(adds)-1; w >= 2 && got != want || w < 2 && got != len(adds) {
			t.Fatalf("window %d: %d open, want %d", w, got, len(adds))
		}
	}
	for _, x := range adds {
		if x != adds[7] && tb.lookup(x) == nil {
			t.Fatalf("add %d finished before COMMIT", x)
		}
	}
	// COMMIT, then one more window (the next round's), then BARRIER.
	c, _ := tb.alloc(a, 1)
	tb.lookup(c).bundle = bundleEnd
	next, _ := tb.alloc(a, 3)
	tb.lookup(next).bundle = bundleAdd
	tb.lookup(next + 1).bundle = bundleAdd
	tb.barrier(tb.lookup(next + 2))
	for _, x := range adds {
		if tb.lookup(x) != nil {
			t.Fatalf("add %d still open after the barrier that follows COMMIT", x)
		}
	}
	if tb.lookup(next) == nil || tb.lookup(next+1) == nil || tb.inFlight(a) != 2 {
		t.Fatalf("the adds after the COMMIT: %d open, want 2", tb.inFlight(a))
	}
}
