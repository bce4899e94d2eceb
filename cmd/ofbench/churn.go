package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// churn is the churn rows: a bridge holding 1M flows, through the library
// (ofbench churn, a child process), receives -churn-rate UpdateFlows a
// second of 10 flows each (5 added, 5 removed) for -churn-seconds; the
// latency from each UpdateFlows to the barrier-confirmed version that
// holds it, rounds and flow_mods per second, CPU and memory. Beside it,
// the same updates made by ovs-ofctl processes, one a change (what
// scripts do), for scale.
func (b *bench) churn() error {
	n := b.o.churnFlows
	file := b.millionFile
	if file == "" || n != 1_000_000 {
		file = filepath.Join(b.dir, "churn.txt")
		if err := flowgen.WriteFileN(file, n, func(i int) string { return flowgen.Flow(i, 0) }); err != nil {
			return err
		}
	}
	b.logf("churn: the switch takes %d flows", n)
	if err := b.sb.reset(file, n); err != nil {
		return err
	}
	vs, err := b.sb.vswitchdPID()
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.logf("churn: %d UpdateFlows/s for %ds through the library", b.o.churnRate, b.o.churnSecs)
	cmd := exec.Command(self, "churn", "-target", b.sb.target(), "-flows", file, "-n", strconv.Itoa(n),
		"-rate", strconv.Itoa(b.o.churnRate), "-seconds", strconv.Itoa(b.o.churnSecs), "-switch-pid", strconv.Itoa(vs))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, b.log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ofbench churn: %v: %s", err, out.String())
	}
	res, err := parseChurn(out.String())
	if err != nil {
		return err
	}
	if err := b.sb.expect(n); err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	lat := row{name: fmt.Sprintf("churn: %d UpdateFlows/s × 10 flows (5 added, 5 removed) on a %d-flow bridge (library), %ds",
		b.o.churnRate, n, b.o.churnSecs), unit: "s", noRatio: true, goal: "p99 ≤ 20 ms",
		contenders: []string{"UpdateFlows → barrier-confirmed: p50", "p99", "max"},
		samples:    [][]float64{{res["p50"]}, {res["p99"]}, {res["max"]}}}
	lat.note = fmt.Sprintf("churn: %.0f updates made (%.0f a second); at most %.0f rounds ended between an update and the version holding it",
		res["updates"], res["updates"]/res["seconds"], res["behind"])
	work := row{name: "churn: rounds, flow_mods and CPU", noRatio: true, goal: "never more than one round behind",
		contenders: []string{"rounds per second", "flow_mods per second", "ofbench churn (library, and its parsing): CPU, % of a core",
			"ovs-vswitchd: CPU, % of a core"},
		units:   []string{"/s", "/s", "%", "%"},
		samples: [][]float64{{res["rounds"] / res["seconds"]}, {res["flowmods"] / res["seconds"]}, {res["cpu"]}, {res["switchcpu"]}}}
	mem := row{name: "churn: memory of the process holding the bridge", unit: "MB", noRatio: true, goal: "flat",
		contenders: []string{"RSS before the churn", "RSS at its end", "RSS at most, during it",
			"live heap (after a collection) before the churn", "live heap (after a collection) at its end"},
		samples: [][]float64{{res["rss0"]}, {res["rss1"]}, {res["rssmax"]}, {res["heap0"]}, {res["heap1"]}}}
	b.rows = append(b.rows, lat, work, mem)
	return b.churnOfctl(n)
}

// churnOfctl makes the same kind of changes as the churn row with
// ovs-ofctl, one process a change (5 add and 5 delete_strict lines through
// --bundle add-flows, on stdin: it removes flows the library's churn
// added), as fast as they go, for a third of the churn's time (at least
// 5 s).
func (b *bench) churnOfctl(n int) error {
	secs := max(b.o.churnSecs/3, 5)
	b.logf("churn: ovs-ofctl processes for %ds", secs)
	var lat []float64
	start := time.Now()
	for i := 0; time.Since(start) < time.Duration(secs)*time.Second; i++ {
		var in bytes.Buffer
		for k := range 5 {
			fmt.Fprintf(&in, "add %s\n", flowgen.Flow(2*n+5*i+k, 0))
		}
		for k := range 5 {
			fmt.Fprintf(&in, "delete_strict %s\n", matchOf(flowgen.Flow(n+5*i+k, 0))) // the library's churn added it
		}
		cmd := exec.Command("ovs-ofctl", "-O", "OpenFlow14", "--bundle", "add-flows", b.sb.target(), "-")
		cmd.Stdin = &in
		t0 := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("churn: ovs-ofctl: %v: %s", err, out)
		}
		lat = append(lat, time.Since(t0).Seconds())
	}
	d := time.Since(start).Seconds()
	if err := b.sb.expect(n); err != nil {
		return fmt.Errorf("churn: ovs-ofctl: %w", err)
	}
	slices.Sort(lat)
	r := row{name: fmt.Sprintf("churn through ovs-ofctl processes (one a change of 10 flows), %ds", secs), noRatio: true,
		contenders: []string{"changes per second", "latency p50", "latency p99"}, units: []string{"/s", "s", "s"},
		samples: [][]float64{{float64(len(lat)) / d}, {percentile(lat, 0.5)}, {percentile(lat, 0.99)}}}
	b.rows = append(b.rows, r)
	return nil
}

// matchOf is a flow's text without its cookie and actions: what
// delete_strict names.
func matchOf(flow string) string {
	m, _, _ := strings.Cut(flow[strings.Index(flow, "table="):], " actions=")
	return m
}

var churnField = regexp.MustCompile(`(\w+)=([0-9.e+-]+)`)

func parseChurn(out string) (map[string]float64, error) {
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "churn ") {
			line = l
		}
	}
	if line == "" {
		return nil, fmt.Errorf("ofbench churn: no result in %q", out)
	}
	res := map[string]float64{}
	for _, m := range churnField.FindAllStringSubmatch(line, -1) {
		res[m[1]], _ = strconv.ParseFloat(m[2], 64)
	}
	return res, nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(p*float64(len(sorted))), len(sorted)-1)]
}

// churnCmd is the churn row's child process:
//
//	ofbench churn -target T -flows F -n N -rate R -seconds S [-switch-pid P]
//
// A bridge (the library) takes file F (N flows, which the switch holds
// already) as the daemon does (parts of canonical flows), then receives R
// UpdateFlows a second for S seconds, each adding 5 new flows and removing
// 5 of the file's, as FlowMods an embedder makes (parsed as they go). It
// prints one line: "churn p50=... p99=... max=... (seconds) updates=...
// rounds=... flowmods=... behind=... cpu=... switchcpu=... (% of a core)
// rss0=... rss1=... rssmax=... heap0=... heap1=... (bytes) seconds=...".
func churnCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("churn", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "", "the switch")
	file := fs.String("flows", "", "the flows the switch holds")
	n := fs.Int("n", 1_000_000, "flows in the file")
	rate := fs.Int("rate", 1000, "UpdateFlows a second")
	secs := fs.Int("seconds", 30, "how long")
	switchPID := fs.Int("switch-pid", 0, "ovs-vswitchd, for its CPU")
	if err := fs.Parse(args); err != nil || *target == "" || *file == "" {
		fmt.Fprintln(stderr, "usage: ofbench churn -target T -flows F [-n N] [-rate R] [-seconds S] [-switch-pid P]")
		return 2
	}
	res, err := runChurn(*target, *file, *n, *rate, *secs, *switchPID)
	if err != nil {
		fmt.Fprintln(stderr, "ofbench churn:", err)
		return 1
	}
	fmt.Fprintln(stdout, res)
	return 0
}

// churnLog is what the churn's subscriber saw: each version installed and
// each round's end, with when.
type churnLog struct {
	mu        sync.Mutex
	installed []stamped
	rounds    []stamped // Version: the flow_mods of the round
	wake      chan struct{}
}

type stamped struct {
	at time.Time
	v  uint64
}

func (l *churnLog) receive(c actor.Context) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch m := c.Message().(type) {
	case *messages.VersionInstalled:
		l.installed = append(l.installed, stamped{now, m.Version})
		close(l.wake)
		l.wake = make(chan struct{})
	case *messages.RoundFinished:
		l.rounds = append(l.rounds, stamped{now, uint64(m.FlowAdds + m.FlowModifies + m.FlowDeletes)})
	}
}

// waitInstalled waits until version v is installed.
func (l *churnLog) waitInstalled(v uint64, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		ok := len(l.installed) > 0 && l.installed[len(l.installed)-1].v >= v
		wake := l.wake
		l.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-wake:
		case <-deadline:
			return fmt.Errorf("version %d not installed in %v", v, timeout)
		}
	}
}

func runChurn(target, file string, n, rate, secs, switchPID int) (string, error) {
	sys := actor.NewActorSystem(ofactor.WithZap(zap.NewNop()))
	defer sys.Shutdown()
	l := &churnLog{wake: make(chan struct{})}
	sink := sys.Root.Spawn(actor.PropsFromFunc(l.receive))
	br, err := ofactor.Spawn(sys.Root, ofactor.Config{Bridge: "br-churn", Target: target, Subscribers: []*actor.PID{sink}})
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	// Flows made for the version OVS negotiates with the library's default
	// offer (1.5), as the daemon parses its files for it.
	loader := desired.NewLoader(desired.Files{Flows: file}, desired.Options{Version: openflow.Version15})
	last, err := loader.LoadParts(func(p *messages.PutDesired) { sys.Root.RequestFuture(br.PID, p, time.Minute) })
	if err != nil {
		return "", err
	}
	v, err := br.Put(ctx, last)
	if err != nil {
		return "", err
	}
	if err := l.waitInstalled(v, 10*time.Minute); err != nil {
		return "", err
	}
	last = nil
	debug.FreeOSMemory()

	pctx := &ofctl.Context{Version: openflow.Version15}
	pctx.OXM.Geneve = -1
	parse := func(fms []*openflow.FlowMod, i int) ([]*openflow.FlowMod, error) {
		fm, err := ofctl.ParseFlow(flowgen.Flow(i, 0), pctx)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		return append(fms, fm), nil
	}
	total := rate * secs
	submitted := make([]time.Time, 0, total)
	accepted := make([]time.Time, 0, total)
	versions := make([]uint64, 0, total)
	heap0 := liveHeap()
	rss0, rssMax := rssOf(os.Getpid()), int64(0)
	cpu0, swCPU0 := cpuOf(os.Getpid()), cpuOf(switchPID)
	l.mu.Lock()
	rounds0 := len(l.rounds)
	l.mu.Unlock()
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	nextRSS := start
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		u := &messages.UpdateFlows{}
		for k := range 5 {
			if u.Add, err = parse(u.Add, n+5*i+k); err != nil {
				return "", err
			}
			if u.Remove, err = parse(u.Remove, 5*i+k); err != nil {
				return "", err
			}
		}
		t0 := time.Now()
		v, err := br.Update(ctx, u)
		if err != nil {
			return "", err
		}
		submitted, versions = append(submitted, t0), append(versions, v)
		accepted = append(accepted, time.Now())
		if t0.After(nextRSS) {
			rssMax, nextRSS = max(rssMax, rssOf(os.Getpid())), t0.Add(time.Second)
		}
	}
	if err := l.waitInstalled(versions[len(versions)-1], time.Minute); err != nil {
		return "", err
	}
	elapsed := time.Since(start).Seconds()
	cpu, swCPU := cpuOf(os.Getpid())-cpu0, cpuOf(switchPID)-swCPU0
	rss1 := rssOf(os.Getpid())
	rssMax = max(rssMax, rss1)
	heap1 := liveHeap()

	l.mu.Lock()
	installed, rounds := slices.Clone(l.installed), slices.Clone(l.rounds[rounds0:])
	l.mu.Unlock()
	lat := make([]float64, len(versions))
	behind := 0
	j, r := 0, 0
	for i, v := range versions {
		for installed[j].v < v {
			j++
		}
		lat[i] = installed[j].at.Sub(submitted[i]).Seconds()
		// Rounds that ended between the update's acceptance and its
		// install: one in flight when it came, then its own.
		for r < len(rounds) && !rounds[r].at.After(accepted[i]) {
			r++
		}
		k := r
		for k < len(rounds) && !rounds[k].at.After(installed[j].at) {
			k++
		}
		behind = max(behind, k-r)
	}
	var mods uint64
	for _, rd := range rounds {
		mods += rd.v
	}
	slices.Sort(lat)
	return fmt.Sprintf("churn p50=%g p99=%g max=%g updates=%d rounds=%d flowmods=%d behind=%d cpu=%g switchcpu=%g rss0=%d rss1=%d rssmax=%d heap0=%d heap1=%d seconds=%g",
		percentile(lat, 0.5), percentile(lat, 0.99), lat[len(lat)-1], len(versions), len(rounds), mods, behind,
		100*cpu/elapsed, 100*swCPU/elapsed, rss0, rss1, rssMax, heap0, heap1, elapsed), nil
}

// liveHeap is the heap that a collection leaves: what the process holds,
// without the garbage its RSS also carries (up to as much again as the
// live heap, at the default GOGC). Taken before and after the churn, not
// during it.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
