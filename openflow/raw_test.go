package openflow

import (
	"bytes"
	"testing"
)

// A Raw mod built from a mod's encoded parts encodes to the mod's bytes and
// decodes back to the same parts, in every version it supports.
func TestRawModsMatchTheirMods(t *testing.T) {
	for _, v := range []uint8{Version13, Version14, Version15} {
		fm := flowModApply()
		fm.Command = FlowAdd // importance is an ADD's
		fm.Version, fm.XID, fm.Importance, fm.Flags = v, 9, 7, FlowSendFlowRem
		fm.Cookie, fm.IdleTimeout, fm.HardTimeout = 0xfeed, 10, 20
		want, err := fm.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		match, _ := fm.Match.AppendOXM(nil)
		ins, _ := fm.Instructions.AppendBinary(nil)
		raw := &RawFlowMod{Header: Header{Version: v, XID: 9}, Command: fm.Command, TableID: fm.TableID,
			Priority: fm.Priority, Cookie: fm.Cookie, IdleTimeout: 10, HardTimeout: 20, Flags: fm.Flags,
			Importance: 7, Match: string(match), Instructions: string(ins)}
		got, err := raw.AppendBinary(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("version %d: raw flow_mod %x, %v\nwant %x", v, got, err, want)
		}
		var back RawFlowMod
		if err := back.UnmarshalBinary(got); err != nil || back.Match != raw.Match || back.Instructions != raw.Instructions ||
			back.Cookie != raw.Cookie || back.Importance != 7 && v >= Version14 {
			t.Fatalf("version %d: decoded %+v, %v", v, back, err)
		}
	}
	gm := &GroupMod{Header: Header{Version: Version13, XID: 4}, Command: GroupModify, Type: GroupTypeSelect, GroupID: 3,
		Buckets: []Bucket{{Weight: 5, WatchPort: PortAny, WatchGroup: GroupAny}, {Weight: 1, WatchPort: 2, WatchGroup: GroupAny}}}
	want, _ := gm.AppendBinary(nil)
	bs, err := AppendBuckets(nil, Version13, gm.Buckets)
	if err != nil {
		t.Fatal(err)
	}
	rg := &RawGroupMod{Header: Header{Version: Version13, XID: 4}, Command: GroupModify, Type: GroupTypeSelect, GroupID: 3, Buckets: string(bs)}
	if got, err := rg.AppendBinary(nil); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("raw group_mod %x, %v\nwant %x", got, err, want)
	}
	var backG RawGroupMod
	err = backG.UnmarshalBinary(want)
	rg.Header = backG.Header
	if err != nil || backG != *rg {
		t.Fatalf("decoded %+v, %v", backG, err)
	}
	mm := &MeterMod{Header: Header{Version: Version13, XID: 5}, Command: MeterAdd, Flags: MeterKBPS | MeterBurst, MeterID: 2,
		Bands: []MeterBand{{Type: MeterBandDrop, Rate: 100, BurstSize: 10}}}
	want, _ = mm.AppendBinary(nil)
	bands, _ := AppendMeterBands(nil, mm.Bands)
	rm := &RawMeterMod{Header: Header{Version: Version13, XID: 5}, Command: MeterAdd, Flags: mm.Flags, MeterID: 2, Bands: string(bands)}
	if got, err := rm.AppendBinary(nil); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("raw meter_mod %x, %v\nwant %x", got, err, want)
	}
	var backM RawMeterMod
	err = backM.UnmarshalBinary(want)
	rm.Header = backM.Header
	if err != nil || backM != *rm {
		t.Fatalf("decoded %+v, %v", backM, err)
	}
}

func TestRawModTruncations(t *testing.T) {
	raw := &RawFlowMod{Header: Header{Version: Version13}, Match: "\x00\x01\x00\x04\x00\x00\x00\x00"}
	b, err := raw.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		c := append([]byte(nil), b[:n]...)
		if n >= 4 {
			be.PutUint16(c[2:], uint16(n))
		}
		if err := new(RawFlowMod).UnmarshalBinary(c); err == nil {
			t.Errorf("%d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := (&RawFlowMod{Match: "abc"}).AppendBinary(nil); err == nil {
		t.Error("a match not padded to 8 was written")
	}
}

// TestRawGroupMod15: a RawGroupMod of OpenFlow 1.5 built from
// AppendGroupBuckets and AppendGroupProperties encodes to GroupMod's bytes
// (OVS's own, goldens15_test.go) and decodes back to the same parts; and a
// MODIFY carries no importance in either flow_mod form, as OVS writes it.
func TestRawGroupMod15(t *testing.T) {
	for _, g := range goldensNew() {
		gm, ok := g.msg.(*GroupMod)
		if !ok || gm.Version != Version15 {
			continue
		}
		bs, err := AppendGroupBuckets(nil, Version15, gm.Type, gm.Buckets)
		if err != nil {
			t.Fatal(err)
		}
		props, err := AppendGroupProperties(nil, gm.Selection, gm.Properties)
		if err != nil {
			t.Fatal(err)
		}
		rg := &RawGroupMod{Header: gm.Header, Command: gm.Command, Type: gm.Type, GroupID: gm.GroupID,
			Buckets: string(bs), CommandBucketID: gm.CommandBucketID, Properties: string(props)}
		want := unhex(t, g.hex)
		got, err := rg.AppendBinary(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: raw %x, %v\nwant %x", g.name, got, err, want)
			continue
		}
		var back RawGroupMod
		if err := back.UnmarshalBinary(want); err != nil {
			t.Fatal(err)
		}
		rg.Header = back.Header
		if back != *rg {
			t.Errorf("%s: decoded %+v\nwant %+v", g.name, back, *rg)
		}
		for n := HeaderLen; n < len(want); n++ {
			c := append([]byte(nil), want[:n]...)
			be.PutUint16(c[2:], uint16(n))
			if n < groupMod15Len {
				if err := new(RawGroupMod).UnmarshalBinary(c); err == nil {
					t.Errorf("%s[:%d] decoded", g.name, n)
				}
			}
		}
	}
	if _, err := AppendBuckets(nil, Version15, nil); err == nil {
		t.Error("AppendBuckets wrote 1.5 buckets without the group type")
	}
	fm := flowModApply() // a MODIFY
	fm.Version, fm.Importance = Version15, 7
	b, _ := fm.AppendBinary(nil)
	raw := &RawFlowMod{Header: Header{Version: Version15, XID: fm.XID}, Command: fm.Command, Importance: 7,
		Match: "\x00\x01\x00\x04\x00\x00\x00\x00", Instructions: string(b[flowModLen+8:])}
	rb, _ := raw.AppendBinary(nil)
	if be.Uint16(b[46:]) != 0 || !bytes.Equal(rb, b) {
		t.Errorf("MODIFY importance: flow_mod %x, raw %x", b, rb)
	}
}
