package tests

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
)

// daemon is `ofactor run` without --once: it watches its files and keeps
// the switch equal to them until stopped.
type daemon struct {
	cmd    *exec.Cmd
	stderr *ovstest.SyncBuffer
	done   chan struct{}
}

// startDaemon starts ofactor run against target; the test's end stops it
// (SIGTERM) and fails the test if it exited by itself or did not stop.
func startDaemon(t testing.TB, target string, args ...string) *daemon {
	t.Helper()
	full := append([]string{"run", "--switch", target, "--metrics-addr", "off", "--log-level", "info"}, args...)
	d := &daemon{cmd: exec.Command(ofactorBin, full...), stderr: &ovstest.SyncBuffer{}, done: make(chan struct{})}
	d.cmd.Stderr = d.stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
			t.Errorf("ofactor exited by itself: %v\n%s", d.cmd.ProcessState, tail(d.stderr.String(), 30))
			return
		default:
		}
		d.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
			t.Errorf("ofactor did not stop within 20s of SIGTERM\n%s", tail(d.stderr.String(), 30))
		}
		if t.Failed() {
			t.Logf("ofactor log:\n%s", tail(d.stderr.String(), 60))
		}
	})
	return d
}

// logs returns what the daemon logged so far.
func (d *daemon) logs() string { return d.stderr.String() }

// rssKiB is the daemon's resident set size.
func (d *daemon) rssKiB() (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS")
}

// want is a bridge's complete desired state in dump form.
type want struct {
	flows, groups, meters []string
}

// sampleWant is ovn-sample.
func sampleWant(t testing.TB) want {
	return want{
		flows:  ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt")),
		groups: ovstest.ReadLines(t, corpus(t, "ovn-sample", "groups.txt")),
		meters: ovstest.ReadLines(t, corpus(t, "ovn-sample", "meters.txt")),
	}
}

// bigTable writes n generated flows to dir/flows.txt and returns the
// arguments for them with ovn-sample's groups and meters, and their dump
// form, which ovs-ofctl add-flows on a scratch bridge of sw tells.
func bigTable(t testing.TB, sw *ovstest.Switch, dir string, n int) ([]string, want) {
	t.Helper()
	path := filepath.Join(dir, "flows.txt")
	if err := flowgen.WriteFile(path, flowgen.Flows(n)); err != nil {
		t.Fatal(err)
	}
	ref, err := sw.AddBridge("br-ref")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ref.Ofctl("add-flows", path); err != nil {
		t.Fatalf("ovs-ofctl add-flows: %v %s", err, out)
	}
	flows, err := ref.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	// The scratch bridge stays: ovstest waits for it on Restart.
	if out, err := ref.Ofctl("del-flows"); err != nil {
		t.Fatalf("ovs-ofctl del-flows: %v %s", err, out)
	}
	w := sampleWant(t)
	w.flows = flows
	return []string{"--flows", path,
		"--groups", corpus(t, "ovn-sample", "groups.txt"),
		"--meters", corpus(t, "ovn-sample", "meters.txt")}, w
}

// converged reports how the bridge differs from w, "" when it holds
// exactly w and one Geneve mapping.
func converged(sw *ovstest.Switch, w want) string {
	flows, err := sw.DumpFlows()
	if err != nil {
		return err.Error()
	}
	if m, e := diffLines(w.flows, flows); len(m)+len(e) > 0 {
		return fmt.Sprintf("flows: %d missing, %d extra (of %d)%s%s", len(m), len(e), len(w.flows),
			first("\n  missing: ", m), first("\n  extra:   ", e))
	}
	groups, err := sw.DumpGroups()
	if err != nil {
		return err.Error()
	}
	if m, e := diffLines(w.groups, groups); len(m)+len(e) > 0 {
		return fmt.Sprintf("groups: %d missing, %d extra", len(m), len(e))
	}
	meters, err := sw.DumpMeters()
	if err != nil {
		return err.Error()
	}
	if m, e := diffLines(w.meters, meters); len(m)+len(e) > 0 {
		return fmt.Sprintf("meters: %d missing, %d extra", len(m), len(e))
	}
	tlv, err := sw.DumpTLVMap()
	if err != nil {
		return err.Error()
	}
	if len(tlv) != 1 {
		return fmt.Sprintf("TLV map %v, want one mapping", tlv)
	}
	return ""
}

// first returns prefix and the first of lines, or "".
func first(prefix string, lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return prefix + lines[0]
}

// waitConverged polls until the bridge holds w; it returns how long that
// took, or an error saying how it still differs after within.
func waitConverged(sw *ovstest.Switch, w want, within time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		diff := converged(sw, w)
		if diff == "" {
			return time.Since(start), nil
		}
		if time.Since(start) > within {
			return 0, fmt.Errorf("not converged after %v: %s", within, diff)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// vswitchdPID reads ovs-vswitchd's pidfile.
func vswitchdPID(t testing.TB, sw *ovstest.Switch) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sw.Dir, "ovs-vswitchd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// trials tells how the fault tests ran, for the soak summary.
type trials struct {
	name     string
	n, ok    int
	worst    time.Duration
	failures []string
}

func (tr *trials) add(d time.Duration, err error) {
	tr.n++
	if err != nil {
		tr.failures = append(tr.failures, fmt.Sprintf("trial %d: %v", tr.n, err))
		return
	}
	tr.ok++
	tr.worst = max(tr.worst, d)
}

func (tr *trials) report(t testing.TB) {
	t.Helper()
	line := fmt.Sprintf("SOAK %s: converged %d/%d, worst %v", tr.name, tr.ok, tr.n, tr.worst.Round(time.Millisecond))
	fmt.Println(line)
	t.Log(line)
	for _, f := range tr.failures {
		t.Error(f)
	}
}
