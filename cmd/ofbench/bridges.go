package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// manyBridges is the row of -bridges bridges of -bridge-flows flows each
// on one ovs-vswitchd (a sandbox of its own), kept by one `ofactor run
// --config` process: the time until every bridge holds its table (and the
// fastest and slowest bridge: none waits for all the others), against
// ovs-ofctl --bundle add-flows for each bridge, two at a time; the daemon's
// resident set per flow; then one bridge's file changed: its time to
// installed, and, from /metrics, that no other bridge sent anything.
func (b *bench) manyBridges() error {
	nb, per := b.o.bridges, b.o.perBr
	b.logf("bridges: a switch with %d bridges", nb)
	sb, err := startSandbox(b.o.script)
	if err != nil {
		return err
	}
	defer sb.stop()
	names := make([]string, nb)
	for i := range names {
		names[i] = fmt.Sprintf("br%03d", i)
	}
	if err := sb.addBridges(names...); err != nil {
		return err
	}
	dir := filepath.Join(b.dir, "bridges")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base, changed := filepath.Join(dir, "base.txt"), filepath.Join(dir, "changed.txt")
	if err := flowgen.WriteFile(base, flowgen.Flows(per)); err != nil {
		return err
	}
	if err := flowgen.WriteFile(changed, flowgen.Changed(per, 100, 0)); err != nil {
		return err
	}
	contenders := []string{fmt.Sprintf("ofactor run --config: all %d bridges installed", nb),
		fmt.Sprintf("%d ovs-ofctl --bundle add-flows, two at a time", nb)}
	r := row{name: fmt.Sprintf("%d bridges × %d flows in one process", nb, per), contenders: contenders, unit: "s",
		samples: make([][]float64, len(contenders)), goal: "(fairness: no bridge waits for all)"}
	spread := row{name: fmt.Sprintf("%d bridges: each bridge's time to installed", nb),
		contenders: []string{"fastest bridge", "slowest bridge"}, unit: "s", noRatio: true, samples: make([][]float64, 2)}
	var rss, one []float64
	var others int
	for run := range b.o.millionRuns {
		for _, c := range order(run, len(contenders)) {
			if c == 1 {
				d, err := ofctlEach(sb, names, base)
				if err != nil {
					return err
				}
				b.logf("bridges: ovs-ofctl: %v", d.Round(time.Millisecond))
				r.samples[1] = append(r.samples[1], d.Seconds())
				if err := resetBridges(sb, names, per, true); err != nil {
					return err
				}
				continue
			}
			res, err := b.bridgesDaemon(sb, names, dir, base, changed)
			if err != nil {
				return err
			}
			b.logf("bridges: ofactor: all in %v (fastest %v, slowest %v), RSS %d MB; one changed: %v, other bridges' mods %d",
				res.all.Round(time.Millisecond), res.fastest.Round(time.Millisecond), res.slowest.Round(time.Millisecond),
				res.rss>>20, res.one.Round(time.Millisecond), res.others)
			r.samples[0] = append(r.samples[0], res.all.Seconds())
			spread.samples[0] = append(spread.samples[0], res.fastest.Seconds())
			spread.samples[1] = append(spread.samples[1], res.slowest.Seconds())
			rss = append(rss, float64(res.rss)/float64(nb*per))
			one = append(one, res.one.Seconds())
			others += res.others
			if err := resetBridges(sb, names, per, true); err != nil {
				return err
			}
		}
	}
	changes := row{name: fmt.Sprintf("%d bridges: one bridge's file changed (1%% of its flows)", nb),
		contenders: []string{"time to that bridge's version installed", "RSS of the daemon per flow"},
		units:      []string{"s", "B/flow"}, noRatio: true, samples: [][]float64{one, rss},
		goal: "no other bridge sends anything"}
	changes.note = fmt.Sprintf("mods and rounds of the other %d bridges meanwhile (ofactor_mods_sent_total, ofactor_rounds_total): %d", nb-1, others)
	b.rows = append(b.rows, r, spread, changes)
	return nil
}

// resetBridges empties every bridge, after checking (check) that each
// holds per flows.
func resetBridges(sb *sandbox, names []string, per int, check bool) error {
	return eachTwo(names, func(name string) error {
		s := sb.on(name)
		if check {
			if err := s.expect(per); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		_, err := s.ofctl("OpenFlow13", "del-flows")
		return err
	})
}

// ofctlEach installs file on every bridge with ovs-ofctl --bundle
// add-flows, two at a time (the machine's cores), and returns how long
// that took.
func ofctlEach(sb *sandbox, names []string, file string) (time.Duration, error) {
	start := time.Now()
	err := eachTwo(names, func(name string) error {
		_, err := sb.on(name).ofctl("OpenFlow14", "--bundle", "add-flows", file)
		return err
	})
	return time.Since(start), err
}

// eachTwo runs f for every name, two at a time.
func eachTwo(names []string, f func(string) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	sem := make(chan struct{}, 2)
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = f(name)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// bridgesResult is one run of the daemon over every bridge.
type bridgesResult struct {
	all, fastest, slowest, one time.Duration
	rss                        int64
	others                     int // mods and rounds of the bridges not changed
}

// bridgesDaemon starts ofactor run --config over every bridge (each its
// own copy of base), times each bridge's first "version installed", reads
// the resident set, then renames changed over one bridge's file.
func (b *bench) bridgesDaemon(sb *sandbox, names []string, dir, base, changed string) (bridgesResult, error) {
	var res bridgesResult
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	addr := ln.Addr().String()
	ln.Close()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "bridges:\n")
	for _, name := range names {
		f := filepath.Join(dir, name+".txt")
		if err := copyFile(base, f); err != nil {
			return res, err
		}
		fmt.Fprintf(&cfg, "  - name: %s\n    switch: unix:%s\n    flows: %s\n", name, sb.socket(name), f)
	}
	cfgFile := filepath.Join(dir, "ofactor.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o644); err != nil {
		return res, err
	}
	start := time.Now()
	d, err := startDaemonArgs(b.o.bin, "--config", cfgFile, "--metrics-addr", addr)
	if err != nil {
		return res, err
	}
	defer d.stop()
	done := map[string]time.Duration{}
	for mark := 0; len(done) < len(names); {
		ev, next, err := d.waitAt(mark, 10*time.Minute, "every bridge installed", func(ev logEvent) bool {
			return ev.Msg == "version installed"
		})
		if err != nil {
			return res, err
		}
		mark = next
		if _, ok := done[ev.Bridge]; !ok {
			done[ev.Bridge] = ev.at.Sub(start)
		}
	}
	res.fastest = time.Hour
	for _, t := range done {
		res.all = max(res.all, t)
		res.slowest = max(res.slowest, t)
		res.fastest = min(res.fastest, t)
	}
	time.Sleep(time.Second) // the daemon returns its garbage after the install
	res.rss = rssOf(d.pid())
	target := names[len(names)/2]
	before, err := scrapeSent(addr)
	if err != nil {
		return res, err
	}
	mark := d.mark()
	tmp := filepath.Join(dir, target+".new")
	if err := copyFile(changed, tmp); err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := os.Rename(tmp, filepath.Join(dir, target+".txt")); err != nil {
		return res, err
	}
	if _, err := d.waitFor(mark, time.Minute, target+" version 2", func(ev logEvent) bool {
		return ev.Msg == "version installed" && ev.Bridge == target && ev.Version >= 2
	}); err != nil {
		return res, err
	}
	res.one = time.Since(t0)
	time.Sleep(200 * time.Millisecond) // anything another bridge would do
	after, err := scrapeSent(addr)
	if err != nil {
		return res, err
	}
	if after[target] == before[target] {
		return res, fmt.Errorf("bridges: %s's metrics show nothing sent for its change", target)
	}
	for name, n := range after {
		if name != target {
			res.others += int(n - before[name])
		}
	}
	return res, nil
}

var sentLine = regexp.MustCompile(`^ofactor_(?:mods_sent_total|rounds_total)\{bridge="([^"]+)"[^}]*\} (\S+)$`)

// scrapeSent reads /metrics and returns each bridge's mods sent plus
// rounds.
func scrapeSent(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if m := sentLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			out[m[1]] += v
		}
	}
	return out, sc.Err()
}
