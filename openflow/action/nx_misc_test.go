package action

import (
	"bufio"
	"encoding/hex"
	"github.com/ofactor/ofactor/internal/ovstest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// nxtCorpus is /work/shared/corpus, found from this file's directory.
func nxtCorpus(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus missing: %v", err)
	}
	return dir
}

// nxtVector is one row of ofp-actions.tsv.
type nxtVector struct {
	kind, version, text string
	bin                 []byte
}

// nxtVectors returns the ofp-actions.tsv rows made of one action of this
// family (a Nicira action whose subtype is in subs).
func nxtVectors(t testing.TB, subs ...uint16) []nxtVector {
	f, err := os.Open(filepath.Join(nxtCorpus(t), "ovs-vectors", "ofp-actions.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []nxtVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) != 4 || col[0] != "actions" {
			continue
		}
		b, err := hex.DecodeString(col[3])
		if err != nil || len(b) < 10 || b[0] != 0xff || b[1] != 0xff || be.Uint32(b[4:]) != 0x2320 {
			continue
		}
		if int(be.Uint16(b[2:])) != len(b) {
			continue // more than one action
		}
		for _, s := range subs {
			if be.Uint16(b[8:]) == s {
				out = append(out, nxtVector{col[0], col[1], col[2], b})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no vectors for subtypes %v", subs)
	}
	return out
}

func nxtCtx(version string) Context {
	switch version {
	case "OpenFlow10":
		return Context{Version: 1}
	case "OpenFlow11":
		return Context{Version: 2}
	case "OpenFlow12":
		return Context{Version: 3}
	case "OpenFlow14":
		return Context{Version: 5}
	case "OpenFlow15":
		return Context{Version: 6}
	}
	return Context{Version: 4}
}

// nxtDecode decodes one Nicira action with this package's registry.
func nxtDecode(ctx Context, b []byte) (Action, error) {
	return nxDecoders[be.Uint16(b[8:])](ctx, b)
}

// nxtParse parses one action text "kw(arg)" or "kw:arg" or "kw".
func nxtParse(t testing.TB, ctx Context, s string) Action {
	t.Helper()
	kvs, err := nxaKeyValues(s)
	if err != nil || len(kvs) != 1 {
		// check_pkt_larger(N)->DST: the only form with text after ')'.
		if kw, arg, ok := strings.Cut(s, "("); ok && strings.Contains(arg, ")->") {
			kvs = []nxaKV{{key: kw, value: arg}}
		} else {
			t.Fatalf("%s: split: %v %v", s, kvs, err)
		}
	}
	p := parsers[kvs[0].key]
	if p == nil {
		t.Fatalf("%s: no parser for %q", s, kvs[0].key)
	}
	a, err := p(ctx, kvs[0].key, kvs[0].value, kvs[0].value != "")
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return a
}

func nxtText(t testing.TB, a Action) string {
	t.Helper()
	b, err := a.AppendText(nil)
	if err != nil {
		t.Fatalf("AppendText: %v", err)
	}
	return string(b)
}

func nxtBin(t testing.TB, a Action) []byte {
	t.Helper()
	b, err := a.AppendBinary(nil)
	if err != nil {
		t.Fatalf("AppendBinary: %v", err)
	}
	return b
}

// nxtRoundTrip checks one vector: decode prints the expected text and
// encodes back to the same bytes; the text parses to the same bytes.
func nxtRoundTrip(t *testing.T, v nxtVector) {
	t.Helper()
	ctx := nxtCtx(v.version)
	want, isText := strings.CutPrefix(v.text, "actions=")
	a, err := nxtDecode(ctx, v.bin)
	if !isText {
		if err == nil || !strings.HasSuffix(v.text, ": "+strings.TrimSpace(lastColon(err.Error()))) {
			t.Errorf("%x: got %v, want %q", v.bin, err, v.text)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: decode %x: %v", want, v.bin, err)
	}
	if got := nxtText(t, a); got != want {
		t.Errorf("decode %x: text\n got %s\nwant %s", v.bin, got, want)
	}
	if got := nxtBin(t, a); hex.EncodeToString(got) != strings.ToLower(hex.EncodeToString(v.bin)) {
		t.Errorf("%s: re-encode\n got %x\nwant %x", want, got, v.bin)
	}
	// Parsing need not give the same bytes (OVS picks learn or learn2,
	// sample or sample2 from the values), but the same action.
	p := nxtParse(t, ctx, want)
	if got := nxtText(t, p); got != want {
		t.Errorf("parse %s: prints %s", want, got)
	}
	bin := nxtBin(t, p)
	d, err := nxtDecode(ctx, bin)
	if err != nil {
		t.Fatalf("parse %s: encoded %x: %v", want, bin, err)
	}
	if got := nxtText(t, d); got != want {
		t.Errorf("parse %s: encoded %x decodes to %s", want, bin, got)
	}
}

func lastColon(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// nxtTruncations decodes every truncation of b (length field patched, as
// the framework would pass it) and every byte-flip of the length-bearing
// parts: none may panic, and whatever decodes must re-encode and decode to
// the same text.
func nxtTruncations(t *testing.T, b []byte, fixed bool) {
	t.Helper()
	for n := 10; n < len(b); n++ {
		c := append([]byte(nil), b[:n]...)
		be.PutUint16(c[2:], uint16(n))
		a, err := nxtDecode(Context{Version: 4}, c)
		if err == nil && a == nil {
			t.Errorf("%x truncated to %d: nil action", b, n)
			continue
		}
		if fixed && err == nil {
			t.Errorf("%x truncated to %d: decoded", b, n)
		}
		if err == nil {
			nxtStable(t, a)
		}
	}
}

// nxtStable checks decode(encode(a)) prints as a.
func nxtStable(t *testing.T, a Action) {
	t.Helper()
	bin, err := a.AppendBinary(nil)
	if err != nil {
		return // some decoded values have no encoding (as in OVS)
	}
	b, err := nxtDecode(Context{Version: 4}, bin)
	if err != nil {
		t.Errorf("%x: re-decode: %v", bin, err)
		return
	}
	if x, y := nxtText(t, a), nxtText(t, b); x != y {
		t.Errorf("%x: %s became %s", bin, x, y)
	}
}

func TestNXMiscVectors(t *testing.T) {
	vs := nxtVectors(t, nxastMultipath, nxastBundle, nxastBundleLoad, nxastSample, nxastSample2,
		nxastSample3, nxastCheckPktLarger, nxastDeleteField, nxastEncap, nxastWriteMetadata)
	for _, v := range vs {
		t.Run(v.text, func(t *testing.T) {
			nxtRoundTrip(t, v)
			nxtTruncations(t, v.bin, be.Uint16(v.bin[8:]) != nxastEncap && be.Uint16(v.bin[8:]) != nxastBundle && be.Uint16(v.bin[8:]) != nxastBundleLoad)
		})
	}
}

// nxtMiscTexts are texts not in the vectors, each printed back as is.
var nxtMiscTexts = []string{
	"conjunction(1,1/2)",
	"conjunction(4294967295,64/64)",
	"clone(clone(dec_nsh_ttl))",
	"clone(drop)",
	"encap(ethernet)",
	"encap(nsh(md_type=2,tlv(0x1000,10,0x12345678)))",
	"decap()",
	"decap(packet_type(ns=1,type=0x894f))",
	"dec_nsh_ttl",
	"multipath(symmetric_l3l4+udp,1024,iter_hash,100,0,NXM_NX_REG0[0..15])",
	"multipath(nw_dst,0,hrw,2,7,NXM_NX_REG3[5])",
	"bundle(symmetric_l4,60,active_backup,ofport,members:1,LOCAL,65279)",
	"bundle_load(nw_src,1,hrw,ofport,NXM_NX_REG1[16..31],members:)",
	"sample(probability=1,collector_set_id=0,obs_domain_id=0,obs_point_id=0,sampling_port=LOCAL,ingress)",
	"check_pkt_larger(65535)->OXM_OF_METADATA[63]",
	"sample(probability=65535,collector_set_id=1,obs_domain_id=2,obs_point_id=3)",
	"sample(probability=1,collector_set_id=0,obs_domain_id=0,obs_point_id=0,sampling_port=5)",
	"sample(probability=1,collector_set_id=0,obs_domain_id=0,obs_point_id=0,egress)",
	"delete_field:tun_metadata3",
	"encap(mpls_mc)",
	"clone(ct(commit,nat(src=1.2.3.4)),note:01.02.03.04.05.06)",
	"clone(conjunction(7,2/2),note:01.02.03.04.05.06)",
}

func TestNXMiscTexts(t *testing.T) {
	for _, s := range nxtMiscTexts {
		t.Run(s, func(t *testing.T) {
			a := nxtParse(t, Context{Version: 4}, s)
			if got := nxtText(t, a); got != s {
				t.Errorf("prints %s", got)
			}
			bin := nxtBin(t, a)
			d, err := nxtDecode(Context{Version: 4}, bin)
			if err != nil {
				t.Fatalf("%x: %v", bin, err)
			}
			if got := nxtText(t, d); got != s {
				t.Errorf("%x decodes to %s", bin, got)
			}
			nxtTruncations(t, bin, false)
			nxtOracle(t, bin, s)
		})
	}
}

// nxtOracle checks that ovs-ofctl prints bin as want.
func nxtOracle(t *testing.T, bin []byte, want string) {
	t.Helper()
	path := ovstest.OfctlPath(t)
	cmd := exec.Command(path, "parse-actions", "OpenFlow13")
	cmd.Stdin = strings.NewReader(hex.EncodeToString(bin) + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ovs-ofctl: %v", err)
	}
	got := strings.TrimSpace(string(out))
	if got != "actions="+want {
		t.Errorf("ovs-ofctl prints %x as\n%s\nwant actions=%s", bin, got, want)
	}
}

// nxtOracleErr checks that ovs-ofctl rejects bin with the error name (or
// accepts it, for name "").
func nxtOracleErr(t *testing.T, bin []byte, name string) {
	t.Helper()
	path, err := exec.LookPath("ovs-ofctl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ovs-ofctl missing")
		}
		return
	}
	cmd := exec.Command(path, "parse-actions", "OpenFlow13")
	cmd.Stdin = strings.NewReader(hex.EncodeToString(bin) + "\n")
	out, _ := cmd.Output() // it exits 0 even for bad actions
	got := strings.TrimSpace(string(out))
	want := "bad OpenFlow13 actions: " + name
	if name == "" {
		if !strings.HasPrefix(got, "actions=") {
			t.Errorf("ovs-ofctl rejects %x: %s", bin, got)
		}
	} else if got != want {
		t.Errorf("ovs-ofctl says %q for %x, want %q", got, bin, want)
	}
}

// nxtBadDecodes are encodings OVS rejects (checked with ovs-ofctl).
var nxtBadDecodes = []struct{ hex, err string }{
	{"ffff001000002320002200010000002a", "NXBAC_BAD_CONJUNCTION"},               // one clause
	{"ffff00100000232000220202 0000002a", "NXBAC_BAD_CONJUNCTION"},              // clause 2 of 2
	{"ffff0018000023200031 05dc0000 00010004 000000000000", ""},                 // ok (parity check)
	{"ffff001800002320001d000000005BA0000087070000B26E", "OFPBAC_BAD_ARGUMENT"}, // probability 0
	{"ffff0020000023200029303900005BA0000087070000B26EDDD5030000000000", "OFPBAC_BAD_ARGUMENT"},
	{"ffff0020000023200029303900005BA0000087070000B26EDDD5020000000001", "NXBRC_MUST_BE_ZERO"},
	{"ffff001000002320002e000000012345", "NXBAC_BAD_HEADER_TYPE"},
	{"ffff001800002320002f00000000fffe0000000000000000", "NXBAC_UNKNOWN_ED_PROP"},
	{"ffff001800002320002e00000001894f0004030501000000", "NXBAC_UNKNOWN_ED_PROP"},
	{"ffff001800002320002e00000001894f0004010901000000", "OFPBAC_BAD_LEN"},
	{"ffff002800002320000c000100000000000000020005000000000000000000000004000800000000", "OFPBAC_BAD_LEN"},
	{"ffff002800002320000c000200000000000000020002000000000000000000000004000800000000", "OFPBAC_BAD_ARGUMENT"},
	{"ffff002000002320000a00070032000000000000000000000000001f00010004", "OFPBAC_BAD_ARGUMENT"},
	{"ffff002000002320000a00000032000000000002000000000000000000010004", "OFPBAC_BAD_ARGUMENT"},
	{"ffff001000002320002a000000000000", ""},
	{"ffff00100000232000ff000000000000", "OFPBAC_BAD_VENDOR_TYPE"},
}

// TestNXVersions checks encap, decap and dec_nsh_ttl are unknown before
// OpenFlow 1.3 (ovs-ofctl: OFPBAC_BAD_VENDOR_TYPE).
func TestNXVersions(t *testing.T) {
	for _, h := range []string{"ffff001000002320002e000000018847", "ffff0010000023200030000000000000",
		"ffff001000002320002f00000000fffe"} {
		b, _ := hex.DecodeString(h)
		for v := uint8(1); v <= 6; v++ {
			l, err := DecodeList(Context{Version: v}, b)
			if err == nil {
				err = Validate(Context{Version: v}, l)
			}
			if (v < 4) != (err != nil) || err != nil && lastColon(err.Error()) != "OFPBAC_BAD_VENDOR_TYPE" {
				t.Errorf("%s in version %d: %v", h, v, err)
			}
		}
	}
}

// TestConjunctionAlone checks the rule that a list with a conjunction
// holds only conjunctions and notes (ofpacts_verify), inside clone.
func TestConjunctionAlone(t *testing.T) {
	const h = "ffff005000002320002a000000000000ffff00300000232000230001000000000000ff0000000000ffff00180000232000240000000100010102030400000000ffff0010000023200022010200000007"
	b, _ := hex.DecodeString(h)
	nxtOracleErr(t, b, "NXBAC_BAD_CONJUNCTION")
	l, err := DecodeList(Context{Version: 4}, b)
	if err == nil {
		err = Validate(Context{Version: 4}, l)
	}
	if err == nil || lastColon(err.Error()) != "NXBAC_BAD_CONJUNCTION" {
		t.Errorf("got %v", err)
	}
	if err := nxaConjunctionRule(List{&Conjunction{ID: 1, NClauses: 2}, &Note{Data: []byte{1}}}); err != nil {
		t.Errorf("conjunction with note: %v", err)
	}
}

func TestNXMiscBad(t *testing.T) {
	for _, c := range nxtBadDecodes {
		b, err := hex.DecodeString(strings.ReplaceAll(c.hex, " ", ""))
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		nxtOracleErr(t, b, c.err)
		_, err = nxtDecode(Context{Version: 4}, b)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%x: %v", b, err)
		case c.err != "" && (err == nil || lastColon(err.Error()) != c.err):
			t.Errorf("%x: got %v, want %s", b, err, c.err)
		}
	}
}

// nxtMine are the subtypes this family decodes.
var nxtMine = map[uint16]bool{
	nxastMultipath: true, nxastBundle: true, nxastBundleLoad: true, nxastWriteMetadata: true,
	nxastSample: true, nxastSample2: true, nxastSample3: true, nxastConjunction: true,
	nxastClone: true, nxastEncap: true, nxastDecap: true, nxastDecNSHTTL: true,
	nxastCheckPktLarger: true, nxastDeleteField: true, nxastDebugSlow: true,
	nxastDebugRecirc: true, nxastCT: true, nxastNAT: true, nxastLearn: true, nxastLearn2: true,
}

func FuzzNXDecode(f *testing.F) {
	for _, v := range nxtVectors(f, nxastMultipath, nxastBundle, nxastBundleLoad, nxastSample,
		nxastSample2, nxastSample3, nxastCheckPktLarger, nxastDeleteField, nxastEncap,
		nxastCT, nxastNAT, nxastLearn, nxastLearn2, nxastConjunction) {
		f.Add(v.bin)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 16 || len(b)%8 != 0 || !nxtMine[be.Uint16(b[8:])] {
			return
		}
		b[0], b[1] = 0xff, 0xff
		be.PutUint16(b[2:], uint16(len(b)))
		be.PutUint32(b[4:], 0x2320)
		a, err := nxtDecode(Context{Version: 4}, b)
		if err == nil {
			nxtStable(t, a)
		}
	})
}
