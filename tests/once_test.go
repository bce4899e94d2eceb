package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// A fresh bridge given ovn-sample ends up with exactly ovn-sample's dump and
// OVN's Geneve mapping; running again against the correct switch sends next
// to nothing.
func TestOnceOVNSample(t *testing.T) {
	sw := ovstest.Start(t)
	res := runOnce(t, sw.Target(), sampleArgs(t)...)
	if res.code != 0 {
		t.Fatalf("ofactor run --once: exit %d\n%s", res.code, res.stderr)
	}
	checkInstalled(t, sw)

	tlv, err := sw.DumpTLVMap()
	if err != nil {
		t.Fatal(err)
	}
	if len(tlv) != 1 || tlv[0].OptionClass != 0x102 || tlv[0].OptionType != 0x80 || tlv[0].OptionLen != 4 {
		t.Fatalf("TLV map = %v, want one {class=0x102,type=0x80,len=4}", tlv)
	}

	before, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	if res := runOnce(t, sw.Target(), sampleArgs(t)...); res.code != 0 {
		t.Fatalf("second run: exit %d\n%s", res.code, res.stderr)
	}
	after, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second run: the switch received %d OpenFlow messages", after-before)
	if after-before > 50 {
		t.Errorf("second run against a correct switch sent %d messages, want at most 50", after-before)
	}
	checkInstalled(t, sw)
}

// checkInstalled compares the switch's tables with ovn-sample.
func checkInstalled(t *testing.T, sw *ovstest.Switch) {
	t.Helper()
	flows, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "flows", ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt")), flows)
	checkGroupsMeters(t, sw)
}

// Two controllers racing for the Geneve mapping on a fresh bridge: both
// succeed and the bridge holds exactly one mapping, every time.
func TestOnceConcurrent(t *testing.T) {
	sw := ovstest.Start(t)
	const trials = 10
	for i := range trials {
		br, err := sw.AddBridge(fmt.Sprintf("br-race%d", i))
		if err != nil {
			t.Fatal(err)
		}
		results := runOnceTogether(t, 2, br.Target(), sampleArgs(t)...)
		for j, r := range results {
			if r.code != 0 {
				t.Errorf("trial %d, controller %d: exit %d\n%s", i, j, r.code, r.stderr)
			}
		}
		tlv, err := br.DumpTLVMap()
		if err != nil {
			t.Fatal(err)
		}
		if len(tlv) != 1 {
			t.Errorf("trial %d: TLV map %v, want exactly one mapping", i, tlv)
		}
		flows, err := br.DumpFlows()
		if err != nil {
			t.Fatal(err)
		}
		if len(flows) != 790 {
			t.Errorf("trial %d: %d flows, want 790", i, len(flows))
		}
	}
}

// A flow naming a group that does not exist is refused by name, everything
// else is installed, and the exit status says something was refused.
func TestOnceRejectsBadFlow(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	flows := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))
	bad := " cookie=0x42, table=7, priority=5,reg0=0x4242 actions=group:4242"
	path := filepath.Join(dir, "flows.txt")
	if err := os.WriteFile(path, []byte(strings.Join(append(flows, bad), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runOnce(t, sw.Target(), "--flows", path,
		"--groups", corpus(t, "ovn-sample", "groups.txt"),
		"--meters", corpus(t, "ovn-sample", "meters.txt"))
	if res.code == 0 {
		t.Fatalf("exit 0 although the switch refused a flow\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "OFPBAC_BAD_OUT_GROUP") || !strings.Contains(res.stderr, "group:4242") {
		t.Errorf("stderr does not name the error and the flow:\n%s", res.stderr)
	}
	checkInstalled(t, sw)
}

// A file that does not parse names its line and changes nothing.
func TestOnceBrokenLine(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	flows := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))[:10]
	flows[6] = " cookie=0x1, table=3, priority=10,reg0=0x1,frobnicate=7 actions=drop"
	path := filepath.Join(dir, "flows.txt")
	if err := os.WriteFile(path, []byte(strings.Join(flows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runOnce(t, sw.Target(), "--flows", path)
	if res.code == 0 {
		t.Fatalf("exit 0 for a broken file")
	}
	if !strings.Contains(res.stderr, "flows.txt:7:") || !strings.Contains(res.stderr, "frobnicate") {
		t.Errorf("error does not name line 7 and the token:\n%s", res.stderr)
	}
	got, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("a broken file installed %d flows", len(got))
	}
}

// Deleting a group makes OVS delete the flows that use it, behind the
// controller's back: ofactor reads the flows back, tries the flows again,
// reports their refusal and knows exactly what the switch holds.
func TestOnceGroupDeleteTakesItsFlows(t *testing.T) {
	sw := ovstest.Start(t)
	if res := runOnce(t, sw.Target(), sampleArgs(t)...); res.code != 0 {
		t.Fatalf("install: exit %d\n%s", res.code, res.stderr)
	}
	all := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))
	var users int
	for _, l := range all {
		if strings.Contains(l, "group:") {
			users++
		}
	}
	if users == 0 {
		t.Fatal("no flow of ovn-sample uses a group")
	}
	// The same flows, no groups file: groups are desired empty.
	res := runOnce(t, sw.Target(), "--flows", corpus(t, "ovn-sample", "flows.txt"),
		"--meters", corpus(t, "ovn-sample", "meters.txt"))
	if res.code != 1 || !strings.Contains(res.stderr, "OFPBAC_BAD_OUT_GROUP") {
		t.Fatalf("exit %d, want 1 naming OFPBAC_BAD_OUT_GROUP\n%s", res.code, res.stderr)
	}
	flows, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != len(all)-users {
		t.Errorf("switch holds %d flows, want %d (all but the %d group users)", len(flows), len(all)-users, users)
	}
	if groups, _ := sw.DumpGroups(); len(groups) != 0 {
		t.Errorf("groups left: %v", groups)
	}
}
