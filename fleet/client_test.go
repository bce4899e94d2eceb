package fleet_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/fleetproc"
)

// startClient starts a client process of the rig's fleet.
func (r *rig) startClient() *fleetproc.ClientProc {
	r.t.Helper()
	c, err := fleetproc.StartClient(r.dir, fleetproc.ClientSpec{Name: r.cluster, Etcd: r.etcd.Endpoints(),
		HTTP: fmt.Sprintf("127.0.0.1:%d", freePort(r.t))})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(c.Stop)
	return c
}

// waitEvent waits until the client process has received an event that
// match accepts.
func waitEvent(t testing.TB, c *fleetproc.ClientProc, d time.Duration, what string, match func(fleetproc.Event) bool) {
	t.Helper()
	eventually(t, d, "event "+what, func() error {
		evs, err := c.Events()
		if err != nil {
			return err
		}
		if slices.ContainsFunc(evs, match) {
			return nil
		}
		return fmt.Errorf("%d events, none matches", len(evs))
	})
}

// A client process puts desired state to bridges owned by other processes
// and receives VersionInstalled; after kill -9 of an owner, the client's
// state (its put and an update since) is put again on the new owner by
// the client itself, the new owner having touched nothing until then: no
// table differs at any moment, and no flow_mod is sent.
func TestFleetClientRePutAfterFailover(t *testing.T) {
	r := newRig(t, 4, true)
	procs := []*fleetproc.Proc{r.start(0), r.start(0)}
	var pl placement
	eventually(t, 60*time.Second, "settled", func() (err error) {
		pl, err = r.settled(procs...)
		return err
	})
	c := r.startClient()
	for _, n := range r.names {
		res, err := c.Put(n, r.flows[n][:3]) // the last flow comes as an update
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("put %s: %v %v", n, res, err)
		}
		if on := pl[n][0]; res.Member != on.proc.Spec.Listen || res.Epoch != on.local.Epoch {
			t.Errorf("put %s answered by %s epoch %d; active on %s epoch %d", n, res.Member, res.Epoch,
				on.proc.Spec.Listen, on.local.Epoch)
		}
		waitEvent(t, c, 30*time.Second, "VersionInstalled of "+n, func(e fleetproc.Event) bool {
			return e.Type == "VersionInstalled" && e.Bridge == n && e.Epoch == res.Epoch && e.Version >= res.Version
		})
		up, err := c.Update(n, r.flows[n][3:], nil)
		if err != nil || len(up.Errors) > 0 {
			t.Fatalf("update %s: %v %v", n, up, err)
		}
		if err := c.WaitInstalled(n, up.Epoch, up.Version); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.tablesRight(); err != nil {
		t.Fatal(err)
	}

	stop := r.watchTables()
	victim, moved := mostLoaded(pl)
	survivors := slices.DeleteFunc(slices.Clone(procs), func(p *fleetproc.Proc) bool { return p == victim })
	victim.Kill9()
	t.Logf("killed %s owning %v", victim.Spec.Listen, moved)
	eventually(t, 30*time.Second, "the client's state put again on the new owners", func() error {
		for _, n := range moved {
			st, err := c.Status(n)
			if err != nil {
				return err
			}
			if st.Member == victim.Spec.Listen || st.WaitingForDesired || st.InstalledVersion == 0 ||
				st.InstalledVersion < st.DesiredVersion || !st.Master {
				return fmt.Errorf("%s: %+v", n, st)
			}
			if st.FlowMods != 0 {
				t.Errorf("%s: the new owner sent %d flow_mods", n, st.FlowMods)
			}
		}
		return nil
	})
	if _, err := r.settled(survivors...); err != nil {
		t.Error(err)
	}
	rounds, diff := stop()
	t.Logf("%d rounds of dumps during the failover", rounds)
	if diff != nil {
		t.Errorf("a table differed during the failover: %v", diff)
	}
	for _, n := range moved {
		waitEvent(t, c, 10*time.Second, "Activated of "+n, func(e fleetproc.Event) bool {
			return e.Type == "Activated" && e.Bridge == n && e.Member != victim.Spec.Listen
		})
	}
}
