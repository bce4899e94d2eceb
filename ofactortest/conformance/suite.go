// Package conformance is the test suite that proves the in-memory switch
// of package ofactortest faithful to Open vSwitch: one set of test cases,
// each run against every backend given (the in-memory switch, a real
// ovs-vswitchd), each recording a transcript of what the switch answered
// and what its tables hold. A case checks what it expects of OVS; Run then
// compares the backends' transcripts, and any difference fails.
//
// The cases talk OpenFlow 1.3 through the codec with ofactortest.Client,
// observe the tables in ovs-ofctl's words and make out-of-band changes
// as ovs-ofctl would. A backend is anything that offers that (Backend).
package conformance

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Backend is a switch the suite runs against: a bridge controllers
// connect to, and an ovs-ofctl of it.
type Backend interface {
	// Name names the backend in test output ("memory", "ovs").
	Name() string
	// Target is where clients connect, "unix:PATH".
	Target() string
	// DumpFlows is `ovs-ofctl -O OpenFlow13 --no-stats dump-flows` of every
	// table, or of one with table >= 0: lines sorted, leading space kept.
	DumpFlows(table int) ([]string, error)
	// DumpGroups is `dump-groups`: lines sorted, no leading space.
	DumpGroups() ([]string, error)
	// DumpMeters is `dump-meters` in add-meter syntax, sorted.
	DumpMeters() ([]string, error)
	// DumpTLVMap is `dump-tlv-map`, by index.
	DumpTLVMap() ([]openflow.TLVMap, error)
	// Ofctl makes an out-of-band change as `ovs-ofctl -O OpenFlow13 CMD
	// BRIDGE ARGS...` would: add-flow, add-flows (one line an arg),
	// mod-flows, del-flows, del-flows-strict (--strict del-flows),
	// add-group, add-groups, mod-group, del-groups, add-meter,
	// del-meters, add-tlv-map, del-tlv-map. A refusal is an error wrapping
	// the *ofperr.Error OVS named.
	Ofctl(cmd string, args ...string) error
	// SetBundleIdleTimeout sets how long a bundle may stay idle
	// (other_config:bundle-idle-timeout).
	SetBundleIdleTimeout(d time.Duration) error
	// RecreateBridge deletes the bridge and makes it again, empty.
	RecreateBridge() error
	// Traffic sends packets 56-byte packets (an ICMP echo request from
	// 10.0.0.1 to 10.0.0.2) in on the LOCAL port; flow is the one flow
	// they hit (table, priority, match), which the case makes sure of.
	// Their counts are in the flow stats when Traffic returns.
	Traffic(flow string, packets int) error
}

// trafficPacket is what Traffic sends, Ethernet to ICMP, 56 bytes.
const trafficPacket = "505400000002505400000001080045000028000000004001a6d00a0000010a0000020800000000000000" +
	"0000000000000000000000000000"

// Case is one test of the suite.
type Case struct {
	Name string
	Run  func(h *H)
}

// Cases is the suite, in the order it runs.
var Cases []Case

func register(name string, run func(h *H)) { Cases = append(Cases, Case{name, run}) }

// Run runs every case against every backend (subtests CASE/BACKEND), and
// then fails each case whose backends' transcripts differ. Backends run
// one after another: a case may leave its backend in any state, the next
// case resets it.
func Run(t *testing.T, backends ...Backend) {
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			var first []string
			var firstName string
			for i, b := range backends {
				var tr []string
				t.Run(b.Name(), func(t *testing.T) { tr = runCase(t, b, c) })
				if tr == nil {
					continue // failed hard: the failure is reported
				}
				if i == 0 || first == nil {
					first, firstName = tr, b.Name()
					continue
				}
				if d := diff(first, tr); d != "" {
					t.Errorf("%s and %s differ (-%s +%s):\n%s", firstName, b.Name(), firstName, b.Name(), d)
				}
			}
		})
	}
}

// runCase resets the backend, runs one case and returns its transcript
// (nil if it stopped early).
func runCase(t *testing.T, b Backend, c Case) []string {
	h := &H{T: t, B: b}
	defer h.closeClients()
	if err := h.reset(); err != nil {
		t.Fatalf("reset: %v", err)
	}
	done := false
	defer func() {
		if !done {
			h.transcript = nil
		}
	}()
	c.Run(h)
	h.closeClients()
	done = true
	if os.Getenv("CONFORMANCE_TRANSCRIPT") != "" {
		t.Logf("transcript:\n%s", strings.Join(h.transcript, "\n"))
	}
	return h.transcript
}

// H is what a case works with: its backend, its clients, its transcript.
type H struct {
	*testing.T
	B          Backend
	transcript []string
	clients    []*Client
}

// Note adds a line to the transcript.
func (h *H) Note(format string, args ...any) {
	h.transcript = append(h.transcript, fmt.Sprintf(format, args...))
}

func (h *H) closeClients() {
	for _, c := range h.clients {
		c.c.Close()
	}
	h.clients = nil
}

// reset empties the bridge through OpenFlow, as a controller would: every
// flow, group and meter deleted, the TLV map cleared, fragments normal.
// OVS lets go of a flow's hold on its TLV mappings only after an RCU
// grace period, so the TLV map is cleared until that succeeds.
func (h *H) reset() error {
	c, err := ofactortest.Dial(h.B.Target())
	if err != nil {
		return err
	}
	defer c.Close()
	del := openflow.NewFlowMod(0, openflow.FlowDelete)
	del.TableID = openflow.TableAll
	rs, err := c.Exchange(del,
		&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: openflow.GroupAll},
		&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: openflow.MeterAll},
		&openflow.SetConfig{})
	if err == nil && len(rs) > 0 {
		err = fmt.Errorf("answered %d messages, first %s", len(rs), describe(rs[0].Raw))
	}
	for deadline := time.Now().Add(10 * time.Second); err == nil; time.Sleep(10 * time.Millisecond) {
		rs, err = c.Exchange(&openflow.TLVTableMod{Command: openflow.TLVTableClear})
		if err != nil || len(rs) == 0 {
			break
		}
		if e, ok := rs[0].Msg.(*openflow.Error); !ok || e.Err().Name != "NXTTMFC_INVALID_TLV_DEL" || time.Now().After(deadline) {
			err = fmt.Errorf("clearing the TLV map: %s", describe(rs[0].Raw))
		}
	}
	return err
}

// Dial opens a client connection named name (in the transcript).
func (h *H) Dial(name string) *Client {
	h.Helper()
	c, err := ofactortest.Dial(h.B.Target())
	if err != nil {
		h.Fatalf("dial: %v", err)
	}
	cl := &Client{h: h, c: c, name: name}
	h.clients = append(h.clients, cl)
	return cl
}

// Flows dumps every table but 254, notes the dump and returns it.
func (h *H) Flows() []string { return h.table(-1) }

// Table dumps one table.
func (h *H) Table(n int) []string { return h.table(n) }

func (h *H) table(n int) []string {
	h.Helper()
	fs, err := h.B.DumpFlows(n)
	if err != nil {
		h.Fatalf("dump-flows: %v", err)
	}
	h.Note("dump-flows table=%d: %d flows", n, len(fs))
	for _, f := range fs {
		h.Note("  %s", f)
	}
	return fs
}

// Groups dumps the groups.
func (h *H) Groups() []string {
	h.Helper()
	gs, err := h.B.DumpGroups()
	if err != nil {
		h.Fatalf("dump-groups: %v", err)
	}
	h.Note("dump-groups: %d", len(gs))
	for _, g := range gs {
		h.Note("  %s", g)
	}
	return gs
}

// Meters dumps the meters.
func (h *H) Meters() []string {
	h.Helper()
	ms, err := h.B.DumpMeters()
	if err != nil {
		h.Fatalf("dump-meters: %v", err)
	}
	h.Note("dump-meters: %d", len(ms))
	for _, m := range ms {
		h.Note("  %s", m)
	}
	return ms
}

// TLVMap dumps the TLV map.
func (h *H) TLVMap() []string {
	h.Helper()
	ms, err := h.B.DumpTLVMap()
	if err != nil {
		h.Fatalf("dump-tlv-map: %v", err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, ofactortest.TLVMapString(m))
	}
	h.Note("dump-tlv-map: %v", out)
	return out
}

// Ofctl makes an out-of-band change and returns the name of the error it
// got ("" on success).
func (h *H) Ofctl(cmd string, args ...string) string {
	h.Helper()
	err := h.B.Ofctl(cmd, args...)
	name := ""
	if err != nil {
		var oe *ofperr.Error
		if !errors.As(err, &oe) {
			h.Fatalf("ovs-ofctl %s %v: %v", cmd, args, err)
		}
		name = oe.Name
	}
	h.Note("ovs-ofctl %s %s: %s", cmd, strings.Join(args, " "), orOK(name))
	return name
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// Want fails the case unless got equals want, line for line.
func (h *H) Want(what string, got []string, want ...string) {
	h.Helper()
	if d := diff(want, got); d != "" {
		h.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// diff is a line diff of two lists (longest common subsequence), "" when
// they are equal.
func diff(a, b []string) string {
	// lcs[i][j] is the length of the LCS of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&out, "+ %s\n", b[j])
			j++
		default:
			fmt.Fprintf(&out, "- %s\n", a[i])
			i++
		}
	}
	return out.String()
}
