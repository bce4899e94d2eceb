package tests

import (
	"strconv"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// convergeWithin bounds each wait for convergence: generous, for -race on
// two shared cores (the reconnect backoff alone may be up to 8 s).
const convergeWithin = 90 * time.Second

// kill -9 of ovs-vswitchd in steady state, then a restart on the same
// database: ofactor reconnects and the bridge holds exactly ovn-sample and
// one Geneve mapping again.
func TestFaultKill9Steady(t *testing.T) { kill9Steady(t, 1) }

func kill9Steady(t *testing.T, n int) {
	sw := ovstest.Start(t)
	startDaemon(t, sw.Target(), sampleArgs(t)...)
	w := sampleWant(t)
	if _, err := waitConverged(sw, w, convergeWithin); err != nil {
		t.Fatalf("first install: %v", err)
	}
	tr := &trials{name: "kill -9 steady (ovn-sample)"}
	for range n {
		if err := sw.Kill9(); err != nil {
			t.Fatal(err)
		}
		if err := sw.Restart(); err != nil {
			t.Fatal(err)
		}
		tr.add(waitConverged(sw, w, convergeWithin))
	}
	tr.report(t)
}

// kill -9 of ovs-vswitchd in the middle of installing a big table (and, in
// later trials, in the middle of reinstalling it after the previous kill):
// after the restart the bridge holds exactly the table.
func TestFaultKill9MidInstall(t *testing.T) { kill9MidInstall(t, 2, 10_000) }

func kill9MidInstall(t *testing.T, n, flows int) {
	sw := ovstest.Start(t)
	args, w := bigTable(t, sw, t.TempDir(), flows)
	startDaemon(t, sw.Target(), args...)
	tr := &trials{name: "kill -9 mid-install (" + itoa(flows) + " flows)"}
	for i := range n {
		// Somewhere in the install: the daemon has just (re)connected.
		time.Sleep(time.Duration(100+(i*337)%(flows/10)) * time.Millisecond)
		if flows, err := sw.DumpFlows(); err == nil {
			t.Logf("trial %d: killed with %d of %d flows installed", i, len(flows), len(w.flows))
		}
		if err := sw.Kill9(); err != nil {
			t.Fatal(err)
		}
		if err := sw.Restart(); err != nil {
			t.Fatal(err)
		}
		tr.add(waitConverged(sw, w, convergeWithin))
		if err := sw.Kill9(); err != nil { // the next trial's install starts here
			t.Fatal(err)
		}
		if err := sw.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	tr.report(t)
}

// itoa writes 10000 as 10k.
func itoa(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}
