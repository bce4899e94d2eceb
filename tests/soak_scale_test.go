//go:build soak

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
)

// A million flows in one table (the hostile operator: every dump
// reply part is one of hundreds), through the library: installed, the
// connection cut, the table read back whole, nothing sent, in sync.
func TestSoakMillionOneTable(t *testing.T) {
	start := time.Now()
	n := 1_000_000
	if raceEnabled {
		n = 200_000
	}
	scaleOneTable(t, n, 20*time.Minute)
	t.Logf("SOAK %d flows in one table, library: installed, reconnected, found right: converged 1/1, worst %v",
		n, time.Since(start).Round(time.Second))
}

// The same table through the command: ofactor run --once installs it,
// then a second run --once against the switch holding it sends nothing
// and exits 0 (before dumps of any size, the per-table dump passed the
// reassembly limit and the bridge stayed "syncing" for good).
func TestSoakMillionOneTableDaemon(t *testing.T) {
	const n = 1_000_000
	sw := ovstest.Start(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "ofactor")
	// The race detector's binary would parse a million lines for minutes.
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/ofactor").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "flows.txt")
	if err := flowgen.WriteFileN(file, n, flowgen.OneTable); err != nil {
		t.Fatal(err)
	}
	run := func() (string, time.Duration) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(bin, "run", "--once", "--switch", sw.Target(), "--flows", file, "--timeout", "15m", "--geneve", "off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ofactor run --once: %v\n%s", err, out)
		}
		return string(out), time.Since(start)
	}
	out, took := run()
	t.Logf("install: %v: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
	if got, err := sw.Ofctl("dump-aggregate", "table=0"); err != nil || !strings.Contains(got, "flow_count=1000000") {
		t.Fatalf("table 0 after the install: %s %v", got, err)
	}
	out, took = run()
	if !regexp.MustCompile(`sent flows 0 \(`).MatchString(out) {
		t.Fatalf("the restart against the installed table sent something: %s", out)
	}
	t.Logf("SOAK restart against 1M flows in one table: converged 1/1, worst %v (%s)", took.Round(time.Second), strings.TrimSpace(out))
	os.Remove(file)
}
