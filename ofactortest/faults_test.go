package ofactortest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/go-cmp/cmp"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofactortest"
)

// What embedders test with the fault hooks: an ofactor bridge against a
// switch that refuses, restarts, drifts and stalls.

// events collects a bridge's events.
type events struct {
	mu  sync.Mutex
	all []any
}

func (e *events) add(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) rejected() []*messages.Rejected {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*messages.Rejected
	for _, ev := range e.all {
		if r, ok := ev.(*messages.Rejected); ok {
			out = append(out, r)
		}
	}
	return out
}

// startBridgeEvents is startBridge with the bridge's events collected.
func startBridgeEvents(t *testing.T, target string, s sample) (*bridge, *events) {
	t.Helper()
	sys := quietSystem()
	t.Cleanup(sys.Shutdown)
	ev := &events{}
	sub := sys.Root.Spawn(ofactor.EventFunc(ev.add))
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: target, Subscribers: []*actor.PID{sub}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Root.RequestFuture(b.PID, &messages.PutDesired{Flows: s.flows, Groups: s.groups, Meters: s.meters}, 10*time.Second).Result(); err != nil {
		t.Fatal(err)
	}
	return &bridge{sys: sys, pid: b.PID}, ev
}

func TestOfactorReportsARefusedFlow(t *testing.T) {
	s := loadSample(t)
	sw := ofactortest.Start(t)
	lines := s.lines(t, "flows.txt")
	victim := lines[100]
	if err := sw.RefuseFlow(victim, "OFPFMFC_TABLE_FULL"); err != nil {
		t.Fatal(err)
	}
	b, ev := startBridgeEvents(t, sw.Target(), s)
	st := b.inSync(t, 1)
	if st.Rejected != 1 {
		t.Errorf("status says %d rejected, want 1", st.Rejected)
	}
	waitFor(t, "the Rejected event", func() bool { return len(ev.rejected()) > 0 })
	r := ev.rejected()[0]
	if r.Error != "OFPFMFC_TABLE_FULL" {
		t.Errorf("rejected with %q, want OFPFMFC_TABLE_FULL (%+v)", r.Error, r)
	}
	want := append(append([]string(nil), lines[:100]...), lines[101:]...)
	if diff := cmp.Diff(want, sw.DumpFlows()); diff != "" {
		t.Errorf("flows (-sample without the refused one +switch):\n%s", diff)
	}
}

func TestOfactorReinstallsAfterARestart(t *testing.T) {
	s := loadSample(t)
	sw := ofactortest.Start(t)
	b := startBridge(t, sw.Target(), s)
	b.inSync(t, 1)
	sw.Restart() // kill -9 and a restart of ovs-vswitchd: all gone
	waitFor(t, "the sample back on the switch", func() bool { return sw.FlowCount() == len(s.flows) })
	b.inSync(t, 2)
	if diff := cmp.Diff(s.lines(t, "flows.txt"), sw.DumpFlows()); diff != "" {
		t.Errorf("flows after the restart (-sample +switch):\n%s", diff)
	}
	if diff := cmp.Diff(s.lines(t, "groups.txt"), sw.DumpGroups()); diff != "" {
		t.Errorf("groups after the restart (-sample +switch):\n%s", diff)
	}
}

func TestOfactorHealsDriftOnReconnect(t *testing.T) {
	s := loadSample(t)
	sw := ofactortest.Start(t)
	b := startBridge(t, sw.Target(), s)
	b.inSync(t, 1)
	// An operator deletes a table and a group (with the flows using it)
	// behind the controller's back, and adds a flow of their own.
	if err := sw.DelFlows("table=13"); err != nil {
		t.Fatal(err)
	}
	if err := sw.DelGroups(1); err != nil {
		t.Fatal(err)
	}
	if err := sw.AddFlow("table=99,priority=1 actions=drop"); err != nil {
		t.Fatal(err)
	}
	missing := len(s.flows) - (sw.FlowCount() - 1)
	before := sw.Received()
	sw.Disconnect()
	waitFor(t, "the sample back on the switch", func() bool {
		return cmp.Equal(s.lines(t, "flows.txt"), sw.DumpFlows())
	})
	b.inSync(t, 2)
	d := sw.Received().Sub(before)
	// Only the difference is sent: the missing flows, the group, the
	// stranger's flow deleted.
	if got := d[ofactortest.MsgFlowMod]; got != missing+1 {
		t.Errorf("%d flow_mods to heal %d missing flows and one extra: %v", got, missing, d)
	}
	if diff := cmp.Diff(s.lines(t, "groups.txt"), sw.DumpGroups()); diff != "" {
		t.Errorf("groups (-sample +switch):\n%s", diff)
	}
}

func TestOfactorWaitsOutAStall(t *testing.T) {
	s := loadSample(t)
	sw := ofactortest.Start(t)
	sw.Stall() // SIGSTOP: the connection is accepted, nothing is answered
	b := startBridge(t, sw.Target(), s)
	waitFor(t, "the bridge to connect", func() bool { return sw.Connections() == 1 })
	if n := sw.FlowCount(); n != 0 {
		t.Fatalf("a stalled switch took %d flows", n)
	}
	sw.Release()
	b.inSync(t, 1)
	if diff := cmp.Diff(s.lines(t, "flows.txt"), sw.DumpFlows()); diff != "" {
		t.Errorf("flows (-sample +switch):\n%s", diff)
	}
}
