package ofctl

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// The ovs-testsuite corpus (../shared/corpus/ovs-testsuite, README there):
// every flow, group and meter Open vSwitch's own tests feed to ovs-ofctl
// that OVS 3.1 accepts for OpenFlow 1.3, in the tests' spelling (*-input.txt)
// and in OVS's dump spelling, line-aligned with OVS's own OpenFlow 1.3
// message for each (*.ovs13.hex, xid 0).

// testsuiteKind is one file of the corpus and how to parse its lines.
type testsuiteKind struct {
	name  string // flows, flows-input, groups, ...
	base  string // the sources.tsv file name: flows.txt, groups.txt, meters.txt
	parse func(line string, ctx *Context) (openflow.Message, error)
}

var testsuiteKinds = []testsuiteKind{
	{"flows", "flows.txt", parseFlowMsg},
	{"flows-input", "flows.txt", parseFlowMsg},
	{"groups", "groups.txt", parseGroupMsg},
	{"groups-input", "groups.txt", parseGroupMsg},
	{"meters", "meters.txt", parseMeterMsg},
	{"meters-input", "meters.txt", parseMeterMsg},
}

func parseFlowMsg(l string, ctx *Context) (openflow.Message, error)  { return ParseFlow(l, ctx) }
func parseGroupMsg(l string, ctx *Context) (openflow.Message, error) { return ParseGroup(l, ctx) }
func parseMeterMsg(l string, ctx *Context) (openflow.Message, error) { return ParseMeter(l, ctx) }

func testsuiteDir(t testing.TB) string { return filepath.Join(corpusDir(t), "ovs-testsuite") }

// testsuiteLines returns the lines of file name of the corpus, blank ones
// included (the files are line-aligned).
func testsuiteLines(t testing.TB, name string) []string {
	t.Helper()
	return nonEmptyLines(t, filepath.Join(testsuiteDir(t), name))
}

// namedLines are the lines (kind base file, 1-based line) whose input
// needs the switch's port names, from sources.tsv.
func namedLines(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, l := range testsuiteLines(t, "sources.tsv")[1:] {
		f := strings.Split(l, "\t")
		if len(f) == 5 && f[4] == "yes" {
			out[f[0]+":"+f[1]] = true
		}
	}
	if len(out) == 0 {
		t.Fatal("sources.tsv: no line needs port names")
	}
	return out
}

// testsuiteContext is how ovs-ofctl parses offline: OpenFlow 1.3, no TLV
// map (tun_metadata sized by its value), no Geneve name.
func testsuiteContext(version uint8) *Context {
	ctx := &Context{Version: version}
	ctx.OXM.Geneve = -1
	return ctx
}

// encodeXID0 encodes m with xid 0, as the corpus stores OVS's messages.
func encodeXID0(m openflow.Message) ([]byte, error) {
	m.Hdr().XID = 0
	return m.AppendBinary(nil)
}

// placeholders is a port map that makes up a number for every name it is
// asked, so that a line naming ports encodes; learnPorts then reads the
// switch's numbers off OVS's bytes where ours have the made-up ones.
type placeholders struct{ names map[string]uint32 }

func (p *placeholders) PortNumber(name string) (uint32, bool) {
	if n, ok := p.names[name]; ok {
		return n, true
	}
	n := uint32(0xbe00 + len(p.names))
	p.names[name] = n
	return n, true
}

func (p *placeholders) PortName(uint32) (string, bool) { return "", false }

// learnPorts derives the sandbox's port numbering for a line that names
// ports: it encodes the line with made-up numbers and takes, where our
// bytes have a made-up number (as a 16-bit port, or the low half of a
// 32-bit one), the number OVS's bytes have there.
func learnPorts(line string, want []byte, k testsuiteKind, version uint8) (*Ports, error) {
	ph := &placeholders{names: map[string]uint32{}}
	ctx := testsuiteContext(version)
	ctx.OXM.Ports = ph
	m, err := k.parse(line, ctx)
	if err != nil {
		return nil, fmt.Errorf("with made-up port numbers: %w", err)
	}
	got, err := encodeXID0(m)
	if err != nil {
		return nil, err
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("with made-up port numbers: %d bytes, OVS's %d", len(got), len(want))
	}
	ports := NewPorts(nil)
	for name, n := range ph.names {
		votes := map[uint16]int{}
		for i := 0; i+2 <= len(got); i++ {
			if uint32(got[i])<<8|uint32(got[i+1]) == n {
				votes[uint16(want[i])<<8|uint16(want[i+1])]++
			}
		}
		best, most := uint16(0), 0
		for v, c := range votes {
			if c > most || c == most && v < best {
				best, most = v, c
			}
		}
		if most == 0 {
			return nil, fmt.Errorf("port %q: not found in the bytes", name)
		}
		ports.Add(name, uint32(best))
	}
	return ports, nil
}

// testsuiteCounts are one file's figures.
type testsuiteCounts struct {
	lines, accepted, identical, named int
}

func TestTestsuiteOF13(t *testing.T) {
	named := namedLines(t)
	for _, k := range testsuiteKinds {
		lines := testsuiteLines(t, k.name+".txt")
		hexes := testsuiteLines(t, k.name+".ovs13.hex")
		if len(lines) != len(hexes) || len(lines) == 0 {
			t.Fatalf("%s: %d lines, %d hex lines", k.name, len(lines), len(hexes))
		}
		var c testsuiteCounts
		for n, line := range lines {
			c.lines++
			want, err := hex.DecodeString(hexes[n])
			if err != nil {
				t.Fatalf("%s.ovs13.hex:%d: %v", k.name, n+1, err)
			}
			ctx := testsuiteContext(openflow.Version13)
			needsNames := strings.HasSuffix(k.name, "-input") && named[fmt.Sprintf("%s:%d", k.base, n+1)]
			if needsNames {
				// Without the switch's ports a name is refused, as
				// ovs-ofctl --no-names refuses it; with them it encodes.
				c.named++
				_, err := k.parse(line, ctx)
				var pe *oxm.PortNameError
				if err == nil || !errors.As(err, new(*ParseError)) || !strings.Contains(err.Error(), "needs the switch's ports") {
					t.Errorf("%s.txt:%d: without a port map: %v, want an error that a port name needs the switch's ports", k.name, n+1, err)
				}
				_ = pe
				ports, err := learnPorts(line, want, k, openflow.Version13)
				if err != nil {
					t.Errorf("%s.txt:%d: %s: %v", k.name, n+1, line, err)
					continue
				}
				ctx.OXM.Ports = ports
			}
			m, err := k.parse(line, ctx)
			if err != nil {
				t.Errorf("%s.txt:%d: refused: %s\n\t%v", k.name, n+1, line, err)
				continue
			}
			c.accepted++
			got, err := encodeXID0(m)
			if err != nil {
				t.Errorf("%s.txt:%d: encode: %v", k.name, n+1, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s.txt:%d: %s\n\tgot  %x\n\twant %x", k.name, n+1, line, got, want)
				continue
			}
			c.identical++
		}
		t.Logf("ovs-testsuite %s (OpenFlow 1.3): %d lines, %d accepted, %d byte-identical to OVS, %d refused (%d named ports, encoded with the sandbox's port map)",
			k.name, c.lines, c.accepted, c.identical, c.lines-c.accepted, c.named)
	}
}

// TestTestsuitePrint decodes OVS's bytes of every dump-spelling line and
// prints them: the text must be OVS's dump spelling itself.
func TestTestsuitePrint(t *testing.T) {
	for _, kind := range []string{"flows", "groups", "meters"} {
		lines := testsuiteLines(t, kind+".txt")
		hexes := testsuiteLines(t, kind+".ovs13.hex")
		ok := 0
		for n, h := range hexes {
			b, err := hex.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch kind {
			case "flows":
				var fm openflow.FlowMod
				if err = fm.UnmarshalBinary(b); err == nil {
					got = string(AppendFlow(nil, &fm))
				}
			case "groups":
				var gm openflow.GroupMod
				if err = gm.UnmarshalBinary(b); err == nil {
					got = string(AppendGroup(nil, &gm))
				}
			default:
				var mm openflow.MeterMod
				if err = mm.UnmarshalBinary(b); err == nil {
					got = string(AppendMeterDump(nil, &mm))
				}
			}
			switch {
			case err != nil:
				t.Errorf("%s.ovs13.hex:%d: decode: %v", kind, n+1, err)
			case got != lines[n]:
				t.Errorf("%s.txt:%d: prints\n\t%s\nwant\n\t%s", kind, n+1, got, lines[n])
			default:
				ok++
			}
		}
		t.Logf("ovs-testsuite %s: %d of %d decoded from OVS's bytes print as OVS dumps them", kind, ok, len(hexes))
	}
}
