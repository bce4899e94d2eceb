// Package etcdtest runs a private etcd for tests: one etcd-server process with its data in a
// temporary directory, listening on loopback ports of its own, so no system service is involved
// and tests run in parallel. The process is a child of the test binary and dies with it.
//
//	e := etcdtest.Start(t)
//	cfg.Etcd = e.Endpoints()
//	e.Restart() // same data, same ports: what the cluster lives through
//
// Start needs etcd on the machine (scripts/install-etcd.sh, Debian's etcd-server): without it
// the test fails under CI=true and is skipped otherwise.
package etcdtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds the wait for etcd to answer /health: generous, for CI's two busy cores.
const startTimeout = 60 * time.Second

// Etcd is one private etcd member.
type Etcd struct {
	Dir              string // data and log
	ClientURL        string // http://127.0.0.1:PORT
	peerURL          string
	bin              string
	ownDir, keepData bool

	mu   sync.Mutex
	proc *exec.Cmd
	done chan struct{}
}

// Available returns nil when the etcd binary is installed.
func Available() error {
	_, err := binary()
	return err
}

func binary() (string, error) {
	for _, p := range []string{"etcd", "/usr/bin/etcd", "/usr/local/bin/etcd"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	return "", errors.New("etcd not installed (Debian: etcd-server)")
}

// Start starts a private etcd and stops it when the test ends. When etcd is not installed it
// fails the test if CI=true and skips it otherwise.
func Start(t testing.TB) *Etcd {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("etcdtest: CI=true and %v (run scripts/install-etcd.sh)", err)
		}
		t.Skipf("etcdtest: %v (run scripts/install-etcd.sh)", err)
	}
	e, err := StartDir("")
	if err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("etcdtest: etcd in %s\n%s", e.Dir, e.LogTail(30))
		}
		e.Stop()
	})
	return e
}

// StartDir starts a private etcd with its data in dir (a new temporary directory when dir is
// "", removed by Stop); the caller must call Stop.
func StartDir(dir string) (*Etcd, error) {
	bin, err := binary()
	if err != nil {
		return nil, err
	}
	e := &Etcd{bin: bin}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "etcd"); err != nil {
			return nil, fmt.Errorf("start etcd: %w", err)
		}
		e.ownDir = true
	}
	e.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	e.ClientURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	e.peerURL = fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	if err := e.start(); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// Endpoints are the client URLs, as the cluster configuration takes them.
func (e *Etcd) Endpoints() []string { return []string{e.ClientURL} }

func (e *Etcd) start() error {
	out, err := os.OpenFile(filepath.Join(e.Dir, "etcd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(e.bin,
		"--name", "test",
		"--data-dir", filepath.Join(e.Dir, "data"),
		"--listen-client-urls", e.ClientURL,
		"--advertise-client-urls", e.ClientURL,
		"--listen-peer-urls", e.peerURL,
		"--initial-advertise-peer-urls", e.peerURL,
		"--initial-cluster", "test="+e.peerURL,
		"--log-level", "warn",
		"--logger", "zap",
	)
	cmd.Stdout, cmd.Stderr = out, out
	// Die with the test binary even if it is killed, so nothing leaks.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start etcd: %w", err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	e.mu.Lock()
	e.proc, e.done = cmd, done
	e.mu.Unlock()
	return e.waitHealthy(done)
}

// waitHealthy polls /health until etcd says it is, or fails early if the process exits.
func (e *Etcd) waitHealthy(done chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: time.Second}
	for {
		if resp, err := client.Get(e.ClientURL + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("etcd exited before it was healthy\n%s", e.LogTail(20))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("etcd at %s: not healthy after %v\n%s", e.ClientURL, startTimeout, e.LogTail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill9 kills etcd with SIGKILL and waits for it to exit; its data stays.
func (e *Etcd) Kill9() {
	e.mu.Lock()
	cmd, done := e.proc, e.done
	e.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart kills etcd and starts it again on the same data and ports.
func (e *Etcd) Restart() error {
	e.Kill9()
	return e.start()
}

// Stop stops etcd and removes its directory if Start made it (unless ETCDTEST_KEEP=1).
func (e *Etcd) Stop() {
	e.mu.Lock()
	cmd, done := e.proc, e.done
	e.proc = nil
	e.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
	}
	if e.ownDir && os.Getenv("ETCDTEST_KEEP") != "1" {
		os.RemoveAll(e.Dir)
	}
}

// LogTail returns the last n lines of etcd's log.
func (e *Etcd) LogTail(n int) string {
	b, err := os.ReadFile(filepath.Join(e.Dir, "etcd.log"))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// given are the ports freePorts returned before in this process: the kernel may offer a port
// again once its listener is closed, and two daemons told the same port would collide.
var (
	givenMu sync.Mutex
	given   = map[int]bool{}
)

// freePorts asks the kernel for n free loopback ports, none given before in this process.
// Another process could take one before its user binds it; on a test machine that is rare
// enough.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	givenMu.Lock()
	defer givenMu.Unlock()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l) // held open: the next Listen gets another port
		if p := l.Addr().(*net.TCPAddr).Port; !given[p] {
			given[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// FreePort is one free loopback port, for a cluster member's listen address.
func FreePort() (int, error) {
	p, err := freePorts(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}
