package ovstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// commandTimeout bounds every ovs-* command so that a wedged daemon fails a test instead of
// hanging it until go test's own timeout.
const commandTimeout = 60 * time.Second

// binaries are the absolute paths of the OVS programs and the schema.
type binaries struct {
	ovsdbTool, ovsdbServer, vswitchd, vsctl, ofctl, appctl string
	schema                                                 string
}

// searchDirs are tried after $PATH: Debian puts the daemons in /usr/sbin, which a non-root PATH
// often lacks.
var searchDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin"}

var schemaPaths = []string{
	"/usr/share/openvswitch/vswitch.ovsschema",
	"/usr/local/share/openvswitch/vswitch.ovsschema",
}

// Available returns nil when the OVS daemons, tools and the vswitch schema are installed.
func Available() error {
	_, err := findBinaries()
	return err
}

func findBinaries() (binaries, error) {
	var b binaries
	var missing []string
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"ovsdb-tool", &b.ovsdbTool},
		{"ovsdb-server", &b.ovsdbServer},
		{"ovs-vswitchd", &b.vswitchd},
		{"ovs-vsctl", &b.vsctl},
		{"ovs-ofctl", &b.ofctl},
		{"ovs-appctl", &b.appctl},
	} {
		if *f.dst = lookPath(f.name); *f.dst == "" {
			missing = append(missing, f.name)
		}
	}
	for _, p := range schemaPaths {
		if _, err := os.Stat(p); err == nil {
			b.schema = p
			break
		}
	}
	if b.schema == "" {
		missing = append(missing, "vswitch.ovsschema")
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("open vswitch not installed: missing %s", strings.Join(missing, ", "))
	}
	return b, nil
}

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs
		}
	}
	for _, dir := range searchDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// run runs one OVS program with the switch's environment and returns its standard output. On
// failure the error carries the command and its standard error.
func (d *daemons) run(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = d.dir
	cmd.Env = d.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w: %s",
			filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func (d *daemons) vsctlArgs(args ...string) []string {
	return append([]string{
		"--db=unix:" + filepath.Join(d.dir, "db.sock"),
		"--timeout=" + strconv.Itoa(int(commandTimeout/time.Second)),
	}, args...)
}

// Ofctl runs `ovs-ofctl -O OpenFlow13 [options] COMMAND <target> [args]` against the bridge's
// management socket: the target goes right after the first argument that is not an option, so
// Ofctl("--strict", "del-flows", "table=3,priority=5") works. Pass options in --name=value form;
// an -O/--protocols option of the caller's replaces OpenFlow13. It returns standard output.
func (s *Switch) Ofctl(args ...string) (string, error) {
	full := make([]string, 0, len(args)+3)
	protocols := false
	inserted := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case inserted || !strings.HasPrefix(a, "-"):
			full = append(full, a)
			if !inserted {
				full = append(full, s.Target())
				inserted = true
			}
		case a == "-O" && i+1 < len(args):
			protocols = true
			full = append(full, a, args[i+1])
			i++
		default:
			protocols = protocols || strings.HasPrefix(a, "-O") || strings.HasPrefix(a, "--protocols")
			full = append(full, a)
		}
	}
	if !inserted {
		return "", errors.New("ovs-ofctl: no command given")
	}
	if !protocols {
		full = append([]string{"-O", "OpenFlow13"}, full...)
	}
	return s.d.run(s.d.bins.ofctl, full...)
}

// Vsctl runs ovs-vsctl against the switch's database and returns its standard output.
func (s *Switch) Vsctl(args ...string) (string, error) {
	return s.d.run(s.d.bins.vsctl, s.d.vsctlArgs(args...)...)
}

// Appctl runs ovs-appctl against ovs-vswitchd's control socket and returns its standard output.
func (s *Switch) Appctl(args ...string) (string, error) {
	return s.d.run(s.d.bins.appctl, append([]string{"-t", s.d.ctlPath()}, args...)...)
}

// DumpFlows returns the bridge's flows as `ovs-ofctl -O OpenFlow13 --no-stats dump-flows`
// prints them, one per element, leading space kept, sorted bytewise: the form of
// shared/corpus/ovn-sample/flows.txt.
func (s *Switch) DumpFlows() ([]string, error) {
	out, err := s.Ofctl("--no-stats", "dump-flows")
	if err != nil {
		return nil, err
	}
	return NormalizeFlows(out), nil
}

// DumpGroups returns the bridge's groups as `ovs-ofctl -O OpenFlow13 dump-groups` prints them,
// one per element, without the leading space, sorted: the form of ovn-sample/groups.txt.
func (s *Switch) DumpGroups() ([]string, error) {
	out, err := s.Ofctl("dump-groups")
	if err != nil {
		return nil, err
	}
	return NormalizeGroups(out), nil
}

// DumpMeters returns the bridge's meters in `ovs-ofctl add-meter` syntax, one per element,
// sorted: the form of ovn-sample/meters.txt.
func (s *Switch) DumpMeters() ([]string, error) {
	out, err := s.Ofctl("dump-meters")
	if err != nil {
		return nil, err
	}
	return NormalizeMeters(out), nil
}

// DumpTLVMap returns the bridge's Geneve option mappings, ordered by tun_metadata index.
func (s *Switch) DumpTLVMap() ([]TLVMapping, error) {
	out, err := s.Ofctl("dump-tlv-map")
	if err != nil {
		return nil, err
	}
	return ParseTLVMap(out)
}

// RecvCounter returns how many OpenFlow messages ovs-vswitchd has received on all its
// connections (the coverage counter ofproto_recv_openflow). Tests use differences of it to
// check that a controller sent nothing, e.g. after a no-op reconciliation.
func (s *Switch) RecvCounter() (uint64, error) {
	out, err := s.Appctl("coverage/read-counter", "ofproto_recv_openflow")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("coverage/read-counter ofproto_recv_openflow: %q: %w", out, err)
	}
	return n, nil
}
