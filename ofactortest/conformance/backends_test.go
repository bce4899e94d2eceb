package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// memory is the in-memory switch as a Backend.
type memory struct{ sw *ofactortest.Switch }

func (m *memory) Name() string   { return "memory" }
func (m *memory) Target() string { return m.sw.Target() }

func (m *memory) DumpFlows(table int) ([]string, error) {
	if table < 0 {
		return m.sw.DumpFlows(), nil
	}
	return m.sw.DumpTable(uint8(table)), nil
}

func (m *memory) DumpGroups() ([]string, error)          { return m.sw.DumpGroups(), nil }
func (m *memory) DumpMeters() ([]string, error)          { return m.sw.DumpMeters(), nil }
func (m *memory) DumpTLVMap() ([]openflow.TLVMap, error) { return m.sw.DumpTLVMap(), nil }

func (m *memory) Ofctl(cmd string, args ...string) error {
	arg := ""
	if len(args) > 0 {
		arg = args[0]
	}
	switch cmd {
	case "add-flow":
		return m.sw.AddFlow(arg)
	case "add-flows":
		return m.sw.AddFlows(args...)
	case "mod-flows":
		return m.sw.ModFlows(arg)
	case "del-flows":
		return m.sw.DelFlows(arg)
	case "del-flows-strict":
		return m.sw.DelFlowsStrict(arg)
	case "add-group":
		return m.sw.AddGroup(arg)
	case "mod-group":
		return m.sw.ModGroup(arg)
	case "del-groups":
		return m.sw.DelGroups()
	case "add-meter":
		return m.sw.AddMeter(arg)
	case "del-meters":
		return m.sw.DelMeters()
	case "add-tlv-map":
		maps, err := parseTLVMaps(arg)
		if err != nil {
			return err
		}
		return m.sw.AddTLVMap(maps...)
	case "del-tlv-map":
		return m.sw.DelTLVMap()
	case "add-groups":
		return m.sw.AddGroups(args...)
	}
	return fmt.Errorf("memory: no ovs-ofctl %s", cmd)
}

func (m *memory) SetBundleIdleTimeout(d time.Duration) error {
	m.sw.SetBundleIdleTimeout(d)
	return nil
}

func (m *memory) Traffic(flow string, packets int) error {
	return m.sw.CountPackets(flow, uint64(packets), uint64(packets*len(trafficPacket)/2))
}

func (m *memory) RecreateBridge() error {
	m.sw.RecreateBridge()
	return nil
}

// parseTLVMaps reads add-tlv-map's "{class=0x102,type=0x80,len=4}->tun_metadata0,...".
func parseTLVMaps(s string) ([]openflow.TLVMap, error) {
	re := regexp.MustCompile(`\{class=(0x[0-9a-fA-F]+),type=(0x[0-9a-fA-F]+|\d+),len=(\d+)\}->tun_metadata(\d+)`)
	var maps []openflow.TLVMap
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		var v [4]uint64
		for i := range v {
			x, err := strconv.ParseUint(m[i+1], 0, 16)
			if err != nil {
				return nil, err
			}
			v[i] = x
		}
		maps = append(maps, openflow.TLVMap{OptionClass: uint16(v[0]), OptionType: uint8(v[1]), OptionLen: uint8(v[2]), Index: uint16(v[3])})
	}
	if len(maps) == 0 {
		return nil, fmt.Errorf("no mappings in %q", s)
	}
	return maps, nil
}

// ovs is a real ovs-vswitchd (internal/ovstest) as a Backend, its bridge
// accepting OpenFlow 1.3 only, as the in-memory switch does.
type ovs struct {
	s   *ovstest.Switch
	dir string
}

func (o *ovs) Name() string   { return "ovs" }
func (o *ovs) Target() string { return o.s.Target() }

func (o *ovs) DumpFlows(table int) ([]string, error) {
	if table < 0 {
		return o.s.DumpFlows()
	}
	out, err := o.s.Ofctl("--no-stats", "dump-flows", fmt.Sprintf("table=%d", table))
	if err != nil {
		return nil, err
	}
	return ovstest.NormalizeFlows(out), nil
}

func (o *ovs) DumpGroups() ([]string, error) { return o.s.DumpGroups() }
func (o *ovs) DumpMeters() ([]string, error) { return o.s.DumpMeters() }

func (o *ovs) DumpTLVMap() ([]openflow.TLVMap, error) {
	ms, err := o.s.DumpTLVMap()
	var out []openflow.TLVMap
	for _, m := range ms {
		out = append(out, openflow.TLVMap(m))
	}
	return out, err
}

// ofctlError finds the error OVS answered in ovs-ofctl's output.
var ofctlError = regexp.MustCompile(`OFPT_ERROR \([^)]*\) \(xid=[^)]*\): ([A-Z][A-Z0-9_]+)`)

func (o *ovs) Ofctl(cmd string, args ...string) error {
	switch cmd {
	case "add-flows":
		f := filepath.Join(o.dir, "flows.txt")
		if err := os.WriteFile(f, []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		args = []string{f}
	case "del-flows-strict":
		cmd = "--strict"
		args = append([]string{"del-flows"}, args...)
	case "add-groups":
		f := filepath.Join(o.dir, "groups.txt")
		if err := os.WriteFile(f, []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		args = []string{f}
	}
	_, err := o.s.Ofctl(append([]string{cmd}, args...)...)
	if err != nil {
		if m := ofctlError.FindStringSubmatch(err.Error()); m != nil {
			e := ofperr.Named(m[1])
			if e == nil {
				e = &ofperr.Error{Name: m[1]}
			}
			return fmt.Errorf("ovs-ofctl %s: %w", cmd, e)
		}
	}
	return err
}

func (o *ovs) SetBundleIdleTimeout(d time.Duration) error {
	_, err := o.s.Vsctl("set", "Open_vSwitch", ".", fmt.Sprintf("other_config:bundle-idle-timeout=%d", int(d/time.Second)))
	return err
}

func (o *ovs) RecreateBridge() error { return o.s.RecreateBridge() }

func (o *ovs) Traffic(flow string, packets int) error {
	args := []string{"netdev-dummy/receive", o.s.Bridge}
	for range packets {
		args = append(args, trafficPacket)
	}
	if _, err := o.s.Appctl(args...); err != nil {
		return err
	}
	// Push the datapath's counts to the flows now.
	_, err := o.s.Appctl("revalidator/purge")
	return err
}

// newOVS starts the real switch, or returns nil when OVS is not installed
// (after failing the test under CI=true).
func newOVS(t *testing.T) *ovs {
	t.Helper()
	if err := ovstest.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("conformance: CI=true and %v: the suite must run against OVS", err)
		}
		t.Logf("conformance: %v: running against the in-memory switch alone", err)
		return nil
	}
	return &ovs{s: ovstest.Start(t, ovstest.WithProtocols("OpenFlow13")), dir: t.TempDir()}
}

// TestConformance runs the suite against the in-memory switch and a real
// ovs-vswitchd, and fails on any difference.
func TestConformance(t *testing.T) {
	backends := []Backend{&memory{sw: ofactortest.Start(t)}}
	if o := newOVS(t); o != nil {
		backends = append(backends, o)
	}
	Run(t, backends...)
}
