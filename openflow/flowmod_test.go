package openflow

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewFlowModDefaults(t *testing.T) {
	fm := NewFlowMod(Version13, FlowDelete)
	if fm.BufferID != NoBuffer || fm.OutPort != PortAny || fm.OutGroup != GroupAny || fm.Command != FlowDelete {
		t.Errorf("defaults: %+v", fm)
	}
	// The zero FlowMod writes zeros: the encoder writes what it holds.
	b, err := (&FlowMod{}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[32:44], make([]byte, 12)) || b[0] != Version13 {
		t.Errorf("zero flow_mod: %x", b)
	}
}

// TestImportance: OpenFlow 1.3 has padding where 1.4 has importance.
func TestImportance(t *testing.T) {
	fm := NewFlowMod(Version13, FlowAdd)
	fm.Importance = 9
	b, _ := fm.AppendBinary(nil)
	if b[46] != 0 || b[47] != 0 {
		t.Errorf("OF1.3 wrote importance: %x", b[44:48])
	}
	b[47] = 9 // a 1.3 peer's nonzero padding is not importance
	m, err := Decode(b)
	if err != nil || m.(*FlowMod).Importance != 0 {
		t.Errorf("OF1.3 read importance: %v %v", m, err)
	}
	fm.Version = Version14
	b, _ = fm.AppendBinary(nil)
	m, err = Decode(b)
	if err != nil || m.(*FlowMod).Importance != 9 {
		t.Errorf("OF1.4 importance lost: %v %v", m, err)
	}
}

func TestVersionErrors(t *testing.T) {
	for _, m := range []Message{
		&FlowMod{Header: Header{Version: Version10}},
		&GroupMod{Header: Header{Version: Version10}},
		&RoleRequest{Header: Header{Version: Version11}},
		&FlowMonitorCancel{Header: Header{Version: Version14}},
		&FlowMonitorRequest{Header: Header{Version: Version12}},
		&BundleControl{Header: Header{Version: Version12}},
		&BundleAdd{Header: Header{Version: Version13}},
	} {
		if b, err := m.AppendBinary([]byte{1, 2}); err == nil || len(b) != 2 {
			t.Errorf("%T: %x, %v", m, b, err)
		}
	}
}

func TestBundleAddInner(t *testing.T) {
	inner := flowModApply()
	inner.XID, inner.Version = 77, Version14
	add := NewBundleAdd(3, BundleAtomic, inner)
	if add.XID != 77 || add.Version != Version14 {
		t.Errorf("NewBundleAdd header %+v", add.Header)
	}
	b, err := add.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got := m.(*BundleAdd)
	if fm, ok := got.Message.(*FlowMod); !ok || fm.XID != 77 || got.BundleID != 3 || got.Flags != BundleAtomic {
		t.Errorf("decoded %+v", got)
	}
	// An inner message that does not decode fails the whole.
	bad := append([]byte(nil), b...)
	be.PutUint16(bad[HeaderLen+8+2:], 9) // inner length 9: a flow_mod cannot be
	if _, err := Decode(bad); err == nil {
		t.Error("bad inner message decoded")
	}
}

// ovsReplies returns the decoded messages of the captured OVS sessions,
// with the flow stats parts joined.
func ovsReplies(t *testing.T) []Message {
	t.Helper()
	var r Reassembler
	var out []Message
	for _, b := range ovsFrames(t) {
		m, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.(*FlowStatsReply); ok {
			if m, err = r.Add(m); err != nil || m == nil {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// TestFlowModFromOVSFlows turns the flows OVS dumped back into flow_mods
// and has ovs-ofctl print them: match and actions must read as OVS's own
// dump of the same flows does.
func TestFlowModFromOVSFlows(t *testing.T) {
	bin := ovsOfctl(t)
	for _, m := range ovsReplies(t) {
		fs, ok := m.(*FlowStatsReply)
		if !ok {
			continue
		}
		n := 0
		for i, s := range fs.Stats {
			if i%97 != 0 && s.Priority < 1000 && s.Priority > 3 {
				continue // a sample, and every special flow
			}
			n++
			fm := NewFlowMod(fs.Version, FlowAdd)
			fm.TableID, fm.Priority, fm.Cookie = s.TableID, s.Priority, s.Cookie
			fm.Match, fm.Instructions = s.Match, s.Instructions
			b, err := fm.AppendBinary(nil)
			if err != nil {
				t.Fatalf("flow %d: %v", i, err)
			}
			one := &FlowStatsReply{Header: Header{Version: fs.Version}, Stats: []FlowStats{s}}
			sb, err := one.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			got, want := flowText(ovsPrint(t, bin, b)), flowText(ovsPrint(t, bin, sb))
			if testing.Verbose() && n < 3 {
				t.Logf("%s", got)
			}
			if got != want || got == "" {
				t.Errorf("flow %d: flow_mod prints %q, OVS's flow prints %q", i, got, want)
			}
		}
		if n < 10 {
			t.Errorf("only %d flows checked", n)
		}
	}
}

// flowText is the match and actions of the one flow in ofp-print's
// output of a flow_mod or a one-flow stats reply, in one form:
// "priority=P,MATCH actions=ACTIONS".
func flowText(out string) string {
	for _, line := range strings.Split(out, "\n") {
		i := strings.Index(line, "priority=")
		if i < 0 {
			continue
		}
		s := line[i:]
		// flow_mod: "priority=5 cookie:0x1 reg0=1 actions=..."
		if j := strings.Index(s, " cookie:"); j >= 0 {
			rest := s[j+len(" cookie:"):]
			k := strings.IndexByte(rest, ' ')
			s = s[:j] + rest[k:]
		}
		pri, rest, _ := strings.Cut(s, " ")
		if strings.HasPrefix(rest, "actions=") {
			return pri + " " + rest
		}
		return pri + "," + rest
	}
	return ""
}
