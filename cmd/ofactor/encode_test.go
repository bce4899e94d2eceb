package main

import (
	"bytes"
	"fmt"
	"github.com/ofactor/ofactor/internal/ovstest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// ovnSample is ../shared/corpus/ovn-sample from the repository root; the
// tests fail when it is missing.
func ovnSample(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus", "ovn-sample")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus missing: %v", err)
	}
	return dir
}

// needOVS returns ovs-ofctl's path; without it the test fails in CI and is
// skipped elsewhere.
func needOVS(t *testing.T) string {
	t.Helper()
	p := ovstest.OfctlPath(t)
	return p
}

// encode runs `ofactor encode ARGS` and returns its status and output.
func encode(args ...string) (int, []byte, string) {
	var out, errb bytes.Buffer
	code := dispatch(append([]string{"encode"}, args...), &out, &errb)
	return code, out.Bytes(), errb.String()
}

// TestEncodeOVNSample encodes the whole ovn-sample table in OpenFlow 1.3,
// 1.4 and 1.5, has OVS decode it (ovs-ofctl ofp-parse), turns what OVS
// prints back into dump-flows, dump-groups and meters.txt lines and
// compares them with the corpus. In 1.3 and 1.4 every line must come back
// as it is. In 1.5 the framing must (xids, message types, commands,
// tables, priorities, matches, cookies, timeouts, flags, group and bucket
// fields, meters: the lines with their actions left out), while actions
// may print differently: OVS writes some actions in 1.5 in another form
// (load as set_field, say), which is the action encoder's business.
func TestEncodeOVNSample(t *testing.T) {
	ovs := needOVS(t)
	dir := ovnSample(t)
	flows, groups, meters := filepath.Join(dir, "flows.txt"), filepath.Join(dir, "groups.txt"), filepath.Join(dir, "meters.txt")
	want := ovstest.ReadLines(t, meters)
	want = append(want, ovstest.ReadLines(t, groups)...)
	nFlows := len(ovstest.ReadLines(t, flows))
	want = append(want, ovstest.ReadLines(t, flows)...)
	for _, version := range []string{"OpenFlow13", "OpenFlow14", "OpenFlow15"} {
		t.Run(version, func(t *testing.T) {
			code, bin, stderr := encode("--version", version, "--flows", flows, "--groups", groups, "--meters", meters)
			if code != 0 {
				t.Fatalf("encode: exit %d: %s", code, stderr)
			}
			msgs := ofpParse(t, ovs, bin)
			var got []string
			for i, m := range msgs {
				if want := fmt.Sprintf("(xid=%#x):", i+1); !strings.Contains(m.head, want) {
					t.Errorf("message %d: %q, want %s", i+1, m.head, want)
				}
				if v := fmt.Sprintf("(OF1.%c)", version[len(version)-1]); !strings.Contains(m.head, v) {
					t.Errorf("message %d: %q, want %s", i+1, m.head, v)
				}
				line, err := corpusLine(m)
				if err != nil {
					t.Errorf("message %d: %v", i+1, err)
					continue
				}
				got = append(got, line)
			}
			if len(msgs) != len(want) || nFlows != 790 {
				t.Errorf("OVS printed %d messages, want %d (790 flows, 4 groups, 1 meter; flows.txt has %d)", len(msgs), len(want), nFlows)
			}
			for i, m := range msgs[:min(len(msgs), 5)] {
				kind := []string{"OFPT_METER_MOD", "OFPT_GROUP_MOD", "OFPT_GROUP_MOD", "OFPT_GROUP_MOD", "OFPT_GROUP_MOD"}[i]
				if !strings.HasPrefix(m.head, kind) {
					t.Errorf("message %d is %q, want a %s (meters, then groups, then flows)", i+1, m.head, kind)
				}
			}
			if version != "OpenFlow15" {
				reportDiff(t, got, want)
				return
			}
			same := 0
			for i := range min(len(got), len(want)) {
				if got[i] == want[i] {
					same++
				}
			}
			reportDiff(t, withoutActions(got), withoutActions(want))
			t.Logf("OpenFlow 1.5: %d of %d lines print as in the corpus, actions included", same, len(want))
		})
	}
}

// ofpParse writes bin to a file, has ovs-ofctl ofp-parse print it and cuts
// what it prints into messages.
func ofpParse(t *testing.T, ovs string, bin []byte) []printed {
	t.Helper()
	file := filepath.Join(t.TempDir(), "messages.ofp")
	if err := os.WriteFile(file, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ovs, "ofp-parse", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl ofp-parse: %v\n%s", err, out)
	}
	return splitPrinted(string(out))
}

// actionsRE is one actions= of a flow or a group's bucket: everything up to
// the next bucket or the end (no action prints ",bucket=").
var actionsRE = regexp.MustCompile(`actions=.*?(,bucket=|$)`)

// withoutActions is the lines with their actions cut out.
func withoutActions(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = actionsRE.ReplaceAllString(l, "actions=…$1")
	}
	return out
}

// reportDiff compares two sets of lines, sorted, and lists what is only
// in one of them.
func reportDiff(t *testing.T, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, l := range want {
		count[l]++
	}
	for _, l := range got {
		count[l]--
	}
	var missing, extra []string
	for l, n := range count {
		for ; n > 0; n-- {
			missing = append(missing, l)
		}
		for ; n < 0; n++ {
			extra = append(extra, l)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) == 0 {
		return
	}
	const show = 10
	t.Errorf("%d corpus lines OVS did not print back, %d printed lines not in the corpus", len(missing), len(extra))
	for i, l := range missing[:min(len(missing), show)] {
		t.Errorf("corpus only %d: %s", i+1, l)
	}
	for i, l := range extra[:min(len(extra), show)] {
		t.Errorf("OVS only   %d: %s", i+1, l)
	}
}

// printed is one message as ovs-ofctl prints it: the line with its type
// and xid, and the lines that continue it.
type printed struct {
	head string
	more []string
}

// splitPrinted cuts ofp-parse's output into messages.
func splitPrinted(out string) []printed {
	var msgs []printed
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.Contains(l, " (xid=0x") && !strings.HasPrefix(l, " ") {
			msgs = append(msgs, printed{head: l})
		} else if len(msgs) > 0 {
			msgs[len(msgs)-1].more = append(msgs[len(msgs)-1].more, l)
		}
	}
	return msgs
}

// corpusLine turns a printed FLOW_MOD, GROUP_MOD or METER_MOD into the
// line the corpus holds for it.
func corpusLine(m printed) (string, error) {
	_, body, ok := strings.Cut(m.head, "): ")
	if !ok {
		body = ""
	}
	body = strings.TrimSpace(strings.Join(append([]string{body}, m.more...), " "))
	if strings.Contains(body, "decode error") {
		return "", fmt.Errorf("%s %s", m.head, strings.Join(m.more, "\n"))
	}
	body, ok = strings.CutPrefix(body, "ADD ")
	if !ok {
		return "", fmt.Errorf("not an ADD: %s", m.head)
	}
	switch {
	case strings.HasPrefix(m.head, "OFPT_FLOW_MOD"):
		return flowModLine(body)
	case strings.HasPrefix(m.head, "OFPT_GROUP_MOD"):
		// OpenFlow 1.5 has bucket ids, which OVS prints and the 1.3
		// syntax of the corpus has not; ofactor's encoder numbers the
		// buckets 0, 1, 2... as OVS does.
		return bucketIDRE.ReplaceAllString(body, "bucket="), nil
	case strings.HasPrefix(m.head, "OFPT_METER_MOD"):
		// "meter=1 kbps burst stats bands= type=drop rate=50 ..."
		return strings.ReplaceAll(strings.ReplaceAll(body, "bands= ", "bands="), " ", ","), nil
	}
	return "", fmt.Errorf("unexpected message %s", m.head)
}

var bucketIDRE = regexp.MustCompile(`bucket=bucket_id:[0-9]+,`)

// flowModLine turns ofp-print's flow_mod ("table:33 priority=50,ip
// cookie:0x1 idle:5 hard:6 send_flow_rem actions=...") into the
// --no-stats dump-flows line.
func flowModLine(s string) (string, error) {
	i := strings.Index(" "+s, " actions=")
	if i < 0 {
		return "", fmt.Errorf("no actions: %s", s)
	}
	head, actions := s[:max(i-1, 0)], s[i:]
	var cookie, table, idle, hard, importance, match string
	var flags []string
	for _, f := range strings.Fields(head) {
		k, v, _ := strings.Cut(f, ":")
		switch k {
		case "table":
			table = v
		case "cookie":
			cookie = v
		case "idle":
			idle = v
		case "hard":
			hard = v
		case "importance":
			importance = v
		case "send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts":
			flags = append(flags, f)
		default:
			if match != "" {
				return "", fmt.Errorf("two matches %q and %q in %s", match, f, s)
			}
			match = f
		}
	}
	b := " "
	for _, kv := range [][2]string{{"cookie", cookie}, {"table", table}, {"idle_timeout", idle}, {"hard_timeout", hard}} {
		if kv[1] != "" {
			b += kv[0] + "=" + kv[1] + ", "
		}
	}
	for _, f := range flags {
		b += f + " "
	}
	if importance != "" {
		b += "importance=" + importance + ", "
	}
	if match != "" {
		b += match + " "
	}
	return b + actions, nil
}

// TestEncodeMessages decodes what encode writes with the codec: order,
// commands and xids.
func TestEncodeMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flows := write("flows", "# two flows\npriority=5 actions=drop\n\ntable=1,cookie=0x7 actions=drop\n")
	groups := write("groups", "group_id=9,type=all\n")
	meters := write("meters", "meter=3,pktps,bands=type=drop,rate=10\n")
	code, bin, stderr := encode("--meters", meters, "--flows", flows, "--groups", groups, "--version", "OpenFlow14")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got []string
	for off := 0; off < len(bin); {
		var h openflow.Header
		if err := h.UnmarshalBinary(bin[off:]); err != nil || off+int(h.Length) > len(bin) {
			t.Fatalf("at byte %d: %v", off, err)
		}
		msg := bin[off : off+int(h.Length)]
		off += len(msg)
		var text string
		switch h.Type {
		case openflow.TypeFlowMod:
			var fm openflow.FlowMod
			if err := fm.UnmarshalBinary(msg); err != nil {
				t.Fatal(err)
			}
			text = fmt.Sprintf("flow table=%d cookie=%#x priority=%d", fm.TableID, fm.Cookie, fm.Priority)
		case openflow.TypeGroupMod:
			var gm openflow.GroupMod
			if err := gm.UnmarshalBinary(msg); err != nil {
				t.Fatal(err)
			}
			text = fmt.Sprintf("group %d", gm.GroupID)
		case openflow.TypeMeterMod:
			var mm openflow.MeterMod
			if err := mm.UnmarshalBinary(msg); err != nil {
				t.Fatal(err)
			}
			text = fmt.Sprintf("meter %d", mm.MeterID)
		}
		got = append(got, fmt.Sprintf("v%d xid=%d %s", h.Version, h.XID, text))
	}
	want := []string{"v5 xid=1 meter 3", "v5 xid=2 group 9",
		"v5 xid=3 flow table=0 cookie=0x0 priority=5", "v5 xid=4 flow table=1 cookie=0x7 priority=32768"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEncodeErrors checks that every bad line of every file is reported
// with file:line:column, and that nothing is written then.
func TestEncodeErrors(t *testing.T) {
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows.txt")
	groups := filepath.Join(dir, "groups.txt")
	os.WriteFile(flows, []byte("priority=1 actions=drop\npriority=2,frob=1 actions=drop\n"), 0o644)
	os.WriteFile(groups, []byte("\ngroup_id=1,type=bogus\n"), 0o644)
	code, out, stderr := encode("--flows", flows, "--groups", groups)
	if code != 1 || len(out) != 0 {
		t.Errorf("exit %d, %d bytes written; want 1 and none", code, len(out))
	}
	for _, want := range []string{flows + ":2:12: ", groups + ":2:12: \"type=bogus\""} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
	if code, _, stderr := encode("--flows", filepath.Join(dir, "nonesuch")); code != 1 || !strings.Contains(stderr, "nonesuch") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "usage: ofactor COMMAND"},
		{[]string{"--help"}, 0, "encode --flows FILE"},
		{[]string{"frob"}, 2, "unknown command 'frob'"},
		{[]string{"encode"}, 2, "usage: ofactor encode"},
		{[]string{"encode", "--help"}, 0, "usage: ofactor encode"},
		{[]string{"encode", "--flows", "f", "--version", "OpenFlow10"}, 2, "unknown version"},
		{[]string{"encode", "--flows", "f", "extra"}, 2, "unexpected argument"},
	} {
		var out bytes.Buffer
		code := dispatch(tc.args, &out, &out)
		if code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("ofactor %q: exit %d, %q; want %d and %q", tc.args, code, out.String(), tc.code, tc.out)
		}
	}
}

// TestEncodeFeatures round-trips, through OVS, lines that use what the
// corpus does not: timeouts, flags, importance (OpenFlow 1.4+), the other
// group types and bucket fields (OpenFlow 1.5's bucket properties), dscp_remark
// bands; in OpenFlow 1.4 and 1.5, with actions the same in both.
func TestEncodeFeatures(t *testing.T) {
	ovs := needOVS(t)
	flows := []string{
		" cookie=0xabcd, table=33, idle_timeout=5, hard_timeout=6, send_flow_rem check_overlap reset_counts no_packet_counts no_byte_counts importance=7, priority=50,ip actions=output:1",
		" table=1, importance=1, actions=drop",
		" priority=0 actions=drop",
		" hard_timeout=65535, priority=65535,tcp,tp_dst=80 actions=resubmit(,2)",
	}
	groups := []string{
		"group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2",
		"group_id=2,type=ff,bucket=watch_port:5,actions=output:5,bucket=watch_group:1,actions=group:1",
		"group_id=3,type=indirect,bucket=actions=drop",
		"group_id=4,type=select,bucket=weight:0,actions=output:3,bucket=actions=output:4",
	}
	meters := []string{
		"meter=2,pktps,stats,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200",
		"meter=3,kbps,burst,bands=type=drop,rate=1000,burst_size=10",
	}
	dir := t.TempDir()
	write := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flowsFile, groupsFile, metersFile := write("flows", flows), write("groups", groups), write("meters", meters)
	for _, version := range []string{"OpenFlow14", "OpenFlow15"} {
		t.Run(version, func(t *testing.T) {
			code, bin, stderr := encode("--version", version, "--flows", flowsFile, "--groups", groupsFile, "--meters", metersFile)
			if code != 0 {
				t.Fatalf("encode: exit %d: %s", code, stderr)
			}
			var got []string
			for i, m := range ofpParse(t, ovs, bin) {
				line, err := corpusLine(m)
				if err != nil {
					t.Errorf("message %d: %v", i+1, err)
				}
				got = append(got, line)
			}
			reportDiff(t, got, append(append(meters, groups...), flows...))
		})
	}
}

// TestEncodePorts resolves port names with --ports, refuses a name it
// lacks, and reports a dropped match field on standard error.
func TestEncodePorts(t *testing.T) {
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows.txt")
	os.WriteFile(flows, []byte("in_port=vm1,actions=output:vm2\ntcp_dst=80,actions=drop\n"), 0o644)
	code, out, stderr := encode("--flows", flows, "--ports", "vm1=3,vm2=4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := flows + ":2:1: tcp_dst needs tcp or tcp6: dropped, as ovs-ofctl does"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
	var fm openflow.FlowMod
	if n := int(out[2])<<8 | int(out[3]); fm.UnmarshalBinary(out[:n]) != nil ||
		string(ofctl.AppendFlow(nil, &fm)) != " in_port=3 actions=output:4" {
		t.Errorf("first flow: %x", out)
	}
	code, out, stderr = encode("--flows", flows, "--ports", "vm1=3")
	if code != 1 || len(out) != 0 || !strings.Contains(stderr, flows+":1:28: ") || !strings.Contains(stderr, "not a port of the switch") {
		t.Errorf("vm2 missing: exit %d, %d bytes, %q", code, len(out), stderr)
	}
	code, _, stderr = encode("--flows", flows)
	if code != 1 || !strings.Contains(stderr, "needs the switch's ports") {
		t.Errorf("no --ports: exit %d, %q", code, stderr)
	}
	if code, _, stderr = encode("--flows", flows, "--ports", "vm1"); code != 2 || !strings.Contains(stderr, "--ports") {
		t.Errorf("bad --ports: exit %d, %q", code, stderr)
	}
}
