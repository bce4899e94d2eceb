package ofactortest_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// sample is the shared OVN sample (../shared/corpus/ovn-sample) parsed
// as an embedder parses its flows: with package ofctl.
type sample struct {
	flows  []*openflow.FlowMod
	groups []*openflow.GroupMod
	meters []*openflow.MeterMod
	dir    string
}

func loadSample(t *testing.T) sample {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "ovn-sample")
	open := func(name string) *os.File {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("corpus: %v (the shared corpus must sit beside the repository)", err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	var s sample
	s.dir = dir
	fl, err := ofctl.ParseFlows("flows.txt", open("flows.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range fl {
		s.flows = append(s.flows, l.Mod)
	}
	gl, err := ofctl.ParseGroups("groups.txt", open("groups.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range gl {
		s.groups = append(s.groups, l.Mod)
	}
	ml, err := ofctl.ParseMeters("meters.txt", open("meters.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ml {
		s.meters = append(s.meters, l.Mod)
	}
	return s
}

func (s sample) lines(t *testing.T, name string) []string {
	return ovstest.ReadLines(t, filepath.Join(s.dir, name))
}

// quietSystem is an actor system that logs only warnings.
func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}))
}

// bridge runs one ofactor bridge against target with the sample desired.
type bridge struct {
	sys *actor.ActorSystem
	pid *actor.PID
}

func startBridge(t *testing.T, target string, s sample) *bridge {
	t.Helper()
	sys := quietSystem()
	t.Cleanup(sys.Shutdown)
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Root.RequestFuture(b.PID, &messages.PutDesired{Flows: s.flows, Groups: s.groups, Meters: s.meters}, 10*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	return &bridge{sys: sys, pid: b.PID}
}

func (b *bridge) status(t *testing.T) *messages.Status {
	res, err := b.sys.Root.RequestFuture(b.pid, &messages.GetStatus{}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	return res.(*messages.Status)
}

// waitFor polls until ok, failing the test after a generous deadline.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// inSync waits until the bridge reports its desired version installed on
// connection seq (or a later one).
func (b *bridge) inSync(t *testing.T, seq uint64) *messages.Status {
	var st *messages.Status
	waitFor(t, "the bridge to be in sync", func() bool {
		st = b.status(t)
		return st.Connected && st.Seq >= seq && st.DesiredVersion > 0 && st.InstalledVersion == st.DesiredVersion
	})
	return st
}

// An ofactor bridge, as an embedder runs it, against the in-memory
// switch: the switch ends up holding exactly the OVN sample, as real OVS
// holds it, and a reconnect sends no change.
func TestOfactorInstallsOVNSample(t *testing.T) {
	s := loadSample(t)
	sw := ofactortest.Start(t)
	b := startBridge(t, sw.Target(), s)
	b.inSync(t, 1)

	// What OVS dumps for the sample is the sample (ovn-controller's
	// dump, with dec_ttl() in its Nicira form, which ofactor keeps).
	if diff := cmp.Diff(s.lines(t, "flows.txt"), sw.DumpFlows()); diff != "" {
		t.Errorf("flows (-sample +switch):\n%s", diff)
	}
	if diff := cmp.Diff(s.lines(t, "groups.txt"), sw.DumpGroups()); diff != "" {
		t.Errorf("groups (-sample +switch):\n%s", diff)
	}
	if diff := cmp.Diff(s.lines(t, "meters.txt"), sw.DumpMeters()); diff != "" {
		t.Errorf("meters (-sample +switch):\n%s", diff)
	}
	want := []openflow.TLVMap{{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: 0}}
	if diff := cmp.Diff(want, sw.DumpTLVMap()); diff != "" {
		t.Errorf("tlv map (-want +switch):\n%s", diff)
	}

	// A reconnect: ofactor dumps the tables, finds them right, and sends
	// nothing that changes them.
	before := sw.Received()
	sw.Disconnect()
	waitFor(t, "the dumps after the reconnect", func() bool {
		d := sw.Received().Sub(before)
		return d[ofactortest.MsgFlowStatsRequest] > 0 && d[ofactortest.MsgGroupDescRequest] > 0 && d[ofactortest.MsgMeterConfigRequest] > 0
	})
	b.inSync(t, 2)
	time.Sleep(300 * time.Millisecond) // room for a wrong round to show
	d := sw.Received().Sub(before)
	if d.Mods() != 0 || d[ofactortest.MsgBundleAdd] != 0 || d[ofactortest.MsgBundleControl] != 0 {
		t.Errorf("a reconnect to a switch that holds the state sent changes: %v", d)
	}
	t.Logf("the reconnect: %v", d)

	// The same bridge against a real ovs-vswitchd: the same tables, line
	// for line. Without OVS this part is skipped (and fails under CI=true).
	if ovstest.Available() != nil && os.Getenv("CI") != "true" {
		t.Log("ovs-vswitchd not installed: not compared with a real switch")
		return
	}
	real := ovstest.Start(t)
	startBridge(t, real.Target(), s).inSync(t, 1)
	for _, c := range []struct {
		what string
		mem  []string
		dump func() ([]string, error)
	}{
		{"flows", sw.DumpFlows(), real.DumpFlows},
		{"groups", sw.DumpGroups(), real.DumpGroups},
		{"meters", sw.DumpMeters(), real.DumpMeters},
	} {
		got, err := c.dump()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, c.mem); diff != "" {
			t.Errorf("%s (-ovs +memory):\n%s", c.what, diff)
		}
	}
	tlv, err := real.DumpTLVMap()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range tlv {
		got = append(got, m.String())
	}
	var mem []string
	for _, m := range sw.DumpTLVMap() {
		mem = append(mem, ofactortest.TLVMapString(m))
	}
	if strings.Join(got, " ") != strings.Join(mem, " ") {
		t.Errorf("tlv map: ovs %v, memory %v", got, mem)
	}
}
