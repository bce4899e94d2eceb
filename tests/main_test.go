// Package tests holds ofactor's integration tests against a real
// ovs-vswitchd (dummy datapath, private directory; see internal/ovstest).
package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// ofactorBin is the ofactor binary built once for the whole package.
var ofactorBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ofactor-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ofactorBin = filepath.Join(dir, "ofactor")
	build := exec.Command("go", "build", "-race", "-o", ofactorBin, "../cmd/ofactor")
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		build = exec.Command("go", "build", "-o", ofactorBin, "../cmd/ofactor")
	}
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ofactor: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// corpus returns the path of a file of ../shared/corpus.
func corpus(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared", "corpus"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus: %v (the shared corpus must sit beside the repository)", err)
	}
	return p
}

// result is how an ofactor run ended.
type result struct {
	code           int
	stdout, stderr string
}

// runOnce runs `ofactor run --once` against target with extra arguments.
func runOnce(t testing.TB, target string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ofactorBin, append([]string{"run", "--once", "--switch", target,
		"--timeout", "90s", "--log-level", "info"}, args...)...)
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

// runOnceTogether starts n `ofactor run --once` against target at the same
// moment and returns how each ended.
func runOnceTogether(t testing.TB, n int, target string, args ...string) []result {
	var wg sync.WaitGroup
	results := make([]result, n)
	for j := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[j] = runOnce(t, target, args...)
		}()
	}
	wg.Wait()
	return results
}

// sampleArgs are the files of the ovn-sample corpus.
func sampleArgs(t testing.TB) []string {
	return []string{
		"--flows", corpus(t, "ovn-sample", "flows.txt"),
		"--groups", corpus(t, "ovn-sample", "groups.txt"),
		"--meters", corpus(t, "ovn-sample", "meters.txt"),
	}
}

// diffLines reports the lines only in want and only in got.
func diffLines(want, got []string) (missing, extra []string) {
	w := map[string]int{}
	for _, l := range want {
		w[l]++
	}
	for _, l := range got {
		if w[l] > 0 {
			w[l]--
		} else {
			extra = append(extra, l)
		}
	}
	for l, n := range w {
		for ; n > 0; n-- {
			missing = append(missing, l)
		}
	}
	return missing, extra
}

func checkSame(t testing.TB, what string, want, got []string) {
	t.Helper()
	missing, extra := diffLines(want, got)
	if len(missing)+len(extra) == 0 {
		return
	}
	for i, l := range missing {
		if i == 10 {
			t.Errorf("%s: ... %d more missing", what, len(missing)-10)
			break
		}
		t.Errorf("%s: missing %s", what, l)
	}
	for i, l := range extra {
		if i == 10 {
			t.Errorf("%s: ... %d more extra", what, len(extra)-10)
			break
		}
		t.Errorf("%s: extra   %s", what, l)
	}
}
