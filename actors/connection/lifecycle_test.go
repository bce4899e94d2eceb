package connection

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// On disconnect every pending transaction is failed to its holder, then
// subscribers learn Disconnected, then the actor reconnects with a higher
// Seq.
func TestDisconnectFailsPendingThenReconnects(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, sink, _ := start(t, sys, Config{Target: sw.target(), Backoff: constBackoff(30 * time.Millisecond)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 1 {
		t.Fatalf("Connected %+v", got)
	}
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: []openflow.Message{bulk(8), bulk(8), barrier()}, ReplyTo: sink.pid})
	sent := expect[*messages.Sent](t, sink)
	for i := 0; i < 3; i++ {
		c.read()
	}
	c.nc.Close()

	f := expect[*messages.TransactionsFailed](t, sink)
	if f.Seq != 1 || fmt.Sprint(f.XIDs) != fmt.Sprint([]uint32{sent.XID(0), sent.XID(1), sent.XID(2)}) || f.Err == "" {
		t.Errorf("TransactionsFailed %+v after %+v", f, sent)
	}
	if d := expect[*messages.Disconnected](t, sink); d.Seq != 1 || d.Err == "" {
		t.Errorf("Disconnected %+v", d)
	}
	sys.Root.Send(pid, &messages.Send{Ref: 2, Msgs: []openflow.Message{barrier()}, ReplyTo: sink.pid})
	if sf := expect[*messages.SendFailed](t, sink); sf.Ref != 2 || !strings.Contains(sf.Err, "not connected") {
		t.Errorf("SendFailed %+v", sf)
	}
	c2 := sw.accept()
	c2.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 2 {
		t.Errorf("Connected %+v, want seq 2", got)
	}
	// A Send naming the old connection is refused.
	sys.Root.Send(pid, &messages.Send{Ref: 3, Seq: 1, Msgs: []openflow.Message{barrier()}, ReplyTo: sink.pid})
	if sf := expect[*messages.SendFailed](t, sink); sf.Ref != 3 {
		t.Errorf("SendFailed %+v", sf)
	}
}

// recBackoff records what the actor asks of its backoff.
type recBackoff struct {
	b  *backoff.ExponentialBackOff
	ev chan string
}

func (r *recBackoff) NextBackOff() time.Duration {
	d := r.b.NextBackOff()
	r.ev <- d.String()
	return d
}

func (r *recBackoff) Reset() {
	r.b.Reset()
	r.ev <- "reset"
}

func (r *recBackoff) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-r.ev:
		return e
	case <-time.After(wait):
		t.Fatal("backoff: not used")
		return ""
	}
}

// Reconnect delays grow up to the maximum while the switch is away, do not
// reset after a short connection, and reset after a stable one.
func TestBackoffGrowsAndResets(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitchAt(t, false)
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval, eb.MaxInterval, eb.Multiplier = 10*time.Millisecond, 80*time.Millisecond, 2
	eb.RandomizationFactor, eb.MaxElapsedTime = 0, 0
	eb.Reset()
	rb := &recBackoff{b: eb, ev: make(chan string, 1000)}
	_, sink, _ := start(t, sys, Config{Target: sw.target(), StableAfter: 300 * time.Millisecond,
		Backoff: func() backoff.BackOff { return rb }})

	for i, want := range []string{"10ms", "20ms", "40ms", "80ms", "80ms"} {
		if got := rb.next(t); got != want {
			t.Fatalf("delay %d: %s, want %s", i, got, want)
		}
	}
	sw.listen()
	c := sw.accept()
	c.handshake(openflow.Version13)
	// Each failed dial was published, counted, before the connection.
	for n := 1; ; n++ {
		m := sink.next(t)
		if _, ok := m.(*messages.Connected); ok {
			if n < 6 {
				t.Fatalf("%d failed dials published, want at least 5", n-1)
			}
			break
		}
		if f, ok := m.(*messages.ConnectFailed); !ok || f.Attempt != n || !strings.HasSuffix(f.Err, "(No such file or directory)") {
			t.Fatalf("got %T %+v, want ConnectFailed attempt %d", m, m, n)
		}
	}
	for len(rb.ev) > 0 { // failed dials before the listener was up
		if e := <-rb.ev; e != "80ms" {
			t.Fatalf("delay %s while the switch was away", e)
		}
	}
	c.nc.Close() // before StableAfter: no reset
	expect[*messages.Disconnected](t, sink)
	if got := rb.next(t); got != "80ms" {
		t.Fatalf("delay after a short connection %s, want 80ms", got)
	}
	c = sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
	if got := rb.next(t); got != "reset" {
		t.Fatalf("after a stable connection: %s, want reset", got)
	}
	c.nc.Close()
	expect[*messages.Disconnected](t, sink)
	if got := rb.next(t); got != "10ms" {
		t.Fatalf("delay after reset %s, want 10ms", got)
	}
}

// The inactivity probe sends an echo request after Probe of silence and
// drops a peer that stays silent for another Probe; a peer that answers
// stays connected.
func TestProbeDetectsSilentPeer(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Probe: 100 * time.Millisecond,
		Backoff: constBackoff(10 * time.Millisecond)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
	// An answering peer: three probes answered, no disconnect.
	for i := 0; i < 3; i++ {
		req, ok := c.read().(*openflow.EchoRequest)
		if !ok {
			t.Fatal("want an echo request")
		}
		c.write(openflow.NewEchoReply(req))
	}
	if _, ok := c.read().(*openflow.EchoRequest); !ok {
		t.Fatal("want an echo request")
	}
	// Now silent.
	if b := c.readFrame(); b != nil {
		t.Fatalf("silent peer got %x, want the connection closed", b)
	}
	if d := expect[*messages.Disconnected](t, sink); !strings.Contains(d.Err, "inactivity probe") {
		t.Errorf("Disconnected %+v", d)
	}
	c = sw.accept()
	c.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 2 {
		t.Errorf("Connected %+v", got)
	}
}

type panicNow struct{}

// A panic in Receive restarts the actor (same PID): the old connection is
// closed and its transactions failed, and the new incarnation reconnects
// with a higher Seq.
func TestPanicRestartsAndReconnects(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	inject := actor.WithReceiverMiddleware(func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			if _, ok := env.Message.(*panicNow); ok {
				panic("injected")
			}
			next(c, env)
		}
	})
	pid, sink, _ := start(t, sys, Config{Target: sw.target()}, inject)
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
	sys.Root.Send(pid, &messages.Send{Msgs: []openflow.Message{barrier()}, ReplyTo: sink.pid})
	sent := expect[*messages.Sent](t, sink)
	c.read()

	sys.Root.Send(pid, &panicNow{})
	if f := expect[*messages.TransactionsFailed](t, sink); len(f.XIDs) != 1 || f.XIDs[0] != sent.FirstXID {
		t.Errorf("TransactionsFailed %+v", f)
	}
	if d := expect[*messages.Disconnected](t, sink); d.Seq != 1 {
		t.Errorf("Disconnected %+v", d)
	}
	if b := c.readFrame(); b != nil {
		t.Errorf("old connection still open: %x", b)
	}
	c2 := sw.accept()
	c2.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 2 {
		t.Errorf("Connected %+v, want seq 2", got)
	}
	sys.Root.Send(pid, &messages.Send{Msgs: []openflow.Message{barrier()}, ReplyTo: sink.pid})
	if s := expect[*messages.Sent](t, sink); s.Seq != 2 {
		t.Errorf("Sent %+v", s)
	}
}

// Stopping the actor, connected or while it waits to reconnect, leaves no
// goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	for _, connected := range []bool{true, false} {
		t.Run(fmt.Sprint("connected=", connected), func(t *testing.T) {
			sys := newSystem()
			sw := newFakeSwitchAt(t, connected)
			s := newSink(t, sys)
			base := runtime.NumGoroutine()
			cfg := Config{Target: sw.target(), Subscribers: []*actor.PID{s.pid},
				Probe: time.Second, Backoff: constBackoff(5 * time.Millisecond)}
			pid := sys.Root.Spawn(Props(cfg))
			if connected {
				c := sw.accept()
				c.handshake(openflow.Version13)
				expect[*messages.Connected](t, s)
				msgs := make([]openflow.Message, 3000)
				for i := range msgs {
					msgs[i] = bulk(500) // more than the socket buffers: the writer blocks
				}
				sys.Root.Send(pid, &messages.Send{Msgs: msgs, ReplyTo: s.pid})
				expect[*messages.Sent](t, s)
			} else {
				time.Sleep(50 * time.Millisecond) // some dial attempts and backoffs
			}
			if err := sys.Root.StopFuture(pid).Wait(); err != nil {
				t.Fatal(err)
			}
			sys.Shutdown()
			deadline := time.Now().Add(wait)
			for runtime.NumGoroutine() > base {
				if time.Now().After(deadline) {
					var buf bytes.Buffer
					pprof.Lookup("goroutine").WriteTo(&buf, 1)
					t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// A frame whose header is impossible ends the connection: the stream
// cannot be resynchronised.
func TestBadFrameDisconnects(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Backoff: constBackoff(10 * time.Millisecond)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
	c.nc.Write([]byte{4, 10, 0, 4, 0, 0, 0, 1}) // length 4 < 8
	if d := expect[*messages.Disconnected](t, sink); !strings.Contains(d.Err, "shorter than the header") {
		t.Errorf("Disconnected %+v", d)
	}
	c = sw.accept()
	c.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 2 {
		t.Errorf("Connected %+v", got)
	}
}
