package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/internal/ovstest"
)

// Flows naming ports, against ovs-vswitchd, as ovs-ofctl resolves names
// online: run --once installs them with the switch's numbers, and the
// daemon keeps them right as ports come and go: a port added (a flow that
// waited for it goes in), renumbered (its flows follow), deleted (they
// leave, and wait again); the status names the ports flows wait for. What
// ovs-ofctl --names dumps is the file, line for line.
func TestPortNames(t *testing.T) {
	sw := ovstest.Start(t)
	addPort := func(name string, n int) {
		t.Helper()
		if _, err := sw.Vsctl("add-port", sw.Bridge, name, "--", "set", "Interface", name, "type=dummy",
			fmt.Sprintf("ofport_request=%d", n)); err != nil {
			t.Fatal(err)
		}
	}
	addPort("vm1", 5)
	addPort("vm2", 6)
	dir := t.TempDir()
	flows := []string{
		"table=0,priority=10,in_port=1 actions=drop",
		"table=0,priority=20,in_port=vm1 actions=output:vm2",
		"table=0,priority=20,in_port=vm2 actions=output:vm1",
		"table=0,priority=20,in_port=vm3 actions=drop",
		"table=0,priority=30,in_port=LOCAL actions=output:vm1",
	}
	file := filepath.Join(dir, "flows.txt")
	writeInPlace(t, file, flows)

	// A flow waits for vm3: the rest is installed, and --once says so
	// (exit 1: the switch does not hold everything).
	res := runOnce(t, sw.Target(), "--flows", file, "--geneve", "off")
	if res.code != 1 || !strings.Contains(res.stderr, "flows wait for ports the switch does not have: vm3") {
		t.Fatalf("run --once: exit %d, want 1 and the port vm3 named\n%s%s", res.code, res.stdout, res.stderr)
	}
	want := func(in ...string) []string { return in }
	checkNumbers := func(what string, w []string) {
		t.Helper()
		got, err := sw.DumpFlows()
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, what, w, got)
	}
	checkNumbers("run --once", want(
		" priority=10,in_port=1 actions=drop",
		" priority=20,in_port=5 actions=output:6",
		" priority=20,in_port=6 actions=output:5",
		" priority=30,in_port=LOCAL actions=output:5"))
	res = ofactorRun(t, "diff", "--switch", sw.Target(), "--flows", file, "--geneve", "off")
	if res.code != 0 || res.stdout != "" || !strings.Contains(res.stderr, "left out: vm3") {
		t.Errorf("diff: exit %d, want 0, nothing to change, vm3 named\n%s%s", res.code, res.stdout, res.stderr)
	}

	// The daemon: the same, then ports change under it.
	addr := freeAddr(t)
	startDaemon(t, sw.Target(), "--flows", file, "--geneve", "off", "--metrics-addr", addr)
	st := waitBridgeStatus(t, addr, func(s metrics.Status) bool { return s.State == "in_sync" })
	if !slices.Equal(st.MissingPorts, []string{"vm3"}) {
		t.Errorf("status: missing_ports %v, want [vm3]", st.MissingPorts)
	}
	addPort("vm3", 7)
	waitPortFlows(t, sw, want(
		" priority=10,in_port=1 actions=drop",
		" priority=20,in_port=5 actions=output:6",
		" priority=20,in_port=6 actions=output:5",
		" priority=20,in_port=7 actions=drop",
		" priority=30,in_port=LOCAL actions=output:5"))
	if _, err := sw.Vsctl("set", "Interface", "vm2", "ofport_request=8"); err != nil {
		t.Fatal(err)
	}
	waitPortFlows(t, sw, want(
		" priority=10,in_port=1 actions=drop",
		" priority=20,in_port=5 actions=output:8",
		" priority=20,in_port=7 actions=drop",
		" priority=20,in_port=8 actions=output:5",
		" priority=30,in_port=LOCAL actions=output:5"))
	if _, err := sw.Vsctl("del-port", sw.Bridge, "vm1"); err != nil {
		t.Fatal(err)
	}
	waitPortFlows(t, sw, want(
		" priority=10,in_port=1 actions=drop",
		" priority=20,in_port=7 actions=drop"))
	st = waitBridgeStatus(t, addr, func(s metrics.Status) bool { return s.State == "in_sync" && len(s.MissingPorts) > 0 })
	if !slices.Equal(st.MissingPorts, []string{"vm1"}) {
		t.Errorf("status after vm1 deleted: missing_ports %v, want [vm1]", st.MissingPorts)
	}
	addPort("vm1", 9)
	waitPortFlows(t, sw, want(
		" priority=10,in_port=1 actions=drop",
		" priority=20,in_port=7 actions=drop",
		" priority=20,in_port=8 actions=output:9",
		" priority=20,in_port=9 actions=output:8",
		" priority=30,in_port=LOCAL actions=output:9"))
	names, err := sw.Ofctl("--names", "--no-stats", "dump-flows")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ovs-ofctl --names", []string{
		"priority=10,in_port=1 actions=drop",
		"priority=20,in_port=vm1 actions=output:vm2",
		"priority=20,in_port=vm2 actions=output:vm1",
		"priority=20,in_port=vm3 actions=drop",
		"priority=30,in_port=LOCAL actions=output:vm1",
	}, dumpForm(ovstest.NormalizeFlows(names)))
}

// waitBridgeStatus polls the daemon's /status for br-int until ok.
func waitBridgeStatus(t *testing.T, addr string, ok func(metrics.Status) bool) metrics.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var last metrics.Status
	for ctx.Err() == nil {
		res, err := http.Get("http://" + addr + "/status/br-int")
		if err == nil {
			var st metrics.Status
			err = json.NewDecoder(res.Body).Decode(&st)
			res.Body.Close()
			if err == nil {
				last = st
				if ok(st) {
					return st
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("status never as wanted: %+v", last)
	return last
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitPortFlows waits until the switch's flows are want.
func waitPortFlows(t *testing.T, sw *ovstest.Switch, want []string) {
	t.Helper()
	waitFlows(t, sw, want, 20*time.Second)
}
