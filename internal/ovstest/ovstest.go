// Package ovstest runs a private Open vSwitch for tests: an ovsdb-server and an ovs-vswitchd with
// the dummy datapath in a temporary directory, the way OVS's own test suite
// (tests/ofproto-macros.at, OVS_VSWITCHD_START) does, so no kernel module and no system service is
// involved. Both daemons are child processes of the test binary: Stop (registered with t.Cleanup
// by Start) kills them, and they die with the test binary if it is killed.
//
// A controller connects to the bridge's management socket, Switch.Target, as ovn-controller does
// to unix:/var/run/openvswitch/br-int.mgmt:
//
//	sw := ovstest.Start(t)
//	// ... connect a controller to sw.Target() and install flows ...
//	flows, err := sw.DumpFlows() // sorted, in the form of shared/corpus/ovn-sample/flows.txt
//
// Start needs OVS on the machine (scripts/install-ovs.sh): without it the test fails under
// CI=true and is skipped otherwise.
package ovstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultBridge is the bridge Start creates unless WithBridge says otherwise.
const DefaultBridge = "br-int"

// bridgeProtocols are the OpenFlow versions the bridge accepts; a controller negotiates one.
const bridgeProtocols = "OpenFlow13,OpenFlow14,OpenFlow15"

// startTimeout bounds each wait for a daemon's socket: generous, because CI runs
// go test -race on two cores with several switches at once.
const startTimeout = 60 * time.Second

// maxSocketPath is the room in sockaddr_un.sun_path (108 bytes with its NUL).
const maxSocketPath = 107

// Switch is one private Open vSwitch with one bridge in view. Several Switch values made by
// AddBridge share the same daemons; Stop on any of them stops all.
type Switch struct {
	Dir    string // OVS_RUNDIR, OVS_LOGDIR, OVS_DBDIR and OVS_SYSCONFDIR: sockets, logs, conf.db
	Bridge string // the bridge whose management socket Target names

	d *daemons
}

// daemons is what Switch values of one directory share.
type daemons struct {
	dir    string
	ownDir bool // made by us: Stop removes it
	env    []string
	bins   binaries

	protocols string // of every bridge made; bridgeProtocols unless WithProtocols

	mu       sync.Mutex
	bridges  []string
	db       *proc
	vswitchd *proc
	stopped  bool
}

// config is what Options set.
type config struct {
	dir       string
	bridge    string
	protocols string
}

// Option changes how Start builds the switch.
type Option func(*config)

// WithBridge names the bridge (default br-int).
func WithBridge(name string) Option { return func(c *config) { c.bridge = name } }

// WithProtocols sets the OpenFlow versions the bridges accept, in
// ovs-vsctl's syntax ("OpenFlow13"); the default is OpenFlow 1.3 to 1.5.
func WithProtocols(p string) Option { return func(c *config) { c.protocols = p } }

// WithDir runs the switch in dir, which must be short enough for unix socket paths and must not
// hold a conf.db yet. The directory is kept after the test.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// Start starts a private switch with one bridge and stops it when the test ends. When OVS is not
// installed it fails the test if CI=true and skips it otherwise.
func Start(t testing.TB, opts ...Option) *Switch {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ovstest: CI=true and %v (run scripts/install-ovs.sh)", err)
		}
		t.Skipf("ovstest: %v (run scripts/install-ovs.sh)", err)
	}
	c := config{bridge: DefaultBridge, protocols: bridgeProtocols}
	for _, o := range opts {
		o(&c)
	}
	s, err := startDir(c.dir, c.bridge, c.protocols)
	if err != nil {
		t.Fatalf("ovstest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("ovstest: switch in %s\n%s", s.Dir, s.LogTail(40))
		}
		s.Stop()
	})
	return s
}

// StartDir starts a private switch in dir with one bridge; the caller must call Stop. With dir ""
// it makes a short temporary directory, which Stop removes (unless OVSTEST_KEEP=1).
func StartDir(dir, bridge string) (*Switch, error) {
	return startDir(dir, bridge, bridgeProtocols)
}

func startDir(dir, bridge, protocols string) (*Switch, error) {
	bins, err := findBinaries()
	if err != nil {
		return nil, err
	}
	if bridge == "" {
		bridge = DefaultBridge
	}
	d := &daemons{bins: bins, protocols: protocols}
	if dir == "" {
		if dir, err = os.MkdirTemp(shortTempRoot(), "ovs"); err != nil {
			return nil, fmt.Errorf("start switch: %w", err)
		}
		d.ownDir = true
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("start switch: %w", err)
	}
	d.dir = dir
	// The longest socket the daemons make is <bridge>.snoop or ovs-vswitchd.ctl.
	if n := len(dir) + 1 + max(len(bridge)+len(".snoop"), len("ovs-vswitchd.ctl")); n > maxSocketPath {
		if d.ownDir {
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("start switch: %s: socket paths would be %d bytes, more than %d", dir, n, maxSocketPath)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start switch: %w", err)
	}
	d.env = append(os.Environ(),
		"OVS_RUNDIR="+dir, "OVS_LOGDIR="+dir, "OVS_DBDIR="+dir, "OVS_SYSCONFDIR="+dir)
	s := &Switch{Dir: dir, Bridge: bridge, d: d}
	if err := d.start(bridge); err != nil {
		tail := s.LogTail(20)
		s.Stop()
		return nil, fmt.Errorf("start switch in %s: %w\n%s", dir, err, tail)
	}
	return s, nil
}

// shortTempRoot is $TMPDIR unless that is too long to leave room for socket names, then /tmp.
func shortTempRoot() string {
	if root := os.TempDir(); len(root) <= 40 {
		return root
	}
	return "/tmp"
}

func (d *daemons) start(bridge string) error {
	db := filepath.Join(d.dir, "conf.db")
	if _, err := os.Stat(db); err == nil {
		return fmt.Errorf("%s exists: is another switch using this directory?", db)
	}
	if out, err := d.run(d.bins.ovsdbTool, "create", db, d.bins.schema); err != nil {
		return fmt.Errorf("ovsdb-tool create: %w: %s", err, out)
	}
	if err := d.startDB(); err != nil {
		return err
	}
	if out, err := d.run(d.bins.vsctl, d.vsctlArgs("--no-wait", "init")...); err != nil {
		return fmt.Errorf("ovs-vsctl init: %w: %s", err, out)
	}
	d.mu.Lock()
	err := d.startVswitchd()
	d.mu.Unlock()
	if err != nil {
		return err
	}
	return d.addBridge(bridge)
}

func (d *daemons) startDB() error {
	sock := filepath.Join(d.dir, "db.sock")
	p, err := d.spawn("ovsdb-server", d.bins.ovsdbServer,
		"--no-chdir", "--pidfile", "--log-file", "-vconsole:err",
		"--remote=punix:"+sock,
		"--unixctl="+filepath.Join(d.dir, "ovsdb-server.ctl"),
		filepath.Join(d.dir, "conf.db"))
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.db = p
	d.mu.Unlock()
	return waitSocket(sock, p)
}

// startVswitchd starts ovs-vswitchd and waits for every known bridge's management socket.
// Call with d.mu held.
func (d *daemons) startVswitchd() error {
	// A kill -9 leaves the old sockets behind: remove them so that waiting sees the new ones.
	for _, br := range d.bridges {
		os.Remove(filepath.Join(d.dir, br+".mgmt"))
		os.Remove(filepath.Join(d.dir, br+".snoop"))
	}
	p, err := d.spawn("ovs-vswitchd", d.bins.vswitchd,
		"--enable-dummy=override", "--disable-system", "--disable-system-route",
		"--no-chdir", "--pidfile", "--log-file", "-vconsole:err",
		"--unixctl="+d.ctlPath(),
		"unix:"+filepath.Join(d.dir, "db.sock"))
	if err != nil {
		return err
	}
	d.vswitchd = p
	if err := waitSocket(d.ctlPath(), p); err != nil {
		return err
	}
	for _, br := range d.bridges {
		if err := waitSocket(filepath.Join(d.dir, br+".mgmt"), p); err != nil {
			return err
		}
	}
	return nil
}

func (d *daemons) ctlPath() string { return filepath.Join(d.dir, "ovs-vswitchd.ctl") }

// addBridge creates a bridge with the dummy datapath and waits for its management socket.
// ovs-vsctl itself waits until ovs-vswitchd has applied the change.
func (d *daemons) addBridge(name string) error {
	out, err := d.run(d.bins.vsctl, d.vsctlArgs("add-br", name,
		"--", "set", "bridge", name, "datapath_type=dummy", "fail-mode=secure",
		"protocols="+d.protocols)...)
	if err != nil {
		return fmt.Errorf("ovs-vsctl add-br %s: %w: %s", name, err, out)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.bridges = append(d.bridges, name)
	return waitSocket(filepath.Join(d.dir, name+".mgmt"), d.vswitchd)
}

// AddBridge adds another bridge to the same switch and returns a view of the switch on it.
func (s *Switch) AddBridge(name string) (*Switch, error) {
	if slices.Contains(s.Bridges(), name) {
		return nil, fmt.Errorf("add bridge %s: exists", name)
	}
	if err := s.d.addBridge(name); err != nil {
		return nil, fmt.Errorf("add bridge: %w", err)
	}
	return &Switch{Dir: s.Dir, Bridge: name, d: s.d}, nil
}

// RecreateBridge deletes the bridge and adds it again, as `ovs-vsctl
// del-br` and `add-br` do: the controllers connected to its management
// socket lose their connections, and it comes back empty.
func (s *Switch) RecreateBridge() error {
	if out, err := s.d.run(s.d.bins.vsctl, s.d.vsctlArgs("del-br", s.Bridge)...); err != nil {
		return fmt.Errorf("ovs-vsctl del-br %s: %w: %s", s.Bridge, err, out)
	}
	s.d.mu.Lock()
	s.d.bridges = slices.DeleteFunc(s.d.bridges, func(b string) bool { return b == s.Bridge })
	s.d.mu.Unlock()
	if err := s.d.addBridge(s.Bridge); err != nil {
		return fmt.Errorf("recreate bridge: %w", err)
	}
	return nil
}

// Bridges lists the bridges made by Start and AddBridge.
func (s *Switch) Bridges() []string {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return slices.Clone(s.d.bridges)
}

// Target is the management socket a controller connects to: "unix:<dir>/<bridge>.mgmt".
func (s *Switch) Target() string { return "unix:" + s.SocketPath() }

// Env is the environment of the OVS commands run here (os.Environ plus OVS_RUNDIR and friends
// set to Dir), for running other programs against this switch, e.g. ofactor with its default
// target unix:$OVS_RUNDIR/<bridge>.mgmt.
func (s *Switch) Env() []string { return slices.Clone(s.d.env) }

// SocketPath is the management socket's file name, for net.Dial("unix", ...).
func (s *Switch) SocketPath() string { return filepath.Join(s.Dir, s.Bridge+".mgmt") }

// Kill9 kills ovs-vswitchd with SIGKILL, as a crash would: flows, groups, meters and the TLV
// map are gone, conf.db and ovsdb-server stay.
func (s *Switch) Kill9() error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.d.vswitchd == nil || s.d.vswitchd.exited() {
		return errors.New("kill -9 ovs-vswitchd: not running")
	}
	s.d.vswitchd.kill()
	return nil
}

// Restart starts ovs-vswitchd again on the same database (killing it first if it still runs)
// and waits until every bridge's management socket accepts connections.
func (s *Switch) Restart() error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.d.stopped {
		return errors.New("restart ovs-vswitchd: switch stopped")
	}
	if s.d.vswitchd != nil {
		s.d.vswitchd.kill()
	}
	if err := s.d.startVswitchd(); err != nil {
		return fmt.Errorf("restart ovs-vswitchd: %w", err)
	}
	return nil
}

// Running reports whether ovs-vswitchd is running.
func (s *Switch) Running() bool {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.d.vswitchd != nil && !s.d.vswitchd.exited()
}

// Stop stops both daemons (SIGTERM, then SIGKILL after a grace period) and removes the
// directory if Start made it. It is safe to call more than once.
func (s *Switch) Stop() {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.stopped = true
	if d.vswitchd != nil {
		d.vswitchd.stop()
	}
	if d.db != nil {
		d.db.stop()
	}
	if d.ownDir && os.Getenv("OVSTEST_KEEP") != "1" {
		os.RemoveAll(d.dir)
	}
}

// LogTail returns the last n lines of each daemon's log file, for failure reports.
func (s *Switch) LogTail(n int) string {
	var b strings.Builder
	for _, name := range []string{"ovsdb-server", "ovs-vswitchd"} {
		for _, ext := range []string{".log", ".out"} {
			data, err := os.ReadFile(filepath.Join(s.Dir, name+ext))
			text := strings.TrimSpace(string(data))
			if err != nil || text == "" {
				continue
			}
			lines := strings.Split(text, "\n")
			lines = lines[max(0, len(lines)-n):]
			fmt.Fprintf(&b, "--- %s%s (last %d lines)\n%s\n", name, ext, len(lines), strings.Join(lines, "\n"))
		}
	}
	return b.String()
}

// proc is one daemon run as our child.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd.Wait returns
}

// spawn starts a daemon with its stdout and stderr appended to <dir>/<name>.out.
func (d *daemons) spawn(name, bin string, args ...string) (*proc, error) {
	out, err := os.OpenFile(filepath.Join(d.dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer out.Close()
	cmd := exec.Command(bin, args...)
	cmd.Dir = d.dir
	cmd.Env = d.env
	cmd.Stdout, cmd.Stderr = out, out
	// Die with the test binary even if it is killed (go test -timeout, ^C), so nothing leaks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *proc) kill() {
	if !p.exited() {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop asks the daemon to exit cleanly (it removes its sockets and pidfile) and kills it if it
// has not within five seconds.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// waitSocket waits until the unix socket at path accepts a connection, failing early if the
// daemon that should make it exits.
func waitSocket(path string, p *proc) error {
	deadline := time.Now().Add(startTimeout)
	for {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited (%v) before %s appeared", p.name, p.cmd.ProcessState, path)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not accepting connections after %v", path, startTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// OfctlPath returns the path of ovs-ofctl, the codec's oracle. Without it
// the test fails under CI=true and is skipped otherwise, as Start does.
func OfctlPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ovs-ofctl is needed (CI=true): %v", err)
		}
		t.Skipf("ovs-ofctl not found: %v", err)
	}
	return p
}
