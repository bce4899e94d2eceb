package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
)

// panicker is a receiver middleware that panics once in the actor whose
// name ends in /<name>, on the first message armed for it.
type panicker struct {
	mu    sync.Mutex
	armed map[string]func(msg any) bool // actor name -> which message panics
	fired map[string]int
}

func newPanicker() *panicker {
	return &panicker{armed: map[string]func(any) bool{}, fired: map[string]int{}}
}

func (p *panicker) arm(name string, when func(msg any) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed[name] = when
}

func (p *panicker) count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired[name]
}

func (p *panicker) middleware(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		id := c.Self().Id
		name := id[strings.LastIndex(id, "/")+1:]
		p.mu.Lock()
		when := p.armed[name]
		hit := when != nil && when(env.Message)
		if hit {
			delete(p.armed, name)
			p.fired[name]++
		}
		p.mu.Unlock()
		if hit {
			panic(fmt.Sprintf("injected panic in %s on %T", name, env.Message))
		}
		next(c, env)
	}
}

// A panic in each of the bridge's three actors, one at a time, while a new
// desired state is being installed: the supervisor restarts the actor, and
// the switch ends up holding exactly the desired state each time.
func TestFaultPanicEachActor(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	all := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))
	p := newPanicker()
	obs, logs := observer.New(zap.DebugLevel)
	logger := zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), obs)).Named("ofactor")
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{
		Target:             sw.Target(),
		ReceiverMiddleware: []actor.ReceiverMiddleware{p.middleware},
		Logger:             logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { sys.Root.PoisonFuture(b.PID).Wait() }()

	step := func(n int) []string {
		want := all[:len(all)-10*n]
		path := filepath.Join(dir, "flows.txt")
		if err := os.WriteFile(path, []byte(strings.Join(want, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		put, err := desired.Load(desired.Files{Flows: path,
			Groups: corpus(t, "ovn-sample", "groups.txt"), Meters: corpus(t, "ovn-sample", "meters.txt")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sys.Root.RequestFuture(b.PID, put, 10*time.Second).Result(); err != nil {
			t.Fatalf("PutDesired: %v", err)
		}
		return want
	}
	waitFlows(t, sw, step(0), 30*time.Second)

	isReply := func(m any) bool { _, ok := m.(*messages.Reply); return ok }
	isSend := func(m any) bool { _, ok := m.(*messages.Send); return ok }
	cases := []struct {
		actor string
		when  func(any) bool
	}{
		{"reconciler", isReply}, // in the middle of a round
		{"connection", isSend},  // the round's flow_mods are lost with the socket
		{"negotiator", isReply}, // the TLV table reply after the reconnect
	}
	for i, c := range cases {
		p.arm(c.actor, c.when)
		if c.actor == "negotiator" {
			// The negotiator speaks only after a (re)connect: make one.
			p.arm("connection", isSend)
		}
		want := step(i + 1)
		waitFlows(t, sw, want, 30*time.Second)
		if n := p.count(c.actor); n != 1 {
			t.Errorf("%s: the injected panic fired %d times, want 1", c.actor, n)
		}
		checkGroupsMeters(t, sw)
	}
	// The reconciler died with a bundle open on a connection that lived on:
	// its successor's bundle must not collide with it.
	for _, e := range logs.All() {
		if line := fmt.Sprint(e.Message, e.ContextMap()); strings.Contains(line, "BAD_ID") {
			t.Errorf("bundle id collision: %s", line)
		}
	}
}

// waitFlows waits until the switch's flow table is exactly want.
func waitFlows(t *testing.T, sw *ovstest.Switch, want []string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < within {
		var err error
		got, err = sw.DumpFlows()
		if err == nil {
			if missing, extra := diffLines(want, got); len(missing)+len(extra) == 0 {
				return time.Since(start)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkSame(t, fmt.Sprintf("flows after %v", within), want, got)
	t.FailNow()
	return 0
}

// checkGroupsMeters compares the groups and meters with ovn-sample's.
func checkGroupsMeters(t *testing.T, sw *ovstest.Switch) {
	t.Helper()
	groups, err := sw.DumpGroups()
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "groups", ovstest.ReadLines(t, corpus(t, "ovn-sample", "groups.txt")), groups)
	meters, err := sw.DumpMeters()
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "meters", ovstest.ReadLines(t, corpus(t, "ovn-sample", "meters.txt")), meters)
}
