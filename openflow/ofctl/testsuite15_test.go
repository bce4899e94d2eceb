package ofctl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// The OpenFlow 1.5 capture: the corpus's every line is sent with
// `ovs-ofctl -O OpenFlow15 add-flows` (add-groups, add-meter) through a
// recording proxy in front of a private switch set up as the corpus's
// sandbox was (ports p0..p10 and the names the lines use, a TLV map of
// tun_metadata0..7 of 8 bytes, the groups and meters the flows name);
// ofactor's OpenFlow 1.5 encoding of each line must be the message OVS
// sent for it, byte for byte (xid aside), and a line ovs-ofctl refuses for
// OpenFlow 1.5 ofactor must refuse too.

// recorder is the proxy's hook: it keeps, in order, the flow_mods,
// group_mods and meter_mods sent, and the errors the switch answers them
// with by xid.
type recorder struct {
	mu     sync.Mutex
	sent   map[openflow.Type][][]byte
	errors map[uint32]string
}

func newRecorder() *recorder {
	return &recorder{sent: map[openflow.Type][][]byte{}, errors: map[uint32]string{}}
}

func (r *recorder) hook(toSwitch bool, f []byte) fakeswitch.Verdict {
	if len(f) < openflow.HeaderLen {
		return fakeswitch.Forward
	}
	t := openflow.Type(f[1])
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case toSwitch && (t == openflow.TypeFlowMod || t == openflow.TypeGroupMod || t == openflow.TypeMeterMod):
		r.sent[t] = append(r.sent[t], bytes.Clone(f))
	case !toSwitch && t == openflow.TypeError:
		name := "error"
		if m, err := openflow.Decode(f); err == nil {
			if e, ok := m.(*openflow.Error); ok {
				if oe := ofperr.Decode(f[0], e.ErrType, e.Code, e.Experimenter); oe != nil {
					name = oe.Name
				}
			}
		}
		r.errors[be32(f[4:])] = name
	}
	return fakeswitch.Forward
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = map[openflow.Type][][]byte{}
	r.errors = map[uint32]string{}
}

func (r *recorder) take(t openflow.Type) ([][]byte, map[uint32]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := map[uint32]string{}
	for k, v := range r.errors {
		errs[k] = v
	}
	return r.sent[t], errs
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// capture15 is a switch and a recording proxy in front of it.
type capture15 struct {
	t       *testing.T
	sw      *ovstest.Switch
	proxy   *fakeswitch.Proxy
	rec     *recorder
	ofctl   string
	ports   *Ports
	version uint8 // of the messages captured: OpenFlow 1.4 or 1.5
}

// protocol is ovs-ofctl's name of c's version.
func (c *capture15) protocol() string { return fmt.Sprintf("OpenFlow1%d", c.version-1) }

// ofctl15 runs ovs-ofctl -O <c's version> CMD <proxy> ARGS... and returns
// its output and whether it succeeded.
func (c *capture15) ofctl15(cmd string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	x := exec.CommandContext(ctx, c.ofctl, append([]string{"-O", c.protocol(), cmd, c.proxy.Target()}, args...)...)
	x.Env = c.sw.Env()
	out, err := x.CombinedOutput()
	return string(out), err
}

// testsuiteNames are the port names the input lines use, found by
// parsing them with made-up port numbers.
func testsuiteNames(t *testing.T) []string {
	seen := map[string]bool{}
	named := namedLines(t)
	for _, k := range []testsuiteKind{testsuiteKinds[1], testsuiteKinds[3]} {
		for n, l := range testsuiteLines(t, k.name+".txt") {
			if !named[fmt.Sprintf("%s:%d", k.base, n+1)] {
				// The placeholders would take any word (output:NXM_NX_REG1[]
				// tries a port name first).
				continue
			}
			ph := &placeholders{names: map[string]uint32{}}
			ctx := testsuiteContext(openflow.Version13)
			ctx.OXM.Ports = ph
			if _, err := k.parse(l, ctx); err == nil {
				for n := range ph.names {
					seen[n] = true
				}
			}
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var portDescLine = regexp.MustCompile(`^ *(\d+|LOCAL)\(([^)]*)\):`)

// startCapture15 makes the sandbox: ports, TLV map, proxy.
func startCapture15(t *testing.T) *capture15 {
	sw := ovstest.Start(t, ovstest.WithBridge("br0"))
	c := &capture15{t: t, sw: sw, rec: newRecorder(), ofctl: needOVS(t)}
	args := []string{}
	next := 11
	for _, name := range testsuiteNames(t) {
		n := 0
		switch {
		case name == "br0" || len(name) > 15:
			continue // the bridge's own port; too long for OVS
		case name == "p0":
			n = 100
		case strings.HasPrefix(name, "p"):
			if v, err := strconv.Atoi(name[1:]); err == nil && v >= 1 && v <= 10 {
				n = v
			}
		}
		if n == 0 {
			n, next = next, next+1
		}
		args = append(args, "--", "add-port", "br0", name, "--", "set", "interface", name,
			"type=dummy", fmt.Sprintf("ofport_request=%d", n))
	}
	for _, p := range []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"} {
		if !slices_contains(args, p) {
			n := 100
			if p != "p0" {
				n, _ = strconv.Atoi(p[1:])
			}
			args = append(args, "--", "add-port", "br0", p, "--", "set", "interface", p, "type=dummy", fmt.Sprintf("ofport_request=%d", n))
		}
	}
	if _, err := sw.Vsctl(args[1:]...); err != nil {
		t.Fatalf("ovs-vsctl: %v", err)
	}
	var maps []string
	for i := 0; i < 8; i++ {
		maps = append(maps, fmt.Sprintf("{class=0xffff,type=%d,len=8}->tun_metadata%d", i, i))
	}
	if _, err := sw.Ofctl("add-tlv-map", strings.Join(maps, ",")); err != nil {
		t.Fatalf("add-tlv-map: %v", err)
	}
	out, err := sw.Ofctl("-O", "OpenFlow15", "dump-ports-desc")
	if err != nil {
		t.Fatal(err)
	}
	c.ports = NewPorts(nil)
	for _, l := range strings.Split(out, "\n") {
		if m := portDescLine.FindStringSubmatch(l); m != nil {
			n := uint64(0xfffffffe)
			if m[1] != "LOCAL" {
				n, _ = strconv.ParseUint(m[1], 10, 32)
			}
			c.ports.Add(m[2], uint32(n))
		}
	}
	if c.proxy, err = fakeswitch.StartProxy(sw.SocketPath(), c.rec.hook); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.proxy.Close)
	return c
}

func slices_contains(args []string, name string) bool {
	for i := 0; i+2 < len(args); i++ {
		if args[i] == "add-port" && args[i+2] == name {
			return true
		}
	}
	return false
}

// ofctlLineError is where ovs-ofctl's "FILE:LINE: reason" says it stopped.
var ofctlLineError = regexp.MustCompile(`:(\d+): (.*)`)

// ofctlSwitchError is the switch's error ovs-ofctl prints and stops at.
var ofctlSwitchError = regexp.MustCompile(`OFPT_ERROR \(OF1\.[345]\) \(xid=0x[0-9a-f]+\): ([A-Z0-9_]+)`)

// sent15 is what ovs-ofctl did with a file's lines: the indexes of the
// lines it sent with the message it sent for each, the lines it refused to
// parse with its reason, and the lines whose message the switch refused
// with the error's name.
type sent15 struct {
	kept     []int
	msgs     [][]byte
	refused  map[int]string
	switched map[int]string
}

// sendFile has ovs-ofctl send the lines with cmd (add-flows, add-groups)
// of type t through the proxy. ovs-ofctl parses the whole file before it
// sends anything and stops at the first line it refuses: that line is
// taken out, with its reason, and the file sent again. It stops sending at
// the first message the switch refuses (overlapping flows, a group that
// exists): that line is noted, the table cleared with clear, and the rest
// sent on.
func (c *capture15) sendFile(cmd string, t openflow.Type, lines []string, clear string) sent15 {
	res := sent15{refused: map[int]string{}, switched: map[int]string{}}
	todo := make([]int, len(lines))
	for i := range todo {
		todo[i] = i
	}
	file := filepath.Join(c.t.TempDir(), cmd+".txt")
	for runs := 0; len(todo) > 0; runs++ {
		if runs > 2*len(lines)+2 {
			c.t.Fatalf("ovs-ofctl %s: no progress", cmd)
		}
		var b strings.Builder
		for _, i := range todo {
			b.WriteString(lines[i])
			b.WriteByte('\n')
		}
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			c.t.Fatal(err)
		}
		c.rec.reset()
		out, err := c.ofctl15(cmd, file)
		msgs, _ := c.rec.take(t)
		if m := ofctlLineError.FindStringSubmatch(out); err != nil && len(msgs) == 0 && m != nil && strings.Contains(out, file+":") {
			n, _ := strconv.Atoi(m[1])
			if n < 1 || n > len(todo) {
				c.t.Fatalf("ovs-ofctl %s: %s", cmd, out)
			}
			res.refused[todo[n-1]] = strings.TrimSpace(m[2])
			todo = append(todo[:n-1], todo[n:]...)
			continue
		}
		if len(msgs) > len(todo) {
			c.t.Fatalf("ovs-ofctl %s: %d messages for %d lines", cmd, len(msgs), len(todo))
		}
		res.kept = append(res.kept, todo[:len(msgs)]...)
		res.msgs = append(res.msgs, msgs...)
		if err == nil {
			if len(msgs) != len(todo) {
				c.t.Fatalf("ovs-ofctl %s: %d messages for %d lines", cmd, len(msgs), len(todo))
			}
			break
		}
		m := ofctlSwitchError.FindStringSubmatch(out)
		if m == nil || len(msgs) == 0 {
			c.t.Fatalf("ovs-ofctl %s: %v: %s", cmd, err, out)
		}
		res.switched[todo[len(msgs)-1]] = m[1]
		todo = todo[len(msgs):]
		if _, err := c.sw.Ofctl(clear); err != nil {
			c.t.Fatal(err)
		}
	}
	return res
}

// flowRefs are the group and meter ids the flows name.
func flowRefs(t *testing.T, ctx *Context) (groups, meters []uint32) {
	gs, ms := map[uint32]bool{}, map[uint32]bool{}
	var walk func(l action.List)
	walk = func(l action.List) {
		for _, a := range l {
			switch a := a.(type) {
			case *action.Std:
				switch a.Type {
				case 22:
					gs[uint32(a.Arg)] = true
				case 29:
					ms[uint32(a.Arg)] = true
				}
			case *action.Clone:
				walk(a.Actions)
			}
		}
	}
	for _, kind := range []string{"flows.txt", "flows-input.txt"} {
		for _, l := range testsuiteLines(t, kind) {
			fm, err := ParseFlow(l, ctx)
			if err != nil {
				continue
			}
			for _, i := range fm.Instructions {
				switch i := i.(type) {
				case *action.ApplyActions:
					walk(i.Actions)
				case *action.WriteActions:
					walk(i.Actions)
				case *action.Meter:
					ms[i.ID] = true
				}
			}
		}
	}
	for g := range gs {
		groups = append(groups, g)
	}
	for m := range ms {
		meters = append(meters, m)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i] < groups[j] })
	sort.Slice(meters, func(i, j int) bool { return meters[i] < meters[j] })
	return groups, meters
}

// counts15 are one file's OpenFlow 1.5 figures.
type counts15 struct {
	lines, sent, identical, ovsRefused, alsoRefused, switchRefused int
}

func (c counts15) String() string {
	return fmt.Sprintf("%d lines: %d sent by ovs-ofctl, %d byte-identical to OVS; %d refused by ovs-ofctl, %d of them refused by ofactor too; %d refused by the switch",
		c.lines, c.sent, c.identical, c.ovsRefused, c.alsoRefused, c.switchRefused)
}

// compare15 checks ofactor's OpenFlow 1.5 encoding of each line against
// what OVS sent for it, and its refusal of what ovs-ofctl refused.
func (c *capture15) compare15(name string, lines []string, r sent15,
	parse func(string, *Context) (openflow.Message, error)) counts15 {
	t := c.t
	ctx := testsuiteContext(c.version)
	ctx.OXM.Ports = c.ports
	cnt := counts15{lines: len(lines), sent: len(r.msgs), ovsRefused: len(r.refused), switchRefused: len(r.switched)}
	for k, i := range r.kept {
		m, err := parse(lines[i], ctx)
		if err != nil {
			t.Errorf("%s.txt:%d: refused, but ovs-ofctl sends it: %s\n\t%v", name, i+1, lines[i], err)
			continue
		}
		got, err := encodeXID0(m)
		if err != nil {
			t.Errorf("%s.txt:%d: encode: %v", name, i+1, err)
			continue
		}
		w := bytes.Clone(r.msgs[k])
		w[4], w[5], w[6], w[7] = 0, 0, 0, 0
		if !bytes.Equal(got, w) {
			t.Errorf("%s.txt:%d: %s\n\tgot  %x\n\twant %x", name, i+1, lines[i], got, w)
			continue
		}
		cnt.identical++
	}
	for i, why := range r.refused {
		if _, err := parse(lines[i], ctx); err != nil {
			cnt.alsoRefused++
		} else {
			t.Errorf("%s.txt:%d: parsed, but ovs-ofctl -O %s refuses it (%s): %s", name, i+1, c.protocol(), why, lines[i])
		}
	}
	return cnt
}

// TestTestsuiteOF14And15 runs the capture for OpenFlow 1.4 and 1.5 on one
// switch.
func TestTestsuiteOF14And15(t *testing.T) {
	c := startCapture15(t)
	for _, v := range []uint8{openflow.Version14, openflow.Version15} {
		c.version = v
		c.run(t)
		for _, cmd := range []string{"del-flows", "del-groups", "del-meters"} {
			if _, err := c.sw.Ofctl(cmd); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// run captures and compares every file of the corpus in c's version.
func (c *capture15) run(t *testing.T) {
	v := fmt.Sprintf("OpenFlow 1.%d", c.version-1)
	ctx13 := testsuiteContext(openflow.Version13)
	ctx13.OXM.Ports = c.ports
	groups, meters := flowRefs(t, ctx13)
	var gb strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&gb, "group_id=%d,type=all\n", g)
	}
	gfile := filepath.Join(t.TempDir(), "refs.txt")
	if err := os.WriteFile(gfile, []byte(gb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.sw.Ofctl("add-groups", gfile); err != nil {
		t.Fatalf("add-groups: %v", err)
	}
	for _, m := range meters {
		if _, err := c.sw.Ofctl("add-meter", fmt.Sprintf("meter=%d,pktps,bands=type=drop,rate=1", m)); err != nil {
			t.Fatalf("add-meter: %v", err)
		}
	}
	for _, kind := range []string{"flows", "flows-input"} {
		lines := testsuiteLines(t, kind+".txt")
		r := c.sendFile("add-flows", openflow.TypeFlowMod, lines, "del-flows")
		cnt := c.compare15(kind, lines, r, parseFlowMsg)
		t.Logf("ovs-testsuite %s (%s): %v", kind, v, cnt)
		if _, err := c.sw.Ofctl("del-flows"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.sw.Ofctl("del-groups"); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"groups", "groups-input"} {
		lines := testsuiteLines(t, kind+".txt")
		r := c.sendFile("add-groups", openflow.TypeGroupMod, lines, "del-groups")
		cnt := c.compare15(kind, lines, r, parseGroupMsg)
		t.Logf("ovs-testsuite %s (%s): %v; %d print as ovs-ofctl prints them", kind, v, cnt,
			checkGroupPrint(t, kind, r.msgs))
		if _, err := c.sw.Ofctl("del-groups"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.sw.Ofctl("del-meters"); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"meters", "meters-input"} {
		lines := testsuiteLines(t, kind+".txt")
		c.rec.reset()
		r := sent15{refused: map[int]string{}, switched: map[int]string{}}
		for i, l := range lines {
			out, err := c.ofctl15("add-meter", l)
			if m := ofctlSwitchError.FindStringSubmatch(out); err != nil && m != nil {
				r.switched[i] = m[1]
			} else if err != nil {
				r.refused[i] = strings.TrimSpace(out)
				continue
			}
			r.kept = append(r.kept, i)
			if _, err := c.sw.Ofctl("del-meters"); err != nil {
				t.Fatal(err)
			}
		}
		r.msgs, _ = c.rec.take(openflow.TypeMeterMod)
		if len(r.msgs) != len(r.kept) {
			t.Fatalf("%s: %d meter_mods for %d lines", kind, len(r.msgs), len(r.kept))
		}
		cnt := c.compare15(kind, lines, r, parseMeterMsg)
		t.Logf("ovs-testsuite %s (%s): %v", kind, v, cnt)
	}
}

// ofpGroupCommands are ofp-print's group_mod command words and the
// prefix AppendGroup writes for each.
var ofpGroupCommands = []struct{ ovs, ours string }{
	{"ADD_OR_MOD ", "add_or_mod "}, {"ADD ", ""}, {"MOD ", "modify "},
	{"INSERT_BUCKET ", "insert_bucket "}, {"REMOVE_BUCKET ", "remove_bucket "},
}

// checkGroupPrint has ovs-ofctl ofp-parse print the group_mods OVS sent
// and checks that each, decoded, prints the same with AppendGroup (a
// delete aside: OVS prints its type too), and that the text parses back
// to the same message. It returns how many it compared.
func checkGroupPrint(t *testing.T, name string, msgs [][]byte) int {
	t.Helper()
	var bin []byte
	for _, m := range msgs {
		bin = append(bin, m...)
	}
	printed := ofpParse(t, name, bin)
	if len(printed) != len(msgs) {
		t.Fatalf("%s: ofp-parse printed %d messages for %d", name, len(printed), len(msgs))
	}
	n := 0
	for i, p := range printed {
		want, ok := "", false
		for _, c := range ofpGroupCommands {
			if rest, found := strings.CutPrefix(p.body, c.ovs); found {
				want, ok = c.ours+rest, true
				break
			}
		}
		if !ok {
			continue // DEL
		}
		m, err := openflow.Decode(msgs[i])
		if err != nil {
			t.Errorf("%s[%d]: decode: %v", name, i, err)
			continue
		}
		gm, _ := m.(*openflow.GroupMod)
		if gm == nil {
			t.Errorf("%s[%d]: %T, not a group_mod", name, i, m)
			continue
		}
		got := string(AppendGroup(nil, gm))
		if got != want {
			t.Errorf("%s[%d]: OVS prints\n\t%s\nwe print\n\t%s", name, i, want, got)
		}
		if gm.Command == openflow.GroupAdd {
			// dump-groups prints a group as the add of it prints.
			gd := &openflow.GroupDesc{Type: gm.Type, GroupID: gm.GroupID, Buckets: gm.Buckets, Selection: gm.Selection}
			if d := string(AppendGroupDescVersion(nil, gd, gm.Version)); d != want {
				t.Errorf("%s[%d]: OVS prints\n\t%s\nas a group desc we print\n\t%s", name, i, want, d)
			}
		}
		// And the text reads back as the message.
		back, err := ParseGroup(got, testsuiteContext(gm.Version))
		if err == nil {
			var b []byte
			if b, err = encodeXID0(back); err == nil && !bytes.Equal(b[8:], msgs[i][8:]) {
				err = fmt.Errorf("encodes to %x, OVS sent %x", b, msgs[i])
			}
		}
		if err != nil {
			t.Errorf("%s[%d]: %s: read back: %v", name, i, got, err)
		}
		n++
	}
	return n
}
