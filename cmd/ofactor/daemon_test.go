package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/internal/ovstest"
)

// corpusFile returns a file of ../shared/corpus beside the repository.
func corpusFile(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "..", "shared", "corpus"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("corpus: %v (the shared corpus must sit beside the repository)", err)
	}
	return p
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startDaemon runs `ofactor run args...` in this process until the test
// ends, and returns its log.
func startDaemon(t *testing.T, args ...string) *ovstest.SyncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &ovstest.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, io.Discard, log) }()
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
	return log
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// waitStatus polls /status/BRIDGE until ok accepts it.
func waitStatus(t *testing.T, addr, bridge string, log fmt.Stringer, ok func(metrics.Status) bool) metrics.Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var st metrics.Status
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + addr + "/status/" + bridge)
		if err == nil {
			st = metrics.Status{}
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
			if err == nil && ok(st) {
				return st
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("bridge %s: status never as wanted; last %+v\n%s", bridge, st, log)
	return st
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// The daemon installs ovn-sample and reports it on /status, /metrics and
// /healthz.
func TestDaemonEndpoints(t *testing.T) {
	sw := ovstest.Start(t)
	addr := freeAddr(t)
	flows := corpusFile(t, "ovn-sample", "flows.txt")
	log := startDaemon(t, "--switch", sw.Target(), "--metrics-addr", addr, "--log-level", "warn",
		"--flows", flows, "--groups", corpusFile(t, "ovn-sample", "groups.txt"),
		"--meters", corpusFile(t, "ovn-sample", "meters.txt"))

	st := waitStatus(t, addr, "br-int", log, func(s metrics.Status) bool {
		return s.State == "in_sync" && s.Installed != nil && s.Installed.Version > 0
	})
	nflows := countLines(t, flows)
	if st.Target != sw.Target() || !st.Connection.Connected || st.Connection.Version != "OpenFlow15" {
		t.Errorf("status: target %q connection %+v", st.Target, st.Connection)
	}
	if st.Geneve.State != "enabled" || st.Geneve.Field != "tun_metadata0" || st.Geneve.Class != "0x0102" {
		t.Errorf("status: geneve %+v", st.Geneve)
	}
	want := metrics.Tables{Version: 1, Flows: nflows, Groups: 4, Meters: 1}
	if st.Desired != want || *st.Installed != want {
		t.Errorf("status: desired %+v installed %+v, want %+v", st.Desired, st.Installed, want)
	}

	code, body := get(t, "http://"+addr+"/status")
	if code != 200 || !strings.Contains(body, `"bridges"`) || !strings.Contains(body, `"bridge": "br-int"`) {
		t.Errorf("/status: %d %s", code, body)
	}
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _ := get(t, "http://"+addr+"/status/br-nope"); code != 404 {
		t.Errorf("/status/br-nope: %d, want 404", code)
	}

	code, body = get(t, "http://"+addr+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range []string{
		`ofactor_up{bridge="br-int"} 1`,
		`ofactor_connected{bridge="br-int"} 1`,
		`ofactor_connects_total{bridge="br-int"} 1`,
		`ofactor_disconnects_total{bridge="br-int"} 0`,
		`ofactor_negotiation_state{bridge="br-int",state="enabled"} 1`,
		`ofactor_geneve_index{bridge="br-int"} 0`,
		fmt.Sprintf(`ofactor_desired{bridge="br-int",kind="flow"} %d`, nflows),
		fmt.Sprintf(`ofactor_installed{bridge="br-int",kind="flow"} %d`, nflows),
		`ofactor_installed{bridge="br-int",kind="group"} 4`,
		`ofactor_installed{bridge="br-int",kind="meter"} 1`,
		`ofactor_installed_version{bridge="br-int"} 1`,
		`ofactor_desired_version{bridge="br-int"} 1`,
		`ofactor_in_sync{bridge="br-int"} 1`,
		`ofactor_rejected{bridge="br-int"} 0`,
		fmt.Sprintf(`ofactor_mods_sent_total{bridge="br-int",command="add",kind="flow"} %d`, nflows),
		`ofactor_mods_sent_total{bridge="br-int",command="mod",kind="group"} 4`,
		`ofactor_rounds_total{bridge="br-int",result="committed"} 1`,
		`ofactor_bundle_commit_seconds_count{bridge="br-int"} 1`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	for _, name := range []string{"ofactor_mods_sent_total", "ofactor_rounds_total",
		"ofactor_bundle_commit_seconds_bucket", "go_goroutines"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// A switch crash: counted as a disconnect and a reconnect, reported
	// in last_error, and the tables are back.
	if err := sw.Kill9(); err != nil {
		t.Fatal(err)
	}
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	st = waitStatus(t, addr, "br-int", log, func(s metrics.Status) bool {
		return s.Connection.Connects == 2 && s.State == "in_sync" && s.Installed != nil && s.Installed.Flows == nflows
	})
	if st.LastError == nil || !strings.HasPrefix(st.LastError.Message, "connection lost") || st.LastError.Time.IsZero() {
		t.Errorf("last_error after a crash: %+v", st.LastError)
	}
	_, body = get(t, "http://"+addr+"/metrics")
	for _, line := range []string{
		`ofactor_connects_total{bridge="br-int"} 2`,
		`ofactor_disconnects_total{bridge="br-int"} 1`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics after a crash lacks %s", line)
		}
	}
}

// Two bridges from one config file: one whose switch is not there, one
// with a flow the switch refuses. The first never stalls the second, and
// the refusal is counted under OVS's error name.
func TestDaemonConfigIsolation(t *testing.T) {
	sw := ovstest.Start(t)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.flows", "table=0,priority=10,ip,actions=drop\ntable=0,priority=20,arp,actions=group:99\n")
	write("b.flows", "table=0,priority=10,actions=drop\n")
	addr := freeAddr(t)
	write("ofactor.yaml", fmt.Sprintf(`metrics_addr: %s
log_level: warn
bridges:
  - name: br-int
    switch: %s
    flows: a.flows
  - name: br-gone
    switch: unix:%s/nothing.mgmt
    flows: b.flows
`, addr, sw.Target(), dir))
	log := startDaemon(t, "--config", filepath.Join(dir, "ofactor.yaml"))

	st := waitStatus(t, addr, "br-int", log, func(s metrics.Status) bool {
		return s.State == "in_sync" && s.Installed != nil && s.Installed.Version > 0
	})
	if st.Rejected != 1 || st.Installed.Flows != 1 || st.LastError == nil {
		t.Errorf("br-int: %+v", st)
	}
	gone := waitStatus(t, addr, "br-gone", log, func(s metrics.Status) bool { return s.State == "disconnected" })
	if gone.Desired.Flows != 1 || gone.Installed != nil || gone.LastError == nil ||
		!strings.Contains(gone.LastError.Message, "nothing.mgmt: failed to connect to socket (No such file or directory)") {
		t.Errorf("br-gone: %+v", gone)
	}
	_, body := get(t, "http://"+addr+"/metrics")
	re := regexp.MustCompile(`\nofactor_errors_total\{bridge="br-int",error="OFP[A-Z_]+",kind="flow"\} 1\n`)
	if !re.MatchString(body) {
		t.Errorf("/metrics lacks ofactor_errors_total for the refused flow:\n%s", grepLines(body, "ofactor_errors"))
	}
	if !strings.Contains(body, "\n"+`ofactor_connected{bridge="br-gone"} 0`+"\n") {
		t.Errorf("/metrics: br-gone not reported disconnected")
	}
	flows, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	if len(flows) != 1 || !strings.Contains(flows[0], "priority=10,ip") {
		t.Errorf("switch holds %q, want the one drop flow", flows)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
