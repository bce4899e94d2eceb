package desired

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

var corpus = filepath.Join("..", "..", "..", "shared", "corpus")

func sampleFlows(t *testing.T) string {
	t.Helper()
	p := filepath.Join(corpus, "ovn-sample", "flows.txt")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	return p
}

// sequential is the seed's way: ofctl.ParseFlows on one core.
func sequential(t *testing.T, name string) ([]ofctl.Line, error) {
	t.Helper()
	r, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return ofctl.ParseFlows(name, r, geneveCheckContext(openflow.Version13)())
}

func flowBytes(t *testing.T, fm *openflow.FlowMod) []byte {
	t.Helper()
	b, err := fm.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParallelParseSameAsSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	name := sampleFlows(t)
	want, err := sequential(t, name)
	if err != nil {
		t.Fatal(err)
	}
	ff, err := readFlows(name, openflow.Version13, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ff.res) != len(want) || len(want) < 500 {
		t.Fatalf("%d flows, want %d (and at least 500)", len(ff.res), len(want))
	}
	for i, w := range want {
		l := ff.lines[i]
		if l.text() != w.Text || l.n != w.Pos.Line || l.col != w.Pos.Column {
			t.Fatalf("line %d: %q at %d:%d, want %q at %v", i, l.text(), l.n, l.col, w.Text, w.Pos)
		}
		if ff.res[i].geneve != UsesGeneve(w.Text) {
			t.Fatalf("%v: geneve %v", w.Pos, ff.res[i].geneve)
		}
		if ff.res[i].geneve {
			continue
		}
		// The parsed match is taken as canonical: it must be what
		// normalizing gives.
		f, err := flowkey.Of(w.Mod)
		if err != nil {
			t.Fatal(err)
		}
		if ff.res[i].flow != f {
			t.Fatalf("%v: canonical bytes differ", w.Pos)
		}
	}
}

// writeFile writes lines to a temporary file and returns its name.
func writeFile(t *testing.T, dir string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, "flows.txt")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func manyFlows(n int) []string {
	var ls []string
	for i := range n {
		ls = append(ls, fmt.Sprintf("table=%d,priority=%d,ip,nw_src=10.0.%d.%d actions=output:%d", i%4, 100+i%7, i/256, i%256, i%9+1))
	}
	return ls
}

func TestParallelParseErrorsSameAsSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	ls := manyFlows(3000)
	ls[5] = "  table=1,ip,nw_src=10.0.0.300 actions=drop # comment"
	ls[1700] = "\ttable=1, priority=5, bogus=1 actions=drop"
	ls[2999] = "table=1 actions=output:"
	ls = append(ls, "", "# only a comment", "   ")
	for i := 100; i < 130; i++ { // more than maxErrors in all
		ls[i] = "table=x actions=drop"
	}
	name := writeFile(t, t.TempDir(), ls)
	_, want := sequential(t, name)
	if want == nil {
		t.Fatal("sequential parse found no error")
	}
	_, err := Load(Files{Flows: name})
	if err == nil || err.Error() != want.Error() {
		t.Fatalf("errors:\n%v\nwant:\n%v", err, want)
	}
	// Within the cap, every bad line is reported.
	bad := []string{ls[5], ls[1700], ls[2999]}
	ls = manyFlows(1000)
	ls[3], ls[600], ls[999] = bad[0], bad[1], bad[2]
	name = writeFile(t, t.TempDir(), ls)
	_, want = sequential(t, name)
	_, err = Load(Files{Flows: name})
	if want == nil || err == nil || err.Error() != want.Error() || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("errors:\n%v\nwant:\n%v", err, want)
	}
}

func TestLoadDuplicatesKeepOrder(t *testing.T) {
	ls := manyFlows(1000)
	ls = append(ls, ls[10], "table=0,priority=100,ip,nw_src=10.0.0.0 actions=drop")
	put, err := Load(Files{Flows: writeFile(t, t.TempDir(), ls)})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.Canonical) != len(ls) {
		t.Fatalf("%d flows, want %d", len(put.Canonical), len(ls))
	}
	want, _ := ofctl.ParseFlow(ls[len(ls)-1], geneveCheckContext(openflow.Version13)())
	got, err := put.Canonical[len(ls)-1].FlowMod()
	if err != nil || !bytes.Equal(flowBytes(t, got), flowBytes(t, want)) {
		t.Fatal("flows out of order")
	}
}

// reload writes ls and reloads l with only the flows file changed.
func reload(t *testing.T, l *Loader, ls []string) any {
	t.Helper()
	writeFile(t, filepath.Dir(l.files.Flows), ls)
	r, err := l.Reload(true)
	if err != nil {
		t.Fatal(err)
	}
	return reloaded(r)
}

// reloaded is what a Reload found, as one message (nil: nothing changed).
func reloaded(r Reloaded) any {
	switch {
	case r.Put != nil:
		return r.Put
	case r.Update != nil:
		return r.Update
	}
	return nil
}

func texts(t *testing.T, fs []flowkey.Flow) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		fm, err := f.FlowMod()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(ofctl.AppendFlow(nil, fm))))
	}
	return out
}

func TestReloadDelta(t *testing.T) {
	ls := manyFlows(2000)
	l := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true})
	put, err := l.Load()
	if err != nil || len(put.Canonical) != 2000 {
		t.Fatalf("load: %v", err)
	}
	if m := reload(t, l, ls); m != nil {
		t.Fatalf("identical file: %#v, want nothing", m)
	}

	// A line whose match changed: Remove the old flow, Add the new one.
	// A line whose actions changed: Add (it replaces). A line appended.
	next := append([]string(nil), ls...)
	next[3] = strings.Replace(ls[3], "nw_src=10.0.0.3", "nw_src=10.9.9.9", 1)
	next[4] = strings.Replace(ls[4], "actions=output:5", "actions=drop", 1)
	next = append(next, "table=9,priority=1 actions=drop")
	m := reload(t, l, next)
	upd, ok := m.(*messages.UpdateFlows)
	if !ok {
		t.Fatalf("got %T, want UpdateFlows", m)
	}
	gotR, gotA := texts(t, upd.RemoveCanonical), texts(t, upd.AddCanonical)
	if len(gotR) != 1 || !strings.Contains(gotR[0], "nw_src=10.0.0.3") {
		t.Fatalf("Remove %q", gotR)
	}
	if len(gotA) != 3 || !strings.Contains(strings.Join(gotA, "\n"), "nw_src=10.9.9.9") ||
		!strings.Contains(strings.Join(gotA, "\n"), "table=9") {
		t.Fatalf("Add %q", gotA)
	}
	if m := reload(t, l, next); m != nil {
		t.Fatalf("same file again: %#v", m)
	}
	// Back to the original: the reverse.
	upd = reload(t, l, ls).(*messages.UpdateFlows)
	if len(upd.RemoveCanonical) != 2 || len(upd.AddCanonical) != 2 {
		t.Fatalf("back: %q / %q", texts(t, upd.RemoveCanonical), texts(t, upd.AddCanonical))
	}
	if l.lines.Len() != 2000 {
		t.Fatalf("%d lines remembered, want 2000", l.lines.Len())
	}
}

func TestReloadDuplicatesLaterWins(t *testing.T) {
	ls := manyFlows(10)
	l := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true})
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	// An earlier duplicate of a key changes nothing: the later line wins,
	// as in ovs-ofctl add-flows.
	dup := strings.Replace(ls[5], "output:6", "output:99", 1)
	if m := reload(t, l, append([]string{dup}, ls...)); m != nil {
		t.Fatalf("earlier duplicate: %#v", m)
	}
	// With duplicates in the file, order matters: every reload is whole.
	later := append(append([]string(nil), ls...), dup)
	m := reload(t, l, later)
	put, ok := m.(*messages.PutDesired)
	if !ok || len(put.Canonical) != 11 || !strings.Contains(texts(t, put.Canonical[10:])[0], "output:99") {
		t.Fatalf("later duplicate: %T %#v", m, m)
	}

	// A later duplicate added by a delta replaces the flow.
	l = NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true})
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	upd := reload(t, l, later).(*messages.UpdateFlows)
	if len(upd.RemoveCanonical) != 0 || len(upd.AddCanonical) != 1 || !strings.Contains(texts(t, upd.AddCanonical)[0], "output:99") {
		t.Fatalf("later duplicate: %q / %q", texts(t, upd.RemoveCanonical), texts(t, upd.AddCanonical))
	}
	if _, ok := reload(t, l, ls).(*messages.PutDesired); !ok {
		t.Fatal("after a duplicate: want PutDesired")
	}
}

func TestReloadFallsBackAndKeepsLastGood(t *testing.T) {
	ls := manyFlows(10)
	l := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true})
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Dir(l.files.Flows), append(ls, "table=1 actions=resubmit(,bogus)"))
	if _, err := l.Reload(true); err == nil || !strings.Contains(err.Error(), "flows.txt:11:") {
		t.Fatalf("bad line: %v", err)
	}
	// The bad file left nothing behind: the good one again is no change.
	if m := reload(t, l, ls); m != nil {
		t.Fatalf("after a bad file: %#v", m)
	}
	// A Geneve flow: the whole state, with the flow as text.
	m := reload(t, l, append(ls, "table=1,geneve=0x5 actions=drop"))
	put, ok := m.(*messages.PutDesired)
	if !ok || len(put.GeneveFlows) != 1 || len(put.Canonical) != 10 {
		t.Fatalf("geneve: %T %#v", m, m)
	}
	// And while one is there, every reload puts everything.
	if _, ok := reload(t, l, ls).(*messages.PutDesired); !ok {
		t.Fatal("geneve before: want PutDesired")
	}
	// Another file changed: everything.
	if m, err := l.Reload(false); err != nil || m.Put == nil {
		t.Fatalf("not only flows: %T %v", m, err)
	}
}

// LoadParts hands a large file over in parts while it parses: their flows,
// in order, and the last part's are the flows Load gives; the groups and
// meters go in the first part. After a bad line nothing more goes out, and
// the parts already out hold no line past it.
func TestLoadParts(t *testing.T) {
	ls := manyFlows(3 * partLines)
	dir := t.TempDir()
	groups := filepath.Join(dir, "groups.txt")
	if err := os.WriteFile(groups, []byte("group_id=1,type=all,bucket=output:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := Files{Flows: writeFile(t, dir, ls), Groups: groups}
	whole, err := Load(files)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*messages.PutDesired
	// Every part says the version its flows are encoded in: a part taken
	// for another version than the connection's gives the put up.
	last, err := NewLoader(files, Options{Remember: true, Version: openflow.Version15}).LoadParts(func(p *messages.PutDesired) {
		parts = append(parts, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 || last.More {
		t.Fatalf("%d parts, last More %v", len(parts), last.More)
	}
	whole15, err := NewLoader(files, Options{Version: openflow.Version15}).Load()
	if err != nil {
		t.Fatal(err)
	}
	var all []flowkey.Flow
	for i, p := range append(parts, last) {
		if (i == 0) != (p.Groups != nil) || (i != len(parts)) != p.More || (i != 0) != p.Continue {
			t.Fatalf("part %d: groups %v, More %v, Continue %v", i, p.Groups != nil, p.More, p.Continue)
		}
		if p.Version != openflow.Version15 {
			t.Fatalf("part %d: version %#x, want OpenFlow 1.5's", i, p.Version)
		}
		all = append(all, p.Canonical...)
	}
	if !slices.Equal(all, whole15.Canonical) || len(all) != len(whole.Canonical) {
		t.Fatalf("parts hold %d flows, Load %d, or in another order", len(all), len(whole15.Canonical))
	}

	bad := len(ls) - partLines/2
	ls[bad] = "table=1 actions=resubmit(,bogus)"
	files.Flows = writeFile(t, dir, ls)
	parts = nil
	if _, err := NewLoader(files, Options{Remember: true}).LoadParts(func(p *messages.PutDesired) { parts = append(parts, p) }); err == nil {
		t.Fatal("bad line: no error")
	}
	n := 0
	for _, p := range parts {
		n += len(p.Canonical)
		if !p.More {
			t.Fatal("a part without More after a bad line")
		}
	}
	if n > bad {
		t.Fatalf("parts hold %d flows, the bad line is %d", n, bad)
	}
}

// Flows naming switch ports are handed over as text (SwitchFlows), for the
// bridge to parse with the switch's port map; so are those naming a port
// and the Geneve field; reserved ports and numbers are no names. A file
// with such a line is read in full on every reload.
func TestSwitchFlows(t *testing.T) {
	ls := []string{
		"table=0,priority=10,in_port=1 actions=output:LOCAL",
		"table=0,priority=20,in_port=vm1 actions=output:patch-tun",
		"table=0,priority=30,in_port=2 actions=enqueue:vm2:3",
		"table=0,priority=40,geneve=0x5,in_port=vm3 actions=drop",
		"table=0,priority=50,geneve=0x6 actions=IN_PORT",
	}
	l := NewLoader(Files{Flows: writeFile(t, t.TempDir(), ls)}, Options{Remember: true})
	put, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ls[1], ls[2], ls[3]}; !slices.Equal(put.SwitchFlows, want) {
		t.Errorf("SwitchFlows %q, want %q", put.SwitchFlows, want)
	}
	if want := []string{ls[4]}; !slices.Equal(put.GeneveFlows, want) {
		t.Errorf("GeneveFlows %q, want %q", put.GeneveFlows, want)
	}
	if len(put.Canonical) != 1 {
		t.Errorf("%d canonical flows, want 1", len(put.Canonical))
	}
	writeFile(t, filepath.Dir(l.files.Flows), append(ls[:1], ls[2:]...))
	r, err := l.Reload(true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Put == nil || len(r.Put.SwitchFlows) != 2 {
		t.Errorf("reload of a file naming ports: %+v, want a whole put with 2 port flows", r)
	}
}

// What ovs-ofctl does without a word is a warning at file:line:column: a
// match field dropped for a missing prerequisite; the flow is taken as
// OVS takes it. A reload reports those of the lines it read.
func TestWarnings(t *testing.T) {
	ls := []string{
		"table=0,priority=10,ip actions=drop",
		"table=0,priority=20,tcp_dst=80 actions=drop",
	}
	dir := t.TempDir()
	l := NewLoader(Files{Flows: writeFile(t, dir, ls)}, Options{Remember: true})
	put, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	w := l.Warnings()
	want := filepath.Join(dir, "flows.txt") + ":2:21: tcp_dst needs tcp or tcp6: dropped, as ovs-ofctl does"
	if len(w) != 1 || w[0].String() != want || len(put.Canonical) != 2 {
		t.Fatalf("warnings %v, want [%s]; %d flows", w, want, len(put.Canonical))
	}
	writeFile(t, dir, append(ls, "table=0,priority=30,udp_src=5 actions=drop"))
	if _, err := l.Reload(true); err != nil {
		t.Fatal(err)
	}
	if w := l.Warnings(); len(w) != 1 || w[0].Pos.Line != 3 {
		t.Errorf("reload warnings %v, want one at line 3", w)
	}
}
