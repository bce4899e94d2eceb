package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// The daemon's watched flows file written partially, renamed over, deleted
// and re-created, and made unreadable: every good version is installed,
// every bad one is logged with the file and why, and the last good state
// stays installed meanwhile.
func TestWatchFileFaults(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.txt")
	all := ovstest.ReadLines(t, corpus(t, "ovn-sample", "flows.txt"))
	writeLines(t, path, all)
	d := startDaemon(t, sw.Target(), "--flows", path,
		"--groups", corpus(t, "ovn-sample", "groups.txt"), "--meters", corpus(t, "ovn-sample", "meters.txt"))
	w := sampleWant(t)
	converge := func(step string, flows []string) {
		t.Helper()
		w.flows = flows
		if _, err := waitConverged(sw, w, convergeWithin); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// kept checks that a bad file changed nothing and was logged with the
	// file's name and each of why.
	kept := func(step string, logsBefore int, why ...string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			logs := d.logs()[logsBefore:]
			ok := strings.Contains(logs, "keeping the last good") && strings.Contains(logs, path)
			for _, y := range why {
				ok = ok && strings.Contains(logs, y)
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no log naming %s and %q:\n%s", step, path, why, tail(logs, 20))
			}
			time.Sleep(50 * time.Millisecond)
		}
		if diff := converged(sw, w); diff != "" {
			t.Fatalf("%s: the last good state is gone: %s", step, diff)
		}
	}
	converge("start", all)

	// Written partially: the writer stopped in the middle of a line.
	n := len(d.logs())
	cut := strings.Join(all[:len(all)-5], "\n") + "\n" + all[len(all)-5][:strings.Index(all[len(all)-5], "actions=")+4]
	if err := os.WriteFile(path, []byte(cut), 0o644); err != nil {
		t.Fatal(err)
	}
	kept("partial write", n, "flows.txt:"+strconv.Itoa(len(all)-4)+":")
	// ... and then finished, with ten flows fewer.
	writeInPlace(t, path, all[:len(all)-10])
	converge("finished write", all[:len(all)-10])

	// Renamed over, as editors and config managers do.
	writeLines(t, path, all[:len(all)-20])
	converge("rename over", all[:len(all)-20])

	// Deleted, then created again.
	n = len(d.logs())
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	kept("deleted", n, "no such file")
	writeInPlace(t, path, all[:len(all)-30])
	converge("re-created", all[:len(all)-30])

	// Unreadable. Root reads any file whatever its mode, so there the name
	// becomes a directory instead.
	n = len(d.logs())
	why := "permission denied"
	if os.Geteuid() == 0 {
		why = "is a directory"
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
	} else if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	kept("unreadable", n, why)
	os.Remove(path)
	writeInPlace(t, path, all)
	converge("readable again", all)
}

// writeInPlace writes a file without a rename.
func writeInPlace(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
