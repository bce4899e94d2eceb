package ofbuild

import (
	"bytes"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

var pfx = netip.MustParsePrefix

// Each built flow encodes to the same bytes as ovs-ofctl's text for it, as
// package ofctl parses it.
func TestFlowsMatchText(t *testing.T) {
	for _, tc := range []struct {
		b    *FlowBuilder
		text string
	}{
		{Flow(0, 100).Match(InPort(1)), "table=0,priority=100,in_port=1,actions=drop"},
		{Flow(0, 100).Match(InPort(1)).Apply(Output(2)), "priority=100,in_port=1,actions=output:2"},
		{Flow(3, 5).Match(IPv4(), IPv4Dst(pfx("10.0.0.0/24")), IPv4Src(pfx("192.168.1.7/32"))).
			Apply(Load(5, "reg0", 0, 4), SetReg(1, 1), Move("reg0", 0, "reg2", 4, 4), Resubmit(4),
				Group(3), CT(CTOptions{Commit: true, Zone: 5, NAT: &NATOptions{Src: true, Min: netip.MustParseAddr("1.1.1.1")}}),
				Output(2)),
			"table=3,priority=5,ip,nw_dst=10.0.0.0/24,nw_src=192.168.1.7,actions=load:0x5->NXM_NX_REG0[0..3]," +
				"set_field:1->reg1,move:NXM_NX_REG0[0..3]->NXM_NX_REG2[4..7],resubmit(,4),group:3," +
				"ct(commit,zone=5,nat(src=1.1.1.1)),output:2"},
		{Flow(10, 200).Cookie(0xabc).Match(TCP(), TCPDst(80), EthSrc(mac("00:00:00:00:00:01"))).
			Apply(SetEthDst(mac("aa:bb:cc:dd:ee:ff")), SetIPv4Dst(netip.MustParseAddr("10.1.1.1")), DecTTL()).
			Goto(20),
			"table=10,priority=200,cookie=0xabc,tcp,tp_dst=80,dl_src=00:00:00:00:00:01," +
				"actions=set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:10.1.1.1->ip_dst,dec_ttl,goto_table:20"},
		{Flow(0, 50).Match(ARP(), ARPOp(1), ARPTpa(pfx("10.0.0.1/32")), MetadataMasked(0x5, 0xff)).
			Apply(Controller(0xffff)),
			"priority=50,arp,arp_op=1,arp_tpa=10.0.0.1,metadata=0x5/0xff,actions=CONTROLLER:65535"},
		{Flow(0, 60).Match(IPv4(), CTState("+trk+est"), CTZone(7), CTMark(1, 1), Reg(14, 3), RegMasked(15, 0x10, 0xf0)).
			Apply(CT(CTOptions{Table: TableID(9), ZoneField: "reg13"})),
			"priority=60,ip,ct_state=+trk+est,ct_zone=7,ct_mark=1/1,reg14=3,reg15=0x10/0xf0," +
				"actions=ct(table=9,zone=NXM_NX_REG13[0..15])"},
		{Flow(0, 70).Match(IPv6(), IPv6Dst(pfx("fd00::/64")), Field("ipv6_label", "0x5")).
			Apply(PushVLAN(0x8100), SetField("vlan_vid", []byte{0x10, 0x05}), Output(openflow.PortLocal)),
			"priority=70,ipv6,ipv6_dst=fd00::/64,ipv6_label=5,actions=push_vlan:0x8100,set_field:4101->vlan_vid,LOCAL"},
		{Flow(0, 80).Match(UDP(), UDPDst(53)).Meter(1).Apply(Normal()).WriteMetadata(0x1, 0xff).Goto(4),
			"priority=80,udp,tp_dst=53,actions=meter:1,NORMAL,write_metadata:0x1/0xff,goto_table:4"},
		{Flow(1, 90).Match(TunID(0x10), EthDstMasked(mac("01:00:00:00:00:00"), mac("01:00:00:00:00:00"))).
			Apply(Conjunction(7, 1, 2), CTClear()).ClearActions().Write(Output(3)),
			"table=1,priority=90,tun_id=0x10,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00," +
				"actions=conjunction(7,1/2),ct_clear,clear_actions,write_actions(output:3)"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			got, err := tc.b.FlowMod()
			if err != nil {
				t.Fatal(err)
			}
			want, err := ofctl.ParseFlow(tc.text, nil)
			if err != nil {
				t.Fatalf("ofctl: %v", err)
			}
			gb, err := got.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			wb, err := want.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gb, wb) {
				t.Errorf("built  %s\nwant   %s\nbytes  %x\nwant   %x",
					ofctl.AppendFlow(nil, got), ofctl.AppendFlow(nil, want), gb, wb)
			}
		})
	}
}

func TestGroupsAndMetersMatchText(t *testing.T) {
	g, err := NewGroup(1, openflow.GroupTypeSelect).Bucket(Output(1)).WeightedBucket(5, Output(2)).GroupMod()
	if err != nil {
		t.Fatal(err)
	}
	same(t, g, "group_id=1,type=select,bucket=actions=output:1,bucket=weight:5,actions=output:2", ofctl.ParseGroup)
	g, err = NewGroup(2, openflow.GroupTypeAll).Bucket(Output(1)).Bucket(SetReg(0, 1), Resubmit(3)).GroupMod()
	if err != nil {
		t.Fatal(err)
	}
	same(t, g, "group_id=2,type=all,bucket=output:1,bucket=set_field:1->reg0,resubmit(,3)", ofctl.ParseGroup)
	m := NewMeter(1).Drop(100, 10).MeterMod()
	same(t, m, "meter=1,kbps,burst,band=type=drop,rate=100,burst_size=10", ofctl.ParseMeter)
	m = NewMeter(2).PacketsPerSecond().Stats().DSCPRemark(1000, 0, 1).MeterMod()
	same(t, m, "meter=2,pktps,stats,band=type=dscp_remark,rate=1000,prec_level=1", ofctl.ParseMeter)
}

type appender interface{ AppendBinary([]byte) ([]byte, error) }

func same[T appender](t *testing.T, got T, text string, parse func(string, *ofctl.Context) (T, error)) {
	t.Helper()
	want, err := parse(text, nil)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	gb, err1 := got.AppendBinary(nil)
	wb, err2 := want.AppendBinary(nil)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: %v %v", text, err1, err2)
	}
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\nbuilt %x\nwant  %x", text, gb, wb)
	}
}

// Errors name the flow, the argument and the problem.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		b    *FlowBuilder
		want string
	}{
		{Flow(0, 1).Match(Field("no_such", "1")), `flow table=0,priority=1: match[0]: match: unknown field "no_such"`},
		{Flow(0, 1).Match(IPv4Dst(pfx("fd00::/8"))), "not an IPv4 prefix"},
		{Flow(0, 1).Apply(Output(1), SetField("in_port_oxm", []byte{0, 0, 0, 1})), "action[1]"},
		{Flow(2, 1).Goto(1), "goto_table:1: must go to a later table"},
		{Flow(0, 1).Apply(Conjunction(1, 3, 2)), "clause must be 1 to 2"},
		{Flow(0, 1).Apply(Load(0x100, "reg0", 0, 4)), "load:0x100->reg0[0..3]"},
	} {
		_, err := tc.b.FlowMod()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
	if _, err := NewGroup(1, openflow.GroupTypeAll).Bucket(SetField("bogus", nil)).GroupMod(); err == nil {
		t.Error("group with a bad action: no error")
	}
}

// TestPrerequisites: where ovs-ofctl silently drops a field whose
// prerequisite the match lacks, the builder refuses the flow.
func TestPrerequisites(t *testing.T) {
	for _, c := range []struct {
		b   *FlowBuilder
		msg string
	}{
		{Flow(0, 1).Match(TCPDst(80)), "match[0]: tcp_dst needs tcp or tcp6"},
		{Flow(0, 1).Match(IPv4(), TCPDst(80)), "match[1]: tcp_dst needs tcp or tcp6"},
		{Flow(0, 1).Match(IPv4Dst(pfx("10.0.0.0/8"))), "match[0]: ip_dst needs ip"},
		{Flow(0, 1).Match(Field("nsh_spi", "5")), "nsh_spi needs dl_type=0x894f (the switch refuses the flow: OFPBMC_BAD_PREREQ)"},
		{Flow(254, 1).Match(InPort(1)), "table 254 is Open vSwitch's internal table"},
	} {
		_, err := c.b.FlowMod()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("got %v, want %q", err, c.msg)
		}
	}
	if _, err := Flow(0, 1).Match(TCP(), TCPDst(80)).FlowMod(); err != nil {
		t.Error(err)
	}
}

// TestExperimenterSetField: a field with an experimenter OXM header
// (NSH, ERSPAN) is written with its experimenter ID, as ofctl writes it.
func TestExperimenterSetField(t *testing.T) {
	b := Flow(0, 1).Match(Field("dl_type", "0x894f")).Apply(SetField("nsh_c1", []byte{1, 2, 3, 4}))
	fm, err := b.FlowMod()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := fm.AppendBinary(nil)
	want, err := ofctl.ParseFlow("priority=1,dl_type=0x894f,actions=set_field:0x1020304->nsh_c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := want.AppendBinary(nil)
	if !bytes.Equal(got, wb) || !bytes.Contains(got, []byte{0xff, 0xff, 0x0c, 0x08, 0x00, 0x5a, 0xd6, 0x50}) {
		t.Errorf("got  %x\nwant %x", got, wb)
	}
}
