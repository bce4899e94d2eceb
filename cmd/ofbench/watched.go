package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// watched is the rows of "the switch watched" (issue 15): ofactor run
// keeps the table on the bridge while ovs-ofctl changes it behind its
// back, and each change is timed from the command's exit to the daemon's
// "in sync" line (InSync, cause heal); the messages it sent to put the
// change right are counted by a proxy between the daemon and the switch
// (ovs-ofctl goes to the switch directly). Then the steady state with the
// flow monitor on, and the audits.
func (b *bench) watched() error {
	if err := b.sb.reset(b.base, b.o.n); err != nil {
		return err
	}
	cold := b.sb.on("br-cold")
	if err := b.sb.addBridges("br-cold"); err != nil {
		return err
	}
	p, target, err := b.sb.proxy()
	if err != nil {
		return err
	}
	defer p.close()
	w := &watch{b: b, p: p}
	if w.d, err = b.watchDaemon(target, b.base); err != nil {
		return err
	}
	defer w.d.stop()
	for _, step := range []func() error{func() error { return w.wholeTable(cold) }, w.oneFlow, w.thousand, w.steady} {
		if err := step(); err != nil {
			return err
		}
	}
	w.d.stop()
	return b.audits()
}

// watch is the watched rows' daemon and its proxy.
type watch struct {
	b *bench
	d *daemon
	p *counter
}

// watchDaemon starts ofactor run (watch mode, the flow monitor on, the
// default audits) on a copy of file at target and waits until the switch
// holds it.
func (b *bench) watchDaemon(target, file string, extra ...string) (*daemon, error) {
	wdir, err := os.MkdirTemp(b.dir, "watched")
	if err != nil {
		return nil, err
	}
	f := filepath.Join(wdir, "flows.txt")
	if err := copyFile(file, f); err != nil {
		return nil, err
	}
	d, err := startDaemon(b.o.bin, target, f, extra...)
	if err != nil {
		return nil, err
	}
	if _, err := d.waitFor(0, 5*time.Minute, "in sync", inSync("")); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

// healed runs an out-of-band command (ovs-ofctl on the switch directly)
// and returns the time from its exit to the daemon's next "in sync" after
// an "out of sync", and what the daemon sent meanwhile.
func (w *watch) healed(args ...string) (time.Duration, counts, error) {
	time.Sleep(100 * time.Millisecond) // quiet: the last heal's frames are counted
	mark, before := w.d.mark(), w.p.read()
	if _, err := timed("ovs-ofctl", args...); err != nil {
		return 0, counts{}, err
	}
	exit := time.Now()
	_, outAt, err := w.d.waitAt(mark, time.Minute, "out of sync", func(ev logEvent) bool { return ev.Msg == "out of sync" })
	if err != nil {
		return 0, counts{}, err
	}
	in, err := w.d.waitFor(outAt, 2*time.Minute, "in sync after the change", inSync(""))
	if err != nil {
		return 0, counts{}, err
	}
	time.Sleep(50 * time.Millisecond) // let the proxy count the last frames
	if in.Cause != "heal" {
		w.b.logf("watched: in sync again with cause %q", in.Cause)
	}
	return in.at.Sub(exit), w.p.read().minus(before), nil
}

// wholeTable: ovs-ofctl del-flows of the whole table behind ofactor's
// back, against a cold install of the same table by ofactor run --once on
// another bridge of the same switch, alternating.
func (w *watch) wholeTable(cold *sandbox) error {
	b := w.b
	names := []string{"ofactor run (watch): del-flows of the whole table healed", "ofactor run --once: cold install of the table (another bridge)"}
	r := row{name: fmt.Sprintf("del-flows of all %d flows behind ofactor's back", b.o.n), contenders: names, unit: "s",
		samples: make([][]float64, len(names)), goal: "≤ 1.1×"}
	var sent counts
	for run := range b.o.runs {
		for _, c := range order(run, len(names)) {
			var d time.Duration
			var err error
			if c == 0 {
				var n counts
				d, n, err = w.healed("-O", "OpenFlow13", "del-flows", b.sb.target())
				sent = n
				if err == nil {
					err = b.sb.expect(b.o.n)
				}
			} else {
				if err := cold.reset("", 0); err != nil {
					return err
				}
				d, err = timed(b.o.bin, "run", "--once", "--switch", cold.target(), "--flows", b.base, "--log-level", "warn")
				if err == nil {
					err = cold.expect(b.o.n)
				}
			}
			if err != nil {
				return fmt.Errorf("watched: %s: %w", names[c], err)
			}
			b.logf("watched: %s: %v", names[c], d.Round(time.Millisecond))
			r.samples[c] = append(r.samples[c], d.Seconds())
		}
	}
	if err := b.sb.diff(b.base); err != nil {
		return fmt.Errorf("watched: after the heal: %w", err)
	}
	r.note = fmt.Sprintf("del-flows healed: messages sent %d, of them flow_mods %d (the last run)", sent.msgs, sent.flowMods)
	b.rows = append(b.rows, r)
	return nil
}

// oneFlow: one flow's actions changed by ovs-ofctl --strict mod-flows.
func (w *watch) oneFlow() error {
	b := w.b
	flow := flowgen.Flow(0, 0) // table 8
	match, _, _ := strings.Cut(flow[strings.Index(flow, "table="):], " actions=")
	r := row{name: "one flow modified behind ofactor's back (mod-flows --strict)", contenders: []string{"ofactor run (watch): healed"},
		unit: "s", samples: make([][]float64, 1), goal: "≤ 50 ms, only the difference sent"}
	var sent counts
	for run := range b.o.runs {
		d, n, err := w.healed("-O", "OpenFlow13", "--strict", "mod-flows", b.sb.target(), match+" actions=resubmit(,"+fmt.Sprint(20+run)+")")
		if err != nil {
			return fmt.Errorf("watched: mod-flows: %w", err)
		}
		sent = n
		b.logf("watched: mod-flows healed in %v: %d messages, %d flow_mods", d.Round(time.Microsecond), n.msgs, n.flowMods)
		r.samples[0] = append(r.samples[0], d.Seconds())
	}
	if err := b.sb.diff(b.base); err != nil {
		return fmt.Errorf("watched: after mod-flows: %w", err)
	}
	r.note = fmt.Sprintf("mod-flows healed: messages sent %d, of them flow_mods %d", sent.msgs, sent.flowMods)
	b.rows = append(b.rows, r)
	return nil
}

// thousand: 1000 flows of one table deleted in one ovs-ofctl command (a
// file of delete_strict lines: no del-flows match picks exactly 1000 of
// the generated table). The flow oneFlow changed is left out: set back
// three times already, a fourth change within the conflict window is
// another party fighting, and the daemon rightly holds it back (the
// heal then waits for that flow's backoff: 0.9, 1.7, 3.8 s).
func (w *watch) thousand() error {
	b := w.b
	file := filepath.Join(b.dir, "del1000.txt")
	var lines []string
	for i := flowgen.Tables; len(lines) < 1000 && i < b.o.n; i += flowgen.Tables { // table 8's flows but the first
		f := flowgen.Flow(i, 0)
		match, _, _ := strings.Cut(f[strings.Index(f, "table="):], " actions=")
		lines = append(lines, "delete_strict "+match)
	}
	if err := flowgen.WriteFile(file, lines); err != nil {
		return err
	}
	r := row{name: fmt.Sprintf("%d flows of table 8 deleted behind ofactor's back", len(lines)),
		contenders: []string{"ofactor run (watch): healed"}, unit: "s", samples: make([][]float64, 1),
		goal: "≤ 100 ms, only the difference sent"}
	var sent counts
	for range b.o.runs {
		d, n, err := w.healed("-O", "OpenFlow13", "add-flows", b.sb.target(), file)
		if err != nil {
			return fmt.Errorf("watched: 1000 deleted: %w", err)
		}
		if err := b.sb.expect(b.o.n); err != nil {
			return err
		}
		sent = n
		b.logf("watched: %d deleted, healed in %v: %d messages, %d flow_mods", len(lines), d.Round(time.Microsecond), n.msgs, n.flowMods)
		r.samples[0] = append(r.samples[0], d.Seconds())
	}
	r.note = fmt.Sprintf("%d deleted, healed: messages sent %d, of them flow_mods %d", len(lines), sent.msgs, sent.flowMods)
	b.rows = append(b.rows, r)
	return nil
}

// steady: the daemon holding the table with the flow monitor on and the
// default audits (every 60 s), nothing changing, for -steady: heal rounds
// (InSync with cause heal) and its CPU.
func (w *watch) steady() error {
	b := w.b
	if b.o.steady <= 0 {
		return nil
	}
	time.Sleep(time.Second) // the last heal's round ends
	b.logf("watched: steady state for %v", b.o.steady)
	mark, before := w.d.mark(), w.p.read()
	cpu0, start := cpuOf(w.d.pid()), time.Now()
	time.Sleep(b.o.steady)
	cpu, window := cpuOf(w.d.pid())-cpu0, time.Since(start)
	sent := w.p.read().minus(before)
	heals, audits := 0, 0
	for _, ev := range w.d.since(mark) {
		switch {
		case ev.Msg == "in sync" && ev.Cause == "heal":
			heals++
		case ev.Msg == "audited":
			audits++
		}
	}
	r := row{name: fmt.Sprintf("steady state, flow monitor on, %v, %d flows", window.Round(time.Second), b.o.n),
		contenders: []string{"ofactor run (watch): CPU, % of one core", "heal rounds"},
		units:      []string{"%", "n"}, noRatio: true, goal: "≤ 1%, 0 heal rounds",
		samples: [][]float64{{100 * cpu / window.Seconds()}, {float64(heals)}}}
	r.note = fmt.Sprintf("steady: %d audits (groups, meters, TLV map), messages sent %d (echo replies not counted)", audits, sent.msgs)
	b.rows = append(b.rows, r)
	return nil
}

// audits: a daemon with the flow monitor off reads the whole table at
// every audit (--audit-interval 2s); one with it on reads the groups,
// meters and TLV map only (nine audits of ten). Each audit is timed from
// the reconciler's "state" line into dumping to the daemon's "audited"
// line; its messages are counted by the proxy, nothing being wrong.
func (b *bench) audits() error {
	names := []string{"audit with the flows (monitor off: every audit)", "audit of groups, meters and the TLV map (monitor on)"}
	r := row{name: fmt.Sprintf("audit of the %d-flow bridge, nothing wrong", b.o.n), contenders: names, unit: "s",
		samples: make([][]float64, len(names)), noRatio: true, goal: "(time and messages)"}
	var notes []string
	for c, monitor := range []string{"false", "true"} {
		p, pt, err := proxyTo(filepath.Join(b.sb.dir, "audit.count"), b.sb.socket(b.sb.bridge))
		if err != nil {
			return err
		}
		d, err := b.watchDaemon(pt, b.base, "--flow-monitor="+monitor, "--audit-interval", "2s")
		if err != nil {
			p.close()
			return err
		}
		var sent counts
		for range b.o.runs {
			mark, before := d.mark(), p.read()
			a, err := d.waitFor(mark, time.Minute, "audited", func(ev logEvent) bool { return ev.Msg == "audited" })
			if err != nil {
				d.stop()
				p.close()
				return err
			}
			var start time.Time
			for _, ev := range d.since(mark) {
				if ev.Msg == "state" && ev.New == "dumping" && !ev.at.After(a.at) {
					start = ev.at
				}
			}
			time.Sleep(20 * time.Millisecond)
			sent = p.read().minus(before)
			if start.IsZero() || a.Differences != 0 {
				d.stop()
				p.close()
				return fmt.Errorf("audit: no start seen, or %d differences", a.Differences)
			}
			r.samples[c] = append(r.samples[c], a.at.Sub(start).Seconds())
		}
		d.stop()
		p.close()
		b.logf("audit (%s): %v, %d messages", names[c], time.Duration(median(r.samples[c])*1e9).Round(time.Microsecond), sent.msgs)
		notes = append(notes, fmt.Sprintf("%d messages", sent.msgs))
	}
	r.note = "audit messages sent: " + strings.Join(notes, "; ")
	b.rows = append(b.rows, r)
	return nil
}
