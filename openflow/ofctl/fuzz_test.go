package ofctl

import (
	"bytes"
	"testing"
)

// FuzzParseFlow checks parse -> print -> parse: whatever ParseFlow takes,
// AppendFlow prints as a line that ParseFlow reads back to the same
// flow_mod, compared as text and as bytes on the wire; both without a TLV
// map and with ovn-extra's (tun_metadata0 of 4 bytes).
func FuzzParseFlow(f *testing.F) {
	for _, l := range ovnSampleLines(f, "flows.txt") {
		f.Add(l)
	}
	for _, l := range ovnExtraLines(f) {
		f.Add(l)
	}
	for _, name := range []string{"flows.txt", "flows-input.txt"} {
		for _, l := range testsuiteLines(f, name) {
			f.Add(l)
		}
	}
	f.Add("delete_strict priority=5,out_port=LOCAL,out_group=3")
	f.Add("modify cookie=0x1/0xff,ip actions=drop")
	f.Add(" cookie=0x5, duration=1.2s, table=2, n_packets=3, idle_timeout=5, send_flow_rem importance=7, priority=7 actions=drop")
	extra := extraContext()
	f.Fuzz(func(t *testing.T, s string) {
		fuzzFlow(t, s, nil)
		fuzzFlow(t, s, extra)
	})
}

func fuzzFlow(t *testing.T, s string, ctx *Context) {
	fm, err := ParseFlow(s, ctx)
	if err != nil {
		return
	}
	text := AppendFlow(nil, fm)
	fm2, err := ParseFlow(string(text), ctx)
	if err != nil {
		t.Fatalf("%q prints as %q, which does not parse: %v", s, text, err)
	}
	if text2 := AppendFlow(nil, fm2); !bytes.Equal(text, text2) {
		t.Fatalf("%q prints as %q, which prints as %q", s, text, text2)
	}
	if unprintable(&fm.Match) {
		return
	}
	b1, err1 := fm.AppendBinary(nil)
	b2, err2 := fm2.AppendBinary(nil)
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q and %q: encode errors %v, %v", s, text, err1, err2)
	}
	if bytes.Equal(b1, b2) {
		return
	}
	// Some of what ovs-ofctl takes prints, as OVS prints it, as text
	// that encodes otherwise (enqueue's output takes the whole packet,
	// output:N does not; a NAT range of one port prints as that port; a
	// REG_LOAD2 as a set_field): then the printed text is stable.
	fm3, err := ParseFlow(string(AppendFlow(nil, fm2)), ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b3, _ := fm3.AppendBinary(nil); !bytes.Equal(b2, b3) {
		t.Fatalf("%q prints as %q, which encodes as %x, then as %x", s, text, b2, b3)
	}
}

// FuzzParseGroup is FuzzParseFlow for groups.
func FuzzParseGroup(f *testing.F) {
	for _, l := range ovnSampleLines(f, "groups.txt") {
		f.Add(l)
	}
	for _, l := range fileLines(f, ovnExtraGroupsFile) {
		f.Add(l)
	}
	for _, name := range []string{"groups.txt", "groups-input.txt"} {
		for _, l := range testsuiteLines(f, name) {
			f.Add(l)
		}
	}
	f.Add("group_id=2,type=ff,bucket=watch_port:5,actions=output:5,bucket=watch_group:3,actions=group:3")
	f.Add("delete group_id=4")
	f.Fuzz(func(t *testing.T, s string) {
		gm, err := ParseGroup(s, nil)
		if err != nil {
			return
		}
		text := AppendGroup(nil, gm)
		gm2, err := ParseGroup(string(text), nil)
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", s, text, err)
		}
		if text2 := AppendGroup(nil, gm2); !bytes.Equal(text, text2) {
			t.Fatalf("%q prints as %q, which prints as %q", s, text, text2)
		}
		b1, err1 := gm.AppendBinary(nil)
		b2, err2 := gm2.AppendBinary(nil)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(b1, b2) {
			t.Fatalf("%q and %q encode differently:\n%x (%v)\n%x (%v)", s, text, b1, err1, b2, err2)
		}
	})
}

// FuzzParseMeter is FuzzParseFlow for meters.
func FuzzParseMeter(f *testing.F) {
	for _, l := range ovnSampleLines(f, "meters.txt") {
		f.Add(l)
	}
	for _, l := range fileLines(f, ovnExtraMetersFile) {
		f.Add(l)
	}
	for _, name := range []string{"meters.txt", "meters-input.txt"} {
		for _, l := range testsuiteLines(f, name) {
			f.Add(l)
		}
	}
	f.Add("meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200")
	f.Add("delete meter=3")
	f.Fuzz(func(t *testing.T, s string) {
		mm, err := ParseMeter(s, nil)
		if err != nil {
			return
		}
		text := AppendMeter(nil, mm)
		mm2, err := ParseMeter(string(text), nil)
		if err != nil {
			t.Fatalf("%q prints as %q, which does not parse: %v", s, text, err)
		}
		if text2 := AppendMeter(nil, mm2); !bytes.Equal(text, text2) {
			t.Fatalf("%q prints as %q, which prints as %q", s, text, text2)
		}
		b1, err1 := mm.AppendBinary(nil)
		b2, err2 := mm2.AppendBinary(nil)
		if (err1 == nil) != (err2 == nil) || !bytes.Equal(b1, b2) {
			t.Fatalf("%q and %q encode differently:\n%x (%v)\n%x (%v)", s, text, b1, err1, b2, err2)
		}
	})
}
