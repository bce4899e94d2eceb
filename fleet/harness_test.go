package fleet_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster"

	"github.com/ofactor/ofactor/fleet"
	"github.com/ofactor/ofactor/internal/etcdtest"
	"github.com/ofactor/ofactor/internal/fleetproc"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Member processes are this test binary again (fleetproc.Start).
func TestMain(m *testing.M) {
	fleetproc.MaybeMain()
	os.Exit(m.Run())
}

// rig is one etcd and one ovs-vswitchd holding n bridges, each with the
// flows of its own (a file, or the client's to push), and member processes.
type rig struct {
	t       testing.TB
	dir     string
	etcd    *etcdtest.Etcd
	sw      map[string]*ovstest.Switch
	names   []string
	specs   []fleetproc.BridgeSpec
	flows   map[string][]string // each bridge's desired flows, as dump-flows prints them
	cluster string
	procs   []*fleetproc.Proc
}

func newRig(t testing.TB, n int, pushed bool) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), sw: map[string]*ovstest.Switch{}, flows: map[string][]string{},
		cluster: fmt.Sprintf("t%d", time.Now().UnixNano())}
	r.etcd = etcdtest.Start(t)
	first := ovstest.Start(t, ovstest.WithBridge("br-0"))
	for i := range n {
		name := fmt.Sprintf("br-%d", i)
		sw := first
		if i > 0 {
			var err error
			if sw, err = first.AddBridge(name); err != nil {
				t.Fatal(err)
			}
		}
		r.sw[name] = sw
		r.names = append(r.names, name)
		r.flows[name] = bridgeFlows(i)
		spec := fleetproc.BridgeSpec{Name: name, Target: sw.Target()}
		if !pushed {
			spec.Flows = filepath.Join(r.dir, name+".flows")
			if err := os.WriteFile(spec.Flows, []byte(strings.Join(r.flows[name], "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r.specs = append(r.specs, spec)
	}
	t.Cleanup(func() {
		for _, p := range r.procs {
			p.Stop()
			if t.Failed() {
				if b, err := os.ReadFile(p.Log); err == nil {
					t.Logf("member %s log (tail):\n%s", p.Spec.Listen, tail(string(b), 300))
				}
			}
		}
	})
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// bridgeFlows are bridge i's flows, in dump-flows form, sorted.
func bridgeFlows(i int) []string {
	var out []string
	for p := range 4 {
		out = append(out, fmt.Sprintf("priority=%d,in_port=%d actions=output:%d", 100+p, i+1, p+1))
	}
	slices.Sort(out)
	return out
}

func freePort(t testing.TB) int {
	t.Helper()
	p, err := etcdtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// spec is a member's spec on port (0: a free one).
func (r *rig) spec(port int) fleetproc.Spec {
	if port == 0 {
		port = freePort(r.t)
	}
	return fleetproc.Spec{Name: r.cluster, Etcd: r.etcd.Endpoints(), Listen: "127.0.0.1:" + strconv.Itoa(port),
		HTTP: fmt.Sprintf("127.0.0.1:%d", freePort(r.t)), Bridges: r.specs}
}

// start starts a member process on port (0: a free one).
func (r *rig) start(port int) *fleetproc.Proc {
	r.t.Helper()
	p, err := fleetproc.Start(r.dir, r.spec(port))
	if err != nil {
		r.t.Fatal(err)
	}
	r.procs = append(r.procs, p)
	return p
}

// owners maps each bridge to the live member processes it is active on,
// with their activation.
type placement map[string][]activeOn

type activeOn struct {
	proc  *fleetproc.Proc
	local *fleet.Local
}

// placement is where the bridges are active, once every member sees all
// of procs as the membership (a member whose view lacks one rejoins).
func (r *rig) placement(procs ...*fleetproc.Proc) (placement, error) {
	out := placement{}
	for _, p := range procs {
		st, err := p.Status()
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", p.Spec.Listen, err)
		}
		if len(st.Members) != len(procs) {
			return nil, fmt.Errorf("member %s sees members %v", p.Spec.Listen, st.Members)
		}
		for _, b := range st.Bridges {
			if b.Local != nil {
				out[b.Bridge] = append(out[b.Bridge], activeOn{p, b.Local})
			}
		}
	}
	return out, nil
}

// settled is nil when every bridge is active, as MASTER, on exactly one of procs.
func (r *rig) settled(procs ...*fleetproc.Proc) (placement, error) {
	pl, err := r.placement(procs...)
	if err != nil {
		return nil, err
	}
	for _, n := range r.names {
		switch on := pl[n]; {
		case len(on) == 0:
			return pl, fmt.Errorf("%s active nowhere", n)
		case len(on) > 1:
			return pl, fmt.Errorf("%s active on %d members", n, len(on))
		case !on[0].local.Master:
			return pl, fmt.Errorf("%s not MASTER yet on %s", n, on[0].proc.Spec.Listen)
		}
	}
	return pl, nil
}

// dumpFlows returns the bridge's flows as dump-flows prints them, sorted.
func (r *rig) dumpFlows(name string) ([]string, error) {
	got, err := r.sw[name].DumpFlows()
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	return got, err
}

func (r *rig) tablesRight() error {
	for _, n := range r.names {
		got, err := r.dumpFlows(n)
		if err != nil {
			return err
		}
		if !slices.Equal(got, r.flows[n]) {
			return fmt.Errorf("%s holds %q", n, got)
		}
	}
	return nil
}

// watchTables dumps every bridge's table over and over until stop is
// called, which returns how many rounds of dumps it made and the first
// difference from the desired flows it saw.
func (r *rig) watchTables() (stop func() (rounds int, diff error)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var rounds int
	var diff error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := r.tablesRight(); err != nil && diff == nil {
				diff = fmt.Errorf("at %s: %w", time.Now().Format("15:04:05.000"), err)
			}
			rounds++
		}
	}()
	return func() (int, error) {
		close(done)
		wg.Wait()
		return rounds, diff
	}
}

// eventually polls cond every 100 ms for up to d.
func eventually(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// predictOwners is protoactor's placement (rendezvous over the members'
// addresses) for members listening on ports.
func predictOwners(names []string, ports ...int) map[string]int {
	var ms cluster.Members
	for _, p := range ports {
		ms = append(ms, &cluster.Member{Id: strconv.Itoa(p), Host: "127.0.0.1", Port: int32(p), Kinds: []string{fleet.Kind}})
	}
	rdv := cluster.NewRendezvous()
	rdv.UpdateMembers(ms)
	out := map[string]int{}
	for _, n := range names {
		addr := rdv.GetByClusterIdentity(cluster.NewClusterIdentity(n, fleet.Kind))
		_, p, _ := strings.Cut(addr, ":")
		out[n], _ = strconv.Atoi(p)
	}
	return out
}

// mostLoaded is the member with the most bridges in pl.
func mostLoaded(pl placement) (*fleetproc.Proc, []string) {
	by := map[*fleetproc.Proc][]string{}
	for n, on := range pl {
		by[on[0].proc] = append(by[on[0].proc], n)
	}
	var best *fleetproc.Proc
	for p, ns := range by {
		if best == nil || len(ns) > len(by[best]) {
			best = p
		}
	}
	slices.Sort(by[best])
	return best, by[best]
}

func parseFlows(t testing.TB, lines []string) []*openflow.FlowMod {
	t.Helper()
	var out []*openflow.FlowMod
	for _, l := range lines {
		fm, err := ofctl.ParseFlow(l, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fm)
	}
	return out
}
