package ofctl

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
)

// The groups and meters ovn-extra.txt's flows use, as ovs-ofctl prints
// them (dump-groups; dump-meters in add-meter syntax).
const (
	ovnExtraGroupsFile = "testdata/ovn-extra-groups.txt"
	ovnExtraMetersFile = "testdata/ovn-extra-meters.txt"
)

func fileLines(t testing.TB, name string) []string {
	t.Helper()
	return nonEmptyLines(t, filepath.FromSlash(name))
}

// extraMods parses ovn-extra's meters, groups and flows into messages with
// xids 1, 2, ...: meters and groups first, as flows need theirs.
func extraMods(t *testing.T) (meters, groups, flows []openflow.Message) {
	t.Helper()
	ctx := extraContext()
	xid := uint32(0)
	for i, line := range fileLines(t, ovnExtraMetersFile) {
		mm, err := ParseMeter(line, ctx)
		if err != nil {
			t.Fatalf("ovn-extra-meters.txt:%d: %v", i+1, err)
		}
		xid++
		mm.XID = xid
		meters = append(meters, mm)
	}
	for i, line := range fileLines(t, ovnExtraGroupsFile) {
		gm, err := ParseGroup(line, ctx)
		if err != nil {
			t.Fatalf("ovn-extra-groups.txt:%d: %v", i+1, err)
		}
		xid++
		gm.XID = xid
		groups = append(groups, gm)
	}
	for i, line := range ovnExtraLines(t) {
		fm, err := ParseFlow(line, ctx)
		if err != nil {
			t.Fatalf("ovn-extra.txt:%d: %v", i+1, err)
		}
		xid++
		fm.XID = xid
		flows = append(flows, fm)
	}
	return meters, groups, flows
}

// TestOVNExtraOFPParse encodes ovn-extra's groups and flows and has OVS
// decode them (ovs-ofctl ofp-parse): what it prints, put back into
// dump-flows form, must be the file's lines.
func TestOVNExtraOFPParse(t *testing.T) {
	needOVS(t)
	meters, groups, flows := extraMods(t)
	var bin []byte
	for _, m := range append(append(meters, groups...), flows...) {
		var err error
		if bin, err = m.AppendBinary(bin); err != nil {
			t.Fatal(err)
		}
	}
	var gotFlows, gotGroups, gotMeters []string
	for _, m := range ofpParse(t, "ovn-extra", bin) {
		body, ok := strings.CutPrefix(m.body, "ADD ")
		switch {
		case !ok || strings.Contains(m.body, "decode error"):
			t.Errorf("%s %s", m.head, m.body)
		case strings.HasPrefix(m.head, "OFPT_GROUP_MOD"):
			gotGroups = append(gotGroups, body)
		case strings.HasPrefix(m.head, "OFPT_METER_MOD"):
			// "meter=1 pktps burst stats bands= type=drop rate=10 ..."
			gotMeters = append(gotMeters, strings.ReplaceAll(strings.ReplaceAll(body, "bands= ", "bands="), " ", ","))
		case strings.HasPrefix(m.head, "OFPT_FLOW_MOD"):
			line, err := printedFlowMod(body)
			if err != nil {
				t.Error(err)
			}
			gotFlows = append(gotFlows, line)
		default:
			t.Errorf("unexpected %s", m.head)
		}
	}
	sameLines(t, "meters", gotMeters, fileLines(t, ovnExtraMetersFile))
	sameLines(t, "groups", gotGroups, fileLines(t, ovnExtraGroupsFile))
	sameLines(t, "flows", gotFlows, ovnExtraLines(t))
}

// ofpPrinted is one message as ovs-ofctl ofp-parse prints it: the head up
// to "): " and the rest of its lines joined.
type ofpPrinted struct{ head, body string }

// ofpParse has ovs-ofctl ofp-parse print the messages of bin (written to
// a file named for name) and returns them split.
func ofpParse(t *testing.T, name string, bin []byte) []ofpPrinted {
	t.Helper()
	file := filepath.Join(t.TempDir(), name+".ofp")
	if err := os.WriteFile(file, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(needOVS(t), "ofp-parse", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl ofp-parse: %v\n%s", err, out)
	}
	return splitOFPPrint(string(out))
}

// checkFlowModPrints checks that ofp-parse printed each flow_mod add of
// msgs as ours says, one for one.
func checkFlowModPrints(t *testing.T, msgs []ofpPrinted, ours []string) {
	t.Helper()
	if len(msgs) != len(ours) {
		t.Fatalf("ofp-parse printed %d messages, want %d", len(msgs), len(ours))
	}
	for i, m := range msgs {
		body, _ := strings.CutPrefix(m.body, "ADD ")
		got, err := printedFlowMod(body)
		if err != nil {
			t.Error(err)
			continue
		}
		if got != ours[i] {
			t.Errorf("OVS prints\n%s\nwe print\n%s", got, ours[i])
		}
	}
}

func splitOFPPrint(out string) []ofpPrinted {
	var msgs []ofpPrinted
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		head, body, ok := strings.Cut(l, "):")
		switch {
		case ok && !strings.HasPrefix(l, " ") && strings.Contains(head, "(xid="):
			msgs = append(msgs, ofpPrinted{head: head + ")", body: strings.TrimSpace(body)})
		case len(msgs) > 0:
			m := &msgs[len(msgs)-1]
			m.body = strings.TrimSpace(m.body + " " + strings.TrimSpace(l))
		}
	}
	return msgs
}

// printedFlowMod turns ofp-print's flow_mod body ("table:33
// priority=50,ip cookie:0x1 idle:5 hard:6 send_flow_rem importance:5
// actions=...") into the --no-stats dump-flows line of the same flow
// (ofputil_flow_mod_format vs ofputil_flow_stats_format).
func printedFlowMod(s string) (string, error) {
	head, actions, ok := strings.Cut(" "+s, " actions=")
	if !ok {
		return "", fmt.Errorf("no actions in %q", s)
	}
	vals := map[string]string{}
	var flags []string
	match := ""
	for _, f := range strings.Fields(head) {
		k, v, _ := strings.Cut(f, ":")
		switch k {
		case "table", "cookie", "idle", "hard", "importance":
			vals[k] = v
		case "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts":
			flags = append(flags, f)
		default:
			if match != "" {
				return "", fmt.Errorf("two matches in %q", s)
			}
			match = f
		}
	}
	b := " "
	for _, kv := range [][2]string{{"cookie", "cookie"}, {"table", "table"}, {"idle", "idle_timeout"}, {"hard", "hard_timeout"}} {
		if v := vals[kv[0]]; v != "" {
			b += kv[1] + "=" + v + ", "
		}
	}
	for _, f := range flags {
		b += f + " "
	}
	if v := vals["importance"]; v != "" {
		b += "importance=" + v + ", "
	}
	if match != "" {
		b += match + " "
	}
	return b + "actions=" + actions, nil
}

// sameLines compares two sets of lines and lists the differences.
func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if slices.Equal(got, want) {
		return
	}
	t.Errorf("%s: got %d lines, want %d", what, len(got), len(want))
	for _, l := range got {
		if !slices.Contains(want, l) {
			t.Errorf("%s: only got: %s", what, l)
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) {
			t.Errorf("%s: only want: %s", what, l)
		}
	}
}

// TestOVNExtraInstall installs ovn-extra through the codec on a real
// switch (its own OpenFlow session: hello, the group_mods and flow_mods,
// a barrier) and checks that OVS dumps exactly the file.
func TestOVNExtraInstall(t *testing.T) {
	sw := ovstest.Start(t)
	if _, err := sw.Ofctl("add-tlv-map", extraTLV); err != nil {
		t.Fatal(err)
	}
	meters, groups, flows := extraMods(t)
	conn, err := net.Dial("unix", sw.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	barrier := &openflow.BarrierRequest{}
	barrier.XID = 0xbabe
	var out []byte
	msgs := append([]openflow.Message{openflow.NewHello(openflow.Version13)}, meters...)
	msgs = append(append(append(msgs, groups...), flows...), barrier)
	for _, m := range msgs {
		if out, err = m.AppendBinary(out); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for done := false; !done; {
		b, err := openflow.ReadMessage(conn, buf)
		if err != nil {
			t.Fatalf("reading replies: %v", err)
		}
		m, err := openflow.Decode(b)
		if err != nil {
			t.Fatalf("reply %x: %v", b, err)
		}
		switch m := m.(type) {
		case *openflow.Error:
			t.Errorf("xid %d: %s", m.XID, m.Err().Name)
		case *openflow.BarrierReply:
			done = m.XID == barrier.XID
		case *openflow.EchoRequest:
			if out, err = openflow.NewEchoReply(m).AppendBinary(nil); err == nil {
				_, err = conn.Write(out)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	dumped, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d flows, %d groups and %d meters installed", len(dumped), len(groups), len(meters))
	sameLines(t, "dump-flows", dumped, ovnExtraLines(t))
	dumpedGroups, err := sw.DumpGroups()
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, "dump-groups", dumpedGroups, fileLines(t, ovnExtraGroupsFile))
	dumpedMeters, err := sw.DumpMeters()
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, "dump-meters", dumpedMeters, fileLines(t, ovnExtraMetersFile))
}
