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
	case *MultipartReply:
		return len(m.Body)
	}
	return -1
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
