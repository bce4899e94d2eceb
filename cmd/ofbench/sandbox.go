package main

import (
	"bufio"
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

	"github.com/ofactor/ofactor/openflow"
)

// sandbox is a private Open vSwitch (scripts/ovs-sandbox.sh: ovsdb-server
// and ovs-vswitchd with the dummy datapath in a directory).
type sandbox struct {
	dir, script string
	bridge      string // the bridge its commands act on: br-int unless on says
}

func startSandbox(script string) (*sandbox, error) {
	dir, err := os.MkdirTemp("/tmp", "ofb")
	if err != nil {
		return nil, err
	}
	s := &sandbox{dir: dir, script: script, bridge: "br-int"}
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

func (s *sandbox) target() string { return "unix:" + s.socket(s.bridge) }

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
// OpenFlow messages a client sends through it: every message but echo
// replies (the switch's own keepalive asks for those), and among them the
// flow_mods, bare or inside a bundle ADD_MESSAGE.
type counter struct {
	ln       net.Listener
	msgs     atomic.Int64
	flowMods atomic.Int64
}

func (s *sandbox) proxy() (*counter, string, error) {
	return proxyTo(filepath.Join(s.dir, s.bridge+".count"), s.socket(s.bridge))
}

// proxyTo listens on path and forwards every connection to the socket to.
func proxyTo(path, to string) (*counter, string, error) {
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
			sw, err := net.Dial("unix", to)
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

// countCopy copies frames from src to dst, counting them. It reads and
// writes through buffers (a 100k-flow install is 100k frames), flushing
// whenever nothing more has arrived.
func (c *counter) countCopy(dst io.Writer, src io.Reader) {
	br := bufio.NewReaderSize(src, 1<<20)
	bw := bufio.NewWriterSize(dst, 1<<20)
	var h [8]byte
	buf := make([]byte, 1<<16)
	for {
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(h[2:]))
		if n < 8 {
			return
		}
		copy(buf, h[:])
		if _, err := io.ReadFull(br, buf[8:n]); err != nil {
			return
		}
		c.count(buf[:n])
		if _, err := bw.Write(buf[:n]); err != nil {
			return
		}
		if br.Buffered() == 0 && bw.Flush() != nil {
			return
		}
	}
}

// count counts one frame a client sent.
func (c *counter) count(f []byte) {
	t := openflow.Type(f[1])
	if t == openflow.TypeEchoReply {
		return
	}
	c.msgs.Add(1)
	switch {
	case t == openflow.TypeFlowMod:
	case t == openflow.TypeExperimenter && len(f) >= 26 && binary.BigEndian.Uint32(f[8:]) == openflow.ExperimenterONF &&
		binary.BigEndian.Uint32(f[12:]) == openflow.ONFTBundleAddMessage:
		t = openflow.Type(f[25]) // the inner message's type (OpenFlow 1.3)
	case t == openflow.TypeBundleAddMessage && len(f) >= 18:
		t = openflow.Type(f[17])
	}
	if t == openflow.TypeFlowMod {
		c.flowMods.Add(1)
	}
}

// counts is a reading of a counter.
type counts struct{ msgs, flowMods int64 }

func (c *counter) read() counts { return counts{c.msgs.Load(), c.flowMods.Load()} }

func (a counts) minus(b counts) counts { return counts{a.msgs - b.msgs, a.flowMods - b.flowMods} }

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

// addBridges adds bridges to the sandbox's switch (one ovs-vsctl for all
// of them) and waits for their management sockets.
func (s *sandbox) addBridges(names ...string) error {
	args := []string{"--db=unix:" + filepath.Join(s.dir, "db.sock"), "--timeout=120"}
	for i, name := range names {
		if i > 0 {
			args = append(args, "--")
		}
		args = append(args, "add-br", name, "--", "set", "bridge", name, "datapath_type=dummy",
			"fail-mode=secure", "protocols=OpenFlow13,OpenFlow14,OpenFlow15")
	}
	cmd := exec.Command("ovs-vsctl", args...)
	cmd.Env = append(os.Environ(), "OVS_RUNDIR="+s.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ovs-vsctl add-br: %v: %s", err, out)
	}
	deadline := time.Now().Add(time.Minute)
	for _, name := range names {
		for {
			if _, err := os.Stat(s.socket(name)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not appear", s.socket(name))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// socket is the management socket of one of the sandbox's bridges.
func (s *sandbox) socket(bridge string) string { return filepath.Join(s.dir, bridge+".mgmt") }

// on is the sandbox seen through another of its bridges: the same
// switch, the same commands.
func (s *sandbox) on(bridge string) *sandbox {
	c := *s
	c.bridge = bridge
	return &c
}
