package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ofactor/ofactor/fleet"
	"github.com/ofactor/ofactor/internal/etcdtest"
	"github.com/ofactor/ofactor/internal/fleetproc"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
)

const fleetUsage = `usage: ofbench fleet [-members M] [-bridges B] [-n N]

A fleet on one machine: M member processes (ofbench itself, as fleet members), B bridges of N
generated flows each on one private ovs-vswitchd, a private etcd on loopback. Measures the time
until every bridge is installed, then kills the member owning the most bridges with kill -9 and
measures the time until each of its bridges has a new MASTER, the flow_mods sent to those
switches, and whether any table differed from its file at any moment (dumped over and over).
`

// fleetRun is one run of ofbench fleet.
type fleetRun struct {
	dir     string
	etcd    *etcdtest.Etcd
	sw      map[string]*ovstest.Switch
	names   []string
	files   map[string]string
	ref     map[string][]string // each bridge's table once converged, as dump-flows prints it
	members []*fleetproc.Proc
	log     io.Writer
}

func fleetCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ofbench fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fleetUsage) }
	members := fs.Int("members", 3, "member processes")
	bridges := fs.Int("bridges", 12, "bridges")
	n := fs.Int("n", 10000, "flows per bridge")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := runFleet(*members, *bridges, *n, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "ofbench fleet:", err)
		return 1
	}
	return 0
}

func runFleet(members, bridges, n int, stdout, stderr io.Writer) error {
	if err := ovstest.Available(); err != nil {
		return err
	}
	if err := etcdtest.Available(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "ofbench-fleet")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r := &fleetRun{dir: dir, sw: map[string]*ovstest.Switch{}, files: map[string]string{}, ref: map[string][]string{}, log: stderr}
	defer r.stop()
	if r.etcd, err = etcdtest.StartDir(filepath.Join(dir, "etcd")); err != nil {
		return err
	}
	first, err := ovstest.StartDir("", "br-0")
	if err != nil {
		return err
	}
	r.sw["br-0"] = first
	var specs []fleetproc.BridgeSpec
	for i := range bridges {
		name := fmt.Sprintf("br-%d", i)
		if i > 0 {
			if r.sw[name], err = first.AddBridge(name); err != nil {
				return err
			}
		}
		r.names = append(r.names, name)
		r.files[name] = filepath.Join(dir, name+".flows")
		// Each bridge its own table: the same shapes, other actions.
		if err := flowgen.WriteFile(r.files[name], flowgen.Changed(n, bridges, i)); err != nil {
			return err
		}
		specs = append(specs, fleetproc.BridgeSpec{Name: name, Target: r.sw[name].Target(), Flows: r.files[name]})
	}
	fmt.Fprintf(stderr, "fleet: %d members, %d bridges x %d flows, etcd %s\n", members, bridges, n, r.etcd.ClientURL)

	start := time.Now()
	for range members {
		port, err := etcdtest.FreePort()
		if err != nil {
			return err
		}
		http, err := etcdtest.FreePort()
		if err != nil {
			return err
		}
		p, err := fleetproc.Start(dir, fleetproc.Spec{Name: "ofbench", Etcd: r.etcd.Endpoints(),
			Listen: fmt.Sprintf("127.0.0.1:%d", port), HTTP: fmt.Sprintf("127.0.0.1:%d", http), Bridges: specs})
		if err != nil {
			return err
		}
		r.members = append(r.members, p)
	}
	owners, err := r.waitSettled(r.members, nil, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("converging: %w", err)
	}
	for _, name := range r.names {
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
			err := r.diff(name)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("converging: %w", err)
			}
		}
	}
	converged := time.Since(start)
	for _, name := range r.names {
		if r.ref[name], err = r.sw[name].DumpFlows(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "fleet: converged in %v\n", converged.Round(time.Millisecond))

	victim, moved := mostLoadedMember(owners)
	before := map[string]uint64{}
	for _, name := range moved {
		before[name] = owners[name].local.Epoch
	}
	survivors := slices.DeleteFunc(slices.Clone(r.members), func(p *fleetproc.Proc) bool { return p == victim })
	stopWatch := r.watchTables()
	killed := time.Now()
	victim.Kill9()
	after, err := r.waitSettled(survivors, before, 2*time.Minute)
	if err != nil {
		stopWatch()
		return fmt.Errorf("failover: %w", err)
	}
	var times []time.Duration
	for _, name := range moved {
		times = append(times, after[name].local.MasterSince.Sub(killed))
	}
	// Give the new owners' dumps and diffs time to send whatever they would.
	time.Sleep(5 * time.Second)
	rounds, changed := stopWatch()
	after, err = r.waitSettled(survivors, before, time.Minute)
	if err != nil {
		return err
	}
	mods := 0
	for _, name := range moved {
		l := after[name].local
		mods += l.FlowMods + l.GroupMods + l.MeterMods
	}
	for _, name := range r.names {
		if err := r.diff(name); err != nil {
			return fmt.Errorf("after the failover, %w", err)
		}
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "| measurement | value | goal |\n|---|---|---|\n")
	fmt.Fprintf(stdout, "| converge %d bridges x %d flows on %d members | %v | |\n", bridges, n, members, converged.Round(time.Millisecond))
	fmt.Fprintf(stdout, "| kill -9 of the member owning %d bridges: new MASTER, median / worst | %v / %v | <= 5 s |\n",
		len(moved), times[len(times)/2].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
	fmt.Fprintf(stdout, "| flow_mods (and group/meter mods) sent to those switches | %d | 0 |\n", mods)
	verdict := "never"
	if changed != nil {
		verdict = changed.Error()
	}
	fmt.Fprintf(stdout, "| a table differed from its file (%d rounds of dumps of all %d bridges) | %s | never |\n", rounds, bridges, verdict)
	return nil
}

func (r *fleetRun) stop() {
	for _, p := range r.members {
		p.Stop()
	}
	for _, s := range r.sw {
		s.Stop()
		break // one ovs-vswitchd holds them all
	}
	if r.etcd != nil {
		r.etcd.Stop()
	}
}

// diff checks a bridge against its file with ovs-ofctl diff-flows.
func (r *fleetRun) diff(name string) error {
	out, err := r.sw[name].Ofctl("-O", "OpenFlow13", "diff-flows", r.files[name])
	if err != nil || strings.TrimSpace(out) != "" {
		return fmt.Errorf("%s differs from %s: %v %.300s", name, r.files[name], err, out)
	}
	return nil
}

type ownerOf struct {
	proc  *fleetproc.Proc
	local *fleet.Local
}

// waitSettled waits until every bridge is MASTER on exactly one of procs, with an epoch above
// the one in above (for the bridges named there).
func (r *fleetRun) waitSettled(procs []*fleetproc.Proc, above map[string]uint64, d time.Duration) (map[string]ownerOf, error) {
	deadline := time.Now().Add(d)
	for {
		out, err := r.settled(procs, above)
		if err == nil {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *fleetRun) settled(procs []*fleetproc.Proc, above map[string]uint64) (map[string]ownerOf, error) {
	out := map[string]ownerOf{}
	for _, p := range procs {
		act, err := p.Active()
		if err != nil {
			return nil, err
		}
		for name, l := range act {
			if _, dup := out[name]; dup {
				return nil, fmt.Errorf("%s active twice", name)
			}
			out[name] = ownerOf{p, l}
		}
	}
	for _, name := range r.names {
		o, ok := out[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s active nowhere", name)
		case !o.local.Master:
			return nil, fmt.Errorf("%s not MASTER", name)
		case o.local.Epoch <= above[name]:
			return nil, fmt.Errorf("%s still at epoch %d", name, o.local.Epoch)
		}
	}
	return out, nil
}

func mostLoadedMember(owners map[string]ownerOf) (*fleetproc.Proc, []string) {
	by := map[*fleetproc.Proc][]string{}
	for name, o := range owners {
		by[o.proc] = append(by[o.proc], name)
	}
	var best *fleetproc.Proc
	for p, names := range by {
		if best == nil || len(names) > len(by[best]) {
			best = p
		}
	}
	slices.Sort(by[best])
	return best, by[best]
}

// watchTables dumps every bridge over and over, comparing with its converged table, until the
// returned function is called; that returns the rounds made and the first difference seen.
func (r *fleetRun) watchTables() func() (int, error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	rounds := 0
	var changed error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, name := range r.names {
				got, err := r.sw[name].DumpFlows()
				if err == nil && !slices.Equal(got, r.ref[name]) && changed == nil {
					changed = fmt.Errorf("%s changed at %s (%d flows, %d before)", name,
						time.Now().Format("15:04:05.000"), len(got), len(r.ref[name]))
				} else if err != nil && changed == nil {
					changed = errors.New(name + ": " + err.Error())
				}
			}
			rounds++
		}
	}()
	return func() (int, error) {
		close(done)
		wg.Wait()
		return rounds, changed
	}
}
