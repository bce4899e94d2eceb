package flowkey_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func corpusLines(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "shared", "corpus", "ovn-sample", "flows.txt"))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return append(out, flowgen.Flows(2000)...)
}

// ofctl's matches are canonical: OfCanonical of a parsed flow is Of of it,
// and the bytes decode to a flow with the same bytes again.
func TestOfCanonicalOfParsed(t *testing.T) {
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = -1
	lines := corpusLines(t)
	if len(lines) < 2500 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		fm, err := ofctl.ParseFlow(l, ctx)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		c, err := flowkey.OfCanonical(fm)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		n, err := flowkey.Of(fm)
		if err != nil || n != c {
			t.Fatalf("%q: OfCanonical differs from Of (%v)", l, err)
		}
		back, err := c.FlowMod()
		if err != nil {
			t.Fatalf("%q: decode: %v", l, err)
		}
		if again, err := flowkey.Of(back); err != nil || again != c {
			t.Fatalf("%q: decoded flow has other bytes (%v)", l, err)
		}
	}
}

// A flow whose flow_mod cannot fit a bundle is refused with ErrTooLong.
func TestOfTooLong(t *testing.T) {
	fm := openflow.NewFlowMod(openflow.Version13, openflow.FlowAdd)
	var l action.List
	for range 3000 {
		l = append(l, &action.Output{Port: 1})
	}
	// Each instruction fits in its 16-bit length; the flow_mod does not.
	fm.Instructions = action.Instructions{&action.ApplyActions{Actions: l}, &action.WriteActions{Actions: l[:1500]}}
	if _, err := flowkey.Of(fm); !errors.Is(err, openflow.ErrTooLong) {
		t.Fatalf("4500 outputs: %v, want ErrTooLong", err)
	}
}

// A meter without OFPMF_BURST compares equal whether its bands say burst 0
// (a file) or burst = rate (what OVS reports); with the flag, the burst
// size counts.
func TestMeterValueBurst(t *testing.T) {
	band := func(rate, burst uint32) []openflow.MeterBand {
		return []openflow.MeterBand{{Type: openflow.MeterBandDrop, Rate: rate, BurstSize: burst}}
	}
	a, _ := flowkey.MeterValue(openflow.MeterPKTPS, band(10, 0))
	b, _ := flowkey.MeterValue(openflow.MeterPKTPS, band(10, 10))
	if a != b {
		t.Error("without burst: burst_size 0 and burst_size = rate differ")
	}
	c, _ := flowkey.MeterValue(openflow.MeterPKTPS|openflow.MeterBurst, band(10, 0))
	d, _ := flowkey.MeterValue(openflow.MeterPKTPS|openflow.MeterBurst, band(10, 10))
	if c == d {
		t.Error("with burst: the burst size does not count")
	}
}

// A flow for table 254 is refused: the table is OVS's.
func TestTable254Refused(t *testing.T) {
	fm := openflow.NewFlowMod(openflow.Version13, openflow.FlowAdd)
	fm.TableID = 254
	if _, err := flowkey.Of(fm); !errors.Is(err, flowkey.ErrTable254) {
		t.Fatalf("table 254: %v", err)
	}
	fm.TableID = 253
	if _, err := flowkey.Of(fm); err != nil {
		t.Fatalf("table 253: %v", err)
	}
}
