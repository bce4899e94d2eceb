package tests

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// SIGHUP no longer kills the daemon (exit 129, which systemd's
// Restart=on-failure would not bring back): it reads the files again and
// keeps running. (cmd/ofactor's tests cover what a reload changes.)
func TestSIGHUPKeepsRunning(t *testing.T) {
	sw := ovstest.Start(t)
	d := startDaemon(t, sw.Target(), sampleArgs(t)...)
	if _, err := waitConverged(sw, sampleWant(t), convergeWithin); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(d.logs(), "SIGHUP: reading the files again"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reload after SIGHUP:\n%s", tail(d.logs(), 20))
		}
	}
	if diff := converged(sw, sampleWant(t)); diff != "" {
		t.Fatalf("after SIGHUP: %s", diff)
	}
	// The test's cleanup fails it if the daemon exited by itself.
}
