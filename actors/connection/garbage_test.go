package connection

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap/zaptest"

	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// A switch that answers with truncated, mis-versioned and random frames, a
// bad HELLO or silence: every connection is dropped with an error naming the
// problem and made again (the largest legal frame, an oversized reply to no
// transaction, is dropped by itself and the connection lives on until the
// switch closes it), nothing panics, and the goroutines of dead connections
// are gone.
func TestGarbageFromSwitch(t *testing.T) {
	const rounds = 3
	sw, err := fakeswitch.Start(fakeswitch.GarbageScript(openflow.Version13, 500*time.Millisecond, fakeswitch.Kinds...))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()

	base := runtime.NumGoroutine()
	sys := actor.NewActorSystem()
	var mu sync.Mutex
	var errs []string
	sub := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*messages.Disconnected); ok {
			mu.Lock()
			errs = append(errs, m.Err)
			mu.Unlock()
		}
	}))
	pid := sys.Root.Spawn(Props(Config{
		Target:           sw.Target(),
		HandshakeTimeout: 300 * time.Millisecond,
		Probe:            200 * time.Millisecond, // a truncated frame then silence
		Subscribers:      []*actor.PID{sub},
		Backoff:          func() backoff.BackOff { return backoff.NewConstantBackOff(5 * time.Millisecond) },
	}))
	want := rounds * len(fakeswitch.Kinds)
	var mid int
	var midHeap uint64
	deadline := time.Now().Add(60 * time.Second)
	for len(sw.Accepted()) < want+1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections after 60s, want %d", len(sw.Accepted()), want+1)
		}
		if mid == 0 && len(sw.Accepted()) > len(fakeswitch.Kinds) {
			mid, midHeap = runtime.NumGoroutine(), heapInUse()
		}
		time.Sleep(10 * time.Millisecond)
	}
	end, endHeap := runtime.NumGoroutine(), heapInUse()
	if endHeap > midHeap+16<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d broken connections", midHeap, endHeap, want-len(fakeswitch.Kinds))
	}
	acc := sw.Accepted()
	for i := 1; i < len(acc); i++ {
		t.Logf("connection %d (%s): %v", i-1, fakeswitch.Kinds[(i-1)%len(fakeswitch.Kinds)], acc[i].Sub(acc[i-1]).Round(time.Millisecond))
	}
	// Two rounds of garbage later, the goroutine count has not grown by
	// more than one connection's worth.
	if end > mid+10 {
		t.Errorf("goroutines grew from %d to %d over %d broken connections", mid, end, want-len(fakeswitch.Kinds))
	}
	sys.Root.PoisonFuture(pid).Wait()
	mu.Lock()
	got := append([]string(nil), errs...)
	mu.Unlock()
	// Every kind after a good HELLO is a Disconnected naming the problem.
	for _, frag := range []string{"version 0x5", "EOF"} {
		found := false
		for _, e := range got {
			found = found || strings.Contains(e, frag)
		}
		if !found {
			t.Errorf("no Disconnected error mentions %q; got %q", frag, got)
		}
	}
	for _, e := range sw.Errors() {
		t.Errorf("fake switch: %v", e)
	}
	sys.Shutdown()
	sw.Close()
	waitGoroutines(t, base+8)
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The default reconnect backoff starts near DefaultBackoffInitial, grows,
// and never waits longer than DefaultBackoffMax, jitter included.
func TestDefaultBackoffBounds(t *testing.T) {
	b := newBackoff()
	if d := b.NextBackOff(); d > 2*DefaultBackoffInitial {
		t.Errorf("first delay %v, want about %v", d, DefaultBackoffInitial)
	}
	var most time.Duration
	for range 200 {
		d := b.NextBackOff()
		if d == backoff.Stop || d > DefaultBackoffMax {
			t.Fatalf("delay %v, want at most %v and never Stop", d, DefaultBackoffMax)
		}
		most = max(most, d)
	}
	if most < DefaultBackoffMax/2 {
		t.Errorf("longest delay %v: the backoff does not grow toward %v", most, DefaultBackoffMax)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// A Paused connection actor does not dial until it gets Start.
func TestPausedUntilStart(t *testing.T) {
	sw, err := fakeswitch.Start(func(c *fakeswitch.Conn, n int) error {
		if err := c.Handshake(openflow.Version13); err != nil {
			return err
		}
		c.Drain(2 * time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	pid := sys.Root.Spawn(Props(Config{Target: sw.Target(), Paused: true, Logger: zaptest.NewLogger(t)}))
	defer func() { sys.Root.PoisonFuture(pid).Wait() }()
	time.Sleep(200 * time.Millisecond)
	if n := len(sw.Accepted()); n != 0 {
		t.Fatalf("%d connections before Start", n)
	}
	sys.Root.Send(pid, &Start{})
	deadline := time.Now().Add(5 * time.Second)
	for len(sw.Accepted()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no connection 5s after Start")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
