package ofctl

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// corpusDir is /work/shared/corpus, found from this file's directory.
func corpusDir(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus missing: %v", err)
	}
	return dir
}

// sampleMatches returns the match of every flow in ovn-sample/flows.txt.
func sampleMatches(t testing.TB) []string {
	fh, err := os.Open(filepath.Join(corpusDir(t), "ovn-sample", "flows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		p := strings.Index(line, "priority=")
		a := strings.Index(line, " actions=")
		if p < 0 || a < 0 {
			continue
		}
		rest := line[p:a]
		_, m, _ := strings.Cut(rest, ",")
		out = append(out, m)
	}
	if len(out) == 0 {
		t.Fatal("no flows in sample")
	}
	return out
}

func TestMatchSampleRoundTrip(t *testing.T) {
	for _, s := range sampleMatches(t) {
		m, err := ParseMatch(s, nil)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if got := string(AppendMatch(nil, &m)); got != s {
			t.Errorf("format:\n got %s\nwant %s", got, s)
		}
	}
}

func TestParseMatchErrors(t *testing.T) {
	for _, c := range []struct {
		in  string
		off int
	}{
		{"ip,foo=1", 3},
		{"ip,nw_dst=1.2.3", 10},
		{"reg0[40]=1", 0},
		{"ct_state=+trk-bogus", 9},
		{"in_port=0x1/0x1", 8},
		{"geneve=1", 0},
	} {
		_, err := ParseMatch(c.in, &oxm.Context{Geneve: -1})
		se, ok := err.(*SyntaxError)
		if !ok || se.Offset != c.off {
			t.Errorf("%q: got %v, want offset %d", c.in, err, c.off)
		}
	}
}

func FuzzParseMatch(f *testing.F) {
	for _, s := range sampleMatches(f) {
		f.Add(s)
	}
	for _, s := range extraMatches {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMatch(s, nil)
		if err != nil {
			return
		}
		text := string(AppendMatch(nil, &m))
		m2, err := ParseMatch(text, nil)
		if err != nil {
			t.Fatalf("%q -> %q: %v", s, text, err)
		}
		if !m.Equal(&m2) && !unprintable(&m) && !onlyDefaultPacketType(&m, &m2) {
			t.Fatalf("%q -> %q: parses differently:\n%+v\n%+v", s, text, m.Fields, m2.Fields)
		}
		if text2 := string(AppendMatch(nil, &m2)); text2 != text {
			t.Fatalf("%q -> %q -> %q", s, text, text2)
		}
	})
}

// unprintable says whether m holds what OVS's match_format leaves out, so
// that its text cannot carry it: tun_erspan_idx unless tun_erspan_ver is
// 1, tun_erspan_dir and tun_erspan_hwid unless it is 2 (OVS installs and
// writes them all the same).
func unprintable(m *oxm.Match) bool {
	v := m.View()
	ver := -1
	if x, _ := v.Get("tun_erspan_ver"); x != nil {
		ver = int(x[0])
	}
	if x, _ := v.Get("tun_erspan_idx"); x != nil && ver != 1 {
		return true
	}
	for _, n := range []string{"tun_erspan_dir", "tun_erspan_hwid"} {
		if x, _ := v.Get(n); x != nil && ver != 2 {
			return true
		}
	}
	return false
}

// onlyDefaultPacketType says whether m and m2 differ only by m's
// packet_type (0,0), which OVS writes for a field it leaves out for want
// of its prerequisite (icmp_type=0 alone) and match_format does not print.
func onlyDefaultPacketType(m, m2 *oxm.Match) bool {
	var rest oxm.Match
	for _, f := range m.Fields {
		if oxm.ByField(&f) == oxm.ByName("packet_type") && allZeroBytes(f.Value) && f.Mask == nil {
			continue
		}
		rest.Fields = append(rest.Fields, f)
	}
	return len(rest.Fields) < len(m.Fields) && rest.Equal(m2)
}

// TestSetFieldValues checks oxm's value text against every set_field in
// the fixtures: parse then print gives OVS's text back.
func TestSetFieldValues(t *testing.T) {
	re := regexp.MustCompile(`set_field:([^,]*?)->([a-z_0-9]+)`)
	n := 0
	for _, name := range []string{"ovn-sample/flows.txt", "ovs-vectors/ofp-actions.tsv"} {
		data, err := os.ReadFile(filepath.Join(corpusDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		for _, sm := range re.FindAllStringSubmatch(string(data), -1) {
			i := oxm.ByName(sm[2])
			if i == nil {
				t.Errorf("%s: unknown field", sm[2])
				continue
			}
			v, m, err := i.ParseValue(sm[1])
			if err != nil {
				t.Errorf("%s: %v", sm[0], err)
				continue
			}
			if got := string(i.AppendValue(nil, v, m)); got != sm[1] {
				t.Errorf("%s: printed %s", sm[0], got)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no set_field in fixtures")
	}
}

func TestParseMatchGeneve(t *testing.T) {
	ctx := oxm.NewContext()
	ctx.Geneve = 2
	ctx.TunMetadataLen[2] = 4
	m, err := ParseMatch("geneve=0x1,tun_metadata0=0x102", ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.AppendOXM(nil)
	if err != nil {
		t.Fatal(err)
	}
	// tun_metadata0 is unmapped: its significant bytes only, as ovs-ofctl.
	want := "00010012" + "0001500201020001540400000001" + "000000000000"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("got %s want %s", got, want)
	}
	if got := string(AppendMatch(nil, &m)); got != "tun_metadata0=0x102,tun_metadata2=0x1" {
		t.Errorf("printed %s", got)
	}
	if _, err := ParseMatch("tun_metadata2=0x100000000", ctx); err == nil {
		t.Error("value wider than the mapped length accepted")
	}
}

// TestPortNumbers: ports are decimal only, any 16-bit number or an
// OpenFlow 1.1 reserved one, as ofputil_port_from_string reads them (OVS
// refuses in_port=0x10 and reads in_port=010 as 10).
func TestPortNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"in_port=010": "in_port=10", "in_port=4294967070": "in_port=65310", "in_port=65310": "in_port=65310",
		"in_port=4294967294": "in_port=LOCAL", "in_port=0x10": "", "in_port=65536": "",
	} {
		m, err := ParseMatch(in, nil)
		got := string(AppendMatch(nil, &m))
		if (err != nil) != (want == "") || (err == nil && got != want) {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"actions=4294967070": "actions=65310", "actions=65310": "actions=65310",
		"actions=output:010": "actions=output:10", "actions=output:0x10": "",
	} {
		fm, err := ParseFlow(in, nil)
		if (err != nil) != (want == "") {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if err == nil {
			if got := string(AppendFlow(nil, fm)); got != " "+want {
				t.Errorf("%s: %q, want %q", in, got, " "+want)
			}
		}
	}
}

// TestMatchQuickNotes checks that the quick pass finds every match that
// has something to note (a field without its prerequisite): parseMatch
// then says the same as a pass that keeps every setting.
func TestMatchQuickNotes(t *testing.T) {
	protos := []string{"", "eth", "ip", "ipv6", "tcp", "udp", "sctp", "tcp6", "udp6", "icmp", "icmp6", "arp", "rarp", "mpls",
		"dl_type=0x894f", "ip,nw_proto=6", "ip,nw_frag=later", "tcp,nw_frag=later", "icmp6,icmp_type=135", "icmp6,icmp_type=136",
		"ct_state=+trk", "ip,ct_state=+trk+est", "vlan_tci=0x1000/0x1000", "dl_vlan=5", "packet_type=(1,0x800)"}
	fields := []string{"tp_src=1", "tp_dst=1", "tcp_dst=1", "udp_src=1", "sctp_dst=1", "icmp_type=1", "icmp_code=1",
		"icmpv6_type=1", "nw_src=10.0.0.1", "nw_dst=10.0.0.0/8", "ipv6_src=::1", "nw_tos=4", "ip_dscp=1", "nw_ecn=1", "nw_ttl=1",
		"arp_spa=10.0.0.1", "arp_op=1", "arp_sha=00:00:00:00:00:01", "nd_target=::1", "nd_sll=00:00:00:00:00:01",
		"nd_tll=00:00:00:00:00:01", "mpls_label=5", "nsh_spi=1", "vlan_pcp=1", "dl_vlan_pcp=1", "vlan_vid=0x1001",
		"ct_nw_src=10.0.0.1", "ct_tp_dst=1", "tcp_flags=+syn", "tp_src=0/0", "nw_proto=6", "ipv6_label=1", "in_port=1", "reg0=1",
		"dl_src=00:00:00:00:00:01", "tp_src[0]=1"}
	for _, v := range []uint8{openflow.Version13, openflow.Version15} {
		for _, p := range protos {
			for _, f := range fields {
				s := f
				if p != "" {
					s = p + "," + f
				}
				ctx := testsuiteContext(v)
				var quick, kept []matchNote
				var f1, f2 oxm.Facts
				m1, err1 := parseMatch(s, &ctx.OXM, v, &quick, &f1)
				m2, err2 := parseMatchKeep(s, &ctx.OXM, v, &kept, &f2, true)
				if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(quick, kept) || f1 != f2 {
					t.Errorf("OpenFlow 1.%d: %s: quick %v %v, kept %v %v", v-1, s, quick, err1, kept, err2)
				}
			}
		}
	}
}
