// Command embed shows ofactor used as a library: one actor system drives
// two bridges, each on its own switch, with flows built in Go, and prints
// every event the bridges publish.
//
//	scripts/ovs-sandbox.sh start /tmp/a br-a
//	scripts/ovs-sandbox.sh start /tmp/b br-b
//	go run ./examples/embed unix:/tmp/a/br-a.mgmt unix:/tmp/b/br-b.mgmt
//
// It installs a small table on each bridge (one flow on br-b refers to a
// group that does not exist, so the switch refuses it: a Rejected event),
// then adds a flow to br-a with a delta (UpdateFlows), and exits once both
// bridges hold their last version. With -watch it keeps running and printing
// events (disconnects, reconnects) until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofbuild"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func main() {
	watch := flag.Bool("watch", false, "keep running and printing events until interrupted")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long (without -watch)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: embed [-watch] [-timeout D] TARGET-A TARGET-B")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 2 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if !*watch {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	if err := run(ctx, flag.Arg(0), flag.Arg(1), *watch, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed:", err)
		os.Exit(1)
	}
}

// event is one bridge's event, for the printing loop.
type event struct {
	bridge string
	ev     any
}

// run drives bridges br-a on targetA and br-b on targetB.
func run(ctx context.Context, targetA, targetB string, watch bool, out io.Writer) error {
	// protoactor logs its own lifecycle through slog: warnings only here.
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}))
	defer system.Shutdown()

	events := make(chan event, 256)
	quit := make(chan struct{})
	subscriber := func(bridge string) *actor.PID {
		return system.Root.Spawn(ofactor.EventFunc(func(ev any) {
			select {
			case events <- event{bridge, ev}:
			case <-quit: // run has returned: nobody prints any more
			}
		}))
	}
	a, err := ofactor.Spawn(system.Root, ofactor.Config{Bridge: "br-a", Target: targetA,
		Subscribers: []*actor.PID{subscriber("br-a")}})
	if err != nil {
		return err
	}
	b, err := ofactor.Spawn(system.Root, ofactor.Config{Bridge: "br-b", Target: targetB,
		Subscribers: []*actor.PID{subscriber("br-b")}})
	if err != nil {
		return err
	}
	defer func() {
		system.Root.PoisonFuture(a.PID).Wait()
		system.Root.PoisonFuture(b.PID).Wait()
	}()
	defer close(quit)

	putA, err := tableA()
	if err != nil {
		return err
	}
	putB, err := tableB()
	if err != nil {
		return err
	}
	want := map[string]uint64{}
	for _, p := range []struct {
		name string
		pid  *actor.PID
		msg  any
	}{{"br-a", a.PID, putA}, {"br-b", b.PID, putB}} {
		v, err := request(system, p.pid, p.msg)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		want[p.name] = v
	}

	var once sync.Once
	done := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			if watch {
				return nil
			}
			return fmt.Errorf("bridges not installed: %w", ctx.Err())
		case e := <-events:
			fmt.Fprintf(out, "%-5s %s\n", e.bridge, describe(e.ev))
			vi, ok := e.ev.(*messages.VersionInstalled)
			if !ok || vi.Version < want[e.bridge] {
				continue
			}
			done[e.bridge] = true
			if e.bridge == "br-a" {
				// Once br-a holds its table, change it by a delta.
				var err error
				once.Do(func() { want["br-a"], err = addFlow(system, a.PID) })
				if err != nil {
					return err
				}
				if vi.Version < want["br-a"] {
					done["br-a"] = false
				}
			}
			if done["br-a"] && done["br-b"] && !watch {
				return nil
			}
		}
	}
}

// request sends a PutDesired or UpdateFlows and returns the version the
// bridge gave it.
func request(system *actor.ActorSystem, pid *actor.PID, msg any) (uint64, error) {
	res, err := system.Root.RequestFuture(pid, msg, 10*time.Second).Result()
	if err != nil {
		return 0, err
	}
	acc := res.(*messages.DesiredAccepted)
	if len(acc.Errors) > 0 {
		return 0, fmt.Errorf("not accepted: %s", strings.Join(acc.Errors, "; "))
	}
	return acc.Version, nil
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err) // constants of this program
	}
	return m
}

// tableA is a tiny L2 switch with a load-balancing group and a metered
// flow to the controller, built in Go.
func tableA() (*messages.PutDesired, error) {
	flows := []*ofbuild.FlowBuilder{
		ofbuild.Flow(0, 100).Match(ofbuild.InPort(1)).Apply(ofbuild.SetReg(14, 1), ofbuild.Resubmit(8)),
		ofbuild.Flow(0, 100).Match(ofbuild.InPort(2)).Apply(ofbuild.SetReg(14, 2), ofbuild.Resubmit(8)),
		ofbuild.Flow(8, 50).Match(ofbuild.EthDst(mustMAC("0a:00:00:00:00:01"))).Apply(ofbuild.Output(1)),
		ofbuild.Flow(8, 50).Match(ofbuild.EthDst(mustMAC("0a:00:00:00:00:02"))).Apply(ofbuild.Output(2)),
		ofbuild.Flow(8, 40).Match(ofbuild.TCP(), ofbuild.IPv4Dst(netip.MustParsePrefix("10.0.0.100/32")), ofbuild.TCPDst(80)).
			Apply(ofbuild.Group(1)),
		ofbuild.Flow(8, 30).Match(ofbuild.ARP()).Meter(1).Apply(ofbuild.Controller(0xffff)),
		ofbuild.Flow(8, 0),
	}
	put := &messages.PutDesired{}
	for _, f := range flows {
		fm, err := f.FlowMod()
		if err != nil {
			return nil, err
		}
		put.Flows = append(put.Flows, fm)
	}
	g, err := ofbuild.NewGroup(1, openflow.GroupTypeSelect).
		Bucket(ofbuild.SetIPv4Dst(netip.MustParseAddr("10.0.0.11")), ofbuild.Output(1)).
		Bucket(ofbuild.SetIPv4Dst(netip.MustParseAddr("10.0.0.12")), ofbuild.Output(2)).
		GroupMod()
	if err != nil {
		return nil, err
	}
	put.Groups = []*openflow.GroupMod{g}
	put.Meters = []*openflow.MeterMod{ofbuild.NewMeter(1).PacketsPerSecond().Drop(100, 0).MeterMod()}
	return put, nil
}

// tableB mixes the builder with ovs-ofctl text, and has one flow the switch
// refuses (group 99 does not exist).
func tableB() (*messages.PutDesired, error) {
	put := &messages.PutDesired{Groups: []*openflow.GroupMod{}, Meters: []*openflow.MeterMod{}}
	fm, err := ofbuild.Flow(0, 10).Match(ofbuild.IPv4()).Apply(ofbuild.Normal()).FlowMod()
	if err != nil {
		return nil, err
	}
	put.Flows = append(put.Flows, fm)
	for _, text := range []string{
		"table=0,priority=20,arp,actions=NORMAL",
		"table=0,priority=30,udp,tp_dst=4789,actions=group:99",
	} {
		fm, err := ofctl.ParseFlow(text, nil)
		if err != nil {
			return nil, err
		}
		put.Flows = append(put.Flows, fm)
	}
	return put, nil
}

// addFlow adds one flow to br-a by a delta and returns the new version.
func addFlow(system *actor.ActorSystem, pid *actor.PID) (uint64, error) {
	fm, err := ofbuild.Flow(8, 60).Match(ofbuild.EthDst(mustMAC("0a:00:00:00:00:03"))).
		Apply(ofbuild.Output(3)).FlowMod()
	if err != nil {
		return 0, err
	}
	return request(system, pid, &messages.UpdateFlows{Add: []*openflow.FlowMod{fm}})
}

// describe prints an event on one line.
func describe(ev any) string {
	switch e := ev.(type) {
	case *messages.Connected:
		return fmt.Sprintf("connected (connection %d, OpenFlow version 0x%02x)", e.Seq, e.Version)
	case *messages.Disconnected:
		return fmt.Sprintf("disconnected (connection %d): %s", e.Seq, e.Err)
	case *messages.GeneveFieldAssigned:
		if !e.Enabled {
			return "geneve disabled"
		}
		return fmt.Sprintf("geneve option 0x%04x,0x%02x,%d is tun_metadata%d", e.Class, e.Type, e.Len, e.Index)
	case *messages.VersionInstalled:
		return fmt.Sprintf("version %d installed: %d flows, %d groups, %d meters, %d refused",
			e.Version, e.Flows, e.Groups, e.Meters, e.Rejected)
	case *messages.Rejected:
		return fmt.Sprintf("switch refused %s %s: %s", e.Kind, e.Text, e.Error)
	case *messages.Progress:
		return fmt.Sprintf("version %d: %d/%d sent, %d confirmed", e.Version, e.Sent, e.Total, e.Confirmed)
	case *messages.RoundFinished:
		s := fmt.Sprintf("round for version %d: %d adds, %d modifies, %d deletes in %v",
			e.Version, e.FlowAdds, e.FlowModifies, e.FlowDeletes, e.Duration.Round(time.Microsecond))
		if len(e.ErrorNames) > 0 {
			names := append([]string(nil), e.ErrorNames...)
			sort.Strings(names)
			s += ", refused: " + strings.Join(names, " ")
		}
		return s
	}
	return fmt.Sprintf("%T", ev)
}
