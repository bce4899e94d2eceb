package ofactortest_test

import (
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

func mustFlow(t *testing.T, text string) *openflow.FlowMod {
	t.Helper()
	fm, err := ofctl.ParseFlow(text, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fm
}

func dial(t *testing.T, sw *ofactortest.Switch) *ofactortest.Client {
	t.Helper()
	c, err := ofactortest.Dial(sw.Target())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// errorsOf lists the OVS names of the errors among replies.
func errorsOf(rs []ofactortest.Reply) []string {
	var out []string
	for _, r := range rs {
		if e, ok := r.Msg.(*openflow.Error); ok {
			out = append(out, e.Err().Name)
		}
	}
	return out
}

func exchange(t *testing.T, c *ofactortest.Client, msgs ...openflow.Message) []ofactortest.Reply {
	t.Helper()
	rs, err := c.Exchange(msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestServeConnOverPipe(t *testing.T) {
	sw := ofactortest.New()
	defer sw.Close()
	var clients []*ofactortest.Client
	for range 3 {
		a, b := net.Pipe()
		if err := sw.ServeConn(a); err != nil {
			t.Fatal(err)
		}
		c, err := ofactortest.NewClient(b)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	exchange(t, clients[0], mustFlow(t, "table=1,priority=5,ip actions=output:1"))
	rs := exchange(t, clients[2], openflow.NewFlowStatsRequest(0))
	if len(rs) != 1 || len(rs[0].Msg.(*openflow.FlowStatsReply).Stats) != 1 {
		t.Fatalf("another connection's flow stats: %+v", rs)
	}
	if n := sw.Connections(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
	if got, want := sw.DumpFlows(), []string{" table=1, priority=5,ip actions=output:1"}; !cmp.Equal(got, want) {
		t.Errorf("dump %q, want %q", got, want)
	}
}

func TestReceivedCounts(t *testing.T) {
	sw := ofactortest.Start(t)
	c := dial(t, sw)
	exchange(t, c) // a barrier: the switch has counted our HELLO
	before := sw.Received()
	fm := mustFlow(t, "table=1 actions=drop")
	exchange(t, c,
		&openflow.BundleControl{BundleID: 1, Type: openflow.BundleOpenRequest},
		&openflow.BundleAdd{BundleID: 1, Message: fm},
		&openflow.BundleControl{BundleID: 1, Type: openflow.BundleCommitRequest},
		&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: openflow.MeterAll})
	d := sw.Received().Sub(before)
	want := ofactortest.Counts{
		ofactortest.MsgBundleControl: 2, ofactortest.MsgBundleAdd: 1, ofactortest.MsgFlowMod: 1,
		ofactortest.MsgMeterMod: 1, ofactortest.MsgBarrierRequest: 1,
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if d.Mods() != 2 || d.Total() != 6 {
		t.Errorf("mods %d total %d, want 2 and 6", d.Mods(), d.Total())
	}
	// Out-of-band changes are not messages.
	if err := sw.AddFlow("table=2 actions=drop"); err != nil {
		t.Fatal(err)
	}
	if d := sw.Received().Sub(before); d.Total() != 6 {
		t.Errorf("after AddFlow: %v", d)
	}
}

func TestStallAndRelease(t *testing.T) {
	sw := ofactortest.Start(t)
	c := dial(t, sw)
	sw.Stall()
	if _, err := c.Send(&openflow.EchoRequest{}); err != nil {
		t.Fatal(err)
	}
	// A stalled switch reads nothing and answers nothing.
	c.Timeout = 200 * time.Millisecond
	if f, err := c.Read(); err == nil {
		t.Fatalf("a stalled switch answered %x", f)
	}
	if n := sw.Received()[ofactortest.MsgEchoRequest]; n != 0 {
		t.Errorf("a stalled switch counted %d echo requests", n)
	}
	// Observation and out-of-band changes still work meanwhile.
	if err := sw.AddFlow("table=3 actions=drop"); err != nil {
		t.Fatal(err)
	}
	sw.Release()
	c.Timeout = 10 * time.Second
	f, err := c.Read()
	if err != nil || openflow.Type(f[1]) != openflow.TypeEchoReply {
		t.Fatalf("after release: %x, %v", f, err)
	}
}

func TestCutAfterAndBefore(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(*ofactortest.Switch)
		want []string
	}{
		{"after", func(s *ofactortest.Switch) { s.CutAfter(2) }, []string{" table=1, actions=drop", " table=2, actions=drop"}},
		{"before", func(s *ofactortest.Switch) { s.CutBefore(2) }, []string{" table=1, actions=drop"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := ofactortest.Start(t)
			c := dial(t, sw)
			tc.arm(sw)
			_, err := c.Exchange(mustFlow(t, "table=1 actions=drop"), mustFlow(t, "table=2 actions=drop"), mustFlow(t, "table=3 actions=drop"))
			if !errors.Is(err, ofactortest.ErrClosed) {
				t.Fatalf("exchange: %v, want the connection cut", err)
			}
			if diff := cmp.Diff(tc.want, sw.DumpFlows()); diff != "" {
				t.Errorf("flows (-want +got):\n%s", diff)
			}
			// The cut is spent: a new connection works.
			if rs := exchange(t, dial(t, sw), &openflow.EchoRequest{}); len(rs) != 1 {
				t.Errorf("after the cut: %v", rs)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	sw := ofactortest.Start(t)
	c := dial(t, sw)
	if err := sw.RefuseFlow("table=1,priority=5,ip", "OFPFMFC_TABLE_FULL"); err != nil {
		t.Fatal(err)
	}
	if err := sw.RefuseGroup(7, "OFPGMFC_OUT_OF_GROUPS"); err != nil {
		t.Fatal(err)
	}
	if err := sw.RefuseMeter(3, "OFPMMFC_OUT_OF_METERS"); err != nil {
		t.Fatal(err)
	}
	if err := sw.RefuseFlow("table=1", "NO_SUCH_ERROR"); err == nil {
		t.Error("an unknown error name was taken")
	}
	sw.RefuseFunc(func(m openflow.Message) string {
		if fm, ok := m.(*openflow.FlowMod); ok && fm.Cookie == 0xbad {
			return "OFPBAC_BAD_ARGUMENT"
		}
		return ""
	})
	group := func(id uint32) *openflow.GroupMod {
		return &openflow.GroupMod{Command: openflow.GroupAdd, Type: openflow.GroupTypeAll, GroupID: id}
	}
	meter := func(id uint32) *openflow.MeterMod {
		return &openflow.MeterMod{Command: openflow.MeterAdd, Flags: openflow.MeterKBPS, MeterID: id,
			Bands: []openflow.MeterBand{{Type: openflow.MeterBandDrop, Rate: 10}}}
	}
	rs := exchange(t, c,
		mustFlow(t, "table=1,priority=5,ip actions=output:1"),
		mustFlow(t, "table=1,priority=6,ip actions=output:1"),
		mustFlow(t, "cookie=0xbad,table=2 actions=drop"),
		group(7), group(8), meter(3), meter(4))
	want := []string{"OFPFMFC_TABLE_FULL", "OFPBAC_BAD_ARGUMENT", "OFPGMFC_OUT_OF_GROUPS", "OFPMMFC_OUT_OF_METERS"}
	if diff := cmp.Diff(want, errorsOf(rs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// In a bundle the refusal comes at commit, and everything is undone.
	rs = exchange(t, c,
		&openflow.BundleControl{BundleID: 1, Type: openflow.BundleOpenRequest},
		&openflow.BundleAdd{BundleID: 1, Message: mustFlow(t, "table=1,priority=7 actions=drop")},
		&openflow.BundleAdd{BundleID: 1, Message: mustFlow(t, "table=1,priority=5,ip actions=drop")},
		&openflow.BundleControl{BundleID: 1, Type: openflow.BundleCommitRequest})
	if diff := cmp.Diff([]string{"OFPFMFC_TABLE_FULL", "OFPBFC_MSG_FAILED"}, errorsOf(rs)); diff != "" {
		t.Errorf("bundle errors (-want +got):\n%s", diff)
	}
	if got := sw.DumpFlows(); len(got) != 1 {
		t.Errorf("flows %q, want the priority 6 one alone", got)
	}
	sw.ClearRefusals()
	if rs := exchange(t, c, mustFlow(t, "table=1,priority=5,ip actions=output:1"), group(7)); len(rs) != 0 {
		t.Errorf("after ClearRefusals: %v", errorsOf(rs))
	}
}

func TestRestartDropsEverything(t *testing.T) {
	sw := ofactortest.Start(t)
	c := dial(t, sw)
	exchange(t, c, mustFlow(t, "table=1 actions=drop"),
		&openflow.TLVTableMod{Command: openflow.TLVTableAdd, Mappings: []openflow.TLVMap{{OptionClass: 1, OptionLen: 4}}})
	if err := sw.AddGroup("group_id=1,type=all"); err != nil {
		t.Fatal(err)
	}
	before := sw.Received()
	sw.Restart()
	if _, err := c.Read(); err == nil {
		t.Fatal("the connection outlived the restart")
	}
	if f, g, m := sw.DumpFlows(), sw.DumpGroups(), sw.DumpTLVMap(); len(f)+len(g)+len(m) != 0 {
		t.Errorf("after restart: flows %q groups %q tlv %v", f, g, m)
	}
	if n := len(sw.DumpTable(254)); n != 4 {
		t.Errorf("table 254 has %d flows after restart, want OVS's 4", n)
	}
	exchange(t, dial(t, sw), &openflow.EchoRequest{})
	if d := sw.Received().Sub(before); d[ofactortest.MsgHello] != 1 {
		t.Errorf("counts after restart: %v", d)
	}
}

func TestOutOfBand(t *testing.T) {
	sw := ofactortest.Start(t)
	if err := sw.AddGroup("group_id=1,type=all,bucket=actions=output:1"); err != nil {
		t.Fatal(err)
	}
	err := sw.AddGroup("group_id=1,type=all")
	if !errors.Is(err, ofperr.Named("OFPGMFC_GROUP_EXISTS")) {
		t.Errorf("second add-group: %v", err)
	}
	if err := sw.AddFlow("table=1 actions=bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("a flow that does not parse: %v", err)
	}
	err = sw.AddFlows("table=1 actions=group:1", "table=2 actions=group:2", "table=3 actions=drop")
	if !errors.Is(err, ofperr.Named("OFPBAC_BAD_OUT_GROUP")) {
		t.Errorf("add-flows: %v", err)
	}
	if got := sw.DumpFlows(); !cmp.Equal(got, []string{" table=1, actions=group:1"}) {
		t.Errorf("add-flows stops at the first error, as ovs-ofctl does: %q", got)
	}
	if err := sw.ModFlows("table=1 actions=output:3,group:1"); err != nil {
		t.Fatal(err)
	}
	if err := sw.AddMeter("meter=2,kbps,bands=type=drop,rate=9"); err != nil {
		t.Fatal(err)
	}
	if err := sw.AddFlow("table=4 actions=meter:2,output:1"); err != nil {
		t.Fatal(err)
	}
	if err := sw.DelMeters(2); err != nil {
		t.Fatal(err)
	}
	if err := sw.DelGroups(); err != nil {
		t.Fatal(err)
	}
	if got := sw.DumpFlows(); len(got) != 0 {
		t.Errorf("flows left after their group and meter went: %q", got)
	}
	if err := sw.AddTLVMap(openflow.TLVMap{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4}); err != nil {
		t.Fatal(err)
	}
	if err := sw.AddFlow("table=5,tun_metadata0=0x1234 actions=drop"); err != nil {
		t.Fatal(err)
	}
	if err := sw.DelTLVMap(); !errors.Is(err, ofperr.Named("NXTTMFC_INVALID_TLV_DEL")) {
		t.Errorf("del-tlv-map with a flow using it: %v", err)
	}
	if err := sw.DelFlowsStrict("table=5,tun_metadata0=0x1234"); err != nil {
		t.Fatal(err)
	}
	if err := sw.DelTLVMap(); err != nil {
		t.Errorf("del-tlv-map: %v", err)
	}
}

func TestClockAndDurations(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sw := ofactortest.Start(t, ofactortest.WithClock(clock))
	c := dial(t, sw)
	exchange(t, c, mustFlow(t, "table=1 actions=drop"))
	mu.Lock()
	now = now.Add(5*time.Second + 250*time.Millisecond)
	mu.Unlock()
	req := openflow.NewFlowStatsRequest(0)
	req.TableID = 1
	rs := exchange(t, c, req)
	fs := rs[0].Msg.(*openflow.FlowStatsReply).Stats[0]
	if fs.DurationSec != 5 || fs.DurationNsec != 250e6 {
		t.Errorf("duration %d.%09d, want 5.250000000", fs.DurationSec, fs.DurationNsec)
	}
}

func TestUnmodelledMessages(t *testing.T) {
	sw := ofactortest.Start(t)
	c := dial(t, sw)
	po := make([]byte, 24) // an OFPT_PACKET_OUT: buffer, in_port, actions_len 0, pad
	po[0], po[1] = openflow.Version13, byte(openflow.TypePacketOut)
	binary.BigEndian.PutUint16(po[2:], 24)
	binary.BigEndian.PutUint32(po[4:], 77)
	if err := c.SendRaw(po); err != nil {
		t.Fatal(err)
	}
	rs := exchange(t, c)
	if diff := cmp.Diff([]string{"OFPBRC_BAD_TYPE"}, errorsOf(rs)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := sw.Unmodelled()["OFPT_PACKET_OUT"]; n != 1 {
		t.Errorf("unmodelled: %v", sw.Unmodelled())
	}
}
