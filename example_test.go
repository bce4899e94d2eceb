package ofactor_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/ofbuild"
	"github.com/ofactor/ofactor/openflow"
)

// quietSystem is an actor system that logs only warnings.
func quietSystem() *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}))
}

// A bridge takes its desired state whether or not its switch is there; it
// installs it once the switch is reachable. Here there is no switch, so
// the status shows the desired tables and nothing installed.
func Example() {
	system := quietSystem()
	defer system.Shutdown()
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{
		Bridge: "br-example",
		Target: "unix:/nonexistent/br-example.mgmt",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { system.Root.PoisonFuture(bridge.PID).Wait() }()

	flow, err := ofbuild.Flow(0, 100).
		Match(ofbuild.IPv4(), ofbuild.IPv4Dst(netip.MustParsePrefix("10.0.0.0/8"))).
		Apply(ofbuild.Output(1)).
		FlowMod()
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := system.Root.RequestFuture(bridge.PID, &messages.PutDesired{
		Flows:  []*openflow.FlowMod{flow},
		Meters: []*openflow.MeterMod{ofbuild.NewMeter(1).Drop(1000, 0).MeterMod()},
	}, 5*time.Second).Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("desired version", res.(*messages.DesiredAccepted).Version)

	res, err = system.Root.RequestFuture(bridge.PID, &messages.GetStatus{}, 5*time.Second).Result()
	if err != nil {
		fmt.Println(err)
		return
	}
	st := res.(*messages.Status)
	fmt.Printf("connected=%v desired flows=%d meters=%d installed version=%d\n",
		st.Connected, st.DesiredFlows, st.DesiredMeters, st.InstalledVersion)
	// Output:
	// desired version 1
	// connected=false desired flows=1 meters=1 installed version=0
}

// EventFunc makes a subscriber from a function; give its PID to
// Config.Subscribers or send messages.Subscribe to a bridge.
func ExampleEventFunc() {
	system := quietSystem()
	defer system.Shutdown()
	events := make(chan any, 1)
	pid := system.Root.Spawn(ofactor.EventFunc(func(ev any) { events <- ev }))

	// A bridge publishes this when the switch holds version 3; sent by
	// hand here, as there is no switch.
	system.Root.Send(pid, "not an event: ignored")
	system.Root.Send(pid, &messages.VersionInstalled{Version: 3, Flows: 10})
	switch ev := (<-events).(type) {
	case *messages.VersionInstalled:
		fmt.Printf("version %d installed, %d flows\n", ev.Version, ev.Flows)
	}
	// Output:
	// version 3 installed, 10 flows
}

// Spawn starts a bridge under any parent: here the root context, in an
// application a supervisor of your own (ctx.Spawn inside its Receive). This
// example needs a running Open vSwitch, so it is compiled but not run; see
// examples/embed for a complete program and its test.
func ExampleSpawn() {
	system := actor.NewActorSystem()
	printer := system.Root.Spawn(ofactor.EventFunc(func(ev any) {
		switch e := ev.(type) {
		case *messages.Connected:
			fmt.Println("connected to", e.Target)
		case *messages.GeneveFieldAssigned:
			fmt.Println("geneve is tun_metadata", e.Index)
		case *messages.VersionInstalled:
			fmt.Println("installed version", e.Version)
		case *messages.Rejected:
			fmt.Println("refused:", e.Error, e.Text)
		}
	}))
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{
		Bridge:      "br-int", // target unix:/var/run/openvswitch/br-int.mgmt
		Subscribers: []*actor.PID{printer},
	})
	if err != nil {
		panic(err)
	}
	flow, _ := ofbuild.Flow(0, 0).Apply(ofbuild.Normal()).FlowMod()
	system.Root.Send(bridge.PID, &messages.PutDesired{Flows: []*openflow.FlowMod{flow}})

	// Later, a delta: O(size of the change), not of the table.
	add, _ := ofbuild.Flow(0, 10).Match(ofbuild.ARP()).Apply(ofbuild.Normal()).FlowMod()
	system.Root.Send(bridge.PID, &messages.UpdateFlows{Add: []*openflow.FlowMod{add}})
}

// A bridge's methods against ofactortest's in-memory switch, as an
// embedder's unit test would drive it: put, wait until the switch holds
// it, change a flow, wait, read what is installed, stop.
func Example_testSwitch() {
	sw := ofactortest.New()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := sw.ListenUnix(filepath.Join(dir, "br-int.mgmt")); err != nil {
		fmt.Println(err)
		return
	}
	defer sw.Close()
	system := quietSystem()
	defer system.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target(), Geneve: ofactor.GeneveOff})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer bridge.Stop(ctx)

	flow := ofbuild.Flow(0, 100).Match(ofbuild.InPort(1)).Apply(ofbuild.Output(2)).MustFlowMod()
	v, err := bridge.Put(ctx, &messages.PutDesired{Flows: []*openflow.FlowMod{flow}})
	if err == nil {
		err = bridge.WaitInstalled(ctx, v)
	}
	change := ofbuild.Flow(0, 100).Match(ofbuild.InPort(1)).Apply(ofbuild.Output(3)).MustFlowMod()
	if err == nil {
		v, err = bridge.Update(ctx, &messages.UpdateFlows{Add: []*openflow.FlowMod{change}})
	}
	if err == nil {
		err = bridge.WaitInstalled(ctx, v)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	installed, _ := bridge.Installed(ctx)
	flows, _, _ := ofactor.Text(installed)
	fmt.Println(flows)
	fmt.Println(sw.DumpFlows())
	// Output:
	// [priority=100,in_port=1 actions=output:3]
	// [ priority=100,in_port=1 actions=output:3]
}
