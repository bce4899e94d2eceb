// Package fleetproc runs fleet members and clients as separate processes, for the fleet tests
// and `ofbench fleet`: a member must be a process of its own to be killed with kill -9 or
// paused with SIGSTOP, and a client is another process, as an application driving the fleet
// is. (It also keeps protoactor's remote out of the test process: its Start sets grpc's global
// logger, a data race with any grpc client already running there.) The program that starts members re-executes itself: its main (or TestMain)
// calls MaybeMain first, which runs a member when the environment says so and returns
// otherwise.
//
//	func TestMain(m *testing.M) { fleetproc.MaybeMain(); os.Exit(m.Run()) }
//	p, err := fleetproc.Start(dir, spec) // this binary again, as a member
//	p.Kill9()
package fleetproc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/fleet"
	"github.com/ofactor/ofactor/internal/desired"
)

// envSpec names the spec file of the member this process is to run.
const envSpec = "OFACTOR_FLEET_MEMBER"

// Spec is one member's configuration, as a JSON file.
type Spec struct {
	Name                string        `json:"name"`
	Etcd                []string      `json:"etcd"`
	Listen              string        `json:"listen"`
	HTTP                string        `json:"http"` // where /status listens
	Bridges             []BridgeSpec  `json:"bridges"`
	HeartbeatExpiration time.Duration `json:"heartbeat_expiration,omitempty"`
}

// BridgeSpec is one bridge of Spec; without Flows it is client-pushed.
type BridgeSpec struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Flows  string `json:"flows,omitempty"`
}

// Config is the fleet configuration of s.
func (s Spec) Config(log *zap.Logger) fleet.Config {
	cfg := fleet.Config{Name: s.Name, Etcd: s.Etcd, Listen: s.Listen, HeartbeatExpiration: s.HeartbeatExpiration, Logger: log}
	for _, b := range s.Bridges {
		cfg.Bridges = append(cfg.Bridges, fleet.Bridge{Name: b.Name, Target: b.Target, Geneve: ofactor.GeneveOff,
			Files: desired.Files{Flows: b.Flows}})
	}
	return cfg
}

// MaybeMain runs a member and exits when this process was started as one by Start; it
// returns at once otherwise.
func MaybeMain() {
	if path := os.Getenv(envSpec); path != "" {
		os.Exit(memberMain(path))
	}
	if path := os.Getenv(envClient); path != "" {
		os.Exit(clientMain(path))
	}
}

func memberMain(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetproc:", err)
		return 2
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		fmt.Fprintln(os.Stderr, "fleetproc:", path, err)
		return 2
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.Lock(os.Stderr), zap.InfoLevel))
	var current atomic.Pointer[fleet.Member]
	ln, err := net.Listen("tcp", s.HTTP)
	if err != nil {
		log.Error("status listener", zap.Error(err))
		return 2
	}
	go http.Serve(ln, fleet.Handler(current.Load))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := fleet.Run(ctx, s.Config(log), func(m *fleet.Member) { current.Store(m) }); err != nil {
		log.Error("member", zap.Error(err))
		return 1
	}
	return 0
}

// Proc is a member process.
type Proc struct {
	Spec Spec
	*child
}

// Start starts this executable again as the member of spec, its files in dir.
func Start(dir string, spec Spec) (*Proc, error) {
	c, err := startChild(filepath.Join(dir, "member-"+portOf(spec.Listen)), envSpec, spec)
	if err != nil {
		return nil, err
	}
	return &Proc{Spec: spec, child: c}, nil
}

// child is this executable run again as a member or a client: its spec
// in base.json, its output in base.log (Log).
type child struct {
	Log  string // its stderr and stdout
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild writes spec to base.json and runs this executable again with
// env naming that file.
func startChild(base, env string, spec any) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(base+".json", b, 0o644); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(base+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+base+".json")
	cmd.Stdout, cmd.Stderr = out, out
	// Die with the parent even if it is killed, so nothing leaks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{Log: base + ".log", cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func portOf(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return port
}

// Pid is the member's process id.
func (p *child) Pid() int { return p.cmd.Process.Pid }

// Exited says whether the process has exited.
func (p *child) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Kill9 kills the process with SIGKILL and waits for it.
func (p *child) Kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Pause stops the process with SIGSTOP; Resume continues it.
func (p *child) Pause() error  { return p.cmd.Process.Signal(syscall.SIGSTOP) }
func (p *child) Resume() error { return p.cmd.Process.Signal(syscall.SIGCONT) }

// Stop asks the process to end (SIGTERM, after a SIGCONT should it be
// paused) and kills it if it has not exited in 15 s.
func (p *child) Stop() {
	if p.Exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGCONT)
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.Kill9()
	}
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// Status is the member's /status; an error while it is not a member (joining, paused, dead).
func (p *Proc) Status() (*fleet.FleetStatus, error) {
	resp, err := httpClient.Get("http://" + p.Spec.HTTP + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status + ": " + string(b))
	}
	var st fleet.FleetStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Active returns the bridges active on the member (from its /status), with their local state.
func (p *Proc) Active() (map[string]*fleet.Local, error) {
	st, err := p.Status()
	if err != nil {
		return nil, err
	}
	out := map[string]*fleet.Local{}
	for _, b := range st.Bridges {
		if b.Local != nil {
			out[b.Bridge] = b.Local
		}
	}
	return out, nil
}
