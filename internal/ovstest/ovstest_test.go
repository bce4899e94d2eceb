package ovstest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSwitchLifecycle(t *testing.T) {
	s := Start(t)
	if s.Bridge != DefaultBridge || s.Target() != "unix:"+filepath.Join(s.Dir, "br-int.mgmt") {
		t.Fatalf("Bridge %q Target %q", s.Bridge, s.Target())
	}
	if !slices.Contains(s.Env(), "OVS_RUNDIR="+s.Dir) {
		t.Errorf("Env() lacks OVS_RUNDIR=%s", s.Dir)
	}
	if out, err := s.Vsctl("get", "bridge", "br-int", "datapath_type", "fail_mode", "protocols"); err != nil ||
		out != "dummy\nsecure\n[OpenFlow13, OpenFlow14, OpenFlow15]\n" {
		t.Fatalf("bridge settings: %q, %v", out, err)
	}

	before, err := s.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	mustOfctl(t, s, "add-tlv-map", "{class=0x102,type=0x80,len=4}->tun_metadata0")
	mustOfctl(t, s, "add-meter", "meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100")
	mustOfctl(t, s, "add-group", "group_id=1,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2")
	mustOfctl(t, s, "add-flow", "table=0,priority=10,ip,in_port=1,actions=ct(table=1,zone=5)")
	mustOfctl(t, s, "add-flow", "table=0,priority=5,in_port=1,actions=group:1")
	mustOfctl(t, s, "add-flow", "cookie=0x5,table=3,priority=5,actions=controller(userdata=00.00.00.1b.00.00.00.00,meter_id=1)")
	after, err := s.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("RecvCounter: %d after six commands, %d before", after, before)
	}

	checkDumps(t, s, []string{
		" cookie=0x5, table=3, priority=5 actions=controller(userdata=00.00.00.1b.00.00.00.00,meter_id=1)",
		" priority=10,ip,in_port=1 actions=ct(table=1,zone=5)",
		" priority=5,in_port=1 actions=group:1",
	}, []string{
		"group_id=1,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2",
	}, []string{
		"meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100",
	}, []TLVMapping{{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4, Index: 0}})

	// A crash loses everything ovs-vswitchd held; the restarted one has a fresh, empty bridge.
	if err := s.Kill9(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("Running after Kill9")
	}
	if _, err := s.DumpFlows(); err == nil {
		t.Fatal("DumpFlows after Kill9: no error")
	}
	if err := s.Kill9(); err == nil {
		t.Error("second Kill9: no error")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	checkDumps(t, s, nil, nil, nil, nil)
	mustOfctl(t, s, "add-flow", "priority=1,actions=drop")
	checkDumps(t, s, []string{" priority=1 actions=drop"}, nil, nil, nil)

	// Restart also replaces a running ovs-vswitchd.
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	checkDumps(t, s, nil, nil, nil, nil)

	s.Stop()
	s.Stop()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) && os.Getenv("OVSTEST_KEEP") != "1" {
		t.Errorf("%s still there after Stop: %v", s.Dir, err)
	}
	if err := s.Restart(); err == nil {
		t.Error("Restart after Stop: no error")
	}
}

func TestOfctlArgs(t *testing.T) {
	s := Start(t)
	mustOfctl(t, s, "add-flow", "table=2,priority=7,actions=drop")
	mustOfctl(t, s, "add-flow", "table=2,priority=8,actions=drop")
	// Options before the command; the target goes after the command.
	mustOfctl(t, s, "--strict", "del-flows", "table=2,priority=7")
	// The caller's -O replaces the default OpenFlow13.
	out, err := s.Ofctl("-O", "OpenFlow15", "--no-stats", "dump-flows")
	if err != nil || out != " table=2, priority=8 actions=drop\n" {
		t.Errorf("OpenFlow15 dump-flows: %q, %v", out, err)
	}
	if _, err := s.Ofctl("--no-stats"); err == nil {
		t.Error("Ofctl with no command: no error")
	}
	_, err = s.Ofctl("add-flow", "table=2,actions=frobnicate")
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("bad flow: error %v, want ovs-ofctl's complaint", err)
	}
	if out, err := s.Appctl("version"); err != nil || !strings.Contains(out, "Open vSwitch") {
		t.Errorf("appctl version: %q, %v", out, err)
	}
}

// TestParallel runs two switches at once: each sees only its own flow.
func TestParallel(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			s := Start(t)
			flow := fmt.Sprintf("priority=%d actions=drop", 100+i)
			mustOfctl(t, s, "add-flow", flow)
			time.Sleep(200 * time.Millisecond) // let the other switch add its flow too
			checkDumps(t, s, []string{" " + flow}, nil, nil, nil)
		})
	}
}

func TestAddBridge(t *testing.T) {
	s := Start(t, WithBridge("br-a"))
	b, err := s.AddBridge("br-b")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddBridge("br-b"); err == nil {
		t.Error("second AddBridge br-b: no error")
	}
	if diff := cmp.Diff([]string{"br-a", "br-b"}, s.Bridges()); diff != "" {
		t.Errorf("Bridges (-want +got):\n%s", diff)
	}
	mustOfctl(t, b, "add-flow", "priority=9,actions=drop")
	checkDumps(t, b, []string{" priority=9 actions=drop"}, nil, nil, nil)
	checkDumps(t, s, nil, nil, nil, nil)
	if err := s.Kill9(); err != nil {
		t.Fatal(err)
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, sw := range []*Switch{s, b} {
		c, err := net.Dial("unix", sw.SocketPath())
		if err != nil {
			t.Fatalf("%s after restart: %v", sw.Bridge, err)
		}
		c.Close()
	}
}

func TestStartDir(t *testing.T) {
	if err := Available(); err != nil {
		needOVS(t, err)
	}
	dir, err := os.MkdirTemp("", "ovs")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := StartDir(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if s.Bridge != DefaultBridge || s.Dir != dir {
		t.Errorf("StartDir: Dir %q Bridge %q", s.Dir, s.Bridge)
	}
	if _, err := StartDir(dir, "br-x"); err == nil || !strings.Contains(err.Error(), "conf.db exists") {
		t.Errorf("second StartDir in the same dir: %v, want conf.db exists", err)
	}
	long := "/tmp/" + strings.Repeat("x", 100)
	if _, err := StartDir(long, ""); err == nil || !strings.Contains(err.Error(), "socket paths") {
		t.Errorf("StartDir(%d-byte dir): %v, want a socket path error", len(long), err)
	}
	if _, err := os.Stat(long); !os.IsNotExist(err) {
		t.Errorf("StartDir(%d-byte dir) made it: %v", len(long), err)
		os.Remove(long)
	}
	s.Stop()
	for _, f := range []string{"ovs-vswitchd.log", "ovsdb-server.log", "conf.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("caller's dir lost %s: %v", f, err)
		}
	}
}

func needOVS(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(err)
	}
	t.Skip(err)
}

func mustOfctl(t *testing.T, s *Switch, args ...string) {
	t.Helper()
	if _, err := s.Ofctl(args...); err != nil {
		t.Fatal(err)
	}
}

func checkDumps(t *testing.T, s *Switch, flows, groups, meters []string, tlvs []TLVMapping) {
	t.Helper()
	gotFlows, err := s.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	gotGroups, err := s.DumpGroups()
	if err != nil {
		t.Fatal(err)
	}
	gotMeters, err := s.DumpMeters()
	if err != nil {
		t.Fatal(err)
	}
	gotTLVs, err := s.DumpTLVMap()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		want, got any
	}{
		{"flows", flows, gotFlows},
		{"groups", groups, gotGroups},
		{"meters", meters, gotMeters},
		{"tlv map", tlvs, gotTLVs},
	} {
		if diff := cmp.Diff(c.want, c.got, cmpEmpty); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", s.Bridge, c.name, diff)
		}
	}
}

// cmpEmpty makes a nil and an empty slice equal.
var cmpEmpty = cmp.FilterValues(func(x, y any) bool {
	return isEmptySlice(x) && isEmptySlice(y)
}, cmp.Comparer(func(any, any) bool { return true }))

func isEmptySlice(v any) bool {
	switch s := v.(type) {
	case []string:
		return len(s) == 0
	case []TLVMapping:
		return len(s) == 0
	}
	return false
}

// fakeTB records how Start gives up; Fatalf and Skipf end the goroutine as the real ones do.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()        {}
func (f *fakeTB) Cleanup(func()) {}
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.fatal = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, a ...any) { f.skip = fmt.Sprintf(format, a...); runtime.Goexit() }

// TestStartWithoutOVS: with no OVS installed Start fails the test under CI=true and skips it
// otherwise.
func TestStartWithoutOVS(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := searchDirs
	searchDirs = nil
	defer func() { searchDirs = saved }()
	if err := Available(); err == nil || !strings.Contains(err.Error(), "ovs-vswitchd") {
		t.Fatalf("Available() = %v, want ovs-vswitchd missing", err)
	}
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		f := &fakeTB{}
		done := make(chan struct{})
		go func() {
			defer close(done)
			Start(f)
			t.Errorf("CI=%q: Start returned", ci)
		}()
		<-done
		if ci == "true" && (f.fatal == "" || f.skip != "") || ci == "" && (f.skip == "" || f.fatal != "") {
			t.Errorf("CI=%q: fatal %q skip %q", ci, f.fatal, f.skip)
		}
	}
}
