package tests

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
)

// A bridge spawned before anything is desired reads the switch but leaves
// it alone: an empty desired table is not "delete everything" until the
// first PutDesired says so. Then it converges.
func TestBridgeWaitsForFirstDesiredState(t *testing.T) {
	sw := ovstest.Start(t)
	if res := runOnce(t, sw.Target(), sampleArgs(t)...); res.code != 0 {
		t.Fatalf("install: exit %d\n%s", res.code, res.stderr)
	}
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: sw.Target()})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the reconciler has read the switch's tables.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := sys.Root.RequestFuture(b.PID, &messages.GetStatus{}, 5*time.Second).Result()
		if err == nil && res.(*messages.Status).InstalledFlows == 790 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reconciler did not read the switch: %v %+v", err, res)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // room for a wrong round to show
	if flows, err := sw.DumpFlows(); err != nil || len(flows) != 790 {
		t.Fatalf("before any PutDesired the switch went from 790 flows to %d (%v)", len(flows), err)
	}

	put, err := desired.Load(desired.Files{
		Flows:  corpus(t, "ovn-sample", "flows.txt"),
		Groups: corpus(t, "ovn-sample", "groups.txt"),
		Meters: corpus(t, "ovn-sample", "meters.txt"),
	})
	if err != nil {
		t.Fatal(err)
	}
	put.Canonical = put.Canonical[:100]
	if _, err := sys.Root.RequestFuture(b.PID, put, 10*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	for deadline = time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		flows, err := sw.DumpFlows()
		if err == nil && len(flows) == 100 {
			break
		}
		if time.Now().After(deadline) {
			res, _ := sys.Root.RequestFuture(b.PID, &messages.GetStatus{}, 5*time.Second).Result()
			t.Fatalf("after PutDesired of 100 flows the switch holds %d (%v); status %+v", len(flows), err, res)
		}
	}
}
