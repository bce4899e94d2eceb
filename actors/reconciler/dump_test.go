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

// A flow dump comes part by part (RouteParts): the parts add up, and the
// dump is read once the last part and the group and meter replies are in.
func TestDumpInParts(t *testing.T) {
	a := parseFlowT(t, "table=8,priority=50,reg14=0x1,metadata=0x1 actions=resubmit(,9)")
	b := parseFlowT(t, "table=9,priority=50,ip,metadata=0x1,nw_dst=10.0.0.1 actions=drop")
	d := newDump(true, false)
	d.requests(openflow.Version13, 1, 2)
	d.sent(1, 10, 1)
	d.sent(2, 11, 2)
	if d.failed([]uint32{11}, "x") != "x" || d.failed([]uint32{99}, "x") != "" {
		t.Fatal("failed must name the dump's own requests")
	}
	reply := func(xid uint32, m openflow.Message, more bool) (bool, string) {
		return d.reply(&messages.Reply{XID: xid, Msg: m, More: more})
	}
	if done, err := reply(10, &openflow.FlowStatsReply{Stats: []openflow.FlowStats{statsOf(a)}}, true); done || err != "" {
		t.Fatal(done, err)
	}
	if done, err := reply(11, &openflow.GroupDescReply{}, false); done || err != "" {
		t.Fatal(done, err)
	}
	if done, err := reply(12, &openflow.MeterConfigReply{}, false); done || err != "" {
		t.Fatal("done before the flows' last part", done, err)
	}
	if done, err := reply(10, &openflow.FlowStatsReply{Stats: []openflow.FlowStats{statsOf(b)}}, false); !done || err != "" {
		t.Fatal(done, err)
	}
	if len(d.flows) != 2 || d.flows[key(t, a)] == "" || d.flows[key(t, b)] == "" {
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
