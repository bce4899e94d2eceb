package action

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOVNSample parses the actions of every flow of a real ovn-controller
// table, prints them (as dump-flows did), encodes them for OpenFlow 1.3 and
// decodes them back to the same text.
func TestOVNSample(t *testing.T) {
	f, err := os.Open(filepath.Join(corpusDir(t), "ovn-sample", "flows.txt"))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	defer f.Close()
	ctx := Context{Version: 4}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, bad := 0, 0
	for line := 1; sc.Scan(); line++ {
		_, text, ok := strings.Cut(sc.Text(), " actions=")
		if !ok {
			continue
		}
		n++
		is, err := ParseInstructions(ctx, text)
		if err != nil {
			t.Errorf("flows.txt:%d: parse %q: %v", line, text, err)
			bad++
			continue
		}
		if got := is.String(); got != text {
			t.Errorf("flows.txt:%d: printed\n got %q\nwant %q", line, got, text)
			bad++
			continue
		}
		b, err := is.AppendBinary(nil)
		if err != nil {
			t.Errorf("flows.txt:%d: encode %q: %v", line, text, err)
			bad++
			continue
		}
		d, err := DecodeInstructions(ctx, b)
		if err == nil {
			err = ValidateInstructions(ctx, d)
		}
		if err != nil || d.String() != text {
			t.Errorf("flows.txt:%d: decoded %q (%v), want %q", line, d.String(), err, text)
			bad++
		}
	}
	if n < 100 {
		t.Fatalf("only %d flows", n)
	}
	t.Logf("%d flows, %d bad", n, bad)
}
