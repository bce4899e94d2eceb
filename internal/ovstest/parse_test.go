package ovstest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The inputs below are verbatim ovs-ofctl 3.1 output.

func TestNormalizeFlows(t *testing.T) {
	out := " priority=5,in_port=1 actions=group:1\n" +
		" cookie=0x5, table=3, priority=5 actions=controller(userdata=00.00.00.1b.00.00.00.00,meter_id=1)\n" +
		" priority=10,ip,in_port=1 actions=ct(table=1,zone=5)\n"
	want := []string{
		" cookie=0x5, table=3, priority=5 actions=controller(userdata=00.00.00.1b.00.00.00.00,meter_id=1)",
		" priority=10,ip,in_port=1 actions=ct(table=1,zone=5)",
		" priority=5,in_port=1 actions=group:1",
	}
	if diff := cmp.Diff(want, NormalizeFlows("OFPST_FLOW reply (OF1.3) (xid=0x2):\n"+out)); diff != "" {
		t.Errorf("NormalizeFlows (-want +got):\n%s", diff)
	}
	if got := NormalizeFlows(""); len(got) != 0 {
		t.Errorf("NormalizeFlows(\"\") = %q, want none", got)
	}
}

func TestNormalizeGroups(t *testing.T) {
	out := "OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):\n" +
		" group_id=2,type=select,bucket=weight:100,actions=output:1\n" +
		" group_id=1,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2\n"
	want := []string{
		"group_id=1,type=select,bucket=weight:100,actions=output:1,bucket=weight:50,actions=output:2",
		"group_id=2,type=select,bucket=weight:100,actions=output:1",
	}
	if diff := cmp.Diff(want, NormalizeGroups(out)); diff != "" {
		t.Errorf("NormalizeGroups (-want +got):\n%s", diff)
	}
}

func TestNormalizeMeters(t *testing.T) {
	out := "OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):\n" +
		"meter=2 pktps bands=\ntype=drop rate=500\n\n" +
		"meter=1 kbps burst stats bands=\ntype=drop rate=50 burst_size=100\n\n" +
		"meter=3 kbps bands=\ntype=drop rate=50\ntype=drop rate=100\n"
	want := []string{
		"meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100",
		"meter=2,pktps,bands=type=drop,rate=500",
		"meter=3,kbps,bands=type=drop,rate=50,type=drop,rate=100",
	}
	if diff := cmp.Diff(want, NormalizeMeters(out)); diff != "" {
		t.Errorf("NormalizeMeters (-want +got):\n%s", diff)
	}
}

func TestParseTLVMap(t *testing.T) {
	out := "NXT_TLV_TABLE_REPLY (OF1.3) (xid=0x2):\n" +
		" max option space=256 max fields=64\n" +
		" allocated option space=8\n\n" +
		" mapping table:\n" +
		"  class  type  length  match field\n" +
		" ------  ----  ------  --------------\n" +
		" 0xffff  0x1        4  tun_metadata3\n" +
		"  0x102  0x80       4  tun_metadata0\n"
	got, err := ParseTLVMap(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []TLVMapping{
		{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4, Index: 0},
		{OptionClass: 0xffff, OptionType: 0x1, OptionLen: 4, Index: 3},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseTLVMap (-want +got):\n%s", diff)
	}
	if s := want[0].String(); s != "{class=0x102,type=0x80,len=4}->tun_metadata0" {
		t.Errorf("String() = %q", s)
	}

	empty := strings.Split(out, " 0xffff")[0]
	if got, err := ParseTLVMap(empty); err != nil || len(got) != 0 {
		t.Errorf("ParseTLVMap(empty table) = %v, %v; want none", got, err)
	}
	for _, bad := range []string{"0x102 0x80 4", "0x10000 0x80 4 tun_metadata0", "0x102 0x80 4 reg0", "0x102 0x100 4 tun_metadata0"} {
		if _, err := ParseTLVMap(" ---- \n" + bad + "\n"); err == nil {
			t.Errorf("ParseTLVMap(%q): no error", bad)
		}
	}
}
