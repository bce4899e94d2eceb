package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// ovs-vswitchd stopped (SIGSTOP) for a while: the inactivity probe notices
// and drops the connection, ofactor's memory stays bounded while it cannot
// reach the switch, and after SIGCONT the connection is made again and the
// table converges, including a change made to the files meanwhile.
func TestFaultSIGSTOP(t *testing.T) { sigstop(t, 5*time.Second) }

// sigstop returns how long convergence took after SIGCONT.
func sigstop(t *testing.T, pause time.Duration) time.Duration {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	flowsPath := filepath.Join(dir, "flows.txt")
	all := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))
	writeLines(t, flowsPath, all)
	d := startDaemon(t, sw.Target(), "--probe", "1s", "--flows", flowsPath,
		"--groups", corpus(t, "ovn-sample", "groups.txt"), "--meters", corpus(t, "ovn-sample", "meters.txt"))
	w := sampleWant(t)
	if _, err := waitConverged(sw, w, convergeWithin); err != nil {
		t.Fatalf("first install: %v", err)
	}
	pid := vswitchdPID(t, sw)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	}()
	// While the switch is stopped the desired table changes.
	w.flows = all[:len(all)-20]
	writeLines(t, flowsPath, w.flows)
	rss0, _ := d.rssKiB()
	var rssMax int
	for end := time.Now().Add(pause); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if r, err := d.rssKiB(); err == nil {
			rssMax = max(rssMax, r)
		}
	}
	if !strings.Contains(d.logs(), "inactivity probe") {
		t.Errorf("the probe did not notice the stopped switch within %v", pause)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	stopped = false
	took, err := waitConverged(sw, w, convergeWithin)
	if err != nil {
		t.Fatalf("after SIGCONT: %v", err)
	}
	t.Logf("converged %v after SIGCONT; RSS %d KiB before the stop, at most %d KiB during it", took, rss0, rssMax)
	if rss0 > 0 && rssMax > rss0+64*1024 {
		t.Errorf("RSS grew from %d KiB to %d KiB while the switch was stopped", rss0, rssMax)
	}
	return took
}

// The bridge deleted and created again under a running ofactor: it
// reconnects to the new bridge and installs everything again.
func TestFaultBridgeRecreated(t *testing.T) {
	sw := ovstest.Start(t)
	startDaemon(t, sw.Target(), sampleArgs(t)...)
	w := sampleWant(t)
	if _, err := waitConverged(sw, w, convergeWithin); err != nil {
		t.Fatalf("first install: %v", err)
	}
	if out, err := sw.Vsctl("del-br", sw.Bridge); err != nil {
		t.Fatalf("del-br: %v %s", err, out)
	}
	time.Sleep(500 * time.Millisecond)
	recreateBridge(t, sw)
	took, err := waitConverged(sw, w, convergeWithin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("converged %v after the bridge came back", took)
}

// ofactor started before the bridge exists keeps trying, and installs
// everything once the bridge appears.
func TestFaultControllerFirst(t *testing.T) {
	sw := ovstest.Start(t)
	target := "unix:" + filepath.Join(sw.Dir, "br-late.mgmt")
	startDaemon(t, target, append([]string{"--bridge", "br-late"}, sampleArgs(t)...)...)
	time.Sleep(time.Second)
	late, err := sw.AddBridge("br-late")
	if err != nil {
		t.Fatal(err)
	}
	took, err := waitConverged(late, sampleWant(t), convergeWithin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("converged %v after the bridge was created", took)
}

// recreateBridge adds sw's bridge again as ovstest makes bridges and waits
// for its management socket.
func recreateBridge(t *testing.T, sw *ovstest.Switch) {
	t.Helper()
	out, err := sw.Vsctl("add-br", sw.Bridge, "--", "set", "bridge", sw.Bridge, "datapath_type=dummy",
		"fail-mode=secure", "protocols=OpenFlow13,OpenFlow14,OpenFlow15")
	if err != nil {
		t.Fatalf("add-br: %v %s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := sw.DumpFlows(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge %s did not come back", sw.Bridge)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeLines(t testing.TB, path string, lines []string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
