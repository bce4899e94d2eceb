package desired

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"

	"github.com/ofactor/ofactor/internal/flowgen"
)

// BenchmarkLoad100k reads and parses 100k OVN-like lines on every core.
func BenchmarkLoad100k(b *testing.B) {
	name := filepath.Join(b.TempDir(), "flows.txt")
	if err := flowgen.WriteFile(name, flowgen.Flows(100_000)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(Files{Flows: name}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReload100k is the watch-mode reload of ofbench's row 2: 100k
// flows known, a file with 1% changed and 1000 added, then back.
func BenchmarkReload100k(b *testing.B) {
	dir := b.TempDir()
	base, changed := filepath.Join(dir, "base.txt"), filepath.Join(dir, "changed.txt")
	if err := flowgen.WriteFile(base, flowgen.Flows(100_000)); err != nil {
		b.Fatal(err)
	}
	if err := flowgen.WriteFile(changed, flowgen.Changed(100_000, 100, 1000)); err != nil {
		b.Fatal(err)
	}
	l := NewLoader(Files{Flows: base}, Options{Remember: true})
	if _, err := l.Load(); err != nil {
		b.Fatal(err)
	}
	files := []string{changed, base}
	for i := 0; b.Loop(); i++ {
		l.files.Flows = files[i%2]
		m, err := l.Reload(true)
		if err != nil || m.Update == nil {
			b.Fatal(m, err)
		}
	}
}

// BenchmarkFlowDups100k is what finding duplicates adds to a load of 100k
// lines (hashing every key once into the index).
func BenchmarkFlowDups100k(b *testing.B) {
	name := filepath.Join(b.TempDir(), "flows.txt")
	if err := flowgen.WriteFile(name, flowgen.Flows(100_000)); err != nil {
		b.Fatal(err)
	}
	ff, err := readFlows(name, openflow.Version13, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if dups, _, _ := flowDups(name, ff); len(dups) != 0 {
			b.Fatal(dups)
		}
	}
}

// BenchmarkParseLine is one line of a flows file as the daemon parses it
// (OpenFlow 1.5, the stand-in Geneve and port maps), into canonical
// bytes, one goroutine: the per-line cost of loading a file.
func BenchmarkParseLine(b *testing.B) {
	lines := splitLines(strings.Join(flowgen.Flows(8192), "\n"))
	ctx := geneveCheckContext(openflow.Version15)()
	i := 0
	for b.Loop() {
		if p := parseLine(lines[i%len(lines)], ctx); p.err != nil {
			b.Fatal(p.err)
		}
		i++
	}
}
