package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// daemon is a running `ofactor run` (watch mode) whose JSON log is read
// line by line as it is written: each line that names a bridge event is an
// event, stamped when ofbench read it.
type daemon struct {
	cmd       *exec.Cmd
	installed chan uint64 // "version installed" of the first bridge that says one

	done chan struct{} // the log is read to its end

	mu     sync.Mutex
	events []logEvent
	wake   chan struct{} // closed and made anew at each event
	exited bool
}

// logEvent is one line of the daemon's JSON log, with the fields ofbench
// reads.
type logEvent struct {
	at          time.Time
	Msg         string `json:"msg"`
	Bridge      string `json:"bridge"`
	Version     uint64 `json:"version"`
	Cause       string `json:"cause"`
	Reason      string `json:"reason"`
	Old         string `json:"old"`
	New         string `json:"new"`
	Flows       any    `json:"flows"` // a count ("version installed") or a bool ("audited")
	Differences int    `json:"differences"`
}

// startDaemon runs ofactor run on one file: ofactor run --switch target
// --flows file, and extra arguments.
func startDaemon(bin, target, file string, extra ...string) (*daemon, error) {
	return startDaemonArgs(bin, append([]string{"--switch", target, "--flows", file}, extra...)...)
}

// startDaemonArgs runs ofactor run with args, logging JSON at info level
// to ofbench, without endpoints unless args give --metrics-addr.
func startDaemonArgs(bin string, args ...string) (*daemon, error) {
	full := append([]string{"run", "--log-format", "json", "--log-level", "info"}, args...)
	metrics := false
	for _, a := range args {
		metrics = metrics || a == "--metrics-addr"
	}
	if !metrics {
		full = append(full, "--metrics-addr", "off")
	}
	cmd := exec.Command(bin, full...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{cmd: cmd, installed: make(chan uint64, 1024), wake: make(chan struct{}),
		done: make(chan struct{})}
	var tee io.Writer = io.Discard
	if dir := os.Getenv("OFBENCH_DAEMON_LOGS"); dir != "" {
		// Every daemon's log kept, for looking into a row by hand.
		if f, err := os.Create(filepath.Join(dir, fmt.Sprintf("ofactor-%d.log", cmd.Process.Pid))); err == nil {
			tee = f
			defer func() { go func() { <-d.done; f.Close() }() }()
		}
	}
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(io.TeeReader(stderr, tee))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev logEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			ev.at = time.Now()
			if ev.Msg == "version installed" {
				select {
				case d.installed <- ev.Version:
				default:
				}
			}
			d.mu.Lock()
			d.events = append(d.events, ev)
			close(d.wake)
			d.wake = make(chan struct{})
			d.mu.Unlock()
		}
		d.mu.Lock()
		d.exited = true
		close(d.wake)
		d.wake = make(chan struct{})
		d.mu.Unlock()
		close(d.installed)
	}()
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// mark is a position in the daemon's events: waitFor looks at what came
// after it.
func (d *daemon) mark() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.events)
}

// waitFor returns the first event after mark that match accepts, waiting
// up to timeout for it.
func (d *daemon) waitFor(mark int, timeout time.Duration, what string, match func(logEvent) bool) (logEvent, error) {
	ev, _, err := d.waitAt(mark, timeout, what, match)
	return ev, err
}

// waitAt is waitFor that also returns the mark just after the event.
func (d *daemon) waitAt(mark int, timeout time.Duration, what string, match func(logEvent) bool) (logEvent, int, error) {
	deadline := time.After(timeout)
	for i := mark; ; {
		d.mu.Lock()
		for ; i < len(d.events); i++ {
			if match(d.events[i]) {
				ev := d.events[i]
				d.mu.Unlock()
				return ev, i + 1, nil
			}
		}
		wake, exited := d.wake, d.exited
		d.mu.Unlock()
		if exited {
			return logEvent{}, 0, fmt.Errorf("ofactor run exited before %s", what)
		}
		select {
		case <-wake:
		case <-deadline:
			return logEvent{}, 0, fmt.Errorf("no %s in %v", what, timeout)
		}
	}
}

// since returns the events after mark.
func (d *daemon) since(mark int) []logEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]logEvent(nil), d.events[mark:]...)
}

// wait waits until the daemon holds version v.
func (d *daemon) wait(v uint64) error {
	timeout := time.After(10 * time.Minute)
	for {
		select {
		case got, ok := <-d.installed:
			if !ok {
				return fmt.Errorf("ofactor run exited before version %d", v)
			}
			if got >= v {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("version %d not installed in 10 minutes", v)
		}
	}
}

func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
}

// inSync matches the daemon's "in sync" line of cause (any when "").
func inSync(cause string) func(logEvent) bool {
	return func(ev logEvent) bool { return ev.Msg == "in sync" && (cause == "" || ev.Cause == cause) }
}
