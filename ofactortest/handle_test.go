package ofactortest

import (
	"encoding/binary"
	"testing"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// testConn is a connection of sw that is never served: handle is called
// on it directly and what it queues is read from c.out.
func testConn(sw *Switch) *conn {
	c := newConn(sw, nil, sw.epoch)
	c.version = openflow.Version13
	return c
}

// golden are well-formed requests, the seeds of FuzzHandle and the
// messages TestTruncations cuts short.
func golden(t testing.TB) map[string][]byte {
	enc := func(m openflow.Message) []byte {
		m.Hdr().Version, m.Hdr().XID = openflow.Version13, 0x42
		if ba, ok := m.(*openflow.BundleAdd); ok {
			ba.Message.Hdr().Version, ba.Message.Hdr().XID = openflow.Version13, 0x42
		}
		b, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flow := func(s string) *openflow.FlowMod {
		fm, err := ofctl.ParseFlow(s, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fm
	}
	gm, err := ofctl.ParseGroup("group_id=1,type=select,bucket=weight:5,actions=output:1,bucket=actions=ct(commit,table=3)", nil)
	if err != nil {
		t.Fatal(err)
	}
	mm, err := ofctl.ParseMeter("meter=1,kbps,burst,bands=type=drop,rate=10,burst_size=20", nil)
	if err != nil {
		t.Fatal(err)
	}
	fsr := openflow.NewFlowStatsRequest(0)
	fsr.Match = flow("tcp,tp_dst=80 actions=drop").Match
	return map[string][]byte{
		"flow_mod":     enc(flow("cookie=0x5,table=2,priority=9,tcp,nw_src=10.0.0.0/8,tp_dst=80 actions=set_field:0x5->reg1,resubmit(,3),goto_table:4")),
		"group_mod":    enc(gm),
		"meter_mod":    enc(mm),
		"tlv_mod":      enc(&openflow.TLVTableMod{Command: openflow.TLVTableAdd, Mappings: []openflow.TLVMap{{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4}}}),
		"bundle_open":  enc(&openflow.BundleControl{BundleID: 1, Type: openflow.BundleOpenRequest, Flags: 3}),
		"bundle_add":   enc(&openflow.BundleAdd{BundleID: 1, Flags: 3, Message: flow("table=1,ip actions=drop")}),
		"flow_stats":   enc(fsr),
		"meter_config": enc(&openflow.MeterConfigRequest{MeterID: openflow.MeterAll}),
		"group_desc":   enc(&openflow.GroupDescRequest{}),
		"echo":         enc(&openflow.EchoRequest{}),
	}
}

// replies checks that everything c queued is a whole message the codec
// decodes, and returns them.
func replies(t testing.TB, c *conn) [][]byte {
	t.Helper()
	out := c.out
	c.out = nil
	for _, b := range out {
		if len(b) < 8 || int(binary.BigEndian.Uint16(b[2:])) != len(b) {
			t.Fatalf("the switch sent a frame of %d bytes with length field %x", len(b), b[2:4])
		}
		if _, err := openflow.Decode(b); err != nil {
			t.Fatalf("the switch sent what the codec cannot decode: %v: %x", err, b)
		}
	}
	return out
}

// Every truncation of a well-formed request (its length field saying so)
// is answered with one error and changes nothing, unless what is left is
// a well-formed request itself (a flow_mod cut after an instruction, a
// group_mod after a bucket), which is taken. Which error is OVS's
// business: the conformance suite compares them with a real switch.
func TestTruncations(t *testing.T) {
	for name, msg := range golden(t) {
		t.Run(name, func(t *testing.T) {
			taken := 0
			for n := openflow.HeaderLen; n < len(msg); n++ {
				sw := New()
				c := testConn(sw)
				flows, groups, meters := sw.DumpFlows(), sw.DumpGroups(), sw.DumpMeters()
				b := append([]byte(nil), msg[:n]...)
				binary.BigEndian.PutUint16(b[2:], uint16(n))
				if !c.handle(b) {
					t.Fatalf("%d bytes: the connection ended", n)
				}
				switch out := replies(t, c); {
				case len(out) == 0:
					taken++
				case len(out) > 1 || openflow.Type(out[0][1]) != openflow.TypeError:
					t.Fatalf("%d of %d bytes: %d replies, want one error", n, len(msg), len(out))
				case len(sw.DumpFlows()) != len(flows) || len(sw.DumpGroups()) != len(groups) || len(sw.DumpMeters()) != len(meters):
					t.Errorf("%d of %d bytes: refused, but the tables changed", n, len(msg))
				}
			}
			if taken > 2 {
				t.Errorf("%d truncations of %d taken as whole messages", taken, len(msg)-openflow.HeaderLen)
			}
		})
	}
}

// FuzzHandle feeds one message (its length field made true) to a
// switch: it must not panic, and everything it answers must be a
// well-formed message.
func FuzzHandle(f *testing.F) {
	for _, b := range golden(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < openflow.HeaderLen || len(b) > openflow.MaxMessageLen {
			return
		}
		b = append([]byte(nil), b...)
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		sw := New()
		c := testConn(sw)
		c.handle(b)
		replies(t, c)
		// The bundle, if the message opened one, commits or fails cleanly.
		commit, _ := (&openflow.BundleControl{Header: openflow.Header{Version: openflow.Version13, XID: 9},
			BundleID: 1, Type: openflow.BundleCommitRequest, Flags: 3}).AppendBinary(nil)
		c.handle(commit)
		replies(t, c)
		sw.DumpFlows()
		sw.DumpGroups()
		sw.DumpMeters()
	})
}
