package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/internal/ovstest"
)

// startDaemonHUP is startDaemon with a SIGHUP channel of the test's own.
func startDaemonHUP(t *testing.T, args ...string) (*ovstest.SyncBuffer, chan<- os.Signal) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &ovstest.SyncBuffer{}
	hup := make(chan os.Signal, 1)
	done := make(chan int, 1)
	go func() { done <- runWith(ctx, args, hup, io.Discard, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("ofactor run exited %d\n%s", code, log)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("ofactor run did not stop\n%s", log)
		}
	})
	return log, hup
}

// waitFor polls ok for up to 30 s.
func waitFor(t *testing.T, what string, log fmt.Stringer, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s\n%s", what, tailLog(log.String(), 40))
		}
	}
}

func tailLog(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func flowCount(t *testing.T, sw *ovstest.Switch) int {
	t.Helper()
	fs, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	return len(fs)
}

func writeFileLines(t *testing.T, path string, ls []string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(ls, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const (
	holding  = "reload would remove much of what the switch holds; waiting"
	applying = "applying a reload that removes much of what the switch holds"
)

// A flows file written in place with a pause, or truncated to nothing, is
// not applied as it stands: the reload waits for the file to settle, with
// a warning naming the file, and the switch keeps its flows; a small change
// renamed over the file goes through at once.
func TestWatchShrinkHeld(t *testing.T) {
	sw := ovstest.Start(t)
	all := ovstest.ReadLines(t, corpusFile(t, "ovn-sample", "flows.txt"))
	path := filepath.Join(t.TempDir(), "flows.txt")
	writeFileLines(t, path, all)
	// A settle time no test run reaches: whatever is held stays held.
	log := startDaemon(t, "--switch", sw.Target(), "--metrics-addr", "off", "--settle", "1h", "--flows", path,
		"--groups", corpusFile(t, "ovn-sample", "groups.txt"), "--meters", corpusFile(t, "ovn-sample", "meters.txt"))
	waitFor(t, "first install", log, func() bool { return flowCount(t, sw) == len(all) })

	// (head -300; sleep 1; tail -n +301) > flows.txt
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strings.Join(all[:300], "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	least := len(all)
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		least = min(least, flowCount(t, sw))
	}
	if _, err := f.WriteString(strings.Join(all[300:], "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if least != len(all) {
		t.Fatalf("while the file was half written the switch held %d flows, want %d", least, len(all))
	}
	waitFor(t, "the warning", log, func() bool { return strings.Contains(log.String(), holding) })
	if l := firstLineWith(log.String(), holding); !strings.Contains(l, path) || !strings.Contains(l, `"removes": 490`) {
		t.Errorf("the warning does not name the file and the count: %s", l)
	}
	// Complete again: applied (nothing changes), nothing held.
	waitFor(t, "the complete file", log, func() bool {
		return strings.Count(log.String(), "files loaded") >= 1 || strings.Contains(log.String(), "no flow changed")
	})

	// Truncated to 0 bytes: held.
	n := strings.Count(log.String(), holding)
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the warning for the empty file", log, func() bool { return strings.Count(log.String(), holding) > n })
	if got := flowCount(t, sw); got != len(all) {
		t.Fatalf("an empty file removed flows: %d left of %d", got, len(all))
	}

	// Ten flows fewer, renamed over: at once, not held.
	n = strings.Count(log.String(), holding)
	writeFileLines(t, path, all[:len(all)-10])
	waitFor(t, "the small change", log, func() bool { return flowCount(t, sw) == len(all)-10 })
	if strings.Count(log.String(), holding) != n || strings.Contains(log.String(), applying) {
		t.Errorf("a small change was held:\n%s", tailLog(log.String(), 10))
	}
}

// Held back, a shrink is applied once the files have not changed for the
// settle time, with a warning.
func TestWatchShrinkApplied(t *testing.T) {
	sw := ovstest.Start(t)
	all := ovstest.ReadLines(t, corpusFile(t, "ovn-sample", "flows.txt"))
	path := filepath.Join(t.TempDir(), "flows.txt")
	writeFileLines(t, path, all)
	log := startDaemon(t, "--switch", sw.Target(), "--metrics-addr", "off", "--settle", "300ms", "--flows", path,
		"--groups", corpusFile(t, "ovn-sample", "groups.txt"), "--meters", corpusFile(t, "ovn-sample", "meters.txt"))
	waitFor(t, "first install", log, func() bool { return flowCount(t, sw) == len(all) })
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the empty file applied", log, func() bool { return flowCount(t, sw) == 0 })
	if !strings.Contains(log.String(), holding) || !strings.Contains(log.String(), applying) {
		t.Errorf("no warnings for emptying the table:\n%s", tailLog(log.String(), 10))
	}
}

func firstLineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// SIGHUP reads the configuration again: a bridge added starts, a bridge
// whose options changed is restarted with them, a bridge removed stops
// (its series and status go, its switch keeps its flows); a configuration
// that does not load changes nothing; log_level applies.
func TestSIGHUPConfig(t *testing.T) {
	sw := ovstest.Start(t)
	swB, err := sw.AddBridge("br-b")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p+".tmp", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.flows", "table=0,priority=10,ip actions=drop\ntable=0,priority=20,arp actions=drop\n")
	write("a2.flows", "table=0,priority=30,ipv6 actions=drop\n")
	write("b.flows", "table=0,priority=5 actions=drop\n")
	addr := freeAddr(t)
	cfg := write("ofactor.yaml", fmt.Sprintf(`metrics_addr: %s
log_level: info
bridges:
  - name: br-int
    switch: %s
    flows: a.flows
`, addr, sw.Target()))
	log, hup := startDaemonHUP(t, "--config", cfg)
	inSync := func(s metrics.Status) bool { return s.State == "in_sync" }
	waitStatus(t, addr, "br-int", log, inSync)

	write("ofactor.yaml", fmt.Sprintf(`metrics_addr: %s
log_level: debug
bridges:
  - name: br-int
    switch: %s
    flows: a2.flows
  - name: br-b
    switch: %s
    flows: b.flows
`, addr, sw.Target(), swB.Target()))
	hup <- syscall.SIGHUP
	waitStatus(t, addr, "br-b", log, inSync)
	waitFor(t, "br-int restarted with a2.flows", log, func() bool {
		fs, _ := sw.DumpFlows()
		return len(fs) == 1 && strings.Contains(fs[0], "ipv6")
	})
	if got := flowCount(t, swB); got != 1 {
		t.Errorf("br-b holds %d flows, want 1", got)
	}
	if l := firstLineWith(log.String(), "SIGHUP: configuration reloaded"); !strings.Contains(l, `"added": "br-b"`) ||
		!strings.Contains(l, `"restarted": "br-int"`) {
		t.Errorf("reload log: %q", l)
	}
	if !strings.Contains(log.String(), "DEBUG") {
		t.Error("log_level: debug not applied")
	}

	// A configuration that does not load: nothing changes.
	write("ofactor.yaml", "bridges:\n  - name: br-int\n    flow: typo.txt\n")
	hup <- syscall.SIGHUP
	waitFor(t, "the refusal", log, func() bool {
		return strings.Contains(log.String(), "SIGHUP: configuration not applied; the running one stays")
	})
	waitStatus(t, addr, "br-b", log, inSync)

	// br-b removed: its status and series go, its switch keeps its flows.
	write("ofactor.yaml", fmt.Sprintf(`metrics_addr: %s
bridges:
  - name: br-int
    switch: %s
    flows: a2.flows
`, addr, sw.Target()))
	hup <- syscall.SIGHUP
	waitFor(t, "br-b removed", log, func() bool { code, _ := get(t, "http://"+addr+"/status/br-b"); return code == 404 })
	if _, body := get(t, "http://"+addr+"/metrics"); strings.Contains(body, `bridge="br-b"`) {
		t.Error("/metrics still reports br-b")
	}
	waitStatus(t, addr, "br-int", log, inSync)
	if got := flowCount(t, swB); got != 1 {
		t.Errorf("br-b's switch holds %d flows after the bridge was removed, want 1 (never cleared)", got)
	}
}

// Without --config SIGHUP reads the files again.
func TestSIGHUPFiles(t *testing.T) {
	sw := ovstest.Start(t)
	path := filepath.Join(t.TempDir(), "flows.txt")
	writeFileLines(t, path, []string{"table=0,priority=1 actions=drop"})
	log, hup := startDaemonHUP(t, "--switch", sw.Target(), "--metrics-addr", "off", "--flows", path)
	waitFor(t, "first install", log, func() bool { return flowCount(t, sw) == 1 })
	hup <- syscall.SIGHUP
	waitFor(t, "the files read again", log, func() bool {
		return strings.Contains(log.String(), "SIGHUP: reading the files again") && strings.Contains(log.String(), "files loaded")
	})
}
