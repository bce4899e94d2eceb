package reconciler

import (
	"github.com/ofactor/ofactor/messages"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// A flow transcoded from one version to another is what parsing its text
// for the other version gives, bytes and all.
func TestTranscodeFlow(t *testing.T) {
	for _, text := range []string{
		"table=0,priority=10,in_port=1 actions=move:NXM_NX_REG0[0..15]->NXM_NX_REG1[0..15],output:2",
		"table=0,priority=10,in_port=2 actions=meter:1,output:1",
		"table=3,priority=5,tun_metadata0=0x5,ip actions=set_field:0x7->tun_metadata1,resubmit(,4)",
		"cookie=0x9,table=8,priority=50,ip,reg14=0x1,metadata=0x1 actions=ct(commit,zone=NXM_NX_REG13[0..15]),resubmit(,9)",
	} {
		enc := func(v uint8) flowkey.Flow {
			ctx := &ofctl.Context{Version: v}
			ctx.OXM.Geneve = -1
			ctx.OXM.TunMetadataLen[0], ctx.OXM.TunMetadataLen[1] = 4, 8
			fm, err := ofctl.ParseFlow(text, ctx)
			if err != nil {
				t.Fatalf("%s (v%d): %v", text, v, err)
			}
			f, err := flowkey.Of(fm)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		for _, pair := range [][2]uint8{{openflow.Version13, openflow.Version15}, {openflow.Version15, openflow.Version13},
			{openflow.Version13, openflow.Version14}} {
			from, want := enc(pair[0]), enc(pair[1])
			k, v, err := transcodeFlow(pair[0], pair[1], from.Key(), from.Value())
			if err != nil {
				t.Fatalf("%s %v: %v", text, pair, err)
			}
			if k != want.Key() || v != want.Value() {
				t.Errorf("%s %v: transcoded %x %x\nwant %x %x", text, pair, k, v, want.Key(), want.Value())
			}
		}
	}
}

// A delta in OpenFlow 1.3 (what ofbuild makes) to tables in 1.5's encoding
// is re-encoded: the flow added is 1.5's bytes, a removal by key (1.3's
// key, canonical or a FlowMod) finds the 1.5 flow, tcp_flags and all.
func TestUpdateTranscodes(t *testing.T) {
	parse := func(v uint8, text string) *openflow.FlowMod {
		fm, err := ofctl.ParseFlow(text, &ofctl.Context{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		return fm
	}
	of := func(fm *openflow.FlowMod) flowkey.Flow {
		f, err := flowkey.Of(fm)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := "table=1,priority=5,tcp,tcp_flags=+syn actions=meter:3,move:NXM_NX_REG0[]->NXM_NX_REG1[],output:2"
	b := "table=1,priority=6,tcp,tcp_flags=+fin actions=load:0x5->NXM_NX_REG0[0..7],output:3"
	s := NewState()
	s.encoding = openflow.Version15
	acc := s.update(&messages.UpdateFlows{Add: []*openflow.FlowMod{parse(openflow.Version13, a), parse(openflow.Version13, b)}})
	if len(acc.Errors) > 0 {
		t.Fatal(acc.Errors)
	}
	for _, text := range []string{a, b} {
		want := of(parse(openflow.Version15, text))
		if got, ok := s.flows.desired.Get(want.Key()); !ok || got != want.Value() {
			t.Errorf("%s: not held in 1.5's bytes (held: %v)", text, ok)
		}
	}
	bare := flowkey.FromStrings(of(parse(openflow.Version13, a)).Key(), "")
	acc = s.update(&messages.UpdateFlows{RemoveCanonical: []flowkey.Flow{bare}, Remove: []*openflow.FlowMod{parse(openflow.Version13, b)},
		Version: openflow.Version13})
	if len(acc.Errors) > 0 || s.flows.desired.Len() != 0 {
		t.Errorf("removals: errors %v, %d flows left", acc.Errors, s.flows.desired.Len())
	}
}

// A group transcoded is what parsing its text for the other version gives:
// buckets framed for the version and their actions re-encoded (1.5 has no
// NXAST_REG_LOAD: OVS refuses it there as OFPBAC_BAD_VENDOR_TYPE).
func TestTranscodeGroup(t *testing.T) {
	for _, text := range []string{
		"group_id=1,type=select,bucket=weight:100,actions=ct(commit,table=21,zone=NXM_NX_REG13[0..15],nat(dst=192.168.20.101:443),exec(load:0x1->NXM_NX_CT_MARK[1])),bucket=weight:100,actions=load:0x5->NXM_NX_REG0[0..7],output:3",
		"group_id=7,type=fast_failover,bucket=watch_port:1,actions=output:1,bucket=watch_port:2,actions=move:NXM_NX_REG0[]->NXM_NX_REG1[],output:2",
		"group_id=9,type=all,bucket=actions=output:1,bucket=actions=output:2",
	} {
		enc := func(v uint8) (string, string) {
			gm, err := ofctl.ParseGroup(text, &ofctl.Context{Version: v})
			if err != nil {
				t.Fatalf("%s (v%d): %v", text, v, err)
			}
			val, err := flowkey.GroupValue(v, gm.Type, gm.Buckets, gm.Selection, gm.Properties)
			if err != nil {
				t.Fatal(err)
			}
			return flowkey.IDKey(gm.GroupID), val
		}
		for _, pair := range [][2]uint8{{openflow.Version13, openflow.Version15}, {openflow.Version15, openflow.Version13}} {
			k, from := enc(pair[0])
			_, want := enc(pair[1])
			got, err := transcodeGroup(pair[0], pair[1], k, from)
			if err != nil {
				t.Fatalf("%s %v: %v", text, pair, err)
			}
			if got != want {
				t.Errorf("%s %v: transcoded %x\nwant %x", text, pair, got, want)
			}
		}
	}
}
