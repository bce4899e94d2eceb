package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
)

// A plan prints as diff-flows does, flows, groups, meters, each sorted; a
// modified object as its old and new line.
func TestPrintPlan(t *testing.T) {
	var b bytes.Buffer
	printPlan(&b, &messages.Planned{Changes: []messages.PlannedChange{
		{Kind: "meter", Op: "add", New: "meter=1,kbps,bands=type=drop,rate=5"},
		{Kind: "group", Op: "delete", Old: "group_id=2,type=all,bucket=actions=output:2"},
		{Kind: "flow", Op: "delete", Old: "priority=9 actions=drop"},
		{Kind: "flow", Op: "modify", Old: "priority=1 actions=drop", New: "priority=1 actions=output:1"},
	}})
	want := "-priority=1 actions=drop\n+priority=1 actions=output:1\n-priority=9 actions=drop\n" +
		"-group_id=2,type=all,bucket=actions=output:2\n+meter=1,kbps,bands=type=drop,rate=5\n"
	if b.String() != want {
		t.Errorf("got:\n%swant:\n%s", b.String(), want)
	}
}

// A refusal is found in the files by its object: a flow by its key however
// it is spelt, a Geneve flow rendered at another index, a group or meter
// by id; one not in the files says so.
func TestWhere(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	files := desired.Files{
		Flows: write("flows.txt", "# comment\ntable=3, priority=5,ip,nw_dst=10.0.0.1 actions=group:9\n"+
			"table=1,priority=7,geneve=0x5 actions=drop\n"),
		Groups: write("groups.txt", "group_id=9,type=all,bucket=actions=output:1\n"),
		Meters: write("meters.txt", "\nmeter=4,kbps,bands=type=drop,rate=5\n"),
	}
	l := desired.NewLoader(files, desired.Options{Index: true})
	if _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind, text, want string
	}{
		{"flow", "table=3, priority=5,ip,nw_dst=10.0.0.1 actions=group:9", files.Flows + ":2"},
		{"flow", "table=1, priority=7,tun_metadata3=0x5 actions=drop", files.Flows + ":3"},
		{"flow", "table=3, priority=6,ip actions=drop", "(not in the files)"},
		{"group", "group_id=9,type=all,bucket=actions=output:1", files.Groups + ":1"},
		{"meter", "meter=4,kbps,bands=type=drop,rate=5", files.Meters + ":2"},
		{"meter", "meter=5,kbps,bands=type=drop,rate=5", "(not in the files)"},
	} {
		if got := where(l.Index(), &messages.Rejected{Kind: tc.kind, Text: tc.text}); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.kind, tc.text, got, tc.want)
		}
	}
}
