package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
)

const benchUsage = `usage: ofbench [OPTIONS]

Measures ofactor against ovs-ofctl on private Open vSwitch sandboxes
(dummy datapath), alternating the contenders in one run, and prints a table
of medians and ratios. Run from the repository root (make bench).

Options:
  -n N              flows in the generated OVN-like table (default 100000)
  -runs R           runs of each contender (default 3)
  -ofactor BIN      the ofactor binary (default bin/ofactor)
  -million          also the rows of 1M flows: cold, restart and watch on the
                    switch, memory of the daemon and the library (default true)
  -million-runs R   runs of each contender of the 1M rows (default 1)
  -bridges B        the row of B bridges in one process (default 100; 0: skip)
  -bridge-flows F   flows of each of those bridges (default 10000)
  -churn-seconds S  the churn row's length (default 30; 0: skip)
  -churn-rate U     its UpdateFlows per second (default 1000)
  -churn-flows F    the flows of its bridge (default 1000000)
  -steady D         the steady-state row's window (default 60s; 0: skip;
                    the soak form is 10m)
  -gobench          also run the Go benchmarks (default true)

Also: ofbench gen [-n N] [-every K] [-add A] FILE   write a generated table
      ofbench hold [-n N]                          memory of a bridge holding N flows
      ofbench fleet [-members M] [-bridges B] [-n N]  a fleet: converge, kill -9 failover
      ofbench churn -target T -flows F [-rate R] [-seconds S]  the churn row's library process
`

type options struct {
	n, runs         int
	bin, script     string
	million, gobenc bool
	millionRuns     int
	bridges, perBr  int
	churnSecs       int
	churnRate       int
	churnFlows      int
	steady          time.Duration
}

// bench is one run of ofbench: its files, its switch, its results.
type bench struct {
	o                  options
	dir, base, changed string
	sb                 *sandbox
	out                io.Writer
	rows               []row
	daemonRSS, daemonN int64
	holdRSS            map[int]int64
	restartMsgs        []float64
	log                io.Writer

	// switchCPU is ovs-vswitchd's CPU seconds during each cold install,
	// per contender of row 1 (the floor row).
	switchCPU [][]float64
	coldWall  [][]float64
	// daemon1M is the daemon's resident set holding 1M flows on the real
	// switch (the 1M watch row), 0 if not measured.
	daemon1M    int64
	millionFile string // the 1M table, once million wrote it
}

// row is one line of the table: a measurement of each contender.
type row struct {
	name       string
	contenders []string
	samples    [][]float64 // seconds (or the unit), per contender
	unit       string
	note       string
	noRatio    bool   // the contenders measure different things
	goal       string // what the issue asks of it, if anything
	units      []string
}

func benchCmd(args []string, stdout, stderr io.Writer) int {
	o := options{}
	fs := flag.NewFlagSet("ofbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage) }
	fs.IntVar(&o.n, "n", 100_000, "")
	fs.IntVar(&o.runs, "runs", 3, "")
	fs.StringVar(&o.bin, "ofactor", "bin/ofactor", "")
	fs.StringVar(&o.script, "sandbox", "scripts/ovs-sandbox.sh", "")
	fs.BoolVar(&o.million, "million", true, "")
	fs.BoolVar(&o.gobenc, "gobench", true, "")
	fs.IntVar(&o.millionRuns, "million-runs", 1, "")
	fs.IntVar(&o.bridges, "bridges", 100, "")
	fs.IntVar(&o.perBr, "bridge-flows", 10_000, "")
	fs.IntVar(&o.churnSecs, "churn-seconds", 30, "")
	fs.IntVar(&o.churnRate, "churn-rate", 1000, "")
	fs.IntVar(&o.churnFlows, "churn-flows", 1_000_000, "")
	fs.DurationVar(&o.steady, "steady", 60*time.Second, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.runs < 1 || o.millionRuns < 1 {
		fmt.Fprintln(stderr, "ofbench: -runs and -million-runs must be at least 1 (-million=false skips the 1M rows)")
		return 2
	}
	b := &bench{o: o, out: stdout, log: stderr, holdRSS: map[int]int64{}}
	if err := b.run(); err != nil {
		fmt.Fprintln(stderr, "ofbench:", err)
		return 1
	}
	return 0
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s ofbench: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run() error {
	start := time.Now()
	for _, p := range []string{b.o.bin, b.o.script} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w (run from the repository root after make build)", p, err)
		}
	}
	dir, err := os.MkdirTemp("", "ofbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.dir = dir
	b.base, b.changed = filepath.Join(dir, "base.txt"), filepath.Join(dir, "changed.txt")
	if err := flowgen.WriteFile(b.base, flowgen.Flows(b.o.n)); err != nil {
		return err
	}
	if err := flowgen.WriteFile(b.changed, flowgen.Changed(b.o.n, 100, 1000)); err != nil {
		return err
	}
	b.logf("starting a sandbox switch")
	if b.sb, err = startSandbox(b.o.script); err != nil {
		return err
	}
	defer b.sb.stop()
	steps := []func() error{b.cold, b.floor, b.watch, b.restart, b.watched}
	if b.o.million {
		steps = append(steps, b.million)
	}
	steps = append(steps, b.memory)
	if b.o.bridges > 0 {
		steps = append(steps, b.manyBridges)
	}
	if b.o.churnSecs > 0 {
		steps = append(steps, b.churn)
	}
	if b.o.gobenc {
		steps = append(steps, b.goBench)
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	b.print(time.Since(start))
	return nil
}

// order rotates the contenders from run to run, so that none always goes
// first on a machine whose load drifts.
func order(run, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = (run + i) % n
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (b *bench) print(total time.Duration) {
	w := b.out
	fmt.Fprintf(w, "\nofbench: %d OVN-like flows over %d tables, %d runs each (1M rows: %d), medians; %s, %d CPUs, Go %s\n\n",
		b.o.n, flowgen.Tables, b.o.runs, b.o.millionRuns, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "| # | measurement | contender | median | ratio (ofactor / contender) | goal |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|\n")
	for i, r := range b.rows {
		base := median(r.samples[0])
		for j, c := range r.contenders {
			m := median(r.samples[j])
			ratio := ""
			if j > 0 && base > 0 && m > 0 && !r.noRatio {
				ratio = fmt.Sprintf("ofactor = %.2f×", base/m)
			}
			label, goal := r.name, r.goal
			if j > 0 {
				label, goal = "", ""
			}
			unit := r.unit
			if j < len(r.units) && r.units[j] != "" {
				unit = r.units[j]
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", rowNum(i, j), label, c, format(m, unit), ratio, goal)
		}
		if r.note != "" {
			fmt.Fprintf(w, "|   |   | %s |   |   |   |\n", r.note)
		}
	}
	fmt.Fprintf(w, "\nofbench took %v\n", total.Round(time.Second))
}

func rowNum(i, j int) string {
	if j > 0 {
		return ""
	}
	return fmt.Sprint(i + 1)
}

func format(v float64, unit string) string {
	switch unit {
	case "s":
		if v < 1 {
			return fmt.Sprintf("%.0f ms", v*1000)
		}
		return fmt.Sprintf("%.2f s", v)
	case "B":
		return fmt.Sprintf("%.0f MB", v/1e6)
	case "B/flow":
		return fmt.Sprintf("%.0f B/flow", v)
	case "msgs":
		return fmt.Sprintf("%.0f msgs", v)
	case "x":
		return fmt.Sprintf("%.2f×", v)
	case "%":
		return fmt.Sprintf("%.2f%%", v)
	case "MB":
		return fmt.Sprintf("%.0f MB", v/1e6)
	case "/s":
		return fmt.Sprintf("%.0f /s", v)
	case "n":
		return fmt.Sprintf("%.0f", v)
	case "ns":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.1f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}
