package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/internal/ovstest"
)

// --geneve off: a bridge that is not OVN's gets its flows and no TLV map.
func TestGeneveOff(t *testing.T) {
	sw := ovstest.Start(t)
	if res := runOnce(t, sw.Target(), append([]string{"--geneve", "off"}, sampleArgs(t)...)...); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	checkInstalled(t, sw)
	if tlv, err := sw.DumpTLVMap(); err != nil || len(tlv) != 0 {
		t.Fatalf("TLV map %v (%v), want none", tlv, err)
	}
}

// dump writes the mapped Geneve field by its symbolic name, so that the
// files follow the option to whatever index another switch gives it; run
// --once takes them back sending nothing.
func TestDumpGeneve(t *testing.T) {
	sw := ovstest.Start(t)
	if _, err := sw.Ofctl("add-tlv-map", "{class=0xffff,type=0x1,len=8}->tun_metadata0"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.txt")
	if err := os.WriteFile(path, []byte("table=0, priority=100,geneve=0x5/0xff actions=move:geneve[0..14]->NXM_NX_REG14[0..14],resubmit(,8)\n"+
		"table=0, priority=90,reg0=0x1 actions=set_field:0x7->geneve,resubmit(,8)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := runOnce(t, sw.Target(), "--flows", path); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	dump := filepath.Join(dir, "dump.txt")
	if res := ofactorRun(t, "dump", "--switch", sw.Target(), "--flows", dump); res.code != 0 {
		t.Fatalf("dump: exit %d\n%s", res.code, res.stderr)
	}
	got := ovstest.ReadLines(t, dump)
	checkSame(t, "dumped flows", []string{
		"priority=100,geneve=0x5/0xff actions=move:geneve[0..14]->NXM_NX_REG14[0..14],resubmit(,8)",
		"priority=90,reg0=0x1 actions=set_field:0x7->geneve,resubmit(,8)",
	}, got)
	before, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	res := runOnce(t, sw.Target(), "--flows", dump)
	if res.code != 0 {
		t.Fatalf("run --once with the dump: exit %d\n%s", res.code, res.stderr)
	}
	after, err := sw.RecvCounter()
	if err != nil {
		t.Fatal(err)
	}
	if after-before > 7 || !strings.Contains(res.stdout, "sent flows 0 ") {
		t.Errorf("run --once with the dump: %d messages, %s", after-before, res.stdout)
	}
}
