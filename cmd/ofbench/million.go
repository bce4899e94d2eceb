package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// million is the rows of a million flows (16 tables) on the switch: the
// cold install with each contender's peak resident set, a restart against
// the installed table, and a watch-mode change of 1% of the flows.
// -million-runs runs of each contender (a run of each is about a minute).
func (b *bench) million() error {
	const n = 1_000_000
	base, changed := filepath.Join(b.dir, "million.txt"), filepath.Join(b.dir, "million-changed.txt")
	b.logf("1M: writing the tables")
	if err := flowgen.WriteFileN(base, n, func(i int) string { return flowgen.Flow(i, 0) }); err != nil {
		return err
	}
	if err := flowgen.WriteFileN(changed, n, func(i int) string { return flowgen.ChangedFlow(i, 100) }); err != nil {
		return err
	}
	b.millionFile = base
	for _, step := range []func(base, changed string, n int) error{b.millionCold, b.millionRestart, b.millionWatch} {
		if err := step(base, changed, n); err != nil {
			return err
		}
	}
	return os.Remove(changed)
}

// millionCold: an empty bridge, the whole table installed,
// barrier-confirmed, by ofactor run --once and ovs-ofctl --bundle
// add-flows; and each one's peak resident set (ru_maxrss).
func (b *bench) millionCold(base, _ string, n int) error {
	t := b.sb.target()
	names := []string{"ofactor run --once", "ovs-ofctl --bundle add-flows"}
	cmds := [][]string{
		{b.o.bin, "run", "--once", "--switch", t, "--flows", base, "--log-level", "warn"},
		{"ovs-ofctl", "-O", "OpenFlow14", "--bundle", "add-flows", t, base},
	}
	r := row{name: "cold install of 1M flows (16 tables)", contenders: names, unit: "s",
		samples: make([][]float64, len(names)), goal: "≤ 0.9×"}
	rss := row{name: "1M cold install: peak RSS", contenders: names, unit: "MB",
		samples: make([][]float64, len(names))}
	cpu := row{name: "1M cold install: ovs-vswitchd's CPU during it", unit: "s", noRatio: true}
	for _, c := range names {
		cpu.contenders = append(cpu.contenders, "during "+c)
	}
	cpu.samples = make([][]float64, len(names))
	// As at 100k: the switch's first table of this size is slower (its
	// allocations grow); no contender pays for it.
	b.logf("1M: warming the switch up")
	if err := b.sb.reset(base, n); err != nil {
		return err
	}
	for run := range b.o.millionRuns {
		for _, c := range order(run, len(names)) {
			if err := b.sb.reset("", 0); err != nil {
				return err
			}
			cpu0 := b.sb.switchCPU()
			u, err := timedUsage(cmds[c][0], cmds[c][1:]...)
			if err != nil {
				return fmt.Errorf("1M cold: %w", err)
			}
			cpu.samples[c] = append(cpu.samples[c], b.sb.switchCPU()-cpu0)
			if err := b.sb.expect(n); err != nil {
				return fmt.Errorf("1M cold: %s: %w", names[c], err)
			}
			b.logf("1M cold: %s: %v, peak RSS %d MB", names[c], u.wall.Round(time.Millisecond), u.peakRSS>>20)
			r.samples[c] = append(r.samples[c], u.wall.Seconds())
			rss.samples[c] = append(rss.samples[c], float64(u.peakRSS))
		}
	}
	b.rows = append(b.rows, r, rss, cpu)
	return nil
}

// millionRestart: ofactor run --once against the bridge holding the
// table, against ovs-ofctl --bundle replace-flows of the same file (which
// dumps, compares and sends nothing either); then one more ofactor run
// through the counting proxy for its messages.
func (b *bench) millionRestart(base, _ string, n int) error {
	if err := b.sb.reset(base, n); err != nil {
		return err
	}
	t := b.sb.target()
	names := []string{"ofactor run --once", "ovs-ofctl --bundle replace-flows"}
	cmds := [][]string{
		{b.o.bin, "run", "--once", "--switch", t, "--flows", base, "--log-level", "warn"},
		{"ovs-ofctl", "-O", "OpenFlow14", "--bundle", "replace-flows", t, base},
	}
	r := row{name: "1M restart against the installed table", contenders: names, unit: "s",
		samples: make([][]float64, len(names)), goal: "≤ 0.3×, ≤ 50 messages"}
	for run := range b.o.millionRuns {
		for _, c := range order(run, len(names)) {
			d, err := timed(cmds[c][0], cmds[c][1:]...)
			if err != nil {
				return fmt.Errorf("1M restart: %w", err)
			}
			b.logf("1M restart: %s: %v", names[c], d.Round(time.Millisecond))
			r.samples[c] = append(r.samples[c], d.Seconds())
		}
	}
	p, target, err := b.sb.proxy()
	if err != nil {
		return err
	}
	defer p.close()
	if _, err := timed(b.o.bin, "run", "--once", "--switch", target, "--flows", base, "--log-level", "warn"); err != nil {
		return fmt.Errorf("1M restart through the proxy: %w", err)
	}
	time.Sleep(50 * time.Millisecond) // let the proxy count the last frames
	got := p.read()
	b.logf("1M restart: %d messages, %d flow_mods", got.msgs, got.flowMods)
	if err := b.sb.expect(n); err != nil {
		return err
	}
	r.note = fmt.Sprintf("1M restart: messages ofactor sent (counting proxy): %d, of them flow_mods %d", got.msgs, got.flowMods)
	b.rows = append(b.rows, r)
	return nil
}

// millionWatch: ofactor run watching a file it has installed, the file
// replaced by one with 1% of the flows' actions changed, timed from the
// rename to "version installed"; against ovs-ofctl --bundle replace-flows
// making the same change. Each contender takes the switch from the table
// it holds to the other one, so no run needs a reinstall: ofactor's daemon
// starts on the file the switch holds and is given the other.
func (b *bench) millionWatch(base, changed string, n int) error {
	names := []string{"ofactor run (watch): file replaced", "ovs-ofctl --bundle replace-flows"}
	r := row{name: "1M: 1% of the flows changed, on the table", contenders: names, unit: "s",
		samples: make([][]float64, len(names)), goal: "≤ 0.05×"}
	holds, other := base, changed // the switch holds base (millionRestart)
	for run := range b.o.millionRuns {
		for _, c := range order(run, len(names)) {
			var d time.Duration
			var err error
			if c == 0 {
				var rss *int64
				if run == 0 {
					rss = &b.daemon1M
				}
				d, err = b.watchSwap(holds, other, rss)
			} else {
				d, err = timed("ovs-ofctl", "-O", "OpenFlow14", "--bundle", "replace-flows", b.sb.target(), other)
			}
			if err != nil {
				return fmt.Errorf("1M watch: %s: %w", names[c], err)
			}
			if err := b.sb.expect(n); err != nil {
				return fmt.Errorf("1M watch: %s: %w", names[c], err)
			}
			b.logf("1M watch: %s: %v", names[c], d.Round(time.Millisecond))
			r.samples[c] = append(r.samples[c], d.Seconds())
			holds, other = other, holds
		}
	}
	r.note = "1M watch: each contender changes 1% of the flows' actions (10,000 flows) of the table the switch holds"
	b.rows = append(b.rows, r)
	return nil
}
