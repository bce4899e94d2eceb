package action

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"github.com/ofactor/ofactor/internal/ovstest"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// nxtCorpus is /work/shared/corpus, found from this file's directory.

func TestCloneOVNSample(t *testing.T) {
	for _, s := range nxtOVNActions(t, "clone") {
		t.Run(s, func(t *testing.T) { nxtTextRoundTrip(t, s, true) })
	}
}

// nxtRecord is what ovs-ofctl parse-actions prints for one line: the
// result, then "OFS: XX -> YY" for each byte its re-encoding changes.
type nxtRecord struct {
	text  string
	diffs []string
}

func nxtRecords(out string) []nxtRecord {
	var recs []nxtRecord
	for _, block := range strings.Split(strings.TrimSpace(out), "\n\n") {
		lines := strings.Split(block, "\n")
		recs = append(recs, nxtRecord{text: lines[0], diffs: lines[1:]})
	}
	return recs
}

// reencode applies the record's diffs to in: OVS's re-encoding of it.
func (r nxtRecord) reencode(in []byte) []byte {
	out := append([]byte(nil), in...)
	end := len(out)
	for _, d := range r.diffs {
		var ofs int
		var from, to string
		if _, err := fmt.Sscanf(strings.TrimSpace(d), "%d: %s -> %s", &ofs, &from, &to); err != nil {
			continue
		}
		switch {
		case to == "(none)":
			end = min(end, ofs)
		case ofs < len(out):
			v, _ := strconv.ParseUint(to, 16, 8)
			out[ofs] = byte(v)
		default:
			v, _ := strconv.ParseUint(to, 16, 8)
			out = append(out, byte(v))
			end = len(out)
		}
	}
	return out[:end]
}

// nxtOthersNested marks the bytes of g, a ct or clone action, that belong
// to nested actions of other families (all but nat).
func nxtOthersNested(g []byte) map[int]bool {
	m := map[int]bool{}
	start := 0
	switch be.Uint16(g[8:]) {
	case nxastCT:
		start = 24
	case nxastClone:
		start = 16
	default:
		return m
	}
	for p := start; p+10 <= len(g); {
		n := int(be.Uint16(g[p+2:]))
		if n < 8 || p+n > len(g) {
			break
		}
		if be.Uint16(g[p:]) != 0xffff || be.Uint16(g[p+8:]) != nxastNAT {
			for i := p; i < p+n; i++ {
				m[i] = true
			}
		}
		p += n
	}
	return m
}

// TestNXDifferential mutates every byte past the header of each golden
// encoding of this family (to 0x00, 0x01, 0x80, 0xff) and checks that this
// package and ovs-ofctl agree on each: the same error, or the same text.
func TestNXDifferential(t *testing.T) {
	path := ovstest.OfctlPath(t)
	var golden [][]byte
	for _, v := range nxtVectors(t, nxastMultipath, nxastBundle, nxastBundleLoad, nxastSample,
		nxastSample2, nxastSample3, nxastCheckPktLarger, nxastDeleteField, nxastEncap,
		nxastCT, nxastLearn, nxastLearn2) {
		if v.version == "OpenFlow13" {
			golden = append(golden, v.bin)
		}
	}
	for _, s := range append(append([]string(nil), nxtMiscTexts...), nxtLearnTexts...) {
		golden = append(golden, nxtBin(t, nxtParse(t, Context{Version: 4}, s)))
	}
	var cases [][]byte
	for _, g := range golden {
		other := nxtOthersNested(g)
		for i := 10; i < len(g); i++ {
			if other[i] {
				continue // another family's action: its own tests cover it
			}
			for _, v := range []byte{0x00, 0x01, 0x80, 0xff} {
				if g[i] != v {
					c := append([]byte(nil), g...)
					c[i] = v
					cases = append(cases, c)
				}
			}
		}
	}
	var in strings.Builder
	for _, c := range cases {
		in.WriteString(hex.EncodeToString(c) + "\n")
	}
	cmd := exec.Command(path, "parse-actions", "OpenFlow13")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ovs-ofctl: %v", err)
	}
	recs := nxtRecords(string(out))
	if len(recs) != len(cases) {
		t.Fatalf("ovs-ofctl printed %d records for %d cases", len(recs), len(cases))
	}
	bad := 0
	for i, c := range cases {
		var mine string
		l, err := DecodeList(Context{Version: 4}, c)
		if err == nil {
			err = Validate(Context{Version: 4}, l)
		}
		if err != nil {
			mine = "bad OpenFlow13 actions: " + lastColon(err.Error())
		} else {
			b, _ := l.AppendText(nil)
			mine = "actions=" + string(b)
		}
		if mine != recs[i].text {
			if bad++; bad < 400 {
				t.Errorf("%x:\n ours %s\n ovs  %s", c, mine, recs[i].text)
			}
			continue
		}
		if err == nil {
			want := recs[i].reencode(c)
			if got, err := l.AppendBinary(nil); err != nil || !bytes.Equal(got, want) {
				if bad++; bad < 400 {
					t.Errorf("%x (%s): re-encodes as\n %x (%v), ovs\n %x", c, mine, got, err, want)
				}
			}
		}
	}
	t.Logf("%d mutations compared", len(cases))
}

// nxtFlowModActions serves one ovs-ofctl connection on a unix socket and
// returns the apply-actions bytes of each flow_mod it sends.
func nxtFlowModActions(t *testing.T, l net.Listener) [][]byte {
	c, err := l.Accept()
	if err != nil {
		t.Error(err)
		return nil
	}
	defer c.Close()
	c.Write([]byte{4, 0, 0, 8, 0, 0, 0, 1}) // hello, OpenFlow 1.3
	var out [][]byte
	for {
		h := make([]byte, 8)
		if _, err := io.ReadFull(c, h); err != nil {
			return out
		}
		msg := make([]byte, be.Uint16(h[2:]))
		copy(msg, h)
		if _, err := io.ReadFull(c, msg[8:]); err != nil {
			return out
		}
		switch h[1] {
		case 14: // flow_mod: match at 48, then one apply-actions instruction
			m := 48 + (int(be.Uint16(msg[50:]))+7)&^7
			if m+8 <= len(msg) {
				out = append(out, msg[m+8:m+int(be.Uint16(msg[m+2:]))])
			}
		case 20: // barrier
			c.Write(append([]byte{4, 21, 0, 8}, h[4:8]...))
		}
	}
}

// TestNXParseOracle checks that ovs-ofctl encodes each text of this family
// as this package does: it runs "ovs-ofctl add-flows" against a socket
// that records the flow_mods.
func TestNXParseOracle(t *testing.T) {
	path := ovstest.OfctlPath(t)
	var texts []string
	texts = append(texts, nxtMiscTexts...)
	texts = append(texts, nxtLearnTexts...)
	texts = append(texts, nxtOVNActions(t, "ct", "learn", "clone")...)
	for _, s := range nxtCTTexts {
		if !strings.Contains(s, "alg=8080") {
			texts = append(texts, s)
		}
	}
	var flows strings.Builder
	for _, s := range texts {
		match := "tcp"
		switch {
		case strings.Contains(s, "alg=tftp"):
			match = "udp"
		case strings.Contains(s, "::"):
			match = "tcp6"
		case strings.Contains(s, "nsh_ttl"):
			match = "dl_type=0x894f"
		}
		fmt.Fprintf(&flows, "%s,actions=%s\n", match, s)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "flows")
	if err := os.WriteFile(file, []byte(flows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan [][]byte)
	go func() { got <- nxtFlowModActions(t, l) }()
	cmd := exec.Command(path, "--no-names", "-O", "OpenFlow13", "add-flows", "unix:"+filepath.Join(dir, "sock"), file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ovs-ofctl add-flows: %v: %s", err, out)
	}
	ovs := <-got
	if len(ovs) != len(texts) {
		t.Fatalf("%d flow_mods for %d flows", len(ovs), len(texts))
	}
	for i, s := range texts {
		l, err := ParseList(Context{Version: 4}, s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		mine, err := l.AppendBinary(nil)
		if err != nil || !bytes.Equal(mine, ovs[i]) {
			t.Errorf("%s:\n ours %x (%v)\n ovs  %x", s, mine, err, ovs[i])
		}
	}
}
