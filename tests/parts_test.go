package tests

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// waitSame waits until ovs-ofctl diff-flows finds the switch holding
// exactly lines.
func waitSame(t *testing.T, sw *ovstest.Switch, lines []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flows.txt")
	writeLines(t, path, lines)
	var out string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var err error
		if out, err = sw.Ofctl("diff-flows", path); err == nil && out == "" {
			return
		}
	}
	t.Fatalf("the switch does not hold the flows: diff-flows: %.2000s", out)
}

// canonicalFlows parses generated flows into the reconciler's form.
func canonicalFlows(t *testing.T, lines []string) []flowkey.Flow {
	t.Helper()
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = -1
	out := make([]flowkey.Flow, len(lines))
	for i, l := range lines {
		fm, err := ofctl.ParseFlow(l, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = flowkey.OfCanonical(fm); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A put in parts is streamed into one bundle: while parts arrive the
// switch keeps what it had (nothing is committed, nothing deleted); the
// last part commits the whole version at once. A second put in parts that
// changes a few flows sends only those.
func TestPutInParts(t *testing.T) {
	sw := ovstest.Start(t)
	if _, err := sw.Ofctl("add-flow", "table=3,priority=7,actions=drop"); err != nil {
		t.Fatal(err)
	}
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: sw.Target()})
	if err != nil {
		t.Fatal(err)
	}
	lines := flowgen.Flows(3000)
	flows := canonicalFlows(t, lines)
	put := func(m *messages.PutDesired) uint64 {
		t.Helper()
		res, err := sys.Root.RequestFuture(b.PID, m, 10*time.Second).Result()
		if err != nil {
			t.Fatal(err)
		}
		acc := res.(*messages.DesiredAccepted)
		if len(acc.Errors) != 0 {
			t.Fatalf("errors: %v", acc.Errors)
		}
		return acc.Version
	}
	if v := put(&messages.PutDesired{Canonical: flows[:1000], Groups: []*openflow.GroupMod{}, More: true}); v != 0 {
		t.Fatalf("a part answered with version %d, want 0", v)
	}
	put(&messages.PutDesired{Canonical: flows[1000:2000], More: true, Continue: true})
	time.Sleep(500 * time.Millisecond) // room for a wrong commit to show
	if got, err := sw.DumpFlows(); err != nil || len(got) != 1 || !strings.Contains(got[0], "table=3") {
		t.Fatalf("before the last part the switch holds %d flows (%v), want only its own", len(got), err)
	}
	before, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	if v := put(&messages.PutDesired{Canonical: flows[2000:], Continue: true}); v != 1 {
		t.Fatalf("the last part: version %d, want 1", v)
	}
	waitSame(t, sw, lines)
	if after, _ := sw.RecvCounter(); after-before > 2000 {
		t.Fatalf("the last part took %d messages: the first parts were sent again", after-before)
	}

	// Version 2 in parts, every 100th flow changed: 30 flow_mods.
	changed := append([]string(nil), lines...)
	for i := 0; i < len(lines); i += 100 {
		changed[i] = flowgen.Flow(i, 1)
	}
	flows = canonicalFlows(t, changed)
	before, _ = sw.RecvCounter()
	put(&messages.PutDesired{Canonical: flows[:1500], More: true})
	if v := put(&messages.PutDesired{Canonical: flows[1500:], Continue: true}); v != 2 {
		t.Fatalf("version %d, want 2", v)
	}
	waitSame(t, sw, changed)
	if after, _ := sw.RecvCounter(); after-before > 60 {
		t.Fatalf("30 changed flows took %d messages", after-before)
	}
}
