package ofbuild_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/ofactor/ofactor/ofbuild"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// A flow built in Go prints as ovs-ofctl dump-flows prints it.
func ExampleFlow() {
	mac, _ := net.ParseMAC("0a:00:00:00:00:01")
	fm, err := ofbuild.Flow(8, 50).Cookie(0x10).
		Match(ofbuild.Reg(14, 1), ofbuild.Metadata(1), ofbuild.EthSrc(mac)).
		Apply(ofbuild.Resubmit(9)).
		FlowMod()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ofctl.AppendFlow(nil, fm)))
	// Output:
	// cookie=0x10, table=8, priority=50,reg14=0x1,metadata=0x1,dl_src=0a:00:00:00:00:01 actions=resubmit(,9)
}

// Conntrack with NAT, a load and a move, as OVN writes them.
func ExampleCT() {
	fm, err := ofbuild.Flow(12, 100).
		Match(ofbuild.TCP(), ofbuild.IPv4Dst(netip.MustParsePrefix("10.0.0.100/32")), ofbuild.TCPDst(80),
			ofbuild.CTState("+trk+new")).
		Apply(ofbuild.Load(1, "reg10", 3, 1), ofbuild.Move("reg14", 0, "reg15", 0, 16),
			ofbuild.CT(ofbuild.CTOptions{Commit: true, ZoneField: "reg13", Table: ofbuild.TableID(13),
				NAT: &ofbuild.NATOptions{Dst: true, Min: netip.MustParseAddr("10.0.0.11")}})).
		FlowMod()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ofctl.AppendFlow(nil, fm)))
	// Output:
	// table=12, priority=100,ct_state=+new+trk,tcp,nw_dst=10.0.0.100,tp_dst=80 actions=load:0x1->NXM_NX_REG10[3],move:NXM_NX_REG14[0..15]->NXM_NX_REG15[0..15],ct(commit,table=13,zone=NXM_NX_REG13[0..15],nat(dst=10.0.0.11))
}

// Mistakes are reported by FlowMod, naming the flow and the argument.
func ExampleFlowBuilder_FlowMod_error() {
	_, err := ofbuild.Flow(0, 10).Match(ofbuild.Field("nw_dst", "10.0.0.300")).FlowMod()
	fmt.Println(err != nil)
	_, err = ofbuild.Flow(0, 10).Apply(ofbuild.SetField("no_such_field", nil)).FlowMod()
	fmt.Println(err)
	// Output:
	// true
	// flow table=0,priority=10: apply_actions: action[0]: set_field: unknown field "no_such_field"
}

// A select group with two weighted buckets, and a meter.
func ExampleNewGroup() {
	g, err := ofbuild.NewGroup(1, openflow.GroupTypeSelect).
		WeightedBucket(100, ofbuild.SetIPv4Dst(netip.MustParseAddr("10.0.0.11")), ofbuild.Output(1)).
		WeightedBucket(50, ofbuild.SetIPv4Dst(netip.MustParseAddr("10.0.0.12")), ofbuild.Output(2)).
		GroupMod()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(ofctl.AppendGroup(nil, g)))
	m := ofbuild.NewMeter(1).PacketsPerSecond().Drop(100, 0).MeterMod()
	fmt.Println(string(ofctl.AppendMeter(nil, m)))
	// Output:
	// group_id=1,type=select,bucket=weight:100,actions=set_field:10.0.0.11->ip_dst,output:1,bucket=weight:50,actions=set_field:10.0.0.12->ip_dst,output:2
	// meter=1,pktps,bands=type=drop,rate=100
}
