package ofactortest_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// An ofactor bridge against the in-memory switch, as an embedder's unit
// test runs it (with a *testing.T, ofactortest.Start makes the socket and
// closes the switch at cleanup).
func Example() {
	dir, _ := os.MkdirTemp("", "oft")
	defer os.RemoveAll(dir)
	sw := ofactortest.New()
	defer sw.Close()
	if err := sw.ListenUnix(filepath.Join(dir, "br-int.mgmt")); err != nil {
		fmt.Println(err)
		return
	}

	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}))
	defer system.Shutdown()
	installed := make(chan *messages.VersionInstalled, 1)
	sub := system.Root.Spawn(ofactor.EventFunc(func(ev any) {
		if v, ok := ev.(*messages.VersionInstalled); ok {
			installed <- v
		}
	}))
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target(), Subscribers: []*actor.PID{sub}})
	if err != nil {
		fmt.Println(err)
		return
	}
	flow, _ := ofctl.ParseFlow("table=0,priority=100,ip,nw_dst=10.0.0.0/8 actions=output:1", nil)
	system.Root.Send(bridge.PID, &messages.PutDesired{Flows: []*openflow.FlowMod{flow}})

	select {
	case v := <-installed:
		fmt.Println("installed version", v.Version)
	case <-time.After(30 * time.Second):
		fmt.Println("not installed")
		return
	}
	for _, l := range sw.DumpFlows() {
		fmt.Println(l)
	}
	fmt.Println(sw.DumpTLVMap()[0].Index, "is the Geneve field")
	// Output:
	// installed version 1
	//  priority=100,ip,nw_dst=10.0.0.0/8 actions=output:1
	// 0 is the Geneve field
}

// New makes a switch; ServeConn serves one end of net.Pipe, and a Client
// speaks OpenFlow 1.3 over the other.
func ExampleNew() {
	sw := ofactortest.New()
	defer sw.Close()
	a, b := net.Pipe()
	sw.ServeConn(a)
	c, err := ofactortest.NewClient(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	add, _ := ofctl.ParseFlow("table=1,priority=5,tcp,tp_dst=80 actions=goto_table:2", nil)
	same, _ := ofctl.ParseFlow("cookie=0x7,table=1,priority=5,tcp,tp_dst=80 actions=drop", nil)
	back, _ := ofctl.ParseFlow("table=2 actions=goto_table:1", nil)
	replies, err := c.Exchange(add, same, back)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range replies {
		fmt.Println(r.Msg.(*openflow.Error).Err())
	}
	for _, l := range sw.DumpFlows() {
		fmt.Println(l)
	}
	// Output:
	// OFPBIC_BAD_TABLE_ID
	//  cookie=0x7, table=1, priority=5,tcp,tp_dst=80 actions=drop
}

// RefuseFlow makes the switch refuse one flow with an error of OVS's
// choosing, as a full table would.
func ExampleSwitch_RefuseFlow() {
	sw := ofactortest.New()
	defer sw.Close()
	sw.RefuseFlow("table=3,priority=10,ip", "OFPFMFC_TABLE_FULL")
	a, b := net.Pipe()
	sw.ServeConn(a)
	c, _ := ofactortest.NewClient(b)
	defer c.Close()

	fm, _ := ofctl.ParseFlow("table=3,priority=10,ip actions=drop", nil)
	replies, _ := c.Exchange(fm)
	fmt.Println(replies[0].Msg.(*openflow.Error).Err())
	// Output:
	// OFPFMFC_TABLE_FULL
}

// Out-of-band changes are what ovs-ofctl would do to the bridge behind a
// controller's back; they fail as ovs-ofctl would.
func ExampleSwitch_AddGroup() {
	sw := ofactortest.New()
	fmt.Println(sw.AddGroup("group_id=1,type=all,bucket=actions=output:1"))
	err := sw.AddGroup("group_id=1,type=all,bucket=actions=output:2")
	fmt.Println(errors.Is(err, ofperr.Named("OFPGMFC_GROUP_EXISTS")))
	sw.AddFlow("table=2 actions=group:1")
	sw.DelGroups(1) // takes the flows that use the group with it
	fmt.Println(len(sw.DumpFlows()), "flows")
	// Output:
	// <nil>
	// true
	// 0 flows
}

// Received counts what a controller sent, by OVS's names: a test can tell
// that a reconnect sent no change.
func ExampleCounts() {
	sw := ofactortest.New()
	defer sw.Close()
	a, b := net.Pipe()
	sw.ServeConn(a)
	c, _ := ofactortest.NewClient(b)
	defer c.Close()

	c.Exchange() // a barrier: the switch has read our HELLO too
	before := sw.Received()
	fm, _ := ofctl.ParseFlow("table=1 actions=drop", nil)
	c.Exchange(&openflow.BundleControl{BundleID: 1, Type: openflow.BundleOpenRequest},
		&openflow.BundleAdd{BundleID: 1, Message: fm},
		&openflow.BundleControl{BundleID: 1, Type: openflow.BundleCommitRequest})
	d := sw.Received().Sub(before)
	fmt.Println(d[ofactortest.MsgBundleAdd], d[ofactortest.MsgFlowMod], d.Mods(), d.Total())
	// Output:
	// 1 1 1 5
}
