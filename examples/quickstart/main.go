// Command quickstart is the README's embedding example: spawn a bridge, put
// flows, wait until the switch holds them, change one, wait, read, stop.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/ofbuild"
	"github.com/ofactor/ofactor/openflow"
)

func main() {
	if err := run(context.Background(), os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, target string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	system := actor.NewActorSystem()
	defer system.Shutdown()
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: target, Geneve: ofactor.GeneveOff})
	if err != nil {
		return err
	}
	defer bridge.Stop(ctx)
	toVM := ofbuild.Flow(0, 100).Match(ofbuild.InPort(1)).Apply(ofbuild.Output(2)).MustFlowMod()
	fromVM := ofbuild.Flow(0, 100).Match(ofbuild.InPort(2)).Apply(ofbuild.Output(1)).MustFlowMod()
	v, err := bridge.Put(ctx, &messages.PutDesired{Flows: []*openflow.FlowMod{toVM, fromVM}})
	if err == nil {
		err = bridge.WaitInstalled(ctx, v)
	}
	dropVM := ofbuild.Flow(0, 100).Match(ofbuild.InPort(2)).MustFlowMod() // no actions: drop
	if err == nil {
		v, err = bridge.Update(ctx, &messages.UpdateFlows{Add: []*openflow.FlowMod{dropVM}})
	}
	if err == nil {
		err = bridge.WaitInstalled(ctx, v)
	}
	if err != nil {
		return err
	}
	installed, err := bridge.Installed(ctx)
	if err == nil {
		flows, _, _ := ofactor.Text(installed)
		fmt.Fprintln(out, strings.Join(flows, "\n"))
	}
	return err
}
