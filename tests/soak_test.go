//go:build soak

package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// The long forms of the fault tests, for `make soak`. Each prints a line
// "SOAK <what>: converged N/M, worst T" (docs/reliability.md keeps them).

func TestSoakKill9Steady(t *testing.T) { kill9Steady(t, 20) }

func TestSoakKill9MidInstall(t *testing.T) { kill9MidInstall(t, 20, 100_000) }

func TestSoakSIGSTOP(t *testing.T) {
	tr := &trials{name: "SIGSTOP 15s, then SIGCONT"}
	for i := range 3 {
		t.Run(fmt.Sprint(i), func(t *testing.T) { tr.add(sigstop(t, 15*time.Second), nil) })
	}
	tr.report(t)
}

// Two ofactor processes on one fresh bridge, 20 times: both succeed and
// the bridge holds one Geneve mapping and the whole table.
func TestSoakTwoControllers(t *testing.T) {
	sw := ovstest.Start(t)
	tr := &trials{name: "two controllers, fresh bridge"}
	for i := range 20 {
		br, err := sw.AddBridge(fmt.Sprintf("br-two%d", i))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		results := runOnceTogether(t, 2, br.Target(), sampleArgs(t)...)
		var err2 error
		for j, r := range results {
			if r.code != 0 {
				err2 = fmt.Errorf("controller %d: exit %d: %s", j, r.code, tail(r.stderr, 5))
				if k := strings.Index(r.stderr, "WARNING: DATA RACE"); k >= 0 {
					t.Logf("trial %d, controller %d: %s", i, j, r.stderr[k:])
				}
			}
		}
		if err2 == nil {
			if diff := converged(br, sampleWant(t)); diff != "" {
				err2 = fmt.Errorf("%s", diff)
			}
		}
		tr.add(time.Since(start), err2)
	}
	tr.report(t)
}

// A panic in each actor, ten times over.
func TestSoakPanicEachActor(t *testing.T) {
	for i := range 10 {
		if !t.Run(fmt.Sprint(i), TestFaultPanicEachActor) {
			return
		}
	}
}
