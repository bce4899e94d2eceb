package desired

import (
	"github.com/ofactor/ofactor/openflow"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func dupStrings(ds []Duplicate) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

func writeNamed(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Duplicates in each kind of file are found with the lines they replace
// (counted as in the file, comments and blank lines included); the later
// wins, and Strict makes them errors that name the same lines.
func TestLoadDuplicates(t *testing.T) {
	dir := t.TempDir()
	files := Files{
		Flows: writeNamed(t, dir, "flows.txt", "table=0,priority=10,ip actions=drop\n"+
			"# a comment\n\n"+
			"table=0, priority=10, ip actions=output:1\n"+ // line 4: same key as line 1
			"table=0,priority=10,ip actions=output:1\n"+ // line 5: identical to line 4 but for spaces
			"table=0,priority=11,ip actions=drop\n"+
			"table=1,geneve=0x5 actions=drop\n"+
			"table=1,geneve=0x5 actions=output:2\n"), // line 8: a Geneve duplicate
		Groups: writeNamed(t, dir, "groups.txt", "group_id=1,type=all,bucket=output:1\n"+
			"group_id=2,type=all,bucket=output:2\n"+
			"group_id=1,type=all,bucket=output:3\n"),
		Meters: writeNamed(t, dir, "meters.txt", "meter=1,kbps,band=type=drop,rate=100\n"+
			"meter=1,kbps,band=type=drop,rate=200\n"),
	}
	l := NewLoader(files, Options{Index: true})
	put, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	g := func(name string) string { return filepath.Join(dir, name) }
	want := []string{
		g("groups.txt") + ":3: replaces " + g("groups.txt") + ":1 (same group_id)",
		g("meters.txt") + ":2: replaces " + g("meters.txt") + ":1 (same meter_id)",
		g("flows.txt") + ":4: replaces " + g("flows.txt") + ":1 (same table, priority and match)",
		g("flows.txt") + ":5: replaces " + g("flows.txt") + ":4 (same table, priority and match)",
		g("flows.txt") + ":8: replaces " + g("flows.txt") + ":7 (same table, priority and match)",
	}
	if got := dupStrings(l.Duplicates()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("duplicates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The put keeps every line in order: the reconciler keeps the later.
	if len(put.Canonical) != 4 || len(put.GeneveFlows) != 2 || len(put.Groups) != 3 || len(put.Meters) != 2 {
		t.Errorf("put: %d flows, %d geneve, %d groups, %d meters", len(put.Canonical), len(put.GeneveFlows),
			len(put.Groups), len(put.Meters))
	}

	// The index names the line that wins.
	fm, err := ofctl.ParseFlow("table=0,priority=10,ip actions=drop", defaultContext(openflow.Version13))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := flowkey.Of(fm)
	if p, ok := l.Index().Flow(f.Key()); !ok || p.Line != 5 || p.File != files.Flows {
		t.Errorf("index: flow at %v %v, want line 5", p, ok)
	}
	if p, ok := l.Index().Group(1); !ok || p.Line != 3 {
		t.Errorf("index: group 1 at %v %v, want line 3", p, ok)
	}
	if p, ok := l.Index().Meter(1); !ok || p.Line != 2 {
		t.Errorf("index: meter 1 at %v %v, want line 2", p, ok)
	}
	if _, ok := l.Index().Group(9); ok {
		t.Error("index: group 9 found")
	}

	strict := NewLoader(files, Options{Strict: true})
	if _, err := strict.Load(); err == nil {
		t.Fatal("strict: no error")
	} else {
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("strict error lacks %q:\n%v", w, err)
			}
		}
	}
}

// Under Strict a file in parts with a duplicate is refused once parsed: the
// caller then aborts the parts already out.
func TestLoadPartsStrict(t *testing.T) {
	ls := manyFlows(3 * partLines)
	ls = append(ls, ls[0])
	var parts int
	_, err := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Strict: true}).LoadParts(
		func(*messages.PutDesired) { parts++ })
	if err == nil || !strings.Contains(err.Error(), ":1 (same table") {
		t.Fatalf("err %v", err)
	}
	if parts == 0 {
		t.Fatal("no parts went out before the end (the test needs some)")
	}
}

// A reload that reads only the changed lines finds the duplicates among
// them; under Strict it refuses them and remembers the file as it was.
func TestReloadDuplicates(t *testing.T) {
	ls := manyFlows(20)
	for _, strict := range []bool{false, true} {
		l := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true, Strict: strict})
		if _, err := l.Load(); err != nil || len(l.Duplicates()) != 0 {
			t.Fatalf("load: %v %v", err, l.Duplicates())
		}
		name := l.files.Flows
		// A later duplicate with other actions, and an identical one.
		next := append(append([]string(nil), ls...), strings.Replace(ls[3], "output:4", "output:99", 1), ls[7])
		writeFile(t, filepath.Dir(name), next)
		r, err := l.Reload(true)
		want := []string{
			name + ":21: replaces " + name + ":4 (same table, priority and match)",
			name + ":22: replaces " + name + ":8 (same table, priority and match)",
		}
		if strict {
			if err == nil || !strings.Contains(err.Error(), want[0]) || !strings.Contains(err.Error(), want[1]) ||
				!strings.Contains(err.Error(), "--strict") {
				t.Fatalf("strict reload: %v", err)
			}
			// Nothing was taken: the original file again is no change.
			writeFile(t, filepath.Dir(name), ls)
			if r, err := l.Reload(true); err != nil || r.Put != nil || r.Update != nil {
				t.Fatalf("strict, back to the original: %+v %v", r, err)
			}
			continue
		}
		if err != nil || r.Update == nil || len(r.Update.AddCanonical) != 1 {
			t.Fatalf("reload: %+v %v", r, err)
		}
		if got := dupStrings(l.Duplicates()); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("duplicates %q, want %q", got, want)
		}
	}
}
