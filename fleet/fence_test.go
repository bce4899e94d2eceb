package fleet_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// An owner paused (SIGSTOP) for longer than the failure timeout, then
// continued: meanwhile another member took its bridges with a higher
// epoch; what the paused one still had to write (a put sent to its
// activation while it was stopped: it would empty the table) is refused,
// by the switch (OFPBRC_IS_SECONDARY, or the role status it finds waiting)
// or by etcd (its registration expired: it stops everything and rejoins as
// a new member). The table never differs from the client's state.
func TestFleetSigstopFencing(t *testing.T) {
	r := newRig(t, 3, true)
	a, b := r.start(0), r.start(0)
	var pl placement
	eventually(t, 60*time.Second, "settled", func() (err error) {
		pl, err = r.settled(a, b)
		return err
	})
	c := r.startClient()
	for _, n := range r.names {
		res, err := c.Put(n, r.flows[n])
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WaitInstalled(n, res.Epoch, res.Version); err != nil {
			t.Fatal(err)
		}
	}
	victim, moved := mostLoaded(pl)
	other := a
	if victim == a {
		other = b
	}
	stop := r.watchTables()
	if err := victim.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	defer func() {
		if paused {
			victim.Resume()
		}
	}()
	t.Logf("paused %s owning %v", victim.Spec.Listen, moved)
	eventually(t, 30*time.Second, "the paused member's bridges MASTER on the other, the client's state installed", func() error {
		act, err := other.Active()
		if err != nil {
			return err
		}
		for _, n := range moved {
			l := act[n]
			if l == nil || !l.Master || l.Epoch <= pl[n][0].local.Epoch {
				return fmt.Errorf("%s: %+v", n, l)
			}
			st, err := c.Status(n)
			if err != nil {
				return err
			}
			if st.WaitingForDesired || st.InstalledVersion < st.DesiredVersion || st.InstalledVersion == 0 {
				return fmt.Errorf("%s: %+v", n, st)
			}
		}
		return nil
	})
	// The late writes: puts that would empty the tables, to the paused
	// member's old activations; they wait in its sockets.
	for _, n := range moved {
		if err := c.Send(victim.Spec.Listen, pl[n][0].local.Activation, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second) // paused well past the failure timeout
	if err := victim.Resume(); err != nil {
		t.Fatal(err)
	}
	paused = false
	resumed := time.Now()
	eventually(t, 60*time.Second, "the resumed member stopped its old bridges and rejoined", func() error {
		log, err := os.ReadFile(victim.Log)
		if err != nil {
			return err
		}
		if !strings.Contains(string(log), "expelled from the cluster: rejoining as a new member") {
			return fmt.Errorf("not rejoined yet")
		}
		_, err = r.settled(victim, other)
		return err
	})
	rounds, diff := stop()
	log, _ := os.ReadFile(victim.Log)
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, `"demoted`) || strings.Contains(line, "left the cluster") ||
			strings.Contains(line, "OFPBRC_IS_SECONDARY") {
			t.Logf("resumed member: %s", line)
		}
	}
	t.Logf("resumed %v ago; %d rounds of dumps", time.Since(resumed).Round(time.Millisecond), rounds)
	if !strings.Contains(string(log), "this member left the cluster: stopping its bridges") {
		t.Error("the resumed member did not find itself expelled")
	}
	if diff != nil {
		t.Errorf("a table differed from the client's state: %v", diff)
	}
	if err := r.tablesRight(); err != nil {
		t.Error(err)
	}
}
