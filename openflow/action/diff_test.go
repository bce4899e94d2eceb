package action

import (
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

// describe is what ovs-ofctl parse-actions prints for b: the actions or
// the error.
func describe(version uint8, b []byte) string {
	ctx := Context{Version: version}
	l, err := DecodeList(ctx, b)
	if err == nil {
		err = Validate(ctx, l)
	}
	if err != nil {
		var oe *ofperr.Error
		if errors.As(err, &oe) {
			return "bad OpenFlow13 actions: " + oe.Name
		}
		return "bad: " + err.Error()
	}
	return "actions=" + l.String()
}

// TestDifferential mutates each byte of the OpenFlow 1.3 golden encodings
// and has ovs-ofctl decode them too: the texts and errors must agree.
func TestDifferential(t *testing.T) {
	ofctl, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ovs-ofctl not found")
		}
		t.Skip("ovs-ofctl not found")
	}
	var inputs [][]byte
	for _, g := range golden {
		if g.version != 4 {
			continue
		}
		b, _ := hex.DecodeString(g.hex)
		for i := range b {
			for _, v := range []byte{0, 1, 0x10, 0xff, b[i] + 1} {
				m := append([]byte(nil), b...)
				m[i] = v
				inputs = append(inputs, m)
			}
		}
	}
	var in strings.Builder
	for _, b := range inputs {
		in.WriteString(hex.EncodeToString(b) + "\n")
	}
	cmd := exec.Command(ofctl, "parse-actions", "OpenFlow13")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string // one block per input, separated by an empty line
	for _, blk := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		first, _, _ := strings.Cut(strings.TrimSpace(blk), "\n")
		got = append(got, first)
	}
	if len(got) != len(inputs) {
		t.Fatalf("ovs-ofctl printed %d lines for %d inputs", len(got), len(inputs))
	}
	bad := 0
	for i, b := range inputs {
		if ours := describe(4, b); ours != got[i] && !knownDifference(got[i], ours) {
			bad++
			if bad <= 40 || os.Getenv("DIFF_ALL") != "" {
				t.Errorf("%x:\n ours %s\n ovs  %s", b, ours, got[i])
			}
		}
	}
	t.Logf("%d inputs, %d differ", len(inputs), bad)
}

// knownDifference accepts the differences that are choices: OVS rejects
// some malformed actions at decode time with an error name we give another
// way.
func knownDifference(ovs, ours string) bool {
	return false
}
