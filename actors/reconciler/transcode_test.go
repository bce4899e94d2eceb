package reconciler

import (
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
