package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
)

// goBenchmarks are row 5, in actors/reconciler/bench_test.go: each with the
// -benchtime it needs (the first three take seconds an op).
var goBenchmarks = []struct{ name, benchtime, label string }{
	{"Parse100k", "3x", "parse 100k lines (ofctl.ParseFlows)"},
	{"Encode100k", "3x", "encode 100k flow_mods (canonical bytes + bundle add)"},
	{"Diff1MUnchanged", "3x", "diff 1M unchanged (full-set put + plan)"},
	{"Diff1Change", "200000x", "diff 1 change in 1M (delta API + plan)"},
	{"UpdateFlows1Change", "100000x", "UpdateFlows of 1 changed FlowMod on 1M (bytes + plan)"},
}

var benchLine = regexp.MustCompile(`(?m)^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// goBench runs the Go benchmarks of row 5.
func (b *bench) goBench() error {
	r := row{name: "Go benchmarks (per op)", unit: "ns", noRatio: true}
	for _, gb := range goBenchmarks {
		b.logf("go test -bench %s", gb.name)
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^Benchmark"+gb.name+"$",
			"-benchtime", gb.benchtime, "-count", "1", "./actors/reconciler")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go test -bench %s: %v: %s", gb.name, err, out.String())
		}
		m := benchLine.FindStringSubmatch(out.String())
		if m == nil {
			return fmt.Errorf("go test -bench %s: no result in %q", gb.name, out.String())
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		r.contenders = append(r.contenders, gb.label)
		r.samples = append(r.samples, []float64{ns})
	}
	b.rows = append(b.rows, r)
	return nil
}
