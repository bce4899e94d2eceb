package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// The example drives two bridges on two separate switches from one actor
// system and prints their events; each switch ends up with its table.
func TestEmbedTwoSwitches(t *testing.T) {
	swA := ovstest.Start(t, ovstest.WithBridge("br-a"))
	swB := ovstest.Start(t, ovstest.WithBridge("br-b"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, swA.Target(), swB.Target(), false, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	t.Logf("output:\n%s", out.String())
	for _, want := range []string{
		"br-a  connected (connection 1",
		"br-b  connected (connection 1",
		"br-a  geneve option 0x0102,0x80,4 is tun_metadata0",
		"br-a  version 1 installed: 7 flows, 1 groups, 1 meters, 0 refused",
		"br-a  version 2 installed: 8 flows, 1 groups, 1 meters, 0 refused",
		"br-b  switch refused flow",
		"br-b  version 1 installed: 2 flows, 0 groups, 0 meters, 1 refused",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	flowsA, err := swA.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(flowsA) != 8 || !strings.Contains(strings.Join(flowsA, "\n"), "dl_dst=0a:00:00:00:00:03 actions=output:3") {
		t.Errorf("br-a holds:\n%s", strings.Join(flowsA, "\n"))
	}
	groupsA, err := swA.DumpGroups()
	if err != nil {
		t.Fatal(err)
	}
	if len(groupsA) != 1 || !strings.Contains(groupsA[0], "type=select") {
		t.Errorf("br-a groups: %q", groupsA)
	}
	flowsB, err := swB.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(flowsB) != 2 {
		t.Errorf("br-b holds:\n%s", strings.Join(flowsB, "\n"))
	}
}
