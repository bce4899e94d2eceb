package reconciler

import (
	"slices"
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

func parseFlowT(t *testing.T, text string) *openflow.FlowMod {
	t.Helper()
	fm, err := ofctl.ParseFlow(text, benchContext())
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return fm
}

func statsOf(fm *openflow.FlowMod) openflow.FlowStats {
	return openflow.FlowStats{TableID: fm.TableID, Priority: fm.Priority, Match: fm.Match,
		Cookie: fm.Cookie, Instructions: fm.Instructions}
}

// A flow dump too large for one reply is asked for again table by table,
// and the tables' replies (and the errors of tables the switch lacks) add
// up to the installed flows.
func TestDumpFallsBackToTables(t *testing.T) {
	a := parseFlowT(t, "table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)")
	b := parseFlowT(t, "table=9,priority=50,ip,metadata=0x1,nw_dst=10.0.0.1 actions=drop")
	d := newDump(true, false)
	d.requests(openflow.Version13, 1, 2)
	d.sent(1, 10, 1)
	d.sent(2, 11, 2)
	if tables, err := d.failed([]uint32{11}, "x"); tables || err != "x" {
		t.Fatal("a failed group dump must fail the dump, not go table by table")
	}
	if tables, _ := d.failed([]uint32{10}, "limit"); !tables {
		t.Fatal("a flow dump too large must go table by table")
	}
	msgs := d.tableRequests(openflow.Version13, 3)
	if len(msgs) != lastFlowTable+1 {
		t.Fatalf("%d table requests, want tables 0-253 (254 is OVS's)", len(msgs))
	}
	for i, m := range msgs {
		if tbl := m.(*openflow.FlowStatsRequest).TableID; tbl != uint8(i) || tbl == 254 {
			t.Fatalf("request %d asks for table %d", i, tbl)
		}
	}
	d.sent(3, 100, len(msgs))
	if _, err := d.failed([]uint32{105}, "limit"); err == "" {
		t.Fatal("a table's own dump too large must fail the dump with a reason")
	}
	reply := func(xid uint32, m openflow.Message) (bool, string) {
		return d.reply(&messages.Reply{XID: xid, Msg: m})
	}
	if done, err := reply(11, &openflow.GroupDescReply{}); done || err != "" {
		t.Fatal(done, err)
	}
	if done, err := reply(12, &openflow.MeterConfigReply{}); done || err != "" {
		t.Fatal(done, err)
	}
	for tbl := 0; tbl <= lastFlowTable; tbl++ {
		var m openflow.Message = &openflow.FlowStatsReply{}
		switch tbl {
		case 8:
			m = &openflow.FlowStatsReply{Stats: []openflow.FlowStats{statsOf(a)}}
		case 9:
			m = &openflow.FlowStatsReply{Stats: []openflow.FlowStats{statsOf(b)}}
		case 200:
			m = &openflow.Error{Header: openflow.Header{Version: openflow.Version13}, ErrType: 5, Code: 0} // OFPET_TABLE_MOD_FAILED: no such table
		}
		done, err := reply(100+uint32(tbl), m)
		if err != "" {
			t.Fatalf("table %d: %s", tbl, err)
		}
		if done != (tbl == lastFlowTable) {
			t.Fatalf("table %d: done %v", tbl, done)
		}
	}
	ka, kb := key(t, a), key(t, b)
	if len(d.flows) != 2 || d.flows[ka] == "" || d.flows[kb] == "" {
		t.Fatalf("dumped %d flows", len(d.flows))
	}
}

// rawStatsOf is statsOf as read from the wire: with the bytes of its
// match (as it is, normalized or not) and instructions.
func rawStatsOf(t *testing.T, fm *openflow.FlowMod) openflow.FlowStats {
	t.Helper()
	fs := statsOf(fm)
	var err error
	if fs.RawMatch, err = fm.Match.AppendOXM(nil); err != nil {
		t.Fatal(err)
	}
	if fs.RawInstructions, err = fm.Instructions.AppendBinary(nil); err != nil {
		t.Fatal(err)
	}
	return fs
}

// A dump is read as the switch's bytes; canonicalize then normalizes only
// the flows that differ from the desired ones: a flow equal to its desired
// one shares the desired strings, one written in another field order ends
// up under its canonical key, one with other actions is dirty.
func TestDumpCanonicalize(t *testing.T) {
	same := parseFlowT(t, "table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)")
	changed := parseFlowT(t, "table=8,priority=60,reg14=0x1,metadata=0x1 actions=resubmit(,9)")
	reordered := parseFlowT(t, "table=9,priority=50,reg14=0x2,metadata=0x1 actions=drop")
	desired := map[string]string{}
	for _, fm := range []*openflow.FlowMod{same, changed, reordered} {
		f, err := flowkey.Of(fm)
		if err != nil {
			t.Fatal(err)
		}
		desired[f.Key()] = f.Value()
	}
	// The switch holds changed with other actions, and reordered with its
	// match fields the other way round (a valid but not canonical match).
	onSwitch := parseFlowT(t, "table=8,priority=60,reg14=0x1,metadata=0x1 actions=resubmit(,10)")
	backwards := parseFlowT(t, "table=9,priority=50,reg14=0x2,metadata=0x1 actions=drop")
	slices.Reverse(backwards.Match.Fields)
	dumped := map[string]string{}
	for _, fs := range []openflow.FlowStats{rawStatsOf(t, same), rawStatsOf(t, onSwitch), rawStatsOf(t, backwards)} {
		f, err := flowkey.FromStats(&fs)
		if err != nil {
			t.Fatal(err)
		}
		dumped[f.Key()] = f.Value()
	}
	ks := newKeyspace()
	ks.replace(desired)
	ks.setInstalled(dumped)
	normalized := 0
	ks.canonicalize(func(k, v string) (string, string, bool) {
		normalized++
		f, ok := flowkey.Canonical(openflow.Version13, flowkey.FromStrings(k, v))
		return f.Key(), f.Value(), ok
	})
	if normalized != 2 {
		t.Fatalf("%d flows normalized, want 2 (the ones that differ)", normalized)
	}
	adds, mods, dels := ks.plan(true)
	if len(adds)+len(dels) != 0 || len(mods) != 1 {
		t.Fatalf("plan: %d adds, %d mods, %d dels; want 1 mod", len(adds), len(mods), len(dels))
	}
	if mods[0].Key != key(t, changed) {
		t.Fatal("the mod is not the changed flow")
	}
	ksame := key(t, same)
	if _, differs := ks.instDiff[ksame]; differs || ks.installedLen() != 3 {
		t.Fatalf("installed: %d flows; the unchanged flow differs: %v", ks.installedLen(), differs)
	}
}

// key is a flow's canonical key.
func key(t *testing.T, fm *openflow.FlowMod) string {
	t.Helper()
	f, err := flowkey.Of(fm)
	if err != nil {
		t.Fatal(err)
	}
	return f.Key()
}
