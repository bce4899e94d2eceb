package flowgen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func parse(t *testing.T, text string) *openflow.FlowMod {
	t.Helper()
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = -1
	fm, err := ofctl.ParseFlow(text, ctx)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return fm
}

// Every generated flow is a distinct OpenFlow flow (table, priority,
// match), and a variant is the same flow with other actions.
func TestFlowsAreDistinctAndVariantsKeepTheKey(t *testing.T) {
	const n = 5000
	seen := map[string]int{}
	for i := range n {
		f, err := flowkey.Of(parse(t, flowgen.Flow(i, 0)))
		k, v := f.Key(), f.Value()
		if err != nil {
			t.Fatal(err)
		}
		if j, dup := seen[k]; dup {
			t.Fatalf("flows %d and %d have the same key", j, i)
		}
		seen[k] = i
		if i%97 == 0 {
			f1, err := flowkey.Of(parse(t, flowgen.Flow(i, 1)))
			k1, v1 := f1.Key(), f1.Value()
			if err != nil || k1 != k || v1 == v {
				t.Fatalf("flow %d variant 1: same key %v, other value %v, %v", i, k1 == k, v1 != v, err)
			}
		}
	}
}

func TestChanged(t *testing.T) {
	base, changed := flowgen.Flows(1000), flowgen.Changed(1000, 100, 50)
	if len(changed) != 1050 {
		t.Fatalf("%d flows", len(changed))
	}
	diff := 0
	for i := range base {
		if base[i] != changed[i] {
			diff++
		}
	}
	if diff != 10 {
		t.Fatalf("%d changed, want 10", diff)
	}
}

// OVS takes every shape.
func TestOVSParsesFlows(t *testing.T) {
	bin := ovstest.OfctlPath(t)
	file := filepath.Join(t.TempDir(), "flows.txt")
	if err := flowgen.WriteFile(file, flowgen.Changed(512, 3, 16)); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-O", "OpenFlow13", "parse-flows", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl parse-flows: %v: %s", err, out)
	}
	if got := strings.Count(string(out), "OFPT_FLOW_MOD"); got != 528 {
		t.Fatalf("OVS parsed %d flows, want 528", got)
	}
}

func TestWriteFileN(t *testing.T) {
	WriteFile, WriteFileN, Changed, ChangedFlow := flowgen.WriteFile, flowgen.WriteFileN, flowgen.Changed, flowgen.ChangedFlow
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := WriteFile(a, Changed(1000, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileN(b, 1000, func(i int) string { return ChangedFlow(i, 10) }); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if len(x) == 0 || string(x) != string(y) {
		t.Fatalf("WriteFileN of ChangedFlow differs from WriteFile of Changed (%d, %d bytes)", len(x), len(y))
	}
}

// OneTable's flows are all in table 0, each with a match of its own, and
// parse.
func TestOneTable(t *testing.T) {
	keys := map[string]int{}
	for i := range 4096 {
		text := flowgen.OneTable(i)
		fm := parse(t, text)
		if fm.TableID != 0 {
			t.Fatalf("%s: table %d", text, fm.TableID)
		}
		f, err := flowkey.OfCanonical(fm)
		if err != nil {
			t.Fatal(err)
		}
		if j, dup := keys[f.Key()]; dup {
			t.Fatalf("flows %d and %d have one key:\n%s\n%s", j, i, flowgen.OneTable(j), text)
		}
		keys[f.Key()] = i
	}
}
