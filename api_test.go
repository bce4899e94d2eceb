package ofactor_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// lockedBuffer is protoactor's log, for looking for dead letters.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// loggedSystem is an actor system whose own log (info and up) goes to buf.
func loggedSystem(buf *lockedBuffer) *actor.ActorSystem {
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
}

func parse(t *testing.T, lines ...string) []*openflow.FlowMod {
	t.Helper()
	ctx := &ofctl.Context{}
	ctx.OXM.Geneve = -1
	var out []*openflow.FlowMod
	for _, l := range lines {
		fm, err := ofctl.ParseFlow(l, ctx)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, fm)
	}
	return out
}

func trimmed(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// The methods of a Bridge against a real switch: Put, WaitInstalled (with
// the refusals as a *RejectedError), Update, Installed and Desired in
// ovs-ofctl's words, Status, and a Stop that leaves no dead letters.
func TestBridgeMethods(t *testing.T) {
	sw := ovstest.Start(t)
	var logs lockedBuffer
	system := loggedSystem(&logs)
	defer system.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target(), Geneve: ofactor.GeneveOff})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target()}); err == nil || !strings.Contains(err.Error(), "br-int") {
		t.Errorf("a second bridge br-int in one system: %v, want an error naming br-int", err)
	}

	v, err := bridge.Put(ctx, &messages.PutDesired{Flows: parse(t,
		"priority=10,in_port=1 actions=output:2",
		"priority=10,in_port=2 actions=group:7")})
	if err != nil {
		t.Fatal(err)
	}
	var rej *ofactor.RejectedError
	if err := bridge.WaitInstalled(ctx, v); !errors.As(err, &rej) || len(rej.Rejected) != 1 ||
		rej.Rejected[0].Error != "OFPBAC_BAD_OUT_GROUP" || !strings.Contains(rej.Rejected[0].Text, "group:7") ||
		rej.Rejected[0].Version != v {
		t.Fatalf("WaitInstalled: %v, want a RejectedError for group:7 of version %d", err, v)
	}
	v, err = bridge.Update(ctx, &messages.UpdateFlows{Add: parse(t, "priority=10,in_port=2 actions=drop")})
	if err != nil {
		t.Fatal(err)
	}
	if err := bridge.WaitInstalled(ctx, v); err != nil {
		t.Fatalf("WaitInstalled after the fix: %v", err)
	}
	want := []string{"priority=10,in_port=1 actions=output:2", "priority=10,in_port=2 actions=drop"}
	for _, get := range []func(context.Context) (*ofactor.Tables, error){bridge.Installed, bridge.Desired} {
		tabs, err := get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if flows, _, _ := ofactor.Text(tabs); !slices.Equal(flows, want) {
			t.Errorf("tables %q, want %q", flows, want)
		}
	}
	dumped, _ := sw.DumpFlows()
	if !slices.Equal(trimmed(dumped), want) {
		t.Errorf("switch holds %q, want %q", dumped, want)
	}
	st, err := bridge.Status(ctx)
	if err != nil || st.InstalledVersion != v || st.Phase != "idle" {
		t.Fatalf("status %+v, %v", st, err)
	}
	// A version already installed is waited for at once.
	if err := bridge.WaitInstalled(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := bridge.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // room for a late message to a stopped actor
	if strings.Contains(logs.String(), "DeadLetter") {
		t.Errorf("dead letters after Stop:\n%s", logs.String())
	}
	if m, _ := sw.DumpTLVMap(); len(m) != 0 {
		t.Errorf("GeneveOff: TLV map %v", m)
	}
	if dumped, _ := sw.DumpFlows(); !slices.Equal(trimmed(dumped), want) {
		t.Errorf("after Stop the switch holds %q, want %q", dumped, want)
	}
}

// A wait for a version that is not coming ends with the context.
func TestWaitInstalledContext(t *testing.T) {
	system := actor.NewActorSystem()
	defer system.Shutdown()
	bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: "unix:/nonexistent/br.mgmt"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	v, err := bridge.Put(ctx, &messages.PutDesired{Flows: parse(t, "priority=1 actions=drop")})
	if err != nil {
		t.Fatal(err)
	}
	if err := bridge.WaitInstalled(ctx, v); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitInstalled: %v, want the context's deadline", err)
	}
	if _, err := bridge.Installed(context.Background()); !errors.Is(err, ofactor.ErrNotKnown) {
		t.Fatalf("Installed while disconnected: %v, want ErrNotKnown", err)
	}
	stop, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := bridge.Stop(stop); err != nil {
		t.Fatal(err)
	}
}

// ModeDiff says what would change and changes nothing: not the flows, not
// the TLV map (though Geneve is on and the option unmapped). ModeCheck has
// the switch judge the change in a bundle it discards.
func TestDiffAndCheckModes(t *testing.T) {
	sw := ovstest.Start(t)
	if _, err := sw.Ofctl("add-flow", "table=3,priority=7,actions=drop"); err != nil {
		t.Fatal(err)
	}
	system := actor.NewActorSystem()
	defer system.Shutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, mode := range []ofactor.Mode{ofactor.ModeDiff, ofactor.ModeCheck} {
		events := make(chan any, 16)
		sub := system.Root.Spawn(ofactor.EventFunc(func(ev any) { events <- ev }))
		bridge, err := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target(), Mode: mode, Subscribers: []*actor.PID{sub}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = bridge.Put(ctx, &messages.PutDesired{Flows: parse(t,
			"priority=10,in_port=1 actions=output:2",
			"priority=10,in_port=2 actions=group:7")})
		if err != nil {
			t.Fatal(err)
		}
		var planned *messages.Planned
		var checked *messages.Checked
		var rejected []*messages.Rejected
	wait:
		for {
			select {
			case ev := <-events:
				switch e := ev.(type) {
				case *messages.Planned:
					planned = e
					if mode == ofactor.ModeDiff {
						break wait
					}
				case *messages.Rejected:
					rejected = append(rejected, e)
				case *messages.Checked:
					checked = e
					break wait
				}
			case <-ctx.Done():
				t.Fatalf("mode %d: no plan", mode)
			}
		}
		if planned == nil || len(planned.Changes) != 3 {
			t.Fatalf("mode %d: planned %+v", mode, planned)
		}
		if mode == ofactor.ModeCheck && (checked.Rejected != 1 || len(rejected) != 1 || rejected[0].Error != "OFPBAC_BAD_OUT_GROUP") {
			t.Fatalf("check: %+v, rejected %+v", checked, rejected)
		}
		if err := bridge.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		system.Root.Stop(sub)
		if dumped, _ := sw.DumpFlows(); len(dumped) != 1 || !strings.Contains(dumped[0], "table=3") {
			t.Fatalf("mode %d changed the switch: %q", mode, dumped)
		}
		if m, _ := sw.DumpTLVMap(); len(m) != 0 {
			t.Fatalf("mode %d wrote the TLV map: %v", mode, m)
		}
	}
}
