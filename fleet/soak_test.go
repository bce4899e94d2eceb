//go:build soak

package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/fleetproc"
)

// The long form of the kill -9 test (make soak): 10 trials on 3 members and
// 12 bridges, each killing the member owning the most bridges and starting
// a new member in its place (a join: handoff), every table dumped over and
// over throughout.
func TestSoakFleetKill9(t *testing.T) {
	const trials = 10
	r := newRig(t, 12, false)
	procs := []*fleetproc.Proc{r.start(0), r.start(0), r.start(0)}
	var pl placement
	eventually(t, 2*time.Minute, "settled", func() (err error) {
		if pl, err = r.settled(procs...); err != nil {
			return err
		}
		return r.tablesRight()
	})
	stop := r.watchTables()
	converged, mods := 0, 0
	var worst time.Duration
	for i := range trials {
		victim, moved := mostLoaded(pl)
		procs = slices.DeleteFunc(procs, func(p *fleetproc.Proc) bool { return p == victim })
		killed := time.Now()
		victim.Kill9()
		var after placement
		deadline := time.Now().Add(30 * time.Second)
		var err error
		for {
			if after, err = r.settled(procs...); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("trial %d: %v", i, err)
			break
		}
		converged++
		for _, n := range moved {
			worst = max(worst, after[n][0].local.MasterSince.Sub(killed))
			mods += after[n][0].local.FlowMods
		}
		procs = append(procs, r.start(0))
		eventually(t, time.Minute, fmt.Sprintf("trial %d: settled after the join", i), func() (err error) {
			pl, err = r.settled(procs...)
			return err
		})
	}
	rounds, diff := stop()
	fmt.Printf("SOAK fleet kill -9: converged %d/%d, worst %v, %d flow_mods, %d rounds of dumps, table changed: %v\n",
		converged, trials, worst.Round(time.Millisecond), mods, rounds, diff)
	if diff != nil {
		t.Error(diff)
	}
	if mods != 0 {
		t.Errorf("%d flow_mods sent by new owners", mods)
	}
}
