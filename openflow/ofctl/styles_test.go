package ofctl

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// testdata/styles-flows.txt and styles-groups.txt are flows and groups
// written as other projects write them (OpenStack Neutron's OVS agent,
// Antrea, Kubernetes services, OVN, hand-written tables: every match
// field, action and keyword in the spellings seen in the wild: upper case,
// tabs, hex, old names, commands, port names), not taken from the OVS test suite the
// corpus comes from. TestStyles has ovs-ofctl send each through the
// recording proxy in OpenFlow 1.3 and 1.5 and compares ofactor's bytes.

// styleDeviations are the lines where ofactor does not do what ovs-ofctl
// does, on purpose.
var styleDeviations = map[string]string{
	// OVN's flows print dec_ttl() for the Nicira action they hold, and
	// the printed line must encode back to it.
	"priority=100,ip,actions=dec_ttl(),output:2": "dec_ttl() is NXAST_DEC_TTL_CNT_IDS without ids, not OFPAT_DEC_NW_TTL",
	// OVS adds such a flow to table 0: a reconciler would never find it
	// where the file says.
	"table=255,priority=0,actions=output:2": "refused: table 255 in a flow to add",
	// ovs-ofctl sends it; the switch refuses it.
	"table=0,priority=5,ip,ct_nw_src=10.0.0.1,ct_nw_proto=6,ct_tp_dst=80,actions=drop": "refused: OFPBMC_BAD_PREREQ",
}

func TestStyles(t *testing.T) {
	flows := nonEmptyLines(t, filepath.Join("testdata", "styles-flows.txt"))
	groups := nonEmptyLines(t, filepath.Join("testdata", "styles-groups.txt"))
	c := startCapture15(t)
	for _, v := range []uint8{openflow.Version13, openflow.Version15} {
		c.version = v
		for _, cmd := range [][]string{
			{"-O", "OpenFlow15", "add-meter", "meter=1,kbps,bands=type=drop,rate=1"},
			{"-O", "OpenFlow15", "add-meter", "meter=2,kbps,bands=type=drop,rate=1"},
			{"add-group", "group_id=1,type=all"},
		} {
			if _, err := c.sw.Ofctl(cmd...); err != nil {
				t.Fatal(err)
			}
		}
		r := c.sendFile("add-flows", openflow.TypeFlowMod, flows, "del-flows")
		t.Logf("styles-flows (OpenFlow 1.%d): %v", v-1, c.compareStyles(flows, r, parseFlowMsg))
		for _, cmd := range []string{"del-flows", "del-groups", "del-meters"} {
			if _, err := c.sw.Ofctl(cmd); err != nil {
				t.Fatal(err)
			}
		}
		r = c.sendFile("add-groups", openflow.TypeGroupMod, groups, "del-groups")
		t.Logf("styles-groups (OpenFlow 1.%d): %v", v-1, c.compareStyles(groups, r, parseGroupMsg))
		if _, err := c.sw.Ofctl("del-groups"); err != nil {
			t.Fatal(err)
		}
	}
}

// compareStyles is compare15 that lets the lines of styleDeviations
// differ, and fails if one of them stops differing (so the list stays
// true).
func (c *capture15) compareStyles(lines []string, r sent15, parse func(string, *Context) (openflow.Message, error)) string {
	t := c.t
	ctx := testsuiteContext(c.version)
	ctx.OXM.Ports = c.ports // the sandbox's: p1 is port 1
	identical, deviating := 0, 0
	for k, i := range r.kept {
		l := lines[i]
		why, known := styleDeviations[l]
		m, err := parse(l, ctx)
		var got []byte
		if err == nil {
			got, err = encodeXID0(m)
		}
		w := bytes.Clone(r.msgs[k])
		w[4], w[5], w[6], w[7] = 0, 0, 0, 0
		same := err == nil && bytes.Equal(got, w)
		switch {
		case same && known:
			t.Errorf("styles:%d: %s: now as OVS writes it; take it out of styleDeviations (%s)", i+1, l, why)
		case same:
			identical++
		case known:
			deviating++
		case err != nil:
			t.Errorf("styles:%d: refused, but ovs-ofctl -O %s sends it: %s\n\t%v", i+1, c.protocol(), l, err)
		default:
			t.Errorf("styles:%d: %s\n\tgot  %x\n\twant %x", i+1, l, got, w)
		}
	}
	refused := 0
	for i, why := range r.refused {
		if _, err := parse(lines[i], ctx); err == nil {
			t.Errorf("styles:%d: parsed, but ovs-ofctl -O %s refuses it (%s): %s", i+1, c.protocol(), why, lines[i])
		} else {
			refused++
		}
	}
	return fmt.Sprintf("%d lines: %d sent by ovs-ofctl, %d byte-identical, %d deviating on purpose; %d refused by ovs-ofctl and by ofactor; %d refused by the switch",
		len(lines), len(r.msgs), identical, deviating, refused, len(r.switched))
}
