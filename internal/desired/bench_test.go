package desired

import (
	"path/filepath"
	"runtime"
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

// BenchmarkRemember is what a Loader keeps to remember a 200k-line file
// for delta reloads (Options.Remember), beyond the flows themselves: the
// heap of a remembering load less that of a plain one, in B/line.
func BenchmarkRemember(b *testing.B) {
	const n = 200_000
	name := filepath.Join(b.TempDir(), "flows.txt")
	if err := flowgen.WriteFile(name, flowgen.Flows(n)); err != nil {
		b.Fatal(err)
	}
	held := func(remember bool) uint64 {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		l := NewLoader(Files{Flows: name}, Options{Remember: remember})
		put, err := l.Load()
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		runtime.KeepAlive(l)
		runtime.KeepAlive(put)
		return m1.HeapAlloc - m0.HeapAlloc
	}
	var per float64
	for b.Loop() {
		per = float64(held(true)-held(false)) / n
	}
	b.ReportMetric(per, "B/line")
}
