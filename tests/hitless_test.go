package tests

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// modCounter counts the mods a controller sends through a proxy: flow,
// group and meter mods, bare or inside a bundle, by type.
type modCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *modCounter) hook(toSwitch bool, frame []byte) fakeswitch.Verdict {
	if !toSwitch {
		return fakeswitch.Forward
	}
	t := openflow.Type(frame[1])
	switch {
	case t == openflow.TypeExperimenter && len(frame) >= 26 && binary.BigEndian.Uint32(frame[8:]) == openflow.ExperimenterONF &&
		binary.BigEndian.Uint32(frame[12:]) == openflow.ONFTBundleAddMessage:
		t = openflow.Type(frame[25]) // the inner message's type
	case t == openflow.TypeBundleAddMessage && len(frame) >= 18:
		t = openflow.Type(frame[17])
	}
	name := map[openflow.Type]string{openflow.TypeFlowMod: "flow_mod", openflow.TypeGroupMod: "group_mod",
		openflow.TypeMeterMod: "meter_mod"}[t]
	if name != "" {
		c.mu.Lock()
		c.n[name]++
		c.mu.Unlock()
	}
	return fakeswitch.Forward
}

func (c *modCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// installOnce spawns a bridge with a fresh desired state on target, puts
// groups, meters and flows, waits until the switch holds them, and stops.
func installOnce(t *testing.T, target string, groups, meters, flows []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: target, Geneve: ofactor.GeneveOff})
	if err != nil {
		t.Fatal(err)
	}
	// Parsed for OpenFlow 1.5, which the switch speaks with ofactor: bucket
	// ids and selection methods are kept (1.3 drops them).
	pctx := &ofctl.Context{Version: openflow.Version15}
	pctx.OXM.Geneve = -1
	put := &messages.PutDesired{Flows: []*openflow.FlowMod{}, Groups: []*openflow.GroupMod{}, Meters: []*openflow.MeterMod{},
		Version: openflow.Version15}
	for _, g := range groups {
		gm, err := ofctl.ParseGroup(g, pctx)
		if err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		put.Groups = append(put.Groups, gm)
	}
	for _, m := range meters {
		mm, err := ofctl.ParseMeter(m, pctx)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		put.Meters = append(put.Meters, mm)
	}
	for _, f := range flows {
		fm, err := ofctl.ParseFlow(f, pctx)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		put.Flows = append(put.Flows, fm)
	}
	v, err := b.Put(ctx, put)
	if err == nil {
		err = b.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

// Hitless for every object: a new controller (a fresh desired state, a new
// connection) that finds the switch holding exactly what it wants sends no
// mod at all, whatever the group type and buckets, or the meter's flags and
// bands.
func TestHitlessEveryObject(t *testing.T) {
	sw := ovstest.Start(t)
	for i := 1; i <= 4; i++ {
		if _, err := sw.Vsctl("add-port", sw.Bridge, fmt.Sprintf("p%d", i), "--", "set", "Interface",
			fmt.Sprintf("p%d", i), "type=dummy", fmt.Sprintf("ofport_request=%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	counter := &modCounter{n: map[string]int{}}
	proxy, err := fakeswitch.StartProxy(sw.SocketPath(), counter.hook)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	groups := []string{
		"group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2",
		"group_id=2,type=select,bucket=actions=output:1,bucket=actions=output:2",
		"group_id=3,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2",
		"group_id=4,type=indirect,bucket=actions=output:3",
		"group_id=5,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=output:2",
		"group_id=6,type=fast_failover,bucket=watch_group:4,actions=group:4,bucket=watch_port:3,watch_group:1,actions=output:3",
		"group_id=8,type=all",
		"group_id=9,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=bucket_id:5,weight:10,actions=output:1,bucket=bucket_id:7,weight:20,actions=output:2",
		"group_id=10,type=select,selection_method=dp_hash,bucket=bucket_id:1,actions=output:3,bucket=bucket_id:0,actions=output:4",
		"group_id=11,type=fast_failover,bucket=bucket_id:9,watch_port:1,actions=output:1,bucket=bucket_id:3,watch_port:2,actions=output:2",
	}
	meters := []string{
		"meter=1,pktps,bands=type=drop,rate=10",
		"meter=2,kbps,bands=type=drop,rate=1000",
		"meter=3,kbps,burst,bands=type=drop,rate=1000,burst_size=100",
		"meter=4,pktps,burst,stats,bands=type=drop,rate=10,burst_size=5",
		"meter=5,kbps,stats,bands=type=drop,rate=100,type=drop,rate=500",
		"meter=6,pktps,burst,bands=type=drop,rate=10,burst_size=3,type=drop,rate=50,burst_size=9",
	}
	flows := []string{
		"priority=10,in_port=1 actions=group:3",
		"priority=10,in_port=2 actions=meter:1,output:1",
	}
	installOnce(t, proxy.Target(), groups, meters, flows)
	if out, err := sw.Ofctl("-O", "OpenFlow15", "dump-groups"); err != nil ||
		!strings.Contains(out, "group_id=9,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=bucket_id:5,weight:10,actions=output:1,bucket=bucket_id:7,") ||
		!strings.Contains(out, "bucket=bucket_id:9,watch_port:1,") {
		t.Fatalf("the 1.5 groups are not as written: %v\n%s", err, out)
	}
	first := counter.take()
	if first["group_mod"] != len(groups) || first["meter_mod"] != len(meters) || first["flow_mod"] != len(flows) {
		t.Fatalf("first install sent %v", first)
	}
	installOnce(t, proxy.Target(), groups, meters, flows)
	if again := counter.take(); len(again) != 0 {
		var b strings.Builder
		out, _ := sw.Ofctl("dump-groups")
		b.WriteString(out)
		out, _ = sw.Ofctl("dump-meters")
		b.WriteString(out)
		t.Fatalf("a controller finding the switch right sent %v\n%s", again, b.String())
	}
}
