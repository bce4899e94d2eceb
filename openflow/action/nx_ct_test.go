package action

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestCTVectors(t *testing.T) {
	for _, v := range nxtVectors(t, nxastCT) {
		t.Run(v.text, func(t *testing.T) {
			nxtRoundTrip(t, v)
			nxtTruncations(t, v.bin, false)
		})
	}
}

// nxtOVNActions returns the distinct kw(...) actions in the OVN sample's
// flows and groups, for each keyword in kws.
func nxtOVNActions(t *testing.T, kws ...string) []string {
	seen := map[string]bool{}
	for _, name := range []string{"flows.txt", "groups.txt"} {
		data, err := os.ReadFile(filepath.Join(nxtCorpus(t), "ovn-sample", name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(data)
		for _, kw := range kws {
			for i := 0; ; {
				j := strings.Index(s[i:], kw+"(")
				if j < 0 {
					break
				}
				j += i
				i = j + len(kw)
				if j > 0 && !strings.ContainsRune(",=(:", rune(s[j-1])) {
					continue
				}
				depth, k := 0, i
				for ; k < len(s); k++ {
					if s[k] == '(' {
						depth++
					} else if s[k] == ')' {
						if depth--; depth == 0 {
							break
						}
					}
				}
				seen[s[j:k+1]] = true
			}
		}
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("no %v actions in the OVN sample", kws)
	}
	return out
}

// nxtTextRoundTrip checks that s parses, prints as s, encodes, decodes
// and prints as s again, and that ovs-ofctl prints the encoding as s.
func nxtTextRoundTrip(t *testing.T, s string, oracle bool) {
	t.Helper()
	a := nxtParse(t, Context{Version: 4}, s)
	if got := nxtText(t, a); got != s {
		t.Errorf("parse %s: prints %s", s, got)
	}
	bin := nxtBin(t, a)
	d, err := nxtDecode(Context{Version: 4}, bin)
	if err != nil {
		t.Fatalf("%s: decode %x: %v", s, bin, err)
	}
	if got := nxtText(t, d); got != s {
		t.Errorf("%s: %x decodes to %s", s, bin, got)
	}
	if got := nxtBin(t, d); hex.EncodeToString(got) != hex.EncodeToString(bin) {
		t.Errorf("%s: re-encode %x, want %x", s, got, bin)
	}
	nxtTruncations(t, bin, false)
	if oracle {
		nxtOracle(t, bin, s)
	}
}

func TestCTOVNSample(t *testing.T) {
	for _, s := range nxtOVNActions(t, "ct") {
		t.Run(s, func(t *testing.T) { nxtTextRoundTrip(t, s, true) })
	}
}

// nxtCTTexts are ct forms beyond the vectors and the sample.
var nxtCTTexts = []string{
	"ct(commit,force,table=254,zone=65535,nat(dst=[fe80::1]:80),alg=ftp)",
	"ct(commit,nat(src=10.0.0.1-10.0.0.9:1-2,persistent,hash))",
	"ct(commit,nat(dst=::1-::2))",
	"ct(zone=NXM_NX_REG0[16..31],alg=tftp)",
	"ct(commit,alg=8080)",
	"ct(commit,nat(src),exec(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[],set_field:0x1->ct_label))",
}

func TestCTTexts(t *testing.T) {
	for _, s := range nxtCTTexts {
		t.Run(s, func(t *testing.T) {
			if strings.Contains(s, "alg=8080") {
				// Printed by OVS, never parsed: build it.
				a := &CT{Flags: CTCommit, RecircTable: ctRecircNone, Alg: 8080}
				if got := nxtText(t, a); got != s {
					t.Errorf("prints %s", got)
				}
				nxtOracle(t, nxtBin(t, a), s)
				return
			}
			nxtTextRoundTrip(t, s, true)
		})
	}
}

// nxtCTBad are texts parse_CT and parse_NAT refuse.
var nxtCTBad = []string{
	"ct(force)", "ct(table=255)", "ct(alg=http)", "ct(zone=NOPE[])", "ct(bogus)",
	"ct(commit,nat(src,dst))", "ct(commit,nat(hash,random,src))", "ct(commit,nat(random))",
	"ct(commit,nat(src=10.0.0.2-10.0.0.1))", "ct(commit,nat(src=10.0.0.1:9-8))",
	"ct(commit,nat(src=10.0.0.1x))", "ct(commit,nat(src=fe80::1-10.0.0.1))",
	"ct(commit,nat(src=[fe80::1))", "ct(commit,exec(ct(commit)))", "ct(commit,exec(output:1))",
	"ct(commit,exec(load:1->NXM_NX_REG0[]))",
}

func TestCTParseBad(t *testing.T) {
	for _, s := range nxtCTBad {
		kvs, err := nxaKeyValues(s)
		if err != nil {
			continue
		}
		if _, err := parseCT(Context{Version: 4}, "ct", kvs[0].value, true); err == nil {
			t.Errorf("%s: parsed", s)
		}
	}
}

// nxtCTBadDecodes are encodings OVS refuses (checked with ovs-ofctl).
var nxtCTBadDecodes = []struct{ hex, err string }{
	// force without commit
	{"ffff00180000232000230002000000000000FF0000000000", "OFPBAC_BAD_ARGUMENT"},
	// zone from 15 bits
	{"ffff0018000023200023000000010004000eFF0000000000", "OFPBAC_BAD_SET_LEN"},
	// nat(src) without commit
	{"ffff00280000232000230000000000000000FF0000000000ffff0010000023200024000000010000", "OFPBAC_BAD_ARGUMENT"},
	// nat: src and dst
	{"ffff00280000232000230001000000000000FF0000000000ffff0010000023200024000000030000", "OFPBAC_BAD_ARGUMENT"},
	// nat: IPv4 max without min
	{"ffff00300000232000230001000000000000FF0000000000ffff00180000232000240000000100020a0000f000000000", "OFPBAC_BAD_ARGUMENT"},
	// nat: IPv4 min 0.0.0.0
	{"ffff00300000232000230001000000000000FF0000000000ffff00180000232000240000000100010000000000000000", "OFPBAC_BAD_ARGUMENT"},
	// nat: IPv6 min, no room for it
	{"ffff00300000232000230001000000000000FF0000000000ffff00180000232000240000000100040a0000f000000000", "OFPBAC_BAD_ARGUMENT"},
	// nat: port range upside down
	{"ffff00300000232000230001000000000000FF0000000000ffff00180000232000240000001100310a0000f0ffff8000", "OFPBAC_BAD_ARGUMENT"},
	// nat: port without address
	{"ffff00300000232000230001000000000000FF0000000000ffff00180000232000240000000100108000000000000000", "OFPBAC_BAD_ARGUMENT"},
}

func TestCTBadDecodes(t *testing.T) {
	for _, c := range nxtCTBadDecodes {
		b, _ := hex.DecodeString(c.hex)
		nxtOracleErr(t, b, c.err)
		_, err := nxtDecode(Context{Version: 4}, b)
		if err == nil || lastColon(err.Error()) != c.err {
			t.Errorf("%x: got %v, want %s", b, err, c.err)
		}
	}
}

// TestCTParseErrorOffsets checks errors point into the text.
func TestCTParseErrorOffsets(t *testing.T) {
	for _, c := range []struct{ text, at string }{
		{"ct(commit,nat(src=10.0.0.2-10.0.0.1))", "10.0.0.2-"},
		{"ct(commit,bogus)", "bogus"},
		{"ct(commit,exec(load:1->NOPE[]))", "NOPE"},
		{"ct(table=300)", "300"},
		{"learn(table=1,NXM_NX_REG0[0..3]=0x10)", "0x10"},
		{"resubmit(,1),ct(commit,nat(bogus))", "bogus"},
	} {
		_, err := ParseList(Context{Version: 4}, c.text)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%s: got %v", c.text, err)
			continue
		}
		if want := strings.Index(c.text, c.at); se.Offset != want {
			t.Errorf("%s: error at %d (%v), want %d", c.text, se.Offset, err, want)
		}
	}
}
