package ofctl

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// versionFlows are flows OVS writes differently in OpenFlow 1.3 and 1.5,
// with the flow_mod ovs-ofctl -O OpenFlow13/OpenFlow15 add-flows sent for
// each (recorded through fakeswitch's proxy in front of a real switch,
// xid 0): tcp_flags and actset_output under their ONF experimenter
// headers in 1.3 and their OXM ones in 1.5; registers as xregs in 1.5;
// move as copy_field, load as set_field, meter as an action in 1.5.
var versionFlows = []struct {
	version uint8
	in, hex string
}{
	{openflow.Version13, "tcp,tcp_flags=+syn-ack,actions=drop", "040e005000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001001b80000a0208008000140106ffff55084f4e4600000200120000000000"},
	{openflow.Version13, "actset_output=1,actions=drop", "040e004000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010010ffff56084f4e460000000001"},
	{openflow.Version13, "reg0=5,reg1=0x10/0xf0,actions=drop", "040e004800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001001800010004000000050001030800000010000000f0"},
	{openflow.Version13, "xreg0=5,actions=drop", "040e004800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff00000000000100140001000400000000000102040000000500000000"},
	{openflow.Version13, "packet_type=(1,0x800),actions=drop", "040e004000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c800058040001080000000000"},
	{openflow.Version13, "actions=move:NXM_NX_REG0[]->NXM_NX_REG1[]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff00180000232000060020000000000001000400010204"},
	{openflow.Version13, "actions=move:NXM_NX_REG0[0..7]->NXM_NX_REG1[8..15]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff00180000232000060008000000080001000400010204"},
	{openflow.Version13, "actions=meter:1,output:1", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000006000800000001000400180000000000000010000000010000000000000000"},
	{openflow.Version13, "actions=load:0x1->NXM_NX_REG0[]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff0018000023200007001f000100040000000000000001"},
	{openflow.Version13, "actions=set_field:0x1->reg0", "040e005000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000400000000000400180000000000190010000100040000000100000000"},
	{openflow.Version13, "actions=load:0x3->NXM_NX_REG0[4..7]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff00180000232000070103000100040000000000000003"},
	{openflow.Version13, "tcp,actions=mod_tp_dst:80", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000f80000a02080080001401060000040018000000000019001080001c020050000000000000"},
	{openflow.Version13, "actions=move:NXM_NX_TUN_METADATA0[0..31]->NXM_NX_REG1[]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff00180000232000060020000000000001507c00010204"},
	{openflow.Version13, "ip,actions=set_field:0x1->ip_ecn", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000a80000a020800000000000000000400180000000000190010800012010100000000000000"},
	{openflow.Version13, "actions=move:OXM_OF_PKT_REG0[]->NXM_NX_XXREG1[0..63]", "040e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000ffff0018000023200006004000000000800100080001e010"},
	{openflow.Version15, "tcp,tcp_flags=+syn-ack,actions=drop", "060e004800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001001780000a0208008000140106800055040002001200"},
	{openflow.Version15, "actset_output=1,actions=drop", "060e004000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c800056040000000100000000"},
	{openflow.Version15, "reg0=5,reg1=0x10/0xf0,actions=drop", "060e004800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010018800101100000000500000010ffffffff000000f0"},
	{openflow.Version15, "xreg0=5,actions=drop", "060e004000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010010800100080000000000000005"},
	{openflow.Version15, "packet_type=(1,0x800),actions=drop", "060e004000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000c800058040001080000000000"},
	{openflow.Version15, "actions=move:NXM_NX_REG0[]->NXM_NX_REG1[]", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000001c00180020000000000000000100040001020400000000"},
	{openflow.Version15, "actions=move:NXM_NX_REG0[0..7]->NXM_NX_REG1[8..15]", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000001c00180008000000080000000100040001020400000000"},
	{openflow.Version15, "actions=meter:1,output:1", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000001d00080000000100000010000000010000000000000000"},
	{openflow.Version15, "actions=load:0x1->NXM_NX_REG0[]", "060e005000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000400000000000400180000000000190010000100040000000100000000"},
	{openflow.Version15, "actions=set_field:0x1->reg0", "060e005000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000400000000000400180000000000190010000100040000000100000000"},
	{openflow.Version15, "actions=load:0x3->NXM_NX_REG0[4..7]", "060e005000000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004001800000000001900100001010800000030000000f0"},
	{openflow.Version15, "tcp,actions=mod_tp_dst:80", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000f80000a02080080001401060000040018000000000019001080001c020050000000000000"},
	{openflow.Version15, "actions=move:NXM_NX_TUN_METADATA0[0..31]->NXM_NX_REG1[]", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000001c001800200000000000000001507c0001020400000000"},
	{openflow.Version15, "ip,actions=set_field:0x1->ip_ecn", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff000000000001000a80000a020800000000000000000400180000000000190010800012010100000000000000"},
	{openflow.Version15, "actions=move:OXM_OF_PKT_REG0[]->NXM_NX_XXREG1[0..63]", "060e005800000000000000000000000000000000000000000000000000008000ffffffffffffffffffffffff0000000000010004000000000004002000000000001c00180040000000000000800100080001e01000000000"},
}

// versionRefused are lines ovs-ofctl refuses in both versions, with its
// reason: what may stand in a nested list (ofpacts_verify_nested), checked
// before the actions are checked against the match.
var versionRefused = []struct{ in, reason string }{
	{"actions=clone(meter:1),output:1", "clone action doesn't support nested action meter"},
	{"actions=write_actions(meter:1)", "write_actions action doesn't support nested action meter"},
	{"actions=set_field:1->actset_output", "actset_output is read-only"},
	{"actions=ct(exec(output:1))", "ct action doesn't support nested action output"},
	{"actions=ct(exec(set_field:1->reg0))", "ct action doesn't support nested modification of reg0"},
	{"actions=ct(exec(meter:1))", "ct action doesn't support nested action meter"},
	{"actions=set_field:1->ct_mark", "cannot set CT fields outside of ct action"},
	{"actions=clone(set_field:1->ct_mark)", "cannot set CT fields outside of ct action"},
	{"actions=write_actions(set_field:1->ct_mark)", "cannot set CT fields outside of ct action"},
	{"ip,actions=move:reg0[]->ct_label[0..31]", "cannot set CT fields outside of ct action"},
	{"actions=nat", `Cannot have NAT action outside of "ct" action`},
	{"actions=clone(nat)", `Cannot have NAT action outside of "ct" action`},
	{"actions=write_actions(nat)", `Cannot have NAT action outside of "ct" action`},
	{"actions=ct(exec(set_field:1->ct_mark))", "ct needs ip or ipv6"},
	{"actions=ct(exec(load:1->ct_mark[]))", "ct needs ip or ipv6"},
}

func TestVersionFlows(t *testing.T) {
	var bin []byte
	var ours []string
	for _, c := range versionFlows {
		fm, err := ParseFlow(c.in, testsuiteContext(c.version))
		if err != nil {
			t.Errorf("OpenFlow 1.%d: %s: %v", c.version-1, c.in, err)
			continue
		}
		b, err := encodeXID0(fm)
		if err != nil {
			t.Errorf("OpenFlow 1.%d: %s: %v", c.version-1, c.in, err)
			continue
		}
		want, _ := hex.DecodeString(c.hex)
		if !bytes.Equal(b, want) {
			t.Errorf("OpenFlow 1.%d: %s:\n got  %x\n want %x", c.version-1, c.in, b, want)
		}
		var back openflow.FlowMod
		if err := back.UnmarshalBinary(want); err != nil {
			t.Errorf("OpenFlow 1.%d: %s: decode OVS's bytes: %v", c.version-1, c.in, err)
			continue
		}
		ours = append(ours, string(AppendFlow(nil, &back)))
		bin = append(bin, want...)
	}
	for _, v := range []uint8{openflow.Version13, openflow.Version15} {
		if _, err := ParseFlow("ip,actions=ct(commit,exec(set_field:1->ct_mark,move:reg0[]->ct_label[0..31]))", testsuiteContext(v)); err != nil {
			t.Errorf("OpenFlow 1.%d: ct writing ct_mark and ct_label: %v", v-1, err)
		}
		for _, c := range versionRefused {
			_, err := ParseFlow(c.in, testsuiteContext(v))
			if err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Errorf("OpenFlow 1.%d: %s: error %v, want %q", v-1, c.in, err, c.reason)
			}
		}
	}
	// OVS's bytes decoded print as ovs-ofctl prints them.
	checkFlowModPrints(t, ofpParse(t, "versions", bin), ours)
}
