package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// ofactorRun runs the ofactor binary with args and returns how it ended.
func ofactorRun(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ofactorBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("ofactor: %v", err)
		}
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// dumpForm is a line of a corpus file as ofactor prints it: without the
// leading space dump-flows puts there.
func dumpForm(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// ofactorRun13 is ofactorRun with the command's connection in OpenFlow
// 1.3 (-O OpenFlow13 after the command word), whose spelling the sample's
// files are in: diff and dump print flows as ovs-ofctl prints them in the
// version spoken.
func ofactorRun13(t testing.TB, args ...string) result {
	t.Helper()
	return ofactorRun(t, append([]string{args[0], "-O", "OpenFlow13"}, args[1:]...)...)
}

// diff, check and dump against a real switch (in OpenFlow 1.3, the
// sample's spelling; TestDumpOF15 has 1.5's): diff says what run --once
// would change and changes nothing (not even the TLV map); check has the
// switch judge it and names each refusal's file:line; a quiet run --once
// installs; diff then finds nothing; a changed file is a modified, a
// removed and an added line; dump writes files that run --once takes back
// sending nothing.
func TestDiffCheckDump(t *testing.T) {
	sw := ovstest.Start(t)
	target := sw.Target()
	sample := sampleWant(t)
	args := func(cmd string, files ...string) []string {
		return append([]string{cmd, "--switch", target}, files...)
	}

	res := ofactorRun13(t, args("diff", sampleArgs(t)...)...)
	if res.code != 1 {
		t.Fatalf("diff of a fresh bridge: exit %d, want 1\n%s", res.code, res.stderr)
	}
	var want []string
	for _, l := range append(append(dumpForm(sample.flows), sample.groups...), sample.meters...) {
		want = append(want, "+"+l)
	}
	checkSame(t, "diff of a fresh bridge", want, lines(res.stdout))
	if flows, _ := sw.DumpFlows(); len(flows) != 0 {
		t.Fatalf("diff installed %d flows", len(flows))
	}
	if tlv, _ := sw.DumpTLVMap(); len(tlv) != 0 {
		t.Fatalf("diff wrote the TLV map: %v", tlv)
	}

	// A flow naming a group that does not exist, at line 791.
	dir := t.TempDir()
	bad := filepath.Join(dir, "flows.txt")
	badFlow := "cookie=0x42, table=7, priority=5,reg0=0x4242 actions=group:4242"
	writeInPlace(t, bad, append(append([]string(nil), sample.flows...), " "+badFlow))
	res = ofactorRun13(t, "check", "--switch", target, "--flows", bad,
		"--groups", corpus(t, "ovn-sample", "groups.txt"), "--meters", corpus(t, "ovn-sample", "meters.txt"))
	refusal := fmt.Sprintf("%s:%d: OFPBAC_BAD_OUT_GROUP: %s", bad, len(sample.flows)+1, badFlow)
	if res.code != 1 || !strings.Contains(res.stdout, "\n"+refusal+"\n") {
		t.Fatalf("check with a bad flow: exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", res.code, refusal,
			tail(res.stdout, 5), res.stderr)
	}
	if !strings.Contains(res.stderr, "1 meter not checked") {
		t.Errorf("check does not say the meter was not checked:\n%s", res.stderr)
	}
	if flows, _ := sw.DumpFlows(); len(flows) != 0 {
		t.Fatalf("check installed %d flows", len(flows))
	}
	if res := ofactorRun13(t, args("check", sampleArgs(t)...)...); res.code != 0 {
		t.Fatalf("check of ovn-sample: exit %d, want 0\n%s\n%s", res.code, tail(res.stdout, 5), res.stderr)
	}
	if flows, _ := sw.DumpFlows(); len(flows) != 0 {
		t.Fatalf("check installed %d flows", len(flows))
	}

	// run --once is quiet on success: one line.
	res = ofactorRun13(t, append([]string{"run", "--once", "--switch", target}, sampleArgs(t)...)...)
	if res.code != 0 || res.stderr != "" || len(lines(res.stdout)) != 1 ||
		!regexp.MustCompile(`^br-int: version 1 installed in [0-9.]+m?s: sent flows 790 \(add 790, modify 0, delete 0\), groups 4, meters 1; `).MatchString(res.stdout) {
		t.Fatalf("run --once: exit %d\nstdout: %q\nstderr: %q", res.code, res.stdout, res.stderr)
	}
	t.Logf("run --once: %s", strings.TrimSpace(res.stdout))
	checkInstalled(t, sw)
	if res := ofactorRun13(t, args("diff", sampleArgs(t)...)...); res.code != 0 || res.stdout != "" {
		t.Fatalf("diff after install: exit %d, stdout %q\n%s", res.code, res.stdout, res.stderr)
	}

	// One flow's actions changed, one flow gone, one added, a group
	// changed: each as ovs-ofctl diff-flows shows it.
	flows := dumpForm(sample.flows)
	changed := append([]string(nil), flows...)
	m := 0 // a flow whose actions end with a resubmit: one more action is valid
	for !strings.HasSuffix(flows[m], ")") || strings.Contains(flows[m], "drop") {
		m++
	}
	modified := flows[m] + ",output:99"
	changed[m] = modified
	r := (m + 1) % len(flows)
	removed := flows[r]
	changed = append(changed[:r], changed[r+1:]...)
	added := "cookie=0x99, table=63, priority=7,ip actions=drop"
	changed = append(changed, added)
	groups := append([]string(nil), sample.groups...)
	oldGroup := groups[0]
	groups[0] = strings.Replace(groups[0], "weight:100", "weight:50", 1)
	cf, cg := filepath.Join(dir, "changed-flows.txt"), filepath.Join(dir, "changed-groups.txt")
	writeInPlace(t, cf, changed)
	writeInPlace(t, cg, groups)
	res = ofactorRun13(t, "diff", "--switch", target, "--flows", cf, "--groups", cg,
		"--meters", corpus(t, "ovn-sample", "meters.txt"))
	if res.code != 1 {
		t.Fatalf("diff of a changed file: exit %d\n%s", res.code, res.stderr)
	}
	checkSame(t, "diff of a changed file", []string{"-" + flows[m], "+" + modified, "-" + removed, "+" + added,
		"-" + oldGroup, "+" + groups[0]}, lines(res.stdout))
	t.Logf("diff of a changed file:\n%s", res.stdout)
	checkInstalled(t, sw)

	// dump, then run --once with what it wrote: nothing to send.
	out := t.TempDir()
	df, dg, dm := filepath.Join(out, "flows.txt"), filepath.Join(out, "groups.txt"), filepath.Join(out, "meters.txt")
	res = ofactorRun13(t, "dump", "--switch", target, "--flows", df, "--groups", dg, "--meters", dm)
	if res.code != 0 || res.stdout != "" {
		t.Fatalf("dump: exit %d, stdout %q\n%s", res.code, res.stdout, res.stderr)
	}
	checkSame(t, "dumped flows", dumpForm(sample.flows), ovstest.ReadLines(t, df))
	checkSame(t, "dumped groups", sample.groups, ovstest.ReadLines(t, dg))
	checkSame(t, "dumped meters", sample.meters, ovstest.ReadLines(t, dm))
	before, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	res = ofactorRun13(t, "run", "--once", "--switch", target, "--flows", df, "--groups", dg, "--meters", dm)
	if res.code != 0 || !strings.Contains(res.stdout, "sent flows 0 (add 0, modify 0, delete 0), groups 0, meters 0;") {
		t.Fatalf("run --once with the dump: exit %d\nstdout %q\nstderr %s", res.code, res.stdout, res.stderr)
	}
	after, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run --once with the dump: the switch received %d messages", after-before)
	if after-before > 50 {
		t.Errorf("run --once with the dump sent %d messages, want at most 50", after-before)
	}
	checkInstalled(t, sw)
	if res := ofactorRun13(t, "diff", "--switch", target, "--flows", df, "--groups", dg, "--meters", dm); res.code != 0 {
		t.Errorf("diff with the dump: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// Two lines for one flow: the later wins, as in ovs-ofctl add-flows, with
// a warning naming both lines, in run --once and in diff; --strict makes
// it an error and installs nothing. Groups likewise.
func TestDuplicates(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows.txt")
	writeInPlace(t, flows, []string{
		"table=0,priority=10,ip actions=output:1",
		"table=0,priority=20,arp actions=drop",
		"# the same flow again, other actions",
		"table=0, priority=10, ip, actions=output:2",
	})
	groups := filepath.Join(dir, "groups.txt")
	writeInPlace(t, groups, []string{
		"group_id=5,type=all,bucket=actions=output:1",
		"group_id=5,type=all,bucket=actions=output:3",
	})
	warnFlow := flows + ":4: replaces " + flows + ":1 (same table, priority and match)"
	warnGroup := groups + ":2: replaces " + groups + ":1 (same group_id)"

	res := ofactorRun(t, "diff", "--switch", sw.Target(), "--flows", flows, "--groups", groups)
	if res.code != 1 || !strings.Contains(res.stderr, warnFlow) || !strings.Contains(res.stderr, warnGroup) ||
		!strings.Contains(res.stdout, "+priority=10,ip actions=output:2\n") || strings.Contains(res.stdout, "output:1") {
		t.Fatalf("diff: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}

	res = ofactorRun(t, "run", "--once", "--strict", "--switch", sw.Target(), "--flows", flows, "--groups", groups)
	if res.code != 1 || !strings.Contains(res.stderr, warnFlow) || !strings.Contains(res.stderr, "--strict") {
		t.Fatalf("run --once --strict: exit %d, want 1\n%s", res.code, res.stderr)
	}
	if got, _ := sw.DumpFlows(); len(got) != 0 {
		t.Fatalf("--strict installed %q", got)
	}

	res = ofactorRun(t, "run", "--once", "--switch", sw.Target(), "--flows", flows, "--groups", groups)
	if res.code != 0 || !strings.Contains(res.stderr, warnFlow) || !strings.Contains(res.stderr, warnGroup) {
		t.Fatalf("run --once: exit %d\n%s", res.code, res.stderr)
	}
	t.Logf("run --once warns:\n%s", res.stderr)
	got, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "flows", []string{" priority=10,ip actions=output:2", " priority=20,arp actions=drop"}, got)
	if g, _ := sw.DumpGroups(); len(g) != 1 || !strings.Contains(g[0], "output:3") {
		t.Errorf("groups %q, want group 5 with output:3", g)
	}
}

// A target that does not exist or refuses the connection: every command
// fails at once with the dial error as ovs-ofctl words it, exit 2.
func TestDialErrors(t *testing.T) {
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows.txt")
	writeInPlace(t, flows, []string{"table=0,priority=1 actions=drop"})
	notSocket := filepath.Join(dir, "br-int.mgmt")
	writeInPlace(t, notSocket, []string{"not a socket"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ target, why string }{
		{"unix:" + filepath.Join(dir, "nothing", "br-int.mgmt"), "No such file or directory"},
		{"unix:" + notSocket, "Connection refused"},
		{"tcp:" + closed, "Connection refused"},
	} {
		want := tc.target + ": failed to connect to socket (" + tc.why + ")"
		for _, cmd := range [][]string{
			{"run", "--once", "--flows", flows},
			{"diff", "--flows", flows},
			{"check", "--flows", flows},
			{"dump", "--flows", filepath.Join(dir, "dump.txt")},
		} {
			start := time.Now()
			res := ofactorRun(t, append(cmd, "--switch", tc.target)...)
			took := time.Since(start)
			if res.code != 2 || !strings.Contains(res.stderr, want) {
				t.Errorf("%s %s: exit %d, want 2 and %q\n%s", cmd[0], tc.target, res.code, want, res.stderr)
				continue
			}
			t.Logf("%s: %s (%v)", cmd[0], strings.TrimSpace(res.stderr), took.Round(time.Millisecond))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.txt")); err == nil {
		t.Error("dump wrote a file although it could not connect")
	}
	// A malformed target is a usage error before anything is dialled.
	res := ofactorRun(t, "run", "--once", "--flows", flows, "--switch", "tcp:1.2.3.4.5:66")
	if res.code != 2 || !strings.Contains(res.stderr, `bad IP address "1.2.3.4.5"`) {
		t.Errorf("malformed target: exit %d\n%s", res.code, res.stderr)
	}
	res = ofactorRun(t, "run", "--once", "--flows", flows, "--switch", "tcp:127.0.0.1:6653", "--ca-cert", flows)
	if res.code != 2 || !strings.Contains(res.stderr, "apply to ssl: targets only") {
		t.Errorf("TLS files with tcp: exit %d\n%s", res.code, res.stderr)
	}
}
