package reconciler

import (
	"testing"

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
	d := newDump(map[string]string{})
	d.requests(openflow.Version13)
	d.sent(10, 3)
	if d.tooLarge([]uint32{11}) || !d.tooLarge([]uint32{10}) {
		t.Fatal("tooLarge must name the flow request alone")
	}
	msgs := d.tableRequests(openflow.Version13)
	if len(msgs) != tableMax+1 {
		t.Fatalf("%d table requests", len(msgs))
	}
	d.sent(100, len(msgs))
	reply := func(xid uint32, m openflow.Message) (bool, string) {
		return d.reply(&messages.Reply{XID: xid, Msg: m})
	}
	if done, err := reply(11, &openflow.GroupDescReply{}); done || err != "" {
		t.Fatal(done, err)
	}
	if done, err := reply(12, &openflow.MeterConfigReply{}); done || err != "" {
		t.Fatal(done, err)
	}
	for tbl := 0; tbl <= tableMax; tbl++ {
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
		if done != (tbl == tableMax) {
			t.Fatalf("table %d: done %v", tbl, done)
		}
	}
	ka, _, _ := FlowModKey(a)
	kb, _, _ := FlowModKey(b)
	if len(d.flows) != 2 || d.flows[ka] == "" || d.flows[kb] == "" {
		t.Fatalf("dumped %d flows", len(d.flows))
	}
}

// A dumped flow equal to a desired one shares its canonical bytes; one
// that differs is normalized on its own.
func TestDumpSharesDesiredBytes(t *testing.T) {
	fm := parseFlowT(t, "table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)")
	k, v, err := FlowModKey(fm)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if e := flowStatsInto(got, []openflow.FlowStats{statsOf(fm)}, map[string]string{k: v}); e != "" {
		t.Fatal(e)
	}
	if got[k] != v {
		t.Fatalf("dumped value differs")
	}
	other := parseFlowT(t, "table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,10)")
	got = map[string]string{}
	flowStatsInto(got, []openflow.FlowStats{statsOf(other)}, map[string]string{k: v})
	if _, v2, _ := FlowModKey(other); got[k] != v2 {
		t.Fatalf("changed flow not read as itself")
	}
}
