package ofctl

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// ovn-extra.txt is OVS's own dump (ovs-ofctl -O OpenFlow13 --no-stats
// dump-flows) of flows written for this test in the shapes real
// ovn-controller tables have and the ovn-sample lacks: conjunctions, IPv6
// and ND, multicast and IGMP/MLD, logged and metered ACLs, every NAT form,
// ct_label/ct_mark, tun_metadata with a TLV map (tun_metadata0 of 4 bytes),
// learn, sample, clone, check_pkt_larger, VLANs, reserved ports, timeouts
// and flags. extraTLV is the map it was dumped with.
const ovnExtraFile = "testdata/ovn-extra.txt"

// extraTLV is the TLV map ovn-extra.txt was installed with:
// {class=0x102,type=0x80,len=4}->tun_metadata0.
const extraTLV = "{class=0x102,type=0x80,len=4}->tun_metadata0"

func extraContext() *Context {
	ctx := &Context{}
	ctx.OXM.Geneve = -1
	ctx.OXM.TunMetadataLen[0] = 4
	return ctx
}

func ovnExtraLines(t testing.TB) []string {
	t.Helper()
	out := nonEmptyLines(t, filepath.FromSlash(ovnExtraFile))
	if len(out) < 150 {
		t.Fatalf("%s: only %d flows", ovnExtraFile, len(out))
	}
	return out
}

// TestOVNExtra: every line parses, prints back identically, and goes
// through the wire (flow_mod, then as flow stats) unchanged.
func TestOVNExtra(t *testing.T) {
	ctx := extraContext()
	for i, line := range ovnExtraLines(t) {
		fm, err := ParseFlow(line, ctx)
		if err != nil {
			t.Errorf("ovn-extra.txt:%d: %v", i+1, err)
			continue
		}
		if got := string(AppendFlow(nil, fm)); got != line {
			t.Errorf("ovn-extra.txt:%d:\n got %s\nwant %s", i+1, got, line)
			continue
		}
		fs, err := throughWire(fm)
		if err != nil {
			t.Errorf("ovn-extra.txt:%d: wire: %v", i+1, err)
			continue
		}
		if got := string(AppendFlowStats(nil, fs)); got != line {
			t.Errorf("ovn-extra.txt:%d: from the wire:\n got %s\nwant %s", i+1, got, line)
		}
	}
}

// TestOVNExtraPrefixes cuts every third line of ovn-extra at every length:
// a prefix either fails with a *ParseError or is a flow that prints and
// parses back to itself (as FuzzParseFlow checks for any input).
func TestOVNExtraPrefixes(t *testing.T) {
	ctx := extraContext()
	for i, line := range ovnExtraLines(t) {
		if i%3 != 0 {
			continue
		}
		for n := 0; n < len(line); n++ {
			fm, err := ParseFlow(line[:n], ctx)
			if err != nil {
				if _, ok := err.(*ParseError); !ok {
					t.Errorf("ovn-extra.txt:%d[:%d]: %T %v", i+1, n, err, err)
				}
				continue
			}
			text := AppendFlow(nil, fm)
			fm2, err := ParseFlow(string(text), ctx)
			if err != nil {
				t.Errorf("ovn-extra.txt:%d[:%d] prints as %q, which does not parse: %v", i+1, n, text, err)
				continue
			}
			if text2 := AppendFlow(nil, fm2); string(text2) != string(text) {
				t.Errorf("ovn-extra.txt:%d[:%d]: %q then %q", i+1, n, text, text2)
			}
		}
	}
}

// TestOVNExtraInput parses the add-flows text ovn-extra.txt was made from
// (testdata/ovn-extra-input.txt: shorthands, mod_vlan_vid and its implied
// push_vlan, enqueue, xreg and port numbers, unnormalised masks), sends it
// through the wire as the switch would get it, and checks that it prints as
// OVS dumped it: the codec normalises as ovs-ofctl add-flows and
// ovs-vswitchd do together. (Through the wire: OpenFlow 1.3 has no
// importance, and a note is padded to fill its action.)
//
// One difference is deliberate: ovs-ofctl writes "dec_ttl()" as OpenFlow
// 1.3's dec_ttl, while the codec writes the Nicira form with no ids, which
// is what OVN sends and what a dump prints as "dec_ttl()", so that such a
// dump installs as it was.
func TestOVNExtraInput(t *testing.T) {
	ctx := extraContext()
	var got []string
	for i, line := range fileLines(t, "testdata/ovn-extra-input.txt") {
		fm, err := ParseFlow(line, ctx)
		if err != nil {
			t.Errorf("ovn-extra-input.txt:%d: %v", i+1, err)
			continue
		}
		fs, err := throughWire(fm)
		if err != nil {
			t.Errorf("ovn-extra-input.txt:%d: wire: %v", i+1, err)
			continue
		}
		got = append(got, strings.ReplaceAll(string(AppendFlowStats(nil, fs)), "dec_ttl()", "dec_ttl"))
	}
	sameLines(t, "ovn-extra-input.txt through the wire", got, ovnExtraLines(t))
}

// throughWire encodes a flow_mod, decodes it again and returns it as the
// flow stats entry a dump would hold.
func throughWire(fm *openflow.FlowMod) (*openflow.FlowStats, error) {
	b, err := fm.AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	var back openflow.FlowMod
	if err := back.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return &openflow.FlowStats{TableID: back.TableID, Priority: back.Priority, Cookie: back.Cookie,
		IdleTimeout: back.IdleTimeout, HardTimeout: back.HardTimeout, Importance: back.Importance,
		Flags: back.Flags, Match: back.Match, Instructions: back.Instructions}, nil
}
