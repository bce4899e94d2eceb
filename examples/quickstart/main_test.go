package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/ofactortest"
)

// want is what the quickstart leaves on the switch, as it prints it and as
// ovs-ofctl dump-flows does.
var want = []string{
	"priority=100,in_port=1 actions=output:2",
	"priority=100,in_port=2 actions=drop",
}

// The README's program, against a real ovs-vswitchd: it prints what the
// switch holds, and the switch holds exactly that. Nothing else is left
// behind (no TLV map: Geneve is off).
func TestQuickstartOVS(t *testing.T) {
	sw := ovstest.Start(t)
	var out bytes.Buffer
	if err := run(context.Background(), sw.Target(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
	flows, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if flows = trimmed(flows); !slices.Equal(flows, want) {
		t.Errorf("switch holds %q, want %q", flows, want)
	}
	if m, err := sw.DumpTLVMap(); err != nil || len(m) != 0 {
		t.Errorf("TLV map %v, %v: want none", m, err)
	}
}

// The README shows this file's run function as it is: the snippet there
// must be a part of it, line for line.
func TestReadmeShowsQuickstart(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer readme.Close()
	var snippet []string
	in := false
	for sc := bufio.NewScanner(readme); sc.Scan(); {
		line := sc.Text()
		switch {
		case line == "```go" && !in && len(snippet) == 0:
			in = true
		case line == "```" && in:
			in = false
		case in:
			snippet = append(snippet, line)
		}
	}
	if len(snippet) < 10 {
		t.Fatalf("README: the first go block has %d lines", len(snippet))
	}
	if !strings.Contains(string(src), strings.Join(snippet, "\n")) {
		t.Errorf("README's embedding snippet is not examples/quickstart/main.go's code:\n%s", strings.Join(snippet, "\n"))
	}
}

// The same program against ofactortest's in-memory switch: what an
// embedder's own unit tests do, with no Open vSwitch.
func TestQuickstartTestSwitch(t *testing.T) {
	sw := ofactortest.Start(t)
	var out bytes.Buffer
	if err := run(context.Background(), sw.Target(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); !slices.Equal(got, want) {
		t.Errorf("printed %q, want %q", got, want)
	}
	if flows := trimmed(sw.DumpFlows()); !slices.Equal(flows, want) {
		t.Errorf("switch holds %q, want %q", flows, want)
	}
}

func trimmed(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSpace(l)
	}
	return out
}
