package openflow

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

func TestZZScratch(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	for _, g := range goldensNew() {
		b, err := g.msg.AppendBinary(nil)
		if err != nil {
			fmt.Printf("== %s: ERROR %v\n", g.name, err)
			continue
		}
		h := hex.EncodeToString(b)
		out, _ := exec.Command("ovs-ofctl", "ofp-print", h).CombinedOutput()
		same := ""
		if g.hex != "" && hex.EncodeToString(unhex(t, g.hex)) != h {
			same = " DIFFERS from golden hex " + hex.EncodeToString(unhex(t, g.hex))
		}
		fmt.Printf("== %s%s\n%s\n%s\n", g.name, same, h, out)
	}
}
