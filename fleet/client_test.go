package fleet_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/ofactor/ofactor/fleet"
	"github.com/ofactor/ofactor/internal/fleetproc"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

func parseFlows(t testing.TB, lines []string) []*openflow.FlowMod {
	t.Helper()
	var out []*openflow.FlowMod
	for _, l := range lines {
		fm, err := ofctl.ParseFlow(l, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fm)
	}
	return out
}

// events records a client's events.
type events struct {
	mu  sync.Mutex
	all []proto.Message
}

func (e *events) on(m proto.Message) {
	e.mu.Lock()
	e.all = append(e.all, m)
	e.mu.Unlock()
}

// waitFor returns the first event that match accepts, within d.
func (e *events) waitFor(t testing.TB, d time.Duration, what string, match func(proto.Message) bool) proto.Message {
	t.Helper()
	var found proto.Message
	eventually(t, d, "event "+what, func() error {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, m := range e.all {
			if match(m) {
				found = m
				return nil
			}
		}
		return fmt.Errorf("%d events, none matches", len(e.all))
	})
	return found
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
	ev := &events{}
	c, err := fleet.NewClient(fleet.ClientConfig{Name: r.cluster, Etcd: r.etcd.Endpoints(), OnEvent: ev.on,
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Named("client")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	for _, n := range r.names {
		first := r.flows[n][:3] // the last flow comes as an update
		res, err := c.Put(ctx, n, &messages.PutDesired{Flows: parseFlows(t, first)})
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("put %s: %v %v", n, res, err)
		}
		if on := pl[n][0]; res.Member != on.proc.Spec.Listen || res.Epoch != on.local.Epoch {
			t.Errorf("put %s answered by %s epoch %d; active on %s epoch %d", n, res.Member, res.Epoch,
				on.proc.Spec.Listen, on.local.Epoch)
		}
		ev.waitFor(t, 30*time.Second, "VersionInstalled of "+n, func(m proto.Message) bool {
			vi, ok := m.(*fleetpb.VersionInstalled)
			return ok && vi.Bridge == n && vi.Epoch == res.Epoch && vi.Version >= res.Version
		})
		up, err := c.Update(ctx, n, &messages.UpdateFlows{Add: parseFlows(t, r.flows[n][3:])})
		if err != nil || len(up.Errors) > 0 {
			t.Fatalf("update %s: %v %v", n, up, err)
		}
		if err := c.WaitInstalled(ctx, n, up.Epoch, up.Version); err != nil {
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
			st, err := c.Status(ctx, n)
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
		ev.waitFor(t, 10*time.Second, "Activated of "+n, func(m proto.Message) bool {
			a, ok := m.(*fleetpb.Activated)
			return ok && a.Bridge == n && a.Member != victim.Spec.Listen && a.Pushed
		})
	}
}
