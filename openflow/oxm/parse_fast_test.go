package oxm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// macBySplit is parseMAC as first written (strings.Split and ParseUint):
// the reference the hand-written scanner must agree with.
func macBySplit(s string) ([]byte, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return nil, false
	}
	v := make([]byte, 6)
	for k, p := range parts {
		x, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) == 0 || len(p) > 2 {
			return nil, false
		}
		v[k] = byte(x)
	}
	return v, true
}

func TestParseMACAgrees(t *testing.T) {
	cases := []string{"", ":", "00:11:22:33:44:55", "0:1:2:3:4:5", "aA:Bb:cc:DD:ee:FF",
		"000:11:22:33:44:55", "00:11:22:33:44", "00:11:22:33:44:55:", "00:11:22:33:44:5g",
		"+0:11:22:33:44:55", "0x:11:22:33:44:55", "00::22:33:44:55", "_0:11:22:33:44:55"}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0aF:g_x+"
	for range 20000 {
		b := make([]byte, r.IntN(20))
		for k := range b {
			b[k] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		want, ok := macBySplit(s)
		got, err := parseMAC(s, nil)
		if ok != (err == nil) || !bytes.Equal(got, want) {
			t.Fatalf("parseMAC(%q) = %x, %v; want %x, ok %v", s, got, err, want, ok)
		}
	}
}

func TestSlotsFit(t *testing.T) {
	if len(slotMetas) > maxSlots {
		t.Errorf("%d slots of %d: raise maxSlots", len(slotMetas), maxSlots)
	}
	t.Logf("%d slots", len(slotMetas))
}

// Build's fields share one array: each slice must be capped so that an
// append to one cannot overwrite the next.
func TestBuildCapsSlices(t *testing.T) {
	var b Builder
	for _, kv := range [][2]string{{"eth_type", "0x800"}, {"ip_src", "10.0.0.1/8"},
		{"metadata", "0x5"}, {"reg0", "0x1/0xff"}} {
		if err := b.AddText(ByName(kv[0]), kv[1], nil); err != nil {
			t.Fatal(err)
		}
	}
	m := b.Match()
	before := fmt.Sprint(m.Fields)
	for _, f := range m.Fields {
		if cap(f.Value) != len(f.Value) || cap(f.Mask) != len(f.Mask) {
			t.Errorf("%v: value or mask not capped", f)
		}
		_ = append(f.Value, 0xee)
		_ = append(f.Mask, 0xee)
	}
	if after := fmt.Sprint(m.Fields); after != before {
		t.Errorf("append changed the match:\n%s\n%s", before, after)
	}
}

// Builder.AddText parses as ParseValueCtx does, and Build of the parsed
// values gives what the Builder gives.
func TestBuilderAgreesWithBuild(t *testing.T) {
	sets := [][2]string{{"eth_type", "0x86dd"}, {"ipv6_src", "fe80::1/64"}, {"nw_proto", "6"},
		{"tcp_dst", "80"}, {"tcp_flags", "+syn-ack"}, {"eth_src", "00:11:22:33:44:55/ff:ff:ff:00:00:00"},
		{"vlan_tci", "0x1005/0x1fff"}, {"ct_state", "+trk+est"}, {"in_port", "LOCAL"}, {"ip_frag", "later"}}
	var b Builder
	var list []Set
	for _, kv := range sets {
		i := ByName(kv[0])
		v, m, err := i.ParseValue(kv[1])
		if err != nil {
			t.Fatal(kv, err)
		}
		list = append(list, Set{Info: i, Value: v, Mask: m})
		if err := b.AddText(i, kv[1], nil); err != nil {
			t.Fatal(kv, err)
		}
	}
	got, want := b.Match(), Build(list)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got.Fields) == 0 {
		t.Errorf("Builder: %v\nBuild:   %v", got, want)
	}
	if m := Build(nil); m.Fields != nil {
		t.Errorf("Build(nil) = %#v, want nil fields", m)
	}
}

func BenchmarkNormalize(b *testing.B) {
	var bl Builder
	for _, kv := range [][2]string{{"eth_type", "0x800"}, {"ip_dst", "10.0.0.0/8"}, {"nw_proto", "17"},
		{"udp_dst", "53"}, {"metadata", "0x5"}, {"reg14", "0x1"}, {"ct_state", "+trk-new"}} {
		if err := bl.AddText(ByName(kv[0]), kv[1], nil); err != nil {
			b.Fatal(err)
		}
	}
	m := bl.Match()
	b.ReportAllocs()
	for b.Loop() {
		c := m
		c.Normalize()
	}
}
