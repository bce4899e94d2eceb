package tests

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
)

// watched is a bridge keeping files installed on a real switch, with every
// event it publishes recorded.
type watched struct {
	t      *testing.T
	sw     *ovstest.Switch
	bridge *ofactor.Bridge
	files  desired.Files

	// the switch's tables once the files were installed
	wantFlows, wantGroups, wantMeters []string

	mu     sync.Mutex
	events []any
}

// watch spawns a bridge on sw with the files' desired state and waits
// until the switch holds it.
func watch(t *testing.T, sw *ovstest.Switch, files desired.Files, audit time.Duration, opts ...func(*ofactor.Config)) *watched {
	t.Helper()
	w := &watched{t: t, sw: sw, files: files}
	sys := actor.NewActorSystem()
	t.Cleanup(sys.Shutdown)
	sink := sys.Root.Spawn(ofactor.EventFunc(func(ev any) {
		w.mu.Lock()
		w.events = append(w.events, ev)
		w.mu.Unlock()
	}))
	put, err := desired.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ofactor.Config{Target: sw.Target(), Subscribers: []*actor.PID{sink}, AuditInterval: audit}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := ofactor.Spawn(sys.Root, cfg)
	if err != nil {
		t.Fatal(err)
	}
	w.bridge = b
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := b.Put(ctx, put)
	if err == nil {
		err = b.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	w.waitSynced("installed")
	w.wantFlows, w.wantGroups, w.wantMeters = w.tables()
	if st, _ := b.Status(ctx); st != nil {
		t.Logf("installed: monitor %s", st.Monitor)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Stop(ctx)
	})
	return w
}

// ofctl runs ovs-ofctl against the switch, failing the test on an error.
func (w *watched) ofctl(args ...string) {
	w.t.Helper()
	if out, err := w.sw.Ofctl(args...); err != nil {
		w.t.Fatalf("ovs-ofctl %v: %v\n%s", args, err, out)
	}
}

// tables returns what the switch holds, sorted.
func (w *watched) tables() (flows, groups, meters []string) {
	flows, _ = w.sw.DumpFlows()
	groups, _ = w.sw.DumpGroups()
	meters, _ = w.sw.DumpMeters()
	for _, l := range [][]string{flows, groups, meters} {
		slices.Sort(l)
	}
	return flows, groups, meters
}

// holds reports whether the switch holds what it held once the files were
// installed.
func (w *watched) holds() (bool, string) {
	flows, groups, meters := w.tables()
	switch {
	case !slices.Equal(flows, w.wantFlows):
		return false, fmt.Sprintf("%d flows, want %d", len(flows), len(w.wantFlows))
	case !slices.Equal(groups, w.wantGroups):
		return false, fmt.Sprintf("%d groups, want %d", len(groups), len(w.wantGroups))
	case !slices.Equal(meters, w.wantMeters):
		return false, fmt.Sprintf("%d meters, want %d", len(meters), len(w.wantMeters))
	}
	return true, ""
}

// waitHeld waits until the switch holds the files again, and the bridge
// says so (InSync, Status.InSync).
func (w *watched) waitHeld(what string) time.Duration {
	w.t.Helper()
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for {
		ok, why := w.holds()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: the switch does not hold the files again: %s", what, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	w.waitSynced(what)
	return took
}

// waitSynced waits until the bridge's status says in sync.
func (w *watched) waitSynced(what string) {
	w.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := w.bridge.Status(ctx)
		cancel()
		if err == nil && st.InSync {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s: status never in sync: %+v %v", what, st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seen returns the events of type T recorded so far.
func seen[T any](w *watched) []T {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []T
	for _, ev := range w.events {
		if e, ok := ev.(T); ok {
			out = append(out, e)
		}
	}
	return out
}

// Out-of-band changes are healed at once, by the flow monitor: a table's
// flows deleted, a flow modified, an extra flow added, every flow deleted;
// each is reported (Drift) and answered by an InSync with cause heal.
func TestDriftHealed(t *testing.T) {
	sw := ovstest.Start(t)
	w := watch(t, sw, desired.Files{Flows: corpus(t, "ovn-sample", "flows.txt"),
		Groups: corpus(t, "ovn-sample", "groups.txt"), Meters: corpus(t, "ovn-sample", "meters.txt")}, time.Hour)
	for _, c := range []struct {
		what string
		do   func()
	}{
		{"del-flows table=0", func() { w.ofctl("del-flows", "table=0") }},
		{"mod-flows table=8", func() { w.ofctl("mod-flows", "table=8,actions=drop") }},
		{"add-flow extra", func() { w.ofctl("add-flow", "table=40,priority=1,actions=drop") }},
		{"del-flows all", func() { w.ofctl("del-flows") }},
	} {
		c.do()
		took := w.waitHeld(c.what)
		t.Logf("%s: healed in %v", c.what, took.Round(time.Millisecond))
	}
	if len(seen[*messages.Drift](w)) == 0 {
		t.Error("no Drift event")
	}
	heals := 0
	for _, e := range seen[*messages.InSync](w) {
		if e.Cause == "heal" {
			heals++
		}
	}
	if heals < 4 {
		t.Errorf("%d InSync{heal} events, want one per change", heals)
	}
}

// What no monitor reports — groups, meters, the TLV map — the audit
// finds; a group deleted with flows that use it is restored with them at
// once (OVS reports their removal with reason group_delete).
func TestDriftAudited(t *testing.T) {
	sw := ovstest.Start(t)
	w := watch(t, sw, desired.Files{Flows: "../examples/flows.txt", Groups: "../examples/groups.txt",
		Meters: "../examples/meters.txt"}, 300*time.Millisecond)
	w.ofctl("del-groups")
	t.Logf("del-groups: healed in %v", w.waitHeld("del-groups").Round(time.Millisecond))
	w.ofctl("del-meters")
	t.Logf("del-meters: healed in %v", w.waitHeld("del-meters").Round(time.Millisecond))
	// The TLV map can go only once no flow uses it: del-flows first. The
	// heal may win the race (then del-tlv-map fails and nothing changes)
	// or not (then the map is mapped again and the flows come back).
	out, _ := exec.Command("sh", "-c", fmt.Sprintf("ovs-ofctl -O OpenFlow13 del-flows %s; ovs-ofctl -O OpenFlow13 del-tlv-map %s",
		sw.Target(), sw.Target())).CombinedOutput()
	t.Logf("del-flows; del-tlv-map: %s", strings.TrimSpace(string(out)))
	w.waitHeld("del-tlv-map")
	waitTLVMapped(t, sw)
	if len(seen[*messages.Audited](w)) == 0 {
		t.Error("no Audited event")
	}
}

// The TLV map lost for good (flows and map deleted while no monitor
// watches): the audit finds both, the negotiator maps the option again,
// and the flows that need it come back.
func TestDriftTLVMapLost(t *testing.T) {
	sw := ovstest.Start(t)
	w := watch(t, sw, desired.Files{Flows: "../examples/flows.txt", Groups: "../examples/groups.txt",
		Meters: "../examples/meters.txt"}, 300*time.Millisecond, func(c *ofactor.Config) { c.NoFlowMonitor = true })
	w.ofctl("del-flows")
	w.ofctl("del-tlv-map")
	if m, _ := sw.DumpTLVMap(); len(m) != 0 {
		t.Fatalf("TLV map %v after del-tlv-map", m)
	}
	took := w.waitHeld("TLV map lost")
	waitTLVMapped(t, sw)
	t.Logf("flows and TLV map restored by the audit in %v", took.Round(time.Millisecond))
}

// waitTLVMapped waits until the switch maps the Geneve option again.
func waitTLVMapped(t *testing.T, sw *ovstest.Switch) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, err := sw.DumpTLVMap()
		if err == nil && len(m) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("TLV map %v, %v: the Geneve option is not mapped again", m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A second controller rewriting one flow in a loop: ofactor backs off for
// that flow (a Conflict, no hot loop), and once the loop stops the desired
// state wins again.
func TestDriftConflict(t *testing.T) {
	sw := ovstest.Start(t)
	w := watch(t, sw, desired.Files{Flows: "../examples/flows.txt", Groups: "../examples/groups.txt",
		Meters: "../examples/meters.txt"}, time.Hour)
	before, _ := sw.RecvCounter()
	for i := 0; i < 15; i++ {
		w.ofctl("mod-flows", "table=37,reg15=0x1,metadata=0x1,actions=drop")
		time.Sleep(40 * time.Millisecond)
	}
	after, _ := sw.RecvCounter()
	conflicts := seen[*messages.Conflict](w)
	if len(conflicts) == 0 {
		t.Fatal("no Conflict reported")
	}
	// 15 rewrites by ovs-ofctl (a handful of messages each) and ofactor's
	// bounded answers to them: far from a hot loop.
	if after-before > 300 {
		t.Errorf("%d messages to the switch during the fight", after-before)
	}
	t.Logf("conflict: %+v; %d messages", conflicts[0], after-before)
	w.waitHeld("after the other controller stopped")
}

// Status tells the truth across a kill -9 of ovs-vswitchd: not in sync
// while it is down, in sync again once it is restored, with an InSync of
// cause restore; a bridge deleted and re-created the same.
func TestDriftStatusTruth(t *testing.T) {
	sw := ovstest.Start(t)
	w := watch(t, sw, desired.Files{Flows: "../examples/flows.txt", Groups: "../examples/groups.txt",
		Meters: "../examples/meters.txt"}, time.Hour)
	if err := sw.Kill9(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := w.bridge.Status(ctx)
		cancel()
		if err == nil && !st.InSync && !st.InstalledKnown {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("switch down, status %+v %v", st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	w.waitHeld("restore after kill -9")
	restored := false
	for _, e := range seen[*messages.InSync](w) {
		restored = restored || e.Cause == "restore"
	}
	if !restored {
		t.Errorf("no InSync{restore}: %v", seen[*messages.InSync](w))
	}
	if _, err := sw.Vsctl("del-br", sw.Bridge); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Vsctl("add-br", sw.Bridge, "--", "set", "bridge", sw.Bridge, "datapath_type=dummy"); err != nil {
		t.Fatal(err)
	}
	w.waitHeld("bridge re-created")
}

// A burst large enough for OVS to pause the monitor (over 128 KB of
// updates): once it resumes, the flows are read again and put right.
func TestDriftPaused(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	const n = 30_000
	lines := make([]string, 0, n)
	for i := range n {
		lines = append(lines, fmt.Sprintf("table=1,priority=10,ip,nw_dst=10.%d.%d.1 actions=output:%d", i/256, i%256, 1+i%7))
	}
	flows := filepath.Join(dir, "flows.txt")
	writeLines(t, flows, lines)
	core, logs := observer.New(zap.InfoLevel)
	w := watch(t, sw, desired.Files{Flows: flows}, time.Hour, func(c *ofactor.Config) { c.Logger = zap.New(core) })
	w.ofctl("del-flows", "table=1")
	w.waitHeld(fmt.Sprintf("del-flows of %d", n))
	paused := logs.FilterMessageSnippet("flow monitor paused").Len()
	if paused == 0 {
		t.Fatal("OVS did not pause the monitor: the burst is not large enough to test that")
	}
	rounds := 0
	for _, e := range seen[*messages.RoundFinished](w) {
		if e.FlowAdds > 0 {
			rounds++
		}
	}
	t.Logf("monitor paused %d times; %d rounds put the %d flows back", paused, rounds, n)
}
