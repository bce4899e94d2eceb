package action

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// encodes differently from the row's hex, and why.
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
// gives the hex back unless the row is in normalised. Rows of the complex
// Nicira actions (ct, nat, learn, ...) fail until their files exist.
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
			if got := hex.EncodeToString(b); !strings.EqualFold(got, v.hex) {
				if why, ok := normalised[v.line]; ok && !strings.Contains(why, "same bytes") {
					t.Logf("ofp-actions.tsv:%d: normalised (%s): %s", v.line, why, got)
					return
				}
				t.Fatalf("ofp-actions.tsv:%d: encode %q:\n got %s\nwant %s", v.line, v.expected, got, strings.ToLower(v.hex))
			}
		})
	}
}
