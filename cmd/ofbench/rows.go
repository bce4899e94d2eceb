package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// cold is row 1: an empty switch, the whole table installed and
// barrier-confirmed, by ofactor run --once, ovs-ofctl --bundle add-flows
// and ovs-ofctl add-flows (one flow_mod at a time).
func (b *bench) cold() error {
	t := b.sb.target()
	names := []string{"ofactor run --once", "ovs-ofctl --bundle add-flows", "ovs-ofctl add-flows"}
	cmds := [][]string{
		{b.o.bin, "run", "--once", "--switch", t, "--flows", b.base, "--log-level", "warn"},
		{"ovs-ofctl", "-O", "OpenFlow14", "--bundle", "add-flows", t, b.base},
		{"ovs-ofctl", "-O", "OpenFlow13", "add-flows", t, b.base},
	}
	r := row{name: fmt.Sprintf("cold install of %d flows", b.o.n), contenders: names, unit: "s",
		samples: make([][]float64, len(names)), goal: "≤ 1.0× --bundle (≤ 0.8× hoped)"}
	b.switchCPU, b.coldWall = make([][]float64, len(names)), make([][]float64, len(names))
	// A fresh ovs-vswitchd is slower at its first large table (its
	// allocations grow): warm it up, so that no contender pays for that.
	if err := b.sb.reset(b.base, b.o.n); err != nil {
		return err
	}
	for run := range b.o.runs {
		for _, c := range order(run, len(names)) {
			if err := b.sb.reset("", 0); err != nil {
				return err
			}
			cpu0 := b.sb.switchCPU()
			d, err := timed(cmds[c][0], cmds[c][1:]...)
			if err != nil {
				return err
			}
			b.switchCPU[c] = append(b.switchCPU[c], b.sb.switchCPU()-cpu0)
			b.coldWall[c] = append(b.coldWall[c], d.Seconds())
			if err := b.sb.expect(b.o.n); err != nil {
				return fmt.Errorf("%s: %w", names[c], err)
			}
			if run == 0 && c == 0 {
				if err := b.sb.diff(b.base); err != nil {
					return fmt.Errorf("%s: %w", names[c], err)
				}
			}
			b.logf("cold: %s: %v", names[c], d.Round(time.Millisecond))
			r.samples[c] = append(r.samples[c], d.Seconds())
		}
	}
	b.rows = append(b.rows, r)
	return nil
}

// watch is row 2: the switch holds the table; the file is replaced by one
// with 1% of the flows' actions changed and 1000 flows added. ofactor run
// (watching the file) is timed from the rename to its "version installed"
// log line (barrier-confirmed); ovs-ofctl --bundle replace-flows from start
// to exit.
func (b *bench) watch() error {
	names := []string{"ofactor run (watch): file replaced", "ovs-ofctl --bundle replace-flows"}
	r := row{name: "1% changed + 1000 added, on the table", contenders: names, unit: "s",
		samples: make([][]float64, len(names))}
	want := b.o.n + 1000
	for run := range b.o.runs {
		for _, c := range order(run, len(names)) {
			if err := b.sb.reset(b.base, b.o.n); err != nil {
				return err
			}
			var d time.Duration
			var err error
			if c == 0 {
				var rss *int64
				if run == 0 {
					rss, b.daemonN = &b.daemonRSS, int64(b.o.n)
				}
				d, err = b.watchSwap(b.base, b.changed, rss)
			} else {
				d, err = timed("ovs-ofctl", "-O", "OpenFlow14", "--bundle", "replace-flows", b.sb.target(), b.changed)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", names[c], err)
			}
			if err := b.sb.expect(want); err != nil {
				return fmt.Errorf("%s: %w", names[c], err)
			}
			if run == 0 && c == 0 {
				if err := b.sb.diff(b.changed); err != nil {
					return fmt.Errorf("%s: %w", names[c], err)
				}
			}
			b.logf("watch: %s: %v", names[c], d.Round(time.Millisecond))
			r.samples[c] = append(r.samples[c], d.Seconds())
		}
	}
	r.note = "ofactor's figure includes its file-watch debounce (5 ms after a rename) and the delta reload"
	b.rows = append(b.rows, r)
	return nil
}

// watchSwap starts ofactor run on a copy of from, waits for it to hold
// version 1, renames a copy of to over the file and times until version 2
// is installed. With rss not nil it also reads the daemon's resident set
// holding version 1 (a second after: the daemon returns the garbage of
// loading once the first version is installed).
func (b *bench) watchSwap(from, to string, rss *int64) (time.Duration, error) {
	wdir, err := os.MkdirTemp(b.dir, "watch")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(wdir)
	file := filepath.Join(wdir, "flows.txt")
	if err := copyFile(from, file); err != nil {
		return 0, err
	}
	d, err := startDaemon(b.o.bin, b.sb.target(), file)
	if err != nil {
		return 0, err
	}
	defer d.stop()
	if err := d.wait(1); err != nil {
		return 0, err
	}
	if rss != nil {
		time.Sleep(time.Second)
		*rss = rssOf(d.pid())
	}
	tmp := filepath.Join(wdir, "flows.new")
	if err := copyFile(to, tmp); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := os.Rename(tmp, file); err != nil {
		return 0, err
	}
	if err := d.wait(2); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// daemonMillion is the daemon's resident set holding 1M generated flows,
// from a file, on a fake switch (which keeps nothing, so that only
// ofactor's memory counts): ofactor run in watch mode, read once it has
// installed the file and given back the garbage of parsing it.
func (b *bench) daemonMillion() (int64, error) {
	const n = 1_000_000
	file := b.millionFile
	if file == "" {
		file = filepath.Join(b.dir, "million.txt")
		if err := flowgen.WriteFileN(file, n, func(i int) string { return flowgen.Flow(i, 0) }); err != nil {
			return 0, err
		}
		defer os.Remove(file)
	}
	sock := filepath.Join(b.dir, "fake.sock")
	fake, err := startFake(sock)
	if err != nil {
		return 0, err
	}
	defer fake.close()
	d, err := startDaemon(b.o.bin, "unix:"+sock, file)
	if err != nil {
		return 0, err
	}
	defer d.stop()
	if err := d.wait(1); err != nil {
		return 0, err
	}
	time.Sleep(time.Second) // the daemon returns its garbage after the install
	return rssOf(d.cmd.Process.Pid), nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// restart is row 3: ofactor run --once against a switch that already holds
// the table: its time, straight to the switch, and the messages it sends,
// counted by a proxy in one more run (the proxy copies the 20 MB dump and
// would slow the timed runs down).
func (b *bench) restart() error {
	if err := b.sb.reset(b.base, b.o.n); err != nil {
		return err
	}
	r := row{name: "restart against the installed table", contenders: []string{"ofactor run --once"}, unit: "s",
		samples: make([][]float64, 1)}
	for range b.o.runs {
		d, err := timed(b.o.bin, "run", "--once", "--switch", b.sb.target(), "--flows", b.base, "--log-level", "warn")
		if err != nil {
			return err
		}
		b.logf("restart: %v", d.Round(time.Millisecond))
		r.samples[0] = append(r.samples[0], d.Seconds())
	}
	p, target, err := b.sb.proxy()
	if err != nil {
		return err
	}
	defer p.close()
	if _, err := timed(b.o.bin, "run", "--once", "--switch", target, "--flows", b.base, "--log-level", "warn"); err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond) // let the proxy count the last frames
	b.restartMsgs = append(b.restartMsgs, float64(p.msgs.Load()))
	b.logf("restart: %d messages", p.msgs.Load())
	if err := b.sb.expect(b.o.n); err != nil {
		return err
	}
	r.note = fmt.Sprintf("messages sent to the switch (through a counting proxy): %.0f", median(b.restartMsgs))
	b.rows = append(b.rows, r)
	return nil
}

var rssLine = regexp.MustCompile(`rss_bytes=(\d+)`)

// memory is row 4: resident memory per desired flow, of the daemon holding
// the table (from row 2) and of a bridge holding n and 1M flows on a fake
// switch (ofbench hold, a child process).
func (b *bench) memory() error {
	r := row{name: "memory (RSS) per desired flow", unit: "B/flow", noRatio: true,
		goal: "at 1M: daemon ≤ 300, library ≤ 250"}
	if b.daemonN > 0 {
		r.contenders = append(r.contenders, fmt.Sprintf("ofactor run, %d flows (%.0f MB)", b.daemonN, float64(b.daemonRSS)/1e6))
		r.samples = append(r.samples, []float64{float64(b.daemonRSS) / float64(b.daemonN)})
	}
	if b.daemon1M > 0 {
		r.contenders = append(r.contenders, fmt.Sprintf("ofactor run, 1000000 flows, the switch (%.0f MB)", float64(b.daemon1M)/1e6))
		r.samples = append(r.samples, []float64{float64(b.daemon1M) / 1e6})
	}
	sizes := []int{b.o.n}
	if b.o.million {
		sizes = append(sizes, 1_000_000)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if b.o.million {
		b.logf("memory: ofactor run holding 1000000 flows on a fake switch")
		rss, err := b.daemonMillion()
		if err != nil {
			return fmt.Errorf("daemon, 1M flows: %w", err)
		}
		r.contenders = append(r.contenders, fmt.Sprintf("ofactor run, 1000000 flows, fake switch (%.0f MB)", float64(rss)/1e6))
		r.samples = append(r.samples, []float64{float64(rss) / 1e6})
	}
	for _, n := range sizes {
		b.logf("memory: bridge holding %d flows on a fake switch", n)
		out, err := exec.Command(self, "hold", "-n", strconv.Itoa(n)).Output()
		if err != nil {
			return fmt.Errorf("hold -n %d: %w", n, err)
		}
		m := rssLine.FindSubmatch(out)
		if m == nil {
			return fmt.Errorf("hold -n %d: no rss_bytes in %q", n, out)
		}
		rss, _ := strconv.ParseInt(string(m[1]), 10, 64)
		b.holdRSS[n] = rss
		r.contenders = append(r.contenders, fmt.Sprintf("bridge (library), %d flows, fake switch (%.0f MB)", n, float64(rss)/1e6))
		r.samples = append(r.samples, []float64{float64(rss) / float64(n)})
	}
	b.rows = append(b.rows, r)
	return nil
}
