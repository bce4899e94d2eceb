package connection

import (
	"testing"

	"github.com/ofactor/ofactor/messages"
)

// routes builds a Send's Routing: d RouteDefault, k RouteUntilRelease,
// r RouteRelease.
func routes(s string) []messages.Routing {
	out := make([]messages.Routing, len(s))
	for i, c := range s {
		switch c {
		case 'k':
			out[i] = messages.RouteUntilRelease
		case 'r':
			out[i] = messages.RouteRelease
		}
	}
	return out
}

// OVS reports a message that fails at COMMIT with its ADD_MESSAGE's xid,
// after the barrier that follows the adds: that xid must still reach its
// holder until a barrier after the COMMIT.
func TestBarrierKeepsBundleAddsUntilCommit(t *testing.T) {
	tb := newTable()
	a := pid("a")
	// OPEN, ADD, ADD, BARRIER
	first, _ := tb.alloc(a, 4, routes("dkkd"))
	tb.barrier(tb.lookup(first + 3))
	if tb.lookup(first) != nil {
		t.Error("OPEN still open after the barrier")
	}
	if tb.lookup(first+1) == nil || tb.lookup(first+2) == nil {
		t.Fatal("bundle adds finished by a barrier before COMMIT")
	}
	// COMMIT, BARRIER
	c, _ := tb.alloc(a, 2, routes("rd"))
	if tb.lookup(first+2) == nil {
		t.Fatal("a commit-time error for the second add would find no holder")
	}
	tb.barrier(tb.lookup(c + 1))
	if n := tb.inFlight(a); n != 0 {
		t.Fatalf("%d transactions open after the barrier that follows COMMIT", n)
	}
}

// A Send whose Routing does not cover its messages is refused.
func TestAllocRoutingLength(t *testing.T) {
	tb := newTable()
	if _, err := tb.alloc(pid("a"), 3, routes("dk")); err == nil {
		t.Fatal("routing for 2 of 3 messages accepted")
	}
	if len(tb.routes) != 0 {
		t.Fatal("a refused alloc opened transactions")
	}
}

// Many windows: each barrier keeps its window's adds and looks at its own
// window alone; an add refused on the way (completed) drops out; a window
// sent after the COMMIT stays open until its own barrier.
func TestBarrierKeepsAddsAcrossWindows(t *testing.T) {
	tb := newTable()
	a := pid("a")
	var adds []uint32
	window := routes(repeat('k', 100) + "d") // 100 ADD_MESSAGEs and a BARRIER
	for w := range 5 {
		first, _ := tb.alloc(a, 101, window)
		for i := range uint32(100) {
			adds = append(adds, first+i)
		}
		if w == 2 {
			tb.complete(tb.lookup(adds[7])) // refused: its error came
		}
		tb.barrier(tb.lookup(first + 100))
		if got, want := tb.inFlight(a), len(adds)-1; w >= 2 && got != want || w < 2 && got != len(adds) {
			t.Fatalf("window %d: %d open, want %d", w, got, len(adds))
		}
		if len(tb.holders[pidKey(a)].open) != 0 {
			t.Fatalf("window %d: the barrier left %d default transactions", w, len(tb.holders[pidKey(a)].open))
		}
	}
	for _, x := range adds {
		if x != adds[7] && tb.lookup(x) == nil {
			t.Fatalf("add %d finished before COMMIT", x)
		}
	}
	// COMMIT, then one more window (the next round's), then BARRIER.
	tb.alloc(a, 1, routes("r"))
	next, _ := tb.alloc(a, 3, routes("kkd"))
	tb.barrier(tb.lookup(next + 2))
	for _, x := range adds {
		if tb.lookup(x) != nil {
			t.Fatalf("add %d still open after the barrier that follows COMMIT", x)
		}
	}
	if tb.lookup(next) == nil || tb.lookup(next+1) == nil || tb.inFlight(a) != 2 {
		t.Fatalf("the adds after the COMMIT: %d open, want 2", tb.inFlight(a))
	}
	// Disconnected: the open ones fail in the order they were sent.
	f := tb.drain()
	if len(f) != 1 || len(f[0].xids) != 2 || f[0].xids[0] != next || f[0].xids[1] != next+1 {
		t.Fatalf("drain %+v", f)
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// OVS answers a COMMIT with a COMMIT_REPLY (a final reply) before it
// answers the barrier after it: the barrier still releases the adds sent
// before the COMMIT, and the holder keeps none of them.
func TestBarrierReleasesAfterCommitReply(t *testing.T) {
	tb := newTable()
	a := pid("a")
	first, _ := tb.alloc(a, 4, routes("dkkd")) // OPEN, ADD, ADD, BARRIER
	tb.barrier(tb.lookup(first + 3))
	c, _ := tb.alloc(a, 2, routes("rd")) // COMMIT, BARRIER
	next, _ := tb.alloc(a, 2, routes("kd"))
	tb.complete(tb.lookup(c)) // the COMMIT_REPLY
	if tb.lookup(first+1) == nil {
		t.Fatal("the COMMIT_REPLY released the adds before the barrier after it")
	}
	tb.barrier(tb.lookup(c + 1))
	if tb.lookup(first+1) != nil || tb.lookup(first+2) != nil {
		t.Fatal("the adds before the COMMIT are still routed after the barrier that follows it")
	}
	if tb.lookup(next) == nil {
		t.Fatal("an add sent after the COMMIT was released")
	}
	tb.barrier(tb.lookup(next + 1))
	if tb.lookup(next) == nil {
		t.Fatal("an add of the next bundle was released by a barrier with no release before it")
	}
	if n := len(tb.routes); n != 1 {
		t.Fatalf("%d routes open, want the next bundle's add", n)
	}
}

// A bundle OPEN is routed until the COMMIT's barrier, past its own
// OPEN_REPLY: OVS reports a bundle it expired (OFPBFC_TIMEOUT) with the
// OPEN's xid, long after the reply.
func TestOpenRoutedPastItsReply(t *testing.T) {
	tb := newTable()
	a := pid("a")
	open, _ := tb.alloc(a, 3, routes("kkd")) // OPEN, ADD, BARRIER
	tb.final(tb.lookup(open))                // the OPEN_REPLY
	tb.barrier(tb.lookup(open + 2))
	if tb.lookup(open) == nil {
		t.Fatal("the OPEN's route ended before the COMMIT")
	}
	c, _ := tb.alloc(a, 2, routes("rd"))
	tb.final(tb.lookup(c)) // the COMMIT_REPLY
	tb.barrier(tb.lookup(c + 1))
	if tb.lookup(open) != nil || len(tb.routes) != 0 {
		t.Fatalf("%d routes left after the barrier that follows the COMMIT", len(tb.routes))
	}
	d, _ := tb.alloc(a, 1, nil)
	tb.final(tb.lookup(d))
	if tb.lookup(d) != nil {
		t.Fatal("a default transaction outlived its final reply")
	}
}
