package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/fleetproc"
)

// Three member processes: every bridge is owned exactly once, /status on
// any member lists every bridge with its owner and epoch; kill -9 of the
// member owning the most bridges moves them to the survivors, which become
// MASTER with a higher epoch and send no flow_mod, and no table differs
// from its file at any moment.
func TestFleetKill9Failover(t *testing.T) {
	r := newRig(t, 6, false)
	procs := []*fleetproc.Proc{r.start(0), r.start(0), r.start(0)}
	var pl placement
	eventually(t, 60*time.Second, "every bridge MASTER on exactly one member, tables right", func() (err error) {
		if pl, err = r.settled(procs...); err != nil {
			return err
		}
		return r.tablesRight()
	})
	for _, p := range procs {
		st, err := p.Status()
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Bridges) != len(r.names) || len(st.Members) != 3 {
			t.Fatalf("%s /status: %d bridges, members %v", p.Spec.Listen, len(st.Bridges), st.Members)
		}
		for _, b := range st.Bridges {
			if on := pl[b.Bridge][0]; b.Owner != on.proc.Spec.Listen || b.Epoch != on.local.Epoch || !b.OwnerAlive {
				t.Errorf("%s /status: %s owner %s epoch %d alive %v; active on %s epoch %d", p.Spec.Listen, b.Bridge,
					b.Owner, b.Epoch, b.OwnerAlive, on.proc.Spec.Listen, on.local.Epoch)
			}
		}
	}

	stop := r.watchTables()
	victim, moved := mostLoaded(pl)
	survivors := slices.DeleteFunc(slices.Clone(procs), func(p *fleetproc.Proc) bool { return p == victim })
	killed := time.Now()
	victim.Kill9()
	t.Logf("killed %s owning %v", victim.Spec.Listen, moved)
	var after placement
	eventually(t, 30*time.Second, "the victim's bridges MASTER on survivors", func() (err error) {
		after, err = r.settled(survivors...)
		return err
	})
	rounds, diff := stop()
	var worst time.Duration
	for _, n := range moved {
		on := after[n][0]
		if on.local.Epoch <= pl[n][0].local.Epoch {
			t.Errorf("%s: epoch %d after the failover, %d before", n, on.local.Epoch, pl[n][0].local.Epoch)
		}
		if on.local.FlowMods != 0 || on.local.GroupMods != 0 || on.local.MeterMods != 0 {
			t.Errorf("%s: the new owner sent %d flow_mods, %d group_mods, %d meter_mods; want none", n,
				on.local.FlowMods, on.local.GroupMods, on.local.MeterMods)
		}
		worst = max(worst, on.local.MasterSince.Sub(killed))
	}
	t.Logf("kill -9: %d bridges MASTER again on the survivors, the last %v after the kill; %d rounds of dumps",
		len(moved), worst.Round(time.Millisecond), rounds)
	if diff != nil {
		t.Errorf("a table differed from its file during the failover: %v", diff)
	}
	if err := r.tablesRight(); err != nil {
		t.Error(err)
	}
}

// A member joining takes bridges over by handoff: the new owner becomes
// MASTER with a higher epoch, the old one steps down, and the tables never
// change meanwhile.
func TestFleetJoinHandoff(t *testing.T) {
	r := newRig(t, 6, false)
	// Ports such that the joiner owns some bridges and leaves some.
	var a, b, c int
	for {
		a, b, c = freePort(t), freePort(t), freePort(t)
		own := predictOwners(r.names, a, b, c)
		n := 0
		for _, p := range own {
			if p == c {
				n++
			}
		}
		if n > 0 && n < len(r.names) && a != b && b != c && a != c {
			break
		}
	}
	procs := []*fleetproc.Proc{r.start(a), r.start(b)}
	var before placement
	eventually(t, 60*time.Second, "two members settled", func() (err error) {
		if before, err = r.settled(procs...); err != nil {
			return err
		}
		return r.tablesRight()
	})
	stop := r.watchTables()
	joiner := r.start(c)
	procs = append(procs, joiner)
	want := predictOwners(r.names, a, b, c)
	var after placement
	eventually(t, 60*time.Second, "the joiner's bridges handed over", func() (err error) {
		if after, err = r.settled(procs...); err != nil {
			return err
		}
		for _, n := range r.names {
			if got := portOfProc(after[n][0].proc); got != want[n] {
				return fmt.Errorf("%s on %d, want %d", n, got, want[n])
			}
		}
		return nil
	})
	rounds, diff := stop()
	moved := 0
	for _, n := range r.names {
		on := after[n][0]
		if on.proc != joiner {
			continue
		}
		moved++
		if on.local.Epoch <= before[n][0].local.Epoch {
			t.Errorf("%s: epoch %d on the joiner, %d before", n, on.local.Epoch, before[n][0].local.Epoch)
		}
		if on.local.FlowMods+on.local.GroupMods+on.local.MeterMods != 0 {
			t.Errorf("%s: the joiner sent %d flow_mods", n, on.local.FlowMods)
		}
	}
	t.Logf("join: %d bridges handed over; %d rounds of dumps", moved, rounds)
	if diff != nil {
		t.Errorf("a table changed during the handoff: %v", diff)
	}
}

func portOfProc(p *fleetproc.Proc) int {
	var port int
	fmt.Sscanf(p.Spec.Listen, "127.0.0.1:%d", &port)
	return port
}

// etcd restarted under a running fleet: no bridge is lost and ownership
// is unchanged (same owners, same epochs).
func TestFleetEtcdRestart(t *testing.T) {
	r := newRig(t, 4, false)
	procs := []*fleetproc.Proc{r.start(0), r.start(0)}
	var before placement
	eventually(t, 60*time.Second, "settled", func() (err error) {
		before, err = r.settled(procs...)
		return err
	})
	if err := r.etcd.Restart(); err != nil {
		t.Fatal(err)
	}
	// Longer than the provider's lease (3 s): a lease lost would show.
	time.Sleep(6 * time.Second)
	after, err := r.settled(procs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range r.names {
		b, a := before[n][0], after[n][0]
		if b.proc != a.proc || b.local.Epoch != a.local.Epoch || b.local.Activation != a.local.Activation {
			t.Errorf("%s: on %s epoch %d before, on %s epoch %d after", n, b.proc.Spec.Listen, b.local.Epoch,
				a.proc.Spec.Listen, a.local.Epoch)
		}
	}
	for _, p := range procs {
		if st, err := p.Status(); err != nil || st.Error != "" || len(st.Members) != 2 {
			t.Errorf("%s after the etcd restart: %+v %v", p.Spec.Listen, st, err)
		}
	}
}
