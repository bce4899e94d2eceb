package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// sandbox is a private Open vSwitch (scripts/ovs-sandbox.sh: ovsdb-server
// and ovs-vswitchd with the dummy datapath in a directory).
type sandbox struct {
	dir, script string
}

func startSandbox(script string) (*sandbox, error) {
	dir, err := os.MkdirTemp("/tmp", "ofb")
	if err != nil {
		return nil, err
	}
	s := &sandbox{dir: dir, script: script}
	out, err := exec.Command(script, "start", dir, "br-int").CombinedOutput()
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("%s start: %v: %s", script, err, out)
	}
	return s, nil
}

func (s *sandbox) stop() {
	exec.Command(s.script, "stop", s.dir).Run()
	os.RemoveAll(s.dir)
}

func (s *sandbox) target() string { return "unix:" + filepath.Join(s.dir, "br-int.mgmt") }

// ofctl runs ovs-ofctl: options, the command, the bridge, then rest.
func (s *sandbox) ofctl(version, command string, rest ...string) (string, error) {
	full := append([]string{"-O", version}, command, s.target())
	if command == "--bundle" {
		full = append([]string{"-O", version, "--bundle"}, rest[0], s.target())
		rest = rest[1:]
	}
	full = append(full, rest...)
	cmd := exec.Command("ovs-ofctl", full...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		e := errOut.String() + out.String()
		return out.String(), fmt.Errorf("ovs-ofctl %v: %v: %s", full, err, e[:min(len(e), 600)])
	}
	return out.String(), nil
}

var flowCountRe = regexp.MustCompile(`flow_count=(\d+)`)

// count is the number of flows the bridge holds.
func (s *sandbox) count() (int, error) {
	out, err := s.ofctl("OpenFlow13", "dump-aggregate")
	if err != nil {
		return 0, err
	}
	m := flowCountRe.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("dump-aggregate: no flow_count in %q", out)
	}
	return strconv.Atoi(m[1])
}

// reset makes the bridge hold exactly the flows of file ("" = none).
func (s *sandbox) reset(file string, want int) error {
	if _, err := s.ofctl("OpenFlow13", "del-flows"); err != nil {
		return err
	}
	if file != "" {
		if _, err := s.ofctl("OpenFlow14", "--bundle", "add-flows", file); err != nil {
			return err
		}
	}
	return s.expect(want)
}

// expect checks the bridge's flow count.
func (s *sandbox) expect(want int) error {
	n, err := s.count()
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("bridge holds %d flows, want %d", n, want)
	}
	return nil
}

// diff checks that the bridge holds exactly the flows of file.
func (s *sandbox) diff(file string) error {
	// diff-flows prints the differences on stdout and exits 2 if any.
	out, err := s.ofctl("OpenFlow13", "diff-flows", file)
	if err != nil || out != "" {
		if out == "" {
			return err
		}
		lines := strings.SplitN(out, "\n", 6)
		return fmt.Errorf("diff-flows %s: the bridge differs: %s", file, strings.Join(lines[:min(len(lines), 5)], "\n"))
	}
	return nil
}

// counter is a unix-socket proxy in front of the bridge that counts the
// OpenFlow messages a client sends through it.
type counter struct {
	ln   net.Listener
	msgs atomic.Int64
}

func (s *sandbox) proxy() (*counter, string, error) {
	path := filepath.Join(s.dir, "count.sock")
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, "", err
	}
	c := &counter{ln: ln}
	go func() {
		for {
			cl, err := ln.Accept()
			if err != nil {
				return
			}
			sw, err := net.Dial("unix", filepath.Join(s.dir, "br-int.mgmt"))
			if err != nil {
				cl.Close()
				continue
			}
			go func() { io.Copy(cl, sw); cl.Close() }()
			go func() { c.countCopy(sw, cl); sw.Close() }()
		}
	}()
	return c, "unix:" + path, nil
}

// countCopy copies frames from src to dst, counting them.
func (c *counter) countCopy(dst io.Writer, src io.Reader) {
	var h [8]byte
	buf := make([]byte, 1<<16)
	for {
		if _, err := io.ReadFull(src, h[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(h[2:]))
		if n < 8 {
			return
		}
		copy(buf, h[:])
		if _, err := io.ReadFull(src, buf[8:n]); err != nil {
			return
		}
		c.msgs.Add(1)
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (c *counter) close() { c.ln.Close() }

// timed runs a command and returns how long it took.
func timed(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		s := out.String()
		return d, fmt.Errorf("%s: %v: %s", name, err, s[max(0, len(s)-800):])
	}
	return d, nil
}
