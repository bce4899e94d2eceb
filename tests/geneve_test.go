package tests

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// Flows may name the negotiated Geneve field as "geneve": they are rendered
// with the tun_metadata field the switch mapped, and a second run against
// the correct switch sends no flow_mod (OVS writes set_field to a
// tun_metadata field without leading zero bytes, and so does ofactor).
func TestOnceGeneveFlows(t *testing.T) {
	sw := ovstest.Start(t)
	// Another controller's option takes index 0: ours must go to 1.
	if _, err := sw.Ofctl("add-tlv-map", "{class=0xffff,type=0x1,len=8}->tun_metadata0"); err != nil {
		t.Fatal(err)
	}
	flows := `table=0, priority=100,geneve=0x5/0xff actions=move:geneve[0..14]->NXM_NX_REG14[0..14],resubmit(,8)
table=0, priority=90,reg0=0x1 actions=set_field:0x7->geneve,resubmit(,8)
table=0, priority=80,reg0=0x2 actions=set_field:0->geneve,resubmit(,8)
table=0, priority=70,reg0=0x3 actions=load:0x1234->geneve[],resubmit(,8)
table=0, priority=0 actions=drop
`
	path := filepath.Join(t.TempDir(), "flows.txt")
	if err := os.WriteFile(path, []byte(flows), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runOnce(t, sw.Target(), "--flows", path); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got, err := sw.DumpFlows()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		" priority=0 actions=drop",
		" priority=100,tun_metadata1=0x5 actions=move:NXM_NX_TUN_METADATA1[0..14]->NXM_NX_REG14[0..14],resubmit(,8)",
		" priority=70,reg0=0x3 actions=set_field:0x1234->tun_metadata1,resubmit(,8)",
		" priority=80,reg0=0x2 actions=set_field:0->tun_metadata1,resubmit(,8)",
		" priority=90,reg0=0x1 actions=set_field:0x7->tun_metadata1,resubmit(,8)",
	}
	slices.Sort(want)
	checkSame(t, "flows", want, got)

	before, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	if res := runOnce(t, sw.Target(), "--flows", path); res.code != 0 {
		t.Fatalf("second run: exit %d\n%s", res.code, res.stderr)
	}
	after, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	// HELLO, TLV table request, three dump requests (and perhaps an echo):
	// no bundle at all.
	if after-before > 7 {
		t.Errorf("second run against a correct switch: %d messages, want no round (at most 7)", after-before)
	}
}
