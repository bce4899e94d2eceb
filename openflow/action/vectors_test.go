package action

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ofactor/ofactor/internal/ovstest"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

// vector is one row of ovs-vectors/ofp-actions.tsv.
type vector struct {
	line     int
	kind     string // actions | instructions
	version  uint8
	expected string // "actions=..." or "bad OpenFlowNN actions: NAME"
	hex      string
	table    uint8 // "N," before the hex: the flow's table
	data     []byte
}

// corpusDir is ../shared/corpus from the repository root.
func corpusDir(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "corpus")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

func readVectors(t testing.TB) []vector {
	f, err := os.Open(filepath.Join(corpusDir(t), "ovs-vectors", "ofp-actions.tsv"))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	defer f.Close()
	versions := map[string]uint8{"OpenFlow11": 2, "OpenFlow13": 4, "OpenFlow15": 6}
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if n == 1 {
			continue
		}
		if len(cols) != 4 || versions[cols[1]] == 0 {
			t.Fatalf("ofp-actions.tsv:%d: bad row %q", n, sc.Text())
		}
		v := vector{line: n, kind: cols[0], version: versions[cols[1]], expected: cols[2], hex: cols[3]}
		if tbl, h, ok := strings.Cut(v.hex, ","); ok {
			x, err := strconv.Atoi(tbl)
			if err != nil {
				t.Fatalf("ofp-actions.tsv:%d: bad table %q", n, tbl)
			}
			v.table, v.hex = uint8(x), h
		}
		if v.data, err = hex.DecodeString(v.hex); err != nil {
			t.Fatalf("ofp-actions.tsv:%d: %v", n, err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) < 100 {
		t.Fatalf("only %d vectors", len(vs))
	}
	return vs
}

func (v vector) ctx() Context { return Context{Version: v.version, Table: v.table} }

// decode decodes and validates a row's hex, and formats it.
func (v vector) decode() (text string, err error) {
	var b []byte
	if v.kind == "instructions" {
		is, err := DecodeInstructions(v.ctx(), v.data)
		if err == nil {
			err = ValidateInstructions(v.ctx(), is)
		}
		if err != nil {
			return "", err
		}
		b, err = is.AppendText([]byte("actions="))
		return string(b), err
	}
	l, err := DecodeList(v.ctx(), v.data)
	if err == nil {
		err = Validate(v.ctx(), l)
	}
	if err != nil {
		return "", err
	}
	b, err = l.AppendText([]byte("actions="))
	return string(b), err
}

// encodeText parses a row's expected text and encodes it.
func (v vector) encodeText() ([]byte, error) {
	text := strings.TrimPrefix(v.expected, "actions=")
	if v.kind == "instructions" {
		is, err := ParseInstructions(v.ctx(), text)
		if err != nil {
			return nil, err
		}
		return is.AppendBinary(nil)
	}
	l, err := ParseList(v.ctx(), text)
	if err != nil {
		return nil, err
	}
	return l.AppendBinary(nil)
}

// normalised lists the rows (by line of ofp-actions.tsv) whose text OVS
// encodes differently from the row's hex, and why. The hex of these rows
// is what OVS decodes, not what it writes: TestVectorsNormalisedByOVS has
// ovs-ofctl encode each row's text and checks that it writes our bytes.
var normalised = map[int]string{
	2:   "OVS writes max_len 0 for an output to a port other than CONTROLLER; the hex has 1234",
	41:  "OVS writes max_len 0 for an output to a port other than CONTROLLER; the hex has 1234",
	56:  "OVS writes max_len 0 for an output to a port other than CONTROLLER; the hex has 1234",
	64:  "OVS writes max_len 0 for an output to a port other than CONTROLLER; the hex has 1234",
	17:  "OVS 3.1 writes resubmit:5 as NXAST_RESUBMIT_TABLE with table 255 (checked with ovs-ofctl add-flow)",
	68:  "OVS 3.1 writes resubmit:5 as NXAST_RESUBMIT_TABLE with table 255 (checked with ovs-ofctl add-flow)",
	110: "NXAST_LEARN2 without limit or result_dst prints as plain learn(...), which OVS 3.1 writes as NXAST_LEARN (checked with ovs-ofctl add-flow)",
	58:  "ONF copy_field prints as move:, which OVS writes as NXAST_REG_MOVE in OpenFlow 1.3",
}

// TestVectors checks every row of ofp-actions.tsv: decoding (and
// validating) the hex gives the row's text or error, and parsing the text
// gives the hex back unless the row is in normalised.
func TestVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(strconv.Itoa(v.line), func(t *testing.T) {
			text, err := v.decode()
			if bad, ok := strings.CutPrefix(v.expected, "bad "); ok {
				_, name, _ := strings.Cut(bad, ": ")
				var oe *ofperr.Error
				if !errors.As(err, &oe) || oe.Name != name {
					t.Fatalf("ofp-actions.tsv:%d: %s %s: got text %q, error %v; want %s", v.line, v.kind, v.hex, text, err, name)
				}
				return
			}
			if err != nil || text != v.expected {
				t.Fatalf("ofp-actions.tsv:%d: decode %s:\n got %q (error %v)\nwant %q", v.line, v.hex, text, err, v.expected)
			}
			b, err := v.encodeText()
			if err != nil {
				t.Fatalf("ofp-actions.tsv:%d: parse %q: %v", v.line, v.expected, err)
			}
			why, isNormalised := normalised[v.line]
			got := hex.EncodeToString(b)
			switch {
			case strings.EqualFold(got, v.hex) && isNormalised:
				t.Fatalf("ofp-actions.tsv:%d: listed as normalised, but encodes to the row's hex", v.line)
			case strings.EqualFold(got, v.hex):
			case isNormalised:
				// What we write must still say the same thing.
				back := v
				back.data = b
				if text, err := back.decode(); err != nil || text != v.expected {
					t.Fatalf("ofp-actions.tsv:%d: normalised %s decodes to %q (%v)", v.line, got, text, err)
				}
				t.Logf("ofp-actions.tsv:%d: normalised (%s): %s", v.line, why, got)
			default:
				t.Fatalf("ofp-actions.tsv:%d: encode %q:\n got %s\nwant %s", v.line, v.expected, got, strings.ToLower(v.hex))
			}
		})
	}
}

// TestVectorsNormalisedByOVS checks the rows of normalised against OVS
// itself: for each, `ovs-ofctl add-flow` of the row's text (in the row's
// version, against a socket that captures what it sends) must write the
// bytes this package writes, not the row's hex.
func TestVectorsNormalisedByOVS(t *testing.T) {
	path := ovstest.OfctlPath(t)
	names := map[uint8]string{2: "OpenFlow11", 4: "OpenFlow13", 6: "OpenFlow15"}
	checked := 0
	for _, v := range readVectors(t) {
		if _, ok := normalised[v.line]; !ok {
			continue
		}
		mine, err := v.encodeText()
		if err != nil {
			t.Fatalf("ofp-actions.tsv:%d: %v", v.line, err)
		}
		flow := v.expected
		if v.table != 0 {
			flow = fmt.Sprintf("table=%d,%s", v.table, flow)
		}
		ovs := ovsInstructions(t, path, names[v.version], v.version, flow)
		if v.kind == "actions" && len(ovs) >= 8 {
			ovs = ovs[8:] // the apply_actions instruction's header
		}
		if !bytes.Equal(mine, ovs) {
			t.Errorf("ofp-actions.tsv:%d: %s:\n ours %x\n ovs  %x", v.line, v.expected, mine, ovs)
		}
		if bytes.Equal(ovs, v.data) {
			t.Errorf("ofp-actions.tsv:%d: OVS writes the row's own hex: not a normalisation", v.line)
		}
		checked++
	}
	if checked != len(normalised) {
		t.Errorf("checked %d rows, normalised lists %d", checked, len(normalised))
	}
}

// ovsInstructions has ovs-ofctl add one flow over a unix socket served
// here and returns the instructions of the flow_mod it sends. (In OpenFlow
// 1.1 ovs-ofctl first asks for the table stats on a connection of its own.)
func ovsInstructions(t *testing.T, ofctl, proto string, version uint8, flow string) []byte {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []byte, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if ins := serveFlowMod(c, version); ins != nil {
					got <- ins
				}
			}()
		}
	}()
	out, err := exec.Command(ofctl, "--no-names", "-O", proto, "add-flow", "unix:"+sock, flow).CombinedOutput()
	l.Close()
	wg.Wait()
	close(got)
	if err != nil {
		t.Fatalf("ovs-ofctl add-flow %q: %v: %s", flow, err, out)
	}
	ins, ok := <-got
	if !ok {
		t.Fatalf("ovs-ofctl add-flow %q sent no flow_mod", flow)
	}
	return ins
}

// serveFlowMod answers one ovs-ofctl connection as a switch would, just
// enough for add-flow, and returns the instructions of its flow_mod.
func serveFlowMod(c net.Conn, version uint8) []byte {
	var ins []byte
	c.Write([]byte{version, 0, 0, 8, 0, 0, 0, 1}) // hello
	for {
		h := make([]byte, 8)
		if _, err := io.ReadFull(c, h); err != nil {
			return ins
		}
		n := int(be.Uint16(h[2:]))
		if n < 8 {
			return ins
		}
		msg := make([]byte, n)
		copy(msg, h)
		if _, err := io.ReadFull(c, msg[8:]); err != nil {
			return ins
		}
		switch h[1] {
		case 14: // flow_mod: the match at 48 (ofp11_match or OXM), padded to 8
			if len(msg) >= 52 {
				if m := 48 + (int(be.Uint16(msg[50:]))+7)&^7; m <= len(msg) {
					ins = msg[m:]
				}
			}
		case 5: // features request (OF1.1): a switch with no ports
			r := append([]byte{version, 6, 0, 32}, h[4:8]...)
			c.Write(append(r, make([]byte, 24)...))
		case 18: // multipart (OF1.1: table stats) request: an empty reply
			if len(msg) >= 10 {
				c.Write(append(append([]byte{version, 19, 0, 16}, h[4:8]...), msg[8], msg[9], 0, 0, 0, 0, 0, 0))
			}
		case 20: // barrier request
			c.Write(append([]byte{version, 21, 0, 8}, h[4:8]...))
		}
	}
}
