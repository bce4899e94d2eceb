package connection

import (
	"fmt"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

func pid(id string) *actor.PID { return &actor.PID{Address: "nonhost", Id: id} }

func TestTableBarrierCompletesEarlier(t *testing.T) {
	tb := newTable()
	a, b := pid("a"), pid("b")
	fa, _ := tb.alloc(a, 3, nil) // a: 1 2 3
	fb, _ := tb.alloc(b, 2, nil) // b: 4 5
	fa2, _ := tb.alloc(a, 2, nil)
	if fa != 1 || fb != 4 || fa2 != 6 {
		t.Fatalf("xids %d %d %d", fa, fb, fa2)
	}
	if n := tb.inFlight(a); n != 5 {
		t.Fatalf("a in flight %d", n)
	}
	tb.complete(tb.lookup(2)) // a final reply in the middle
	if n := tb.inFlight(a); n != 4 {
		t.Fatalf("a in flight %d after a final reply", n)
	}
	tb.barrier(tb.lookup(6)) // a's barrier: 1 3 6 done, 7 open
	if n := tb.inFlight(a); n != 1 || tb.lookup(7) == nil || tb.lookup(1) != nil || tb.lookup(3) != nil {
		t.Fatalf("after barrier: a in flight %d", n)
	}
	if n := tb.inFlight(b); n != 2 {
		t.Fatalf("b's transactions touched by a's barrier: %d", n)
	}
	got := tb.drain()
	if len(got) != 2 || fmt.Sprintf("%s %v %s %v", got[0].pid.Id, got[0].xids, got[1].pid.Id, got[1].xids) != "a [7] b [4 5]" {
		t.Fatalf("drain %+v", got)
	}
	if tb.inFlight(a) != 0 || tb.lookup(7) != nil {
		t.Fatal("drain left transactions")
	}
}

func TestTableAllocSkipsZeroAndUsed(t *testing.T) {
	tb := newTable()
	tb.next = 0xfffffffe
	first, err := tb.alloc(pid("a"), 3, nil) // would wrap through 0
	if err != nil || first != 1 {
		t.Fatalf("first %d err %v", first, err)
	}
	tb.next = 2 // 2 and 3 in use
	if first, _ = tb.alloc(pid("a"), 2, nil); first != 4 {
		t.Fatalf("first %d, want 4", first)
	}
	own, _ := tb.alloc(nil, 1, nil)
	if tb.lookup(own).holder != nil || len(tb.drain()) != 1 {
		t.Fatal("our own transaction is failed to nobody")
	}
}

func TestSetXIDBundleAdd(t *testing.T) {
	for _, v := range []uint8{openflow.Version13, openflow.Version14} {
		inner := &openflow.BarrierRequest{}
		inner.Version = v
		b, err := openflow.NewBundleAdd(9, openflow.BundleAtomic, inner).AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		openflow.SetFrameXID(b, 0x1234)
		m, err := openflow.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		add := m.(*openflow.BundleAdd)
		if add.XID != 0x1234 || add.Message.Hdr().XID != 0x1234 {
			t.Errorf("version %#x: xids %#x / %#x", v, add.XID, add.Message.Hdr().XID)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := newLimiter(1, 2)
	now := time.Unix(0, 0)
	var allowed []bool
	for i := 0; i < 4; i++ {
		ok, _ := l.allow(now)
		allowed = append(allowed, ok)
	}
	if fmt.Sprint(allowed) != "[true true false false]" {
		t.Fatalf("burst %v", allowed)
	}
	if ok, s := l.allow(now.Add(time.Second)); !ok || s != 2 {
		t.Fatalf("after a second: %v, suppressed %d", ok, s)
	}
}

func TestTargets(t *testing.T) {
	t.Setenv("OVS_RUNDIR", "/run/ovs")
	if got := DefaultTarget("br-int"); got != "unix:/run/ovs/br-int.mgmt" {
		t.Errorf("DefaultTarget %s", got)
	}
	t.Setenv("OVS_RUNDIR", "")
	if got := DefaultTarget("br-int"); got != "unix:/var/run/openvswitch/br-int.mgmt" {
		t.Errorf("DefaultTarget %s", got)
	}
	for target, want := range map[string]string{
		"unix:/a/b":          "unix /a/b",
		"tcp:127.0.0.1:6654": "tcp 127.0.0.1:6654",
		"tcp:127.0.0.1":      "tcp 127.0.0.1:6653",
		"tcp:[::1]":          "tcp [::1]:6653",
		"ssl:1.2.3.4:6654":   "tcp 1.2.3.4:6654",
		"ssl:1.2.3.4":        "tcp 1.2.3.4:6653",
		"punix:/x":           "error",
		"nothing":            "error",
	} {
		n, a, err := ParseTarget(target)
		got := n + " " + a
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("ParseTarget(%q) = %s, want %s", target, got, want)
		}
	}
}

// TestTableKeepsNoFinishedTransactions: a holder that stays in the table
// (here: the next bundle's add is open) must not keep the transactions of
// a large bundle reachable through its lists' backing arrays once the
// barrier after the COMMIT finished them (the garbage collector keeps what
// an array points to, whatever the slice).
func TestTableKeepsNoFinishedTransactions(t *testing.T) {
	tb := newTable()
	a := pid("a")
	const windows, size = 10, 10_000
	window := make([]messages.Routing, size+1)
	for i := range window[:size] {
		window[i] = messages.RouteUntilRelease
	}
	for range windows {
		first, err := tb.alloc(a, len(window), window)
		if err != nil {
			t.Fatal(err)
		}
		tb.barrier(tb.lookup(first + size))
	}
	commit, _ := tb.alloc(a, 2, []messages.Routing{messages.RouteRelease, messages.RouteDefault})
	tb.alloc(a, 1, []messages.Routing{messages.RouteUntilRelease}) // the next bundle's
	tb.complete(tb.lookup(commit))
	tb.barrier(tb.lookup(commit + 1))
	h := tb.holders[pidKey(a)]
	if h == nil {
		t.Fatal("the holder of an open transaction was dropped")
	}
	reachable := 0
	for _, l := range [][]*txn{h.open, h.kept} {
		for _, tx := range l[:cap(l)] {
			if tx != nil && tx.done {
				reachable++
			}
		}
	}
	if reachable > 0 || cap(h.kept) > 1024 || len(tb.routes) != 1 {
		t.Fatalf("%d finished transactions still reachable; kept cap %d; %d routes", reachable, cap(h.kept), len(tb.routes))
	}
}
