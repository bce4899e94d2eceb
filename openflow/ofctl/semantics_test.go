package ofctl

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// TestPrereqWarnings: a field whose prerequisite the match lacks is left
// out, as ovs-ofctl leaves it out, with a warning that says where.
func TestPrereqWarnings(t *testing.T) {
	for _, c := range []struct {
		in, out string
		warn    []string
	}{
		{"tcp_dst=80,actions=drop", " actions=drop", []string{"column 1: tcp_dst needs tcp or tcp6: dropped, as ovs-ofctl does"}},
		{"priority=5,tp_src=1,nw_dst=10.0.0.1 actions=drop", " priority=5 actions=drop", []string{
			"column 12: tp_src needs tcp, udp or sctp: dropped, as ovs-ofctl does",
			"column 21: nw_dst needs ip: dropped, as ovs-ofctl does"}},
		{"arp,nw_ttl=5,actions=drop", " arp actions=drop", []string{"column 5: nw_ttl needs ip or ipv6: dropped, as ovs-ofctl does"}},
		{"icmp6,icmp_type=135,icmp_code=1,nd_target=::1,actions=drop", " icmp6,icmp_type=135,icmp_code=1 actions=drop",
			[]string{"column 33: nd_target needs icmp6 with icmp_type=135 or 136 and icmp_code=0: dropped, as ovs-ofctl does"}},
		// Shared storage written under the layer the match has: no warning.
		{"udp,tp_src=68,tp_dst=67,actions=drop", " udp,tp_src=68,tp_dst=67 actions=drop", nil},
		{"icmp6,icmp_type=135,actions=drop", " icmp6,icmp_type=135 actions=drop", nil},
	} {
		l, err := ParseFlowLine(c.in, nil)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		var got []string
		for _, w := range l.Warnings() {
			got = append(got, w.String())
		}
		if !slices.Equal(got, c.warn) {
			t.Errorf("%s: warnings %q, want %q", c.in, got, c.warn)
		}
		if p := string(AppendFlow(nil, l.Mod)); p != c.out {
			t.Errorf("%s: prints %q, want %q", c.in, p, c.out)
		}
	}
	lines, err := ParseFlows("flows.txt", strings.NewReader("ip,actions=drop\n  tcp_dst=80 actions=drop\n"), nil)
	if err != nil || len(lines) != 2 || len(lines[1].Warnings()) != 1 ||
		lines[1].Warnings()[0].String() != "flows.txt:2:3: tcp_dst needs tcp or tcp6: dropped, as ovs-ofctl does" {
		t.Errorf("ParseFlows: %+v, %v", lines, err)
	}
}

// TestPrereqRefused: a field OVS would write without its prerequisite is
// one the switch refuses (OFPBMC_BAD_PREREQ): refused at parse time.
func TestPrereqRefused(t *testing.T) {
	for _, c := range []struct {
		in  string
		col int
	}{
		{"nsh_spi=5,actions=drop", 1},
		{"ip,ct_nw_src=1.2.3.4,actions=drop", 4},
		{"packet_type=(1,0x800),dl_src=00:00:00:00:00:01,actions=drop", 23},
	} {
		_, err := ParseFlow(c.in, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Pos.Column != c.col || !strings.Contains(pe.Msg, "OFPBMC_BAD_PREREQ") {
			t.Errorf("%s: %v, want OFPBMC_BAD_PREREQ at column %d", c.in, err, c.col)
		}
	}
}

// TestActionsChecked: what ovs-ofctl refuses once the actions are checked
// against the match (ofpacts_check) is refused, at the action's column.
func TestActionsChecked(t *testing.T) {
	for _, c := range []struct {
		in, msg string
		col     int
	}{
		{"actions=mod_nw_src:1.2.3.4", "only in OpenFlow 1.0", 9},
		{"ip,actions=output:1,mod_tp_src:5", "mod_tp_src needs tcp, udp or sctp", 21},
		{"actions=strip_vlan", "needs a VLAN header", 9},
		{"actions=set_vlan_vid:5", "set_vlan_vid needs a VLAN header", 9},
		{"ip,actions=set_field:5->tcp_src", "OFPBAC_MATCH_INCONSISTENT", 12},
		{"actions=load:5->NXM_OF_TCP_SRC[]", "OFPBAC_MATCH_INCONSISTENT", 9},
		{"arp,actions=ct(commit)", "ct needs ip or ipv6", 13},
		{"ip,actions=ct(nat(src=fe80::1))", "nat with an IPv6 range needs ipv6", 12},
		{"actions=fin_timeout(idle_timeout=5)", "fin_timeout needs tcp", 9},
		{"ip,actions=write_actions(set_field:1->tcp_src)", "OFPBAC_MATCH_INCONSISTENT", 26},
	} {
		_, err := ParseFlow(c.in, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Pos.Column != c.col || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: %v, want %q at column %d", c.in, err, c.msg, c.col)
		}
	}
	for _, in := range []string{
		"tcp,actions=mod_tp_src:5",
		"actions=push_mpls:0x8847,set_mpls_ttl(5)",
		"mpls,actions=pop_mpls:0x0800,dec_ttl",
		"actions=push_vlan:0x8100,set_field:4101->vlan_vid,strip_vlan",
		"actions=mod_vlan_vid:5,mod_vlan_pcp:3",
		"ip,actions=ct(commit,exec(set_field:1->ct_mark))",
		"tcp,actions=learn(table=1,dl_type=0x800,nw_proto=6,NXM_OF_TCP_DST[]=NXM_OF_TCP_SRC[])",
		// An inconsistency inside write_actions is not refused (OVS cannot
		// check an action set's consistency).
		"actions=write_actions(mod_nw_src:1.2.3.4)",
	} {
		if _, err := ParseFlow(in, nil); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	// A learned flow's source needs its prerequisites in the flow, its
	// destination in the learned flow.
	if _, err := ParseFlow("actions=learn(table=1,dl_type=0x800,nw_proto=6,NXM_OF_TCP_DST[]=NXM_OF_TCP_SRC[])", nil); err == nil ||
		!strings.Contains(err.Error(), "source field tcp_src needs") {
		t.Errorf("learn from tcp_src without tcp: %v", err)
	}
	if _, err := ParseFlow("tcp,actions=learn(table=1,NXM_OF_TCP_DST[]=NXM_OF_TCP_SRC[])", nil); err == nil ||
		!strings.Contains(err.Error(), "in the learned flow") {
		t.Errorf("learn of tcp_dst without dl_type and nw_proto: %v", err)
	}
}

// TestModTpSrcByProtocol: mod_tp_src sets the field of the match's
// protocol (set_field udp_src under udp), or is OpenFlow 1.1's set_tp_src
// where nothing says (a bucket).
func TestModTpSrcByProtocol(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"udp,actions=mod_tp_src:1111", " udp actions=set_field:1111->udp_src"},
		{"sctp6,actions=mod_tp_dst:5", " sctp6 actions=set_field:5->sctp_dst"},
		{"tcp,actions=mod_tp_dst:5", " tcp actions=set_field:5->tcp_dst"},
	} {
		fm, err := ParseFlow(c.in, nil)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		back, err := throughWire(fm)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(AppendFlowStats(nil, back)); got != c.out {
			t.Errorf("%s: %q, want %q", c.in, got, c.out)
		}
	}
	gm, err := ParseGroup("group_id=1,type=all,bucket=mod_tp_src:5", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendGroup(nil, gm)); got != "group_id=1,type=all,bucket=actions=mod_tp_src:5" {
		t.Errorf("bucket: %q", got)
	}
}

// TestTable254 refuses any flow_mod of OVS's internal table, and still
// prints a dumped flow of it.
func TestTable254(t *testing.T) {
	for _, in := range []string{"table=254,actions=drop", "delete table=254", "modify table=254,ip actions=drop"} {
		_, err := ParseFlow(in, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "table 254 is Open vSwitch's internal table") {
			t.Errorf("%s: %v", in, err)
		}
	}
	_, err := ParseFlows("flows.txt", strings.NewReader("ip,actions=drop\ntable=254, priority=0 actions=drop\n"), nil)
	if err == nil || !strings.HasPrefix(err.Error(), `flows.txt:2:1: "table=254": table 254 is Open vSwitch's internal table`) {
		t.Errorf("ParseFlows: %v", err)
	}
	fs := &openflow.FlowStats{TableID: 254, Priority: 0}
	if got := string(AppendFlowStats(nil, fs)); got != " table=254, priority=0 actions=drop" {
		t.Errorf("dumped: %q", got)
	}
}

// TestPortNames: names resolve wherever ovs-ofctl takes a port, with the
// switch's port map; the line says which it used; without a map a name is
// refused at its column.
func TestPortNames(t *testing.T) {
	ports := NewPorts(map[string]uint32{"vm1": 5, "vm2": 6, "br-int": 0xfffffffe, "port+1": 9})
	ctx := &Context{}
	ctx.OXM.Geneve = -1
	ctx.OXM.Ports = ports
	for _, c := range []struct {
		in, out string
		names   []string
	}{
		{"in_port=vm1,actions=output:vm2", " in_port=5 actions=output:6", []string{"vm1", "vm2"}},
		{"in_port=vm2 actions=vm1,enqueue:vm1:3,resubmit(vm2,1)", " in_port=6 actions=output:5,set_queue:3,output:5,pop_queue,resubmit(6,1)", []string{"vm2", "vm1"}},
		{"actions=bundle(eth_src,0,hrw,ofport,members:vm1,vm2,7)", " actions=bundle(eth_src,0,hrw,ofport,members:5,6,7)", []string{"vm1", "vm2"}},
		{"in_port=br-int,actions=output:\"port+1\"", " in_port=LOCAL actions=output:9", []string{"br-int", "port+1"}},
		{"delete out_port=vm1", " delete out_port=5", []string{"vm1"}},
		{"ip,actions=learn(table=1,in_port=vm1,output:NXM_OF_IN_PORT[])", " ip actions=learn(table=1,in_port=5,output:NXM_OF_IN_PORT[])", []string{"vm1"}},
		{"actions=output:1", " actions=output:1", nil},
	} {
		l, err := ParseFlowLine(c.in, ctx)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := string(AppendFlow(nil, l.Mod)); got != c.out {
			t.Errorf("%s: %q, want %q", c.in, got, c.out)
		}
		if !slices.Equal(l.PortNames(), c.names) {
			t.Errorf("%s: names %q, want %q", c.in, l.PortNames(), c.names)
		}
	}
	gl, err := ParseGroupLine("group_id=1,type=ff,bucket=watch_port:vm1,output:vm1", ctx)
	if err != nil || gl.Mod.Buckets[0].WatchPort != 5 || !slices.Equal(gl.PortNames, []string{"vm1"}) {
		t.Errorf("group: %+v %v", gl, err)
	}
	for _, c := range []struct {
		in  string
		ctx *Context
		col int
		msg string
	}{
		{"in_port=vm1,actions=drop", nil, 9, "needs the switch's ports"},
		{"actions=output:vm1", nil, 16, "needs the switch's ports"},
		{"actions=vm1", nil, 9, "needs the switch's ports"},
		{"actions=vm9", ctx, 9, "not a port of the switch"},
		{"in_port=vm9,actions=drop", ctx, 9, "not a port of the switch"},
	} {
		_, err := ParseFlow(c.in, c.ctx)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Pos.Column != c.col || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: %v, want %q at column %d", c.in, err, c.msg, c.col)
		}
	}
	if _, err := ParseGroup("group_id=1,type=ff,bucket=watch_port:vm1,output:1", nil); err == nil {
		t.Error("watch_port:vm1 without a port map parsed")
	}
}

func TestParsePorts(t *testing.T) {
	p, err := ParsePorts("vm1=5, vm2=6,br-int=LOCAL")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := p.PortNumber("vm2"); !ok || n != 6 {
		t.Errorf("vm2: %d %v", n, ok)
	}
	if n, ok := p.PortNumber("br-int"); !ok || n != 0xfffffffe {
		t.Errorf("br-int: %#x %v", n, ok)
	}
	if name, ok := p.PortName(5); !ok || name != "vm1" {
		t.Errorf("5: %q %v", name, ok)
	}
	for _, bad := range []string{"vm1", "vm1=x", "vm1=65280", "LOCAL=3", "5=3", "vm1=1,vm1=2", "=4"} {
		if _, err := ParsePorts(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	dup := NewPorts(map[string]uint32{"a": 1, "b": 1})
	if _, ok := dup.PortName(1); ok {
		t.Error("a number two names share has a name")
	}
	var _ oxm.PortMap = dup
}
