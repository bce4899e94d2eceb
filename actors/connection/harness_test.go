package connection

import (
	"bufio"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ofactor/ofactor/openflow"
)

const wait = 5 * time.Second

// fakeSwitch is a scripted OpenFlow switch listening on a unix socket in a
// short temporary directory, speaking through the real codec.
type fakeSwitch struct {
	t     testing.TB
	path  string
	ln    net.Listener
	conns chan *swConn
}

func newFakeSwitch(t testing.TB) *fakeSwitch { return newFakeSwitchAt(t, true) }

// newFakeSwitchAt makes a fake switch that listens now or, when listen is
// false, only once told to.
func newFakeSwitchAt(t testing.TB, listen bool) *fakeSwitch {
	t.Helper()
	dir, err := os.MkdirTemp("", "ofc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &fakeSwitch{t: t, path: filepath.Join(dir, "s.sock"), conns: make(chan *swConn, 16)}
	if listen {
		s.listen()
	}
	t.Cleanup(s.close)
	return s
}

func (s *fakeSwitch) target() string { return "unix:" + s.path }

func (s *fakeSwitch) listen() {
	ln, err := net.Listen("unix", s.path)
	if err != nil {
		s.t.Fatal(err)
	}
	s.ln = ln
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- &swConn{t: s.t, nc: nc, br: bufio.NewReader(nc)}
		}
	}()
}

func (s *fakeSwitch) close() {
	if s.ln != nil {
		s.ln.Close()
	}
	for {
		select {
		case c := <-s.conns:
			c.nc.Close()
		default:
			return
		}
	}
}

// accept waits for the connection actor to connect.
func (s *fakeSwitch) accept() *swConn {
	s.t.Helper()
	select {
	case c := <-s.conns:
		s.t.Cleanup(func() { c.nc.Close() })
		return c
	case <-time.After(wait):
		s.t.Fatal("fake switch: no connection")
		return nil
	}
}

type swConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// readFrame returns the next frame, or nil on EOF/error.
func (c *swConn) readFrame() []byte {
	c.nc.SetReadDeadline(time.Now().Add(wait))
	b, err := openflow.ReadMessage(c.br, nil)
	if err != nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (c *swConn) read() openflow.Message {
	c.t.Helper()
	b := c.readFrame()
	if b == nil {
		c.t.Fatal("fake switch: connection closed")
	}
	m, err := openflow.Decode(b)
	if err != nil {
		c.t.Fatalf("fake switch: decode: %v", err)
	}
	return m
}

func (c *swConn) write(m openflow.Message) {
	c.t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("fake switch: write: %v", err)
	}
}

// handshake reads the actor's HELLO and answers with one for versions.
func (c *swConn) handshake(versions ...uint8) *openflow.Hello {
	c.t.Helper()
	h, ok := c.read().(*openflow.Hello)
	if !ok {
		c.t.Fatal("fake switch: first message is not HELLO")
	}
	c.write(openflow.NewHello(versions...))
	return h
}

// sink is a test actor that puts every message it gets on a channel.
type sink struct {
	pid *actor.PID
	ch  chan any
}

func newSink(t testing.TB, sys *actor.ActorSystem) *sink {
	s := &sink{ch: make(chan any, 20000)}
	s.pid = sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting:
		default:
			s.ch <- ctx.Message()
		}
	}))
	t.Cleanup(func() { sys.Root.StopFuture(s.pid).Wait() })
	return s
}

func (s *sink) next(t testing.TB) any {
	t.Helper()
	select {
	case m := <-s.ch:
		return m
	case <-time.After(wait):
		t.Fatal("sink: nothing received")
		return nil
	}
}

// expect returns the next message, failing unless it is a T.
func expect[T any](t testing.TB, s *sink) T {
	t.Helper()
	m := s.next(t)
	v, ok := m.(T)
	if !ok {
		var want T
		t.Fatalf("sink: got %T %+v, want %T", m, m, want)
	}
	return v
}

func (s *sink) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-s.ch:
		t.Fatalf("sink: unexpected %T %+v", m, m)
	case <-time.After(d):
	}
}

func newSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
}

// start spawns a connection actor for cfg, with a sink subscribed from the
// start, and stops it at the end of the test.
func start(t testing.TB, sys *actor.ActorSystem, cfg Config, opts ...actor.PropsOption) (*actor.PID, *sink, *observer.ObservedLogs) {
	t.Helper()
	s := newSink(t, sys)
	core, logs := observer.New(zap.DebugLevel)
	cfg.Logger = zap.New(core)
	cfg.Subscribers = append(cfg.Subscribers, s.pid)
	pid := sys.Root.Spawn(Props(cfg).Clone(opts...))
	t.Cleanup(func() { sys.Root.StopFuture(pid).Wait() })
	return pid, s, logs
}

// constBackoff retries after d, always.
func constBackoff(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

func zapString(k, v string) zap.Field { return zap.String(k, v) }

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
}
