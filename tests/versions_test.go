package tests

import (
	"context"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// modRecorder keeps the flow, group and meter mods a controller sends
// through a proxy, bare or inside a bundle ADD_MESSAGE, xid zeroed, as hex.
type modRecorder struct {
	mu   sync.Mutex
	mods []string
}

func (r *modRecorder) hook(toSwitch bool, frame []byte) fakeswitch.Verdict {
	if !toSwitch {
		return fakeswitch.Forward
	}
	msg := frame
	if in, ok := openflow.BundleInner(frame); ok {
		msg = in
	}
	switch openflow.Type(msg[1]) {
	case openflow.TypeFlowMod, openflow.TypeGroupMod, openflow.TypeMeterMod:
		b := slices.Clone(msg)
		copy(b[4:8], []byte{0, 0, 0, 0})
		r.mu.Lock()
		r.mods = append(r.mods, hex.EncodeToString(b))
		r.mu.Unlock()
	}
	return fakeswitch.Forward
}

func (r *modRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.mods
	r.mods = nil
	slices.Sort(m)
	return m
}

// recorded starts a proxy in front of sw that records what goes through.
func recorded(t *testing.T, sw *ovstest.Switch) (*modRecorder, string) {
	t.Helper()
	rec := &modRecorder{}
	p, err := fakeswitch.StartProxy(sw.SocketPath(), rec.hook)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return rec, p.Target()
}

// Over OpenFlow 1.5, as modern OVN's ofctrl speaks it: ofactor (offering
// 1.3 to 1.5, the default) installs the shared sample with the very
// flow_mods, group_mods and meter_mod `ovs-ofctl -O OpenFlow15` sends for
// the same files, apart from the lines where ovs-ofctl itself does not
// reproduce the sample (dec_ttl() written as the OpenFlow dec_ttl); both
// switches then dump the same tables; and ofactor coming back to the
// correct switch sends nothing, also when it reads the switch before it
// has its desired state (the dump normalized alone must meet the files'
// bytes).
func TestOF15SampleByteIdentical(t *testing.T) {
	flows, groups, meters := corpus(t, "ovn-sample", "flows.txt"), corpus(t, "ovn-sample", "groups.txt"),
		corpus(t, "ovn-sample", "meters.txt")

	ref := ovstest.Start(t)
	refRec, refTarget := recorded(t, ref)
	meterLines := ovstest.ReadLines(t, meters)
	for _, args := range [][]string{
		{"-O", "OpenFlow15", "add-meter", refTarget, meterLines[0]},
		{"-O", "OpenFlow15", "add-groups", refTarget, groups},
		{"-O", "OpenFlow15", "--bundle", "add-flows", refTarget, flows},
	} {
		if out, err := ofctlRaw(t, ref, args...); err != nil {
			t.Fatalf("ovs-ofctl %v: %v\n%s", args, err, out)
		}
	}
	want := refRec.take()

	sw := ovstest.Start(t)
	rec, target := recorded(t, sw)
	res := runOnce(t, target, sampleArgs(t)...)
	if res.code != 0 {
		t.Fatalf("ofactor run --once: exit %d\n%s", res.code, res.stderr)
	}
	got := rec.take()
	missing, extra := diffLines(want, got)
	// The only lines that may differ are dec_ttl's: one of ovs-ofctl's per
	// such flow, one of ours.
	decTTL := 0
	for _, l := range ovstest.ReadLines(t, flows) {
		if strings.Contains(l, "dec_ttl") {
			decTTL++
		}
	}
	if len(missing) != decTTL || len(extra) != decTTL || len(got) != len(want) {
		t.Errorf("%d mods sent, ovs-ofctl -O OpenFlow15 %d; %d of theirs not ours, %d of ours not theirs (want %d each, the dec_ttl flows)",
			len(got), len(want), len(missing), len(extra), decTTL)
		for i, m := range extra {
			if i < 5 {
				out, _ := ofctlRaw(t, sw, "ofp-print", m)
				t.Logf("ours only: %s", out)
			}
		}
	}
	t.Logf("mods: ovs-ofctl -O OpenFlow15 %d, ofactor %d, differing %d (dec_ttl flows %d)", len(want), len(got), len(extra), decTTL)
	for _, m := range extra {
		if b, _ := hex.DecodeString(m); len(b) < 2 || openflow.Type(b[1]) != openflow.TypeFlowMod || b[0] != openflow.Version15 {
			t.Errorf("a mod that differs is not a 1.5 flow_mod: %s", m)
		}
	}
	for _, what := range [][]string{{"--no-stats", "dump-flows"}, {"dump-groups"}, {"dump-meters"}} {
		args := append([]string{"-O", "OpenFlow15"}, what...)
		a, err := ref.Ofctl(args...)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sw.Ofctl(args...)
		if err != nil {
			t.Fatal(err)
		}
		na, nb := ovstest.NormalizeFlows(a), ovstest.NormalizeFlows(b)
		miss, ext := diffLines(na, nb)
		if what[0] == "--no-stats" {
			miss, ext = dropDecTTL(miss), dropDecTTL(ext)
		}
		if len(miss)+len(ext) > 0 {
			t.Errorf("%s: the two switches differ: ovs-ofctl's only %q, ofactor's only %q", what, miss, ext)
		}
	}

	// Back to the correct switch: nothing sent, by the command...
	if res := runOnce(t, target, sampleArgs(t)...); res.code != 0 {
		t.Fatalf("second run: exit %d\n%s", res.code, res.stderr)
	}
	if m := rec.take(); len(m) != 0 {
		t.Errorf("second run against the correct switch sent %d mods", len(m))
	}
	// ...and by a bridge that reads the switch before its desired state
	// is there, five times over.
	put, err := desired.NewLoader(desired.Files{Flows: flows, Groups: groups, Meters: meters},
		desired.Options{Version: openflow.Version15}).Load()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		putAfterRead(t, target, put)
		if m := rec.take(); len(m) != 0 {
			t.Fatalf("bridge %d, its desired state put after reading the switch: %d mods sent", i, len(m))
		}
	}
	checkInstalled(t, sw)
}

// ofctlRaw runs ovs-ofctl with args as given (no target added) in sw's
// environment.
func ofctlRaw(t *testing.T, sw *ovstest.Switch, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(ovstest.OfctlPath(t), args...)
	cmd.Env = sw.Env()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// dropDecTTL leaves out the lines that name dec_ttl.
func dropDecTTL(lines []string) []string {
	return slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, "dec_ttl") })
}

// putAfterRead spawns a bridge on target with no desired state, waits
// until it has read the switch's tables, then puts put and waits for it.
func putAfterRead(t *testing.T, target string, put *messages.PutDesired) {
	t.Helper()
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer b.Stop(ctx)
	for {
		st, err := b.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.InstalledKnown {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	v, err := b.Put(ctx, put)
	if err == nil {
		err = b.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A bridge that allows OpenFlow 1.3 only still works with the default
// offer (1.3 to 1.5): the sample is installed over 1.3, and the status
// says so. Offering 1.5 alone to it fails at once (exit 2) with both
// sides' versions named; so does the default offer to a bridge that allows
// OpenFlow 1.0 only.
func TestVersionNegotiation(t *testing.T) {
	sw := ovstest.Start(t, ovstest.WithProtocols("OpenFlow13"))
	res := runOnce(t, sw.Target(), sampleArgs(t)...)
	if res.code != 0 {
		t.Fatalf("default offer to a 1.3-only bridge: exit %d\n%s", res.code, res.stderr)
	}
	checkInstalled(t, sw)
	if res := runOnce(t, sw.Target(), sampleArgs(t)...); res.code != 0 || !strings.Contains(res.stdout, "sent flows 0 ") {
		t.Errorf("second run on the 1.3-only bridge: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	res = runOnce(t, sw.Target(), append([]string{"--protocols", "OpenFlow15"}, sampleArgs(t)...)...)
	want := "no common OpenFlow version: ofactor offers OpenFlow15, the switch OpenFlow13"
	if res.code != 2 || !strings.Contains(res.stderr, want) {
		t.Errorf("--protocols OpenFlow15 to a 1.3-only bridge: exit %d, want 2 and %q\n%s", res.code, want, res.stderr)
	}

	old := ovstest.Start(t, ovstest.WithProtocols("OpenFlow10"))
	res = runOnce(t, old.Target(), sampleArgs(t)...)
	want = "no common OpenFlow version: ofactor offers OpenFlow13, OpenFlow14, OpenFlow15, the switch OpenFlow10"
	if res.code != 2 || !strings.Contains(res.stderr, want) {
		t.Errorf("default offer to a 1.0-only bridge: exit %d, want 2 and %q\n%s", res.code, want, res.stderr)
	}

	res = runOnce(t, sw.Target(), append([]string{"--protocols", "OpenFlow10"}, sampleArgs(t)...)...)
	if res.code != 2 || !strings.Contains(res.stderr, "--protocols: OpenFlow10: not spoken by ofactor") {
		t.Errorf("--protocols OpenFlow10: exit %d\n%s", res.code, res.stderr)
	}
}

// ofactor dump over OpenFlow 1.5 (the default with OVS) writes what
// `ovs-ofctl -O OpenFlow15 dump-flows/dump-groups/dump-meters` prints, and
// run --once takes it back sending nothing; diff against the files the
// sample was installed from finds nothing.
func TestDumpOF15(t *testing.T) {
	sw := ovstest.Start(t)
	if res := runOnce(t, sw.Target(), sampleArgs(t)...); res.code != 0 {
		t.Fatalf("ofactor run --once: exit %d\n%s", res.code, res.stderr)
	}
	out := t.TempDir()
	df, dg, dm := filepath.Join(out, "flows.txt"), filepath.Join(out, "groups.txt"), filepath.Join(out, "meters.txt")
	res := ofactorRun(t, "dump", "--switch", sw.Target(), "--flows", df, "--groups", dg, "--meters", dm)
	if res.code != 0 {
		t.Fatalf("dump: exit %d\n%s", res.code, res.stderr)
	}
	for _, c := range []struct {
		file string
		args []string
		norm func(string) []string
	}{
		{df, []string{"-O", "OpenFlow15", "--no-stats", "dump-flows"}, ovstest.NormalizeFlows},
		{dg, []string{"-O", "OpenFlow15", "dump-groups"}, ovstest.NormalizeGroups},
		{dm, []string{"-O", "OpenFlow15", "dump-meters"}, ovstest.NormalizeMeters},
	} {
		text, err := sw.Ofctl(c.args...)
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, filepath.Base(c.file), dumpForm(c.norm(text)), ovstest.ReadLines(t, c.file))
	}
	rec, target := recorded(t, sw)
	res = runOnce(t, target, "--flows", df, "--groups", dg, "--meters", dm)
	if res.code != 0 {
		t.Fatalf("run --once with the dump: exit %d\n%s", res.code, res.stderr)
	}
	if m := rec.take(); len(m) != 0 {
		t.Errorf("run --once with the 1.5 dump sent %d mods", len(m))
	}
	if res := ofactorRun(t, append([]string{"diff", "--switch", sw.Target()}, sampleArgs(t)...)...); res.code != 0 || res.stdout != "" {
		t.Errorf("diff after the install: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	checkInstalled(t, sw)
}
