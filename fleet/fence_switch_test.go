package fleet_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/actors/connection"
	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// The switch's half of fencing, deterministic: an old owner (epoch 1) that
// never hears of the new one (a proxy drops the role status OVS sends it)
// puts a state that would empty the table; OVS refuses its bundle with
// OFPBRC_IS_SECONDARY, the old owner is demoted, and the table stays the
// new owner's (epoch 2). A third claimant with epoch 1 is OFPRRFC_STALE.
func TestFencingBySwitch(t *testing.T) {
	sw := ovstest.Start(t)
	path := strings.TrimPrefix(sw.Target(), "unix:")
	proxy, err := fakeswitch.StartProxy(path, func(toSwitch bool, f []byte) fakeswitch.Verdict {
		if !toSwitch && openflow.IsAsyncFrame(f) {
			if m, err := openflow.Decode(f); err == nil {
				if _, ok := m.(*openflow.RoleStatus); ok {
					return fakeswitch.Drop
				}
			}
		}
		return fakeswitch.Forward
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sys := actor.NewActorSystem(ofactor.WithZap(zap.NewNop()))
	defer sys.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	events := make(chan any, 100)
	claim := func(epoch uint64) func() (connection.RoleClaim, bool) {
		return func() (connection.RoleClaim, bool) {
			return connection.RoleClaim{Role: openflow.RoleMaster, GenerationID: epoch}, true
		}
	}
	flows := []string{"priority=10,in_port=1 actions=output:2", "priority=10,in_port=2 actions=output:1"}

	old, err := ofactor.Spawn(sys.Root, ofactor.Config{Bridge: "old", Target: proxy.Target(), Geneve: ofactor.GeneveOff,
		Role: claim(1), Subscribers: []*actor.PID{sys.Root.Spawn(ofactor.EventFunc(func(ev any) { events <- ev }))}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := old.Put(ctx, &messages.PutDesired{Flows: parseFlows(t, flows)})
	if err == nil {
		err = old.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}

	// The new owner: the same table, a higher epoch. It finds the switch
	// right and sends nothing.
	cur, err := ofactor.Spawn(sys.Root, ofactor.Config{Bridge: "new", Target: sw.Target(), Geneve: ofactor.GeneveOff, Role: claim(2)})
	if err != nil {
		t.Fatal(err)
	}
	v, err = cur.Put(ctx, &messages.PutDesired{Flows: parseFlows(t, flows)})
	if err == nil {
		err = cur.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}

	// The old owner's late write.
	if _, err := old.Put(ctx, &messages.PutDesired{Flows: []*openflow.FlowMod{}}); err != nil {
		t.Fatal(err)
	}
	var demoted *messages.Demoted
	for demoted == nil {
		select {
		case ev := <-events:
			demoted, _ = ev.(*messages.Demoted)
		case <-ctx.Done():
			t.Fatal("the old owner was not demoted")
		}
	}
	if demoted.Reason != "OFPBRC_IS_SECONDARY" {
		t.Errorf("demoted %+v, want OFPBRC_IS_SECONDARY", demoted)
	}
	got, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	if !slices.Equal(got, flows) {
		t.Errorf("the table is %q after the old owner's late write, want %q", got, flows)
	}

	// A claim with an old epoch is refused outright.
	stale := make(chan any, 10)
	if _, err := ofactor.Spawn(sys.Root, ofactor.Config{Bridge: "stale", Target: sw.Target(), Geneve: ofactor.GeneveOff,
		Role: claim(1), Subscribers: []*actor.PID{sys.Root.Spawn(ofactor.EventFunc(func(ev any) { stale <- ev }))}}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-stale:
			if d, ok := ev.(*messages.Demoted); ok {
				if d.Reason != "OFPRRFC_STALE" {
					t.Errorf("stale claim: %+v", d)
				}
				return
			}
			if _, ok := ev.(*messages.Connected); ok {
				t.Fatal("a stale claim connected")
			}
		case <-ctx.Done():
			t.Fatal("the stale claim was not refused")
		}
	}
}
