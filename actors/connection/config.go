// Package connection is the actor that owns the OpenFlow socket of one
// bridge: it dials the target, exchanges HELLO, answers echo requests,
// probes a silent peer, allocates xids and routes every reply to the actor
// whose transaction it answers, publishes unsolicited messages, and
// reconnects with an exponential backoff when the connection is lost (the
// rconn and ofctrl_run parts of OVN's controller/ofctrl.c).
//
// The actor never touches the socket in Receive: a reader goroutine decodes
// frames and answers echo requests itself, a writer goroutine drains a
// bounded queue with a priority lane, and dialling happens in a goroutine
// whose result is a self-message.
package connection

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/openflow"
)

// Defaults of Config's zero fields.
const (
	DefaultStableAfter      = 10 * time.Second
	DefaultMaxQueue         = 1 << 17 // frames: a full OVN table of ~100k flows in one Send fits
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultBackoffInitial   = 100 * time.Millisecond
	DefaultBackoffMax       = 8 * time.Second
)

// Config configures one connection actor.
type Config struct {
	// Target is where the switch listens: "unix:PATH", "tcp:HOST[:PORT]" or
	// "ssl:HOST[:PORT]" (port 6653 when omitted). DefaultTarget gives OVN's
	// br-int.mgmt.
	Target string
	// TLS configures ssl: targets (our certificate, the CA the switch's
	// must chain to); an ssl: target without it never connects. It is not
	// used for unix: and tcp: targets.
	TLS *tls.Config
	// Versions are the OpenFlow versions to offer in HELLO; the highest
	// the switch has too is used. Default openflow.DefaultVersions() (1.3,
	// 1.4 and 1.5).
	Versions []uint8
	// Probe is the inactivity probe interval: after Probe with nothing
	// received an echo request is sent, after another Probe the connection
	// is dropped. 0 disables the probe (OVN's default).
	Probe time.Duration
	// StableAfter is how long a connection must last before the reconnect
	// backoff is reset; default 10s.
	StableAfter time.Duration
	// Backoff makes the reconnect backoff; default exponential from 100ms to
	// 8s with no elapsed-time limit. A backoff that returns backoff.Stop ends
	// reconnecting.
	Backoff func() backoff.BackOff
	// Logger is the actor's logger; default a no-op logger.
	Logger *zap.Logger
	// Subscribers receive Connected, Disconnected and Unsolicited from the
	// start (the bridge supervisor passes the negotiator and reconciler).
	Subscribers []*actor.PID
	// MaxQueue bounds the frames waiting to be written; a Send that would
	// exceed it fails with SendFailed. Default DefaultMaxQueue.
	MaxQueue int
	// HandshakeTimeout bounds the wait for the peer's HELLO; default 10s.
	HandshakeTimeout time.Duration
	// Dial, when set, replaces dialling Target (tests, or a caller that
	// brings its own transport).
	Dial func(ctx context.Context, target string) (net.Conn, error)
	// Paused makes the first incarnation wait for a Start message before it
	// dials (a restarted one dials at once). A supervisor that spawns
	// siblings with precomputed PIDs uses it so that no message reaches a
	// sibling still being spawned: protoactor publishes a PID before its
	// mailbox is ready, and a message posted then races with the spawn.
	Paused bool
}

// Start lets a Paused connection actor dial.
type Start struct{}

// Close ends the connection for good, as a stop does, but with the actor
// still running: the socket is closed, holders and subscribers are told
// (TransactionsFailed, Disconnected) while they still listen, and nothing
// is dialled again. Answered with Closed. A graceful stop of a bridge
// closes its connection first, then stops the actors.
type Close struct{}

// Closed answers Close.
type Closed struct{}

// DefaultTarget is where ovs-vswitchd listens for the bridge's management
// connection, as OVN uses it: unix:$OVS_RUNDIR/<bridge>.mgmt, the run
// directory defaulting to /var/run/openvswitch.
func DefaultTarget(bridge string) string {
	dir := os.Getenv("OVS_RUNDIR")
	if dir == "" {
		dir = "/var/run/openvswitch"
	}
	return "unix:" + filepath.Join(dir, bridge+".mgmt")
}

// ParseTarget splits an OVS-style active target into a net.Dial network and
// address. An ssl: target is "tcp" too: the TLS session runs over it.
func ParseTarget(target string) (network, address string, err error) {
	kind, rest, ok := strings.Cut(target, ":")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("target %q: want unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]", target)
	}
	switch kind {
	case "unix":
		return "unix", rest, nil
	case "tcp", "ssl":
		if _, _, err := net.SplitHostPort(rest); err != nil {
			rest = net.JoinHostPort(strings.Trim(rest, "[]"), "6653")
		}
		return "tcp", rest, nil
	}
	return "", "", fmt.Errorf("target %q: unknown kind %q", target, kind)
}

// shared is what outlives one actor incarnation: a restart makes a new actor
// from the Props producer, which hands it the same *shared.
type shared struct {
	cfg     Config
	offered uint32 // version bitmap we send
	max     uint8  // highest offered version
	seq     atomic.Uint64

	released atomic.Bool // not Paused, or Start received
	closed   atomic.Bool // Close received: never dial again

	failures atomic.Int64 // failed attempts to connect since the last connection

	mu   sync.Mutex
	subs []*actor.PID // dynamic subscribers (Subscribe), in order
	bo   backoff.BackOff
}

func (s *shared) subscribers() []*actor.PID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]*actor.PID(nil), s.cfg.Subscribers...)
	return append(out, s.subs...)
}

func (s *shared) subscribe(pid *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range append(s.cfg.Subscribers, s.subs...) {
		if p.Equal(pid) {
			return
		}
	}
	s.subs = append(s.subs, pid)
}

func (s *shared) unsubscribe(pid *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.subs {
		if p.Equal(pid) {
			s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
			return
		}
	}
}

func newBackoff() backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = DefaultBackoffInitial
	// The jitter (±RandomizationFactor) applies after the cap: cap lower so
	// that no delay exceeds DefaultBackoffMax.
	b.MaxInterval = time.Duration(float64(DefaultBackoffMax) / (1 + b.RandomizationFactor))
	b.MaxElapsedTime = 0
	b.Reset()
	return b
}

// Props returns the Props of a connection actor. Every incarnation the
// Props make (the first and each restart) shares the connection Seq
// counter, the subscribers and the backoff, so Seq keeps growing across
// restarts.
func Props(cfg Config) *actor.Props {
	if len(cfg.Versions) == 0 {
		cfg.Versions = openflow.DefaultVersions()
	}
	if cfg.StableAfter <= 0 {
		cfg.StableAfter = DefaultStableAfter
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.Backoff == nil {
		cfg.Backoff = newBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	cfg.Subscribers = append([]*actor.PID(nil), cfg.Subscribers...)
	sh := &shared{cfg: cfg, bo: cfg.Backoff()}
	sh.released.Store(!cfg.Paused)
	for _, v := range cfg.Versions {
		if v < 32 {
			sh.offered |= 1 << v
		}
		if v > sh.max {
			sh.max = v
		}
	}
	return actor.PropsFromProducer(func() actor.Actor { return newConnActor(sh) })
}
