package oxm

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"
)

// TestAppendIPv6 checks inet_ntop's forms, as OVS 3.1 printed them in
// dump-flows (see ofctl's testdata/ovn-extra.txt, table 60).
func TestAppendIPv6(t *testing.T) {
	for in, want := range map[string]string{
		"::10.0.0.1":            "::10.0.0.1",
		"::1:2":                 "::0.1.0.2",
		"::ffff:10.0.0.1":       "::ffff:10.0.0.1",
		"::ffff:0:0":            "::ffff:0.0.0.0",
		"0:0:0:0:0:ffff:0:1":    "::ffff:0.0.0.1",
		"::2.0.0.0":             "::2.0.0.0",
		"::100":                 "::100",
		"2001:db8:0:0:1:0:0:1":  "2001:db8::1:0:0:1",
		"1::":                   "1::",
		"::":                    "::",
		"::1":                   "::1",
		"fe80::1":               "fe80::1",
		"1:0:1:0:1:0:1:0":       "1:0:1:0:1:0:1:0",
		"1:0:0:1:0:0:0:1":       "1:0:0:1::1",
		"ffff::255.255.255.255": "ffff::ffff:ffff",
	} {
		a := netip.MustParseAddr(in)
		if got := string(AppendIPv6(nil, a.As16())); got != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	// Whatever it writes reads back as the same address.
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		var a [16]byte
		for k := range a {
			if r.IntN(3) > 0 { // many zero bytes, so that runs of zeros occur
				a[k] = byte(r.Uint32())
			}
		}
		s := string(AppendIPv6(nil, a))
		if b, err := netip.ParseAddr(s); err != nil || b.As16() != a {
			t.Fatalf("%x: wrote %s, which reads as %v (%v)", a, s, b, err)
		}
	}
}

// TestParseSmallInt: the fast path gives what the general one gives.
func TestParseSmallInt(t *testing.T) {
	ins := []string{"0", "1", "0x0", "0x1", "0X1f", "0123", "255", "256", "65535", "65536", "0xffffffff",
		"4294967296", "0xffffffffffffffff", "18446744073709551615", "18446744073709551616", "0x",
		"1_000", "+5", "-1", "0b1", "0o7", "0x_1", "abc", "", "0xg", "00", "0x00ff"}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		ins = append(ins, strconv.FormatUint(r.Uint64()>>r.IntN(64), 10), "0x"+strconv.FormatUint(r.Uint64()>>r.IntN(64), 16))
	}
	for _, s := range ins {
		for _, n := range []int{0, 1, 2, 3, 4, 6, 8, 16} {
			fast, ok := parseSmallInt(s, n, nil)
			if !ok {
				continue
			}
			slow, err := parseBigInt(s, n, nil)
			if err != nil || !bytes.Equal(fast, slow) {
				t.Errorf("%q in %d bytes: fast %x, general %x (%v)", s, n, fast, slow, err)
			}
		}
	}
}
