package openflow

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

func flowPart(xid uint32, more bool, tables ...uint8) *FlowStatsReply {
	m := &FlowStatsReply{Header: Header{Version: Version13, XID: xid}}
	if more {
		m.Flags = MultipartMore
	}
	for _, tb := range tables {
		m.Stats = append(m.Stats, FlowStats{TableID: tb})
	}
	return m
}

// decoded returns m as Decode gives it, with its length field.
func decoded(t *testing.T, m Message) Message {
	t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestReassembler(t *testing.T) {
	var r Reassembler
	// A single-part reply comes back at once.
	one := decoded(t, flowPart(1, false, 1))
	if got, err := r.Add(one); err != nil || got != one {
		t.Fatalf("single part: %v, %v", got, err)
	}
	// Two replies interleaved.
	steps := []struct {
		m    Message
		done bool
	}{
		{decoded(t, flowPart(2, true, 1, 2)), false},
		{decoded(t, &MeterConfigReply{Header: Header{XID: 3}, Flags: MultipartMore, Meters: []MeterConfig{{MeterID: 1}}}), false},
		{decoded(t, flowPart(2, true, 3)), false},
		{decoded(t, &MeterConfigReply{Header: Header{XID: 3}, Meters: []MeterConfig{{MeterID: 2}}}), true},
		{decoded(t, flowPart(2, false, 4)), true},
	}
	var whole []Message
	for i, s := range steps {
		got, err := r.Add(s.m)
		if err != nil || (got != nil) != s.done {
			t.Fatalf("step %d: %v, %v", i, got, err)
		}
		if got != nil {
			whole = append(whole, got)
		}
	}
	mc := whole[0].(*MeterConfigReply)
	if len(mc.Meters) != 2 || mc.Meters[1].MeterID != 2 || mc.Flags != 0 {
		t.Errorf("meters: %+v", mc)
	}
	fs := whole[1].(*FlowStatsReply)
	var tables []uint8
	for _, s := range fs.Stats {
		tables = append(tables, s.TableID)
	}
	if !reflect.DeepEqual(tables, []uint8{1, 2, 3, 4}) || fs.Flags != 0 || fs.XID != 2 {
		t.Errorf("flows: tables %v flags %d xid %d", tables, fs.Flags, fs.XID)
	}
	if r.Pending() != 0 {
		t.Errorf("pending %d", r.Pending())
	}
}

func TestReassemblerRaw(t *testing.T) {
	var r Reassembler
	p1 := decoded(t, &MultipartReply{Header: Header{XID: 5}, MPType: MultipartTable, Flags: MultipartMore, Body: []byte{1, 2}})
	p2 := decoded(t, &MultipartReply{Header: Header{XID: 5}, MPType: MultipartTable, Body: []byte{3}})
	if got, err := r.Add(p1); got != nil || err != nil {
		t.Fatal(got, err)
	}
	got, err := r.Add(p2)
	if err != nil || !reflect.DeepEqual(got.(*MultipartReply).Body, []byte{1, 2, 3}) {
		t.Errorf("raw: %+v, %v", got, err)
	}
}

func TestReassemblerLimits(t *testing.T) {
	r := Reassembler{MaxParts: 3, MaxBytes: 1 << 20, MaxPending: 2}
	for i := 0; i < 3; i++ {
		if _, err := r.Add(decoded(t, flowPart(1, true, 1))); err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	if _, err := r.Add(decoded(t, flowPart(1, true, 1))); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("fourth part: %v", err)
	}
	if _, err := r.Add(decoded(t, flowPart(1, true, 1))); err != nil || r.Pending() != 1 {
		t.Errorf("after a limit the xid starts over: %v, pending %d", err, r.Pending())
	}
	r.Add(decoded(t, flowPart(2, true, 1)))
	if _, err := r.Add(decoded(t, flowPart(3, true, 1))); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("third pending xid: %v", err)
	}
	r.Forget(1)
	r.Forget(2)
	if r.Pending() != 0 {
		t.Errorf("pending %d after Forget", r.Pending())
	}

	small := Reassembler{MaxBytes: 100}
	small.Add(decoded(t, flowPart(1, true, 1)))
	if _, err := small.Add(decoded(t, flowPart(1, true, 1))); !errors.Is(err, ErrReassemblyLimit) {
		t.Errorf("bytes limit: %v", err)
	}
}

func TestReassemblerMismatch(t *testing.T) {
	var r Reassembler
	r.Add(decoded(t, flowPart(1, true, 1)))
	if _, err := r.Add(decoded(t, &MeterConfigReply{Header: Header{XID: 1}})); err == nil {
		t.Error("meter config part after flow stats accepted")
	}
	if r.Pending() != 0 {
		t.Error("a failed reply stays pending")
	}
	r.Add(decoded(t, &MultipartReply{Header: Header{XID: 2}, MPType: MultipartPortStats, Flags: MultipartMore}))
	if _, err := r.Add(decoded(t, &MultipartReply{Header: Header{XID: 2}, MPType: MultipartTable})); err == nil {
		t.Error("table part after port stats accepted")
	}
	if _, err := r.Add(&BarrierReply{}); err == nil {
		t.Error("barrier reply accepted")
	}
}

func entries(m Message) int {
	switch m := m.(type) {
	case *FlowStatsReply:
		return len(m.Stats)
	case *GroupDescReply:
		return len(m.Groups)
	case *MeterConfigReply:
		return len(m.Meters)
	case *PortDescReply:
		return len(m.Ports)
	case *FlowMonitorReply:
		return len(m.Updates)
	case *MultipartReply:
		return len(m.Body)
	}
	return -1
}

// TestReassemblerNewKinds joins port description and flow monitor
// replies, 1.3's ONF flow monitor framing included, and refuses a part of
// another kind.
func TestReassemblerNewKinds(t *testing.T) {
	var r Reassembler
	u := FlowUpdate{Event: FlowUpdateAbbrev, XID: 1}
	steps := []Message{
		decoded(t, &PortDescReply{Header: hdr(6, 1), Flags: MultipartMore, Ports: []Port{testPort(1, "a")}}),
		decoded(t, &FlowMonitorReply{Header: hdr(4, 2), Flags: MultipartMore, Updates: []FlowUpdate{u, u}}),
		decoded(t, &PortDescReply{Header: hdr(6, 1), Ports: []Port{testPort(2, "b"), testPort(3, "c")}}),
		decoded(t, &FlowMonitorReply{Header: hdr(4, 2), Updates: []FlowUpdate{u}}),
	}
	var whole []Message
	for i, m := range steps {
		w, err := r.Add(m)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if w != nil {
			whole = append(whole, w)
		}
	}
	if len(whole) != 2 || entries(whole[0]) != 3 || entries(whole[1]) != 3 || whole[0].(*PortDescReply).Ports[2].Name != "c" {
		t.Fatalf("whole replies %+v", whole)
	}
	r.Add(decoded(t, &PortDescReply{Header: hdr(6, 3), Flags: MultipartMore}))
	if _, err := r.Add(decoded(t, &FlowMonitorReply{Header: hdr(6, 3)})); err == nil {
		t.Error("flow monitor part after port desc accepted")
	}
}

// FuzzReassembler feeds a stream of frames to a Reassembler: it must keep
// to its limits, and a whole reply must hold every part's entries.
func FuzzReassembler(f *testing.F) {
	var stream []byte
	for _, p := range []Message{flowPart(1, true, 1, 2), flowPart(2, true, 3), flowPart(1, false, 4), flowPart(2, false)} {
		b, _ := p.AppendBinary(nil)
		stream = append(stream, b...)
	}
	f.Add(stream)
	for _, b := range seedFrames(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := Reassembler{MaxParts: 8, MaxBytes: 4096, MaxPending: 3}
		want := map[uint32]int{}
		rd := bytes.NewReader(in)
		for {
			frame, err := ReadMessage(rd, nil)
			if err != nil {
				return
			}
			m, err := Decode(frame)
			if err != nil || entries(m) < 0 {
				continue
			}
			xid := m.Hdr().XID
			whole, err := r.Add(m)
			if err != nil {
				delete(want, xid)
				continue
			}
			want[xid] += entries(m)
			if whole != nil {
				if entries(whole) != want[xid] {
					t.Fatalf("xid %d: %d entries, parts had %d", xid, entries(whole), want[xid])
				}
				delete(want, xid)
			}
			if r.Pending() > 3 {
				t.Fatalf("%d pending", r.Pending())
			}
		}
	})
}

// A shallow flow stats reply has every entry's bytes and fields but not
// its match and instructions; Decode makes it what Decode of the whole
// reply gives. A bad match length fails either way.
func TestFlowStatsShallow(t *testing.T) {
	full := &FlowStatsReply{Header: Header{Version: Version13, XID: 9}}
	fm := FlowStats{TableID: 8, Priority: 50, Cookie: 0x77}
	fm.Match.Fields = []oxm.Field{{Header: oxm.ByName("metadata").Header, Value: []byte{0, 0, 0, 0, 0, 0, 0, 1}}}
	fm.Instructions = action.Instructions{&action.GotoTable{Table: 9}}
	full.Stats = append(full.Stats, fm, FlowStats{TableID: 3, Priority: 1})
	b, err := full.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeShallow(b)
	if err != nil {
		t.Fatal(err)
	}
	sh := m.(*FlowStatsReply)
	if !sh.Shallow || len(sh.Stats) != 2 || sh.Stats[0].RawMatch == nil || sh.Stats[0].Cookie != 0x77 {
		t.Fatalf("shallow: %+v", sh)
	}
	for i := range sh.Stats {
		if err := sh.Stats[i].Decode(Version13); err != nil {
			t.Fatal(err)
		}
	}
	sh.Shallow = false
	if !reflect.DeepEqual(sh, whole) {
		t.Fatalf("shallow then Decode:\n%+v\nwant\n%+v", sh, whole)
	}
	bad := bytes.Clone(b)
	bad[multipartLen+flowStatsLen+3] = 0xf0 // the first match's length
	if _, err := DecodeShallow(bad); err == nil {
		t.Fatal("shallow: bad match length not caught")
	}
}

// TestFlowStatsShallowVersions: the same flow dumped in OpenFlow 1.3, 1.4
// and 1.5 (1.5's ofp15_flow_desc and OXS statistics) decodes shallow to
// the same raw match and instructions and the same fields, which is what
// a reader comparing flows by their bytes relies on.
func TestFlowStatsShallowVersions(t *testing.T) {
	fs := FlowStats{TableID: 8, DurationSec: 3, DurationNsec: 4, Priority: 50, IdleTimeout: 6, HardTimeout: 7,
		Flags: FlowSendFlowRem, Importance: 9, Cookie: 0x77, PacketCount: 10, ByteCount: 11, IdleAge: 2}
	fs.Match.Fields = []oxm.Field{{Header: oxm.ByName("metadata").Header, Value: []byte{0, 0, 0, 0, 0, 0, 0, 1}}}
	fs.Instructions = action.Instructions{&action.GotoTable{Table: 9}}
	var first *FlowStats
	for _, v := range []uint8{Version13, Version14, Version15} {
		b, err := (&FlowStatsReply{Header: hdr(v, 1), Stats: []FlowStats{fs, {Priority: 1}}}).AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeShallow(b)
		if err != nil {
			t.Fatalf("1.%d: %v", v-1, err)
		}
		got := m.(*FlowStatsReply).Stats[0]
		if got.Match.Fields != nil || got.Instructions != nil {
			t.Errorf("1.%d: shallow decoded the match or instructions", v-1)
		}
		want := fs
		if v < Version14 {
			want.Importance = 0
		}
		if v < Version15 {
			want.IdleAge = 0
		}
		if got.TableID != want.TableID || got.DurationSec != 3 || got.DurationNsec != 4 || got.Priority != 50 ||
			got.Importance != want.Importance || got.Cookie != 0x77 || got.PacketCount != 10 || got.ByteCount != 11 ||
			got.IdleAge != want.IdleAge || got.Flags != FlowSendFlowRem || got.IdleTimeout != 6 || got.HardTimeout != 7 {
			t.Errorf("1.%d: %+v", v-1, got)
		}
		if first == nil {
			first = &got
		} else if !bytes.Equal(got.RawMatch, first.RawMatch) || !bytes.Equal(got.RawInstructions, first.RawInstructions) {
			t.Errorf("1.%d: raw bytes differ from 1.3's:\n%x %x\n%x %x", v-1, got.RawMatch, got.RawInstructions, first.RawMatch, first.RawInstructions)
		}
		if err := got.Decode(v); err != nil || !got.Match.Equal(&fs.Match) || len(got.Instructions) != 1 {
			t.Errorf("1.%d: Decode: %v %+v", v-1, err, got)
		}
	}
}

// TestFlowMonitorShallow: a shallow flow monitor reply has the updates'
// fields and raw bytes, and Decode gives each what a whole decoding does.
func TestFlowMonitorShallow(t *testing.T) {
	fm := flowModDelete15()
	fm.Instructions = action.Instructions{&action.GotoTable{Table: 9}}
	for _, v := range []uint8{Version13, Version14, Version15} {
		b, err := (&FlowMonitorReply{Header: hdr(v, 0), Updates: flowUpdates(fm, v >= Version14)}).AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := DecodeShallow(b)
		if err != nil {
			t.Fatal(err)
		}
		sh := m.(*FlowMonitorReply)
		if !sh.Shallow || sh.Updates[0].RawMatch == nil || sh.Updates[0].Match.Fields != nil || sh.Updates[0].Priority != 10 {
			t.Fatalf("1.%d shallow: %+v", v-1, sh.Updates[0])
		}
		for i := range sh.Updates {
			if err := sh.Updates[i].Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		sh.Shallow = false
		if !reflect.DeepEqual(sh, whole) {
			t.Errorf("1.%d: shallow then Decode:\n%+v\nwant\n%+v", v-1, sh, whole)
		}
	}
}
