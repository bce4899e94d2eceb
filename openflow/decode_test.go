package openflow

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/ofactor/ofactor/internal/ovstest"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow/action"
)

// ovsOfctl finds ovs-ofctl; without it a test fails in CI and skips
// elsewhere.
func ovsOfctl(t testing.TB) string {
	t.Helper()
	p := ovstest.OfctlPath(t)
	return p
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Test actions, kept raw so that these tests do not depend on the action
// package's decoders: output:5, and apply_actions(output:5).
var (
	rawOutput5 = &action.Raw{Data: []byte{0, 0, 0, 0x10, 0, 0, 0, 5, 0xff, 0xe5, 0, 0, 0, 0, 0, 0}}
	rawApply5  = &action.Raw{Data: append([]byte{0, 4, 0, 0x18, 0, 0, 0, 0}, rawOutput5.Data...)}
)

type golden struct {
	name  string
	msg   Message
	hex   string
	print string // what ovs-ofctl ofp-print prints (a substring of it)
}

func flowModGolden() *FlowMod {
	fm := NewFlowMod(Version13, FlowAdd)
	fm.XID, fm.Cookie, fm.TableID, fm.Priority = 0x11, 0x1234, 3, 100
	fm.IdleTimeout, fm.HardTimeout, fm.Flags = 10, 20, FlowSendFlowRem|FlowResetCounts
	return fm
}

func flowModApply() *FlowMod {
	fm := NewFlowMod(Version13, FlowModify)
	fm.XID, fm.Instructions = 2, action.Instructions{rawApply5}
	return fm
}

func flowModDelete14() *FlowMod {
	fm := NewFlowMod(Version14, FlowDelete)
	fm.XID, fm.TableID = 8, TableAll
	return fm
}

// goldens is every golden message: OpenFlow 1.3's here, the other
// versions' and the newer messages' in goldens15_test.go.
func goldens() []golden { return append(goldens13(), goldensNew()...) }

func goldens13() []golden {
	fm14 := NewFlowMod(Version14, FlowDeleteStrict)
	fm14.OutPort, fm14.Priority = 5, 9
	return []golden{
		{"hello", NewHello(Version13), "04000010 00000000 00010008 00000010", "OFPT_HELLO (OF1.3) (xid=0x0):\n version bitmap: 0x04"},
		{"echo_request", &EchoRequest{payloadMsg{Header{XID: 7}, []byte{1, 2}}}, "0402000a 00000007 0102", "OFPT_ECHO_REQUEST (OF1.3) (xid=0x7): 2 bytes of payload"},
		{"echo_reply", &EchoReply{payloadMsg{Header: Header{XID: 7}}}, "04030008 00000007", "OFPT_ECHO_REPLY (OF1.3) (xid=0x7): 0 bytes of payload"},
		{"features_request", &FeaturesRequest{}, "04050008 00000000", "OFPT_FEATURES_REQUEST (OF1.3) (xid=0x0):"},
		{"features_reply", &FeaturesReply{Header: Header{XID: 11}, DatapathID: 0x1234, NTables: 254, Capabilities: 0x4f},
			"04060020 0000000b 00000000 00001234 00000000 fe000000 0000004f 00000000",
			"OFPT_FEATURES_REPLY (OF1.3) (xid=0xb): dpid:0000000000001234\nn_tables:254, n_buffers:0\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS"},
		{"get_config_request", &GetConfigRequest{}, "04070008 00000000", "OFPT_GET_CONFIG_REQUEST (OF1.3) (xid=0x0):"},
		{"get_config_reply", &GetConfigReply{SwitchConfig: SwitchConfig{MissSendLen: 0xffff}}, "0408000c 00000000 0000ffff",
			"OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x0): frags=normal miss_send_len=65535"},
		{"set_config", &SetConfig{SwitchConfig: SwitchConfig{MissSendLen: 128}}, "0409000c 00000000 00000080",
			"OFPT_SET_CONFIG (OF1.3) (xid=0x0): frags=normal miss_send_len=128"},
		{"barrier_request", &BarrierRequest{payloadMsg{Header: Header{XID: 9}}}, "04140008 00000009", "OFPT_BARRIER_REQUEST (OF1.3) (xid=0x9):"},
		{"barrier_reply", &BarrierReply{payloadMsg{Header: Header{XID: 9}}}, "04150008 00000009", "OFPT_BARRIER_REPLY (OF1.3) (xid=0x9):"},
		{"error", &Error{Header: Header{XID: 6}, ErrType: 2, Code: 9, Data: unhex(nil_t, "04140008 00000001")},
			"04010014 00000006 00020009 04140008 00000001", "OFPT_ERROR (OF1.3) (xid=0x6): OFPBAC_BAD_OUT_GROUP\nOFPT_BARRIER_REQUEST (OF1.3) (xid=0x1):"},
		{"error_experimenter", &Error{Header: Header{XID: 6}, ErrType: 0xffff, Code: 2313, Experimenter: ExperimenterONF, Data: unhex(nil_t, "04140008 00000001")},
			"04010018 00000006 ffff0909 4f4e4600 04140008 00000001", "OFPT_ERROR (OF1.3) (xid=0x6): OFPBFC_MSG_FAILED\nOFPT_BARRIER_REQUEST"},
		{"flow_mod", flowModGolden(),
			"040e0038 00000011 00000000 00001234 00000000 00000000 0300000a 00140064 ffffffff ffffffff ffffffff 00050000 00010004 00000000",
			"OFPT_FLOW_MOD (OF1.3) (xid=0x11): ADD table:3 priority=100 cookie:0x1234 idle:10 hard:20 send_flow_rem reset_counts actions=drop"},
		{"flow_mod_1.4", fm14,
			"050e0038 00000000 00000000 00000000 00000000 00000000 00040000 00000009 ffffffff 00000005 ffffffff 00000000 00010004 00000000",
			"OFPT_FLOW_MOD (OF1.4) (xid=0x0): DEL_STRICT priority=9 out_port:5 actions=drop"},
		{"flow_mod_apply", flowModApply(),
			"040e0050 00000002 00000000 00000000 00000000 00000000 00010000 00000000 ffffffff ffffffff ffffffff 00000000 00010004 00000000 00040018 00000000 00000010 00000005 ffe50000 00000000",
			"OFPT_FLOW_MOD (OF1.3) (xid=0x2): MOD priority=0 actions=output:5"},
		{"group_mod_select", &GroupMod{Header: Header{XID: 3}, Command: GroupAdd, Type: GroupTypeSelect, GroupID: 7, Buckets: []Bucket{
			{Weight: 10, WatchPort: PortAny, WatchGroup: GroupAny, Actions: action.List{rawOutput5}},
			{Weight: 20, WatchPort: PortAny, WatchGroup: GroupAny}}},
			"040f0040 00000003 00000100 00000007 0020000a ffffffff ffffffff 00000000 00000010 00000005 ffe50000 00000000 00100014 ffffffff ffffffff 00000000",
			"ADD group_id=7,type=select,bucket=weight:10,actions=output:5,bucket=weight:20,actions=drop"},
		{"group_mod_ff", &GroupMod{Header: Header{XID: 3}, Command: GroupModify, Type: GroupTypeFastFailover, GroupID: 8, Buckets: []Bucket{
			{WatchPort: 5, WatchGroup: GroupAny, Actions: action.List{rawOutput5}}}},
			"040f0030 00000003 00010300 00000008 00200000 00000005 ffffffff 00000000 00000010 00000005 ffe50000 00000000",
			"MOD group_id=8,type=ff,bucket=watch_port:5,actions=output:5"},
		{"group_mod_indirect_delete", &GroupMod{Header: Header{XID: 3}, Command: GroupDelete, Type: GroupTypeIndirect, GroupID: GroupAll},
			"040f0010 00000003 00020200 fffffffc", "DEL group_id=4294967292,type=indirect"},
		{"meter_mod", &MeterMod{Header: Header{XID: 4}, Command: MeterAdd, Flags: MeterKBPS | MeterBurst | MeterStats, MeterID: 1, Bands: []MeterBand{
			{Type: MeterBandDrop, Rate: 1000, BurstSize: 100}, {Type: MeterBandDSCPRemark, Rate: 2000, BurstSize: 10, PrecLevel: 1}}},
			"041d0030 00000004 0000000d 00000001 00010010 000003e8 00000064 00000000 00020010 000007d0 0000000a 01000000",
			"OFPT_METER_MOD (OF1.3) (xid=0x4): ADD meter=1 kbps burst stats bands=\ntype=drop rate=1000 burst_size=100\ntype=dscp_remark rate=2000 burst_size=10 prec_level=1"},
		{"meter_mod_delete", &MeterMod{Header: Header{XID: 4}, Command: MeterDelete, MeterID: 5}, "041d0010 00000004 00020000 00000005",
			"OFPT_METER_MOD (OF1.3) (xid=0x4): DEL meter=5"},
		{"bundle_open_1.3", &BundleControl{Header: Header{Version: 4, XID: 5}, BundleID: 1, Type: BundleOpenRequest, Flags: BundleAtomic | BundleOrdered},
			"04040018 00000005 4f4e4600 000008fc 00000001 00000003",
			"ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x5):\n bundle_id=0x1 type=OPEN_REQUEST flags=atomic ordered"},
		{"bundle_commit_reply_1.4", &BundleControl{Header: Header{Version: 5, XID: 5}, BundleID: 1, Type: BundleCommitReply, Flags: BundleAtomic},
			"05210010 00000005 00000001 00050001", "OFPT_BUNDLE_CONTROL (OF1.4) (xid=0x5):\n bundle_id=0x1 type=COMMIT_REPLY flags=atomic"},
		{"bundle_add_1.3", NewBundleAdd(1, BundleAtomic, flowModApply()),
			"04040068 00000002 4f4e4600 000008fd 00000001 00000001 " +
				"040e0050 00000002 00000000 00000000 00000000 00000000 00010000 00000000 ffffffff ffffffff ffffffff 00000000 00010004 00000000 00040018 00000000 00000010 00000005 ffe50000 00000000",
			"ONFT_BUNDLE_ADD_MESSAGE (OF1.3) (xid=0x2):\n bundle_id=0x1 flags=atomic\nOFPT_FLOW_MOD (OF1.3) (xid=0x2): MOD priority=0 actions=output:5"},
		{"bundle_add_1.4", NewBundleAdd(2, BundleOrdered, flowModDelete14()),
			"05220048 00000008 00000002 00000002 050e0038 00000008 00000000 00000000 00000000 00000000 ff030000 00000000 ffffffff ffffffff ffffffff 00000000 00010004 00000000",
			"OFPT_BUNDLE_ADD_MESSAGE (OF1.4) (xid=0x8):\n bundle_id=0x2 flags=ordered\nOFPT_FLOW_MOD (OF1.4) (xid=0x8): DEL table:255 priority=0 actions=drop"},
		{"flow_stats_request", NewFlowStatsRequest(Version13),
			"04120038 00000000 00010000 00000000 ff000000 ffffffff ffffffff 00000000 00000000 00000000 00000000 00000000 00010004 00000000",
			"OFPST_FLOW request (OF1.3) (xid=0x0):"},
		{"group_desc_request", &GroupDescRequest{Header: Header{XID: 9}}, "04120010 00000009 00070000 00000000",
			"OFPST_GROUP_DESC request (OF1.3) (xid=0x9): group_id=ALL"},
		{"meter_config_request", &MeterConfigRequest{Header: Header{XID: 9}, MeterID: MeterAll}, "04120018 00000009 000a0000 00000000 ffffffff 00000000",
			"OFPST_METER_CONFIG request (OF1.3) (xid=0x9): meter=all"},
		{"flow_stats_reply", &FlowStatsReply{Header: Header{XID: 10}, Stats: []FlowStats{{TableID: 1, DurationSec: 5, Priority: 10, Cookie: 3,
			PacketCount: 4, ByteCount: 5, Instructions: action.Instructions{rawApply5}}}},
			"04130060 0000000a 00010000 00000000 00500100 00000005 00000000 000a0000 00000000 00000000 00000000 00000003 00000000 00000004 00000000 00000005 00010004 00000000 00040018 00000000 00000010 00000005 ffe50000 00000000",
			"OFPST_FLOW reply (OF1.3) (xid=0xa):\n cookie=0x3, duration=5s, table=1, n_packets=4, n_bytes=5, priority=10 actions=output:5"},
		{"flow_stats_reply_1.4", &FlowStatsReply{Header: Header{Version: 5, XID: 10}, Stats: []FlowStats{{TableID: 1, Importance: 3}}},
			"05130048 0000000a 00010000 00000000 00380100 00000000 00000000 00000000 00000000 00030000 00000000 00000000 00000000 00000000 00000000 00000000 00010004 00000000",
			"OFPST_FLOW reply (OF1.4) (xid=0xa):\n cookie=0x0, duration=0s, table=1, n_packets=0, n_bytes=0, importance=3, priority=0 actions=drop"},
		{"group_desc_reply", &GroupDescReply{Header: Header{XID: 10}, Groups: []GroupDesc{{Type: GroupTypeAll, GroupID: 3, Buckets: []Bucket{
			{WatchPort: PortAny, WatchGroup: GroupAny, Actions: action.List{rawOutput5}}}}}},
			"04130038 0000000a 00070000 00000000 00280000 00000003 00200000 ffffffff ffffffff 00000000 00000010 00000005 ffe50000 00000000",
			"OFPST_GROUP_DESC reply (OF1.3) (xid=0xa):\n group_id=3,type=all,bucket=actions=output:5"},
		{"meter_config_reply", &MeterConfigReply{Header: Header{XID: 10}, Meters: []MeterConfig{{Flags: MeterPKTPS, MeterID: 2, Bands: []MeterBand{{Type: MeterBandDrop, Rate: 5}}}}},
			"04130028 0000000a 000a0000 00000000 00180002 00000002 00010010 00000005 00000000 00000000",
			"OFPST_METER_CONFIG reply (OF1.3) (xid=0xa):\nmeter=2 pktps bands=\ntype=drop rate=5"},
		{"multipart_reply_raw", &MultipartReply{Header: Header{XID: 12}, MPType: MultipartTable, Flags: MultipartMore}, "04130010 0000000c 00030001 00000000",
			"OFPST_TABLE reply (OF1.3) (xid=0xc): flags=[more]"},
		{"packet_in", &PacketIn{BufferID: NoBuffer, TotalLen: 4, Reason: 1, TableID: 2, Cookie: 9, Data: []byte{1, 2, 3, 4}},
			"040a0026 00000000 ffffffff 00040102 00000000 00000009 00010004 00000000 0000 01020304",
			"OFPT_PACKET_IN (OF1.3) (xid=0x0): table_id=2 cookie=0x9 total_len=4  (via action) data_len=4 (unbuffered)"},
		{"flow_removed", &FlowRemoved{Cookie: 1, Priority: 2, TableID: 3, DurationSec: 4, IdleTimeout: 5, PacketCount: 6, ByteCount: 7},
			"040b0038 00000000 00000000 00000001 00020003 00000004 00000000 00050000 00000000 00000006 00000000 00000007 00010004 00000000",
			"OFPT_FLOW_REMOVED (OF1.3) (xid=0x0): priority=2 reason=idle table_id=3 cookie:0x1 duration4s idle5 pkts6 bytes7"},
		{"port_status", &PortStatus{Reason: PortReasonAdd, Port: Port{PortNo: 3, HWAddr: [6]byte{0x50, 0x54, 0, 0, 0, 1}, Name: "eth0", State: 4}},
			"040c0050 00000000 00000000 00000000 00000003 00000000 50540000 00010000 65746830 00000000 00000000 00000000 00000000 00000004 00000000 00000000 00000000 00000000 00000000 00000000",
			"OFPT_PORT_STATUS (OF1.3) (xid=0x0): ADD: 3(eth0): addr:50:54:00:00:00:01\n     config:     0\n     state:      LIVE"},
		{"tlv_table_request", &TLVTableRequest{Header{XID: 1}}, "04040010 00000001 00002320 00000019", "NXT_TLV_TABLE_REQUEST (OF1.3) (xid=0x1):"},
		{"tlv_table_mod", &TLVTableMod{Header: Header{XID: 1}, Command: TLVTableAdd, Mappings: []TLVMap{{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4, Index: 0}}},
			"04040020 00000001 00002320 00000018 00000000 00000000 01028004 00000000",
			"NXT_TLV_TABLE_MOD (OF1.3) (xid=0x1):\n ADD mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------\n  0x102  0x80       4  tun_metadata0"},
		{"experimenter", &Experimenter{Header: Header{XID: 1}, Experimenter: ExperimenterNicira, ExpType: 18}, "04040010 00000001 00002320 00000012",
			"NXT_FLOW_AGE (OF1.3) (xid=0x1):"},
		{"unknown", &Unknown{Header: Header{Type: TypeGetAsyncRequest, XID: 1}},
			"041a0008 00000001", "OFPT_GET_ASYNC_REQUEST (OF1.3) (xid=0x1):"},
	}
}

// nil_t lets goldens() decode constant hex outside a test.
var nil_t = &testing.T{}

func TestGoldenEncode(t *testing.T) {
	for _, g := range goldens() {
		b, err := g.msg.AppendBinary(nil)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		if want := unhex(t, g.hex); !bytes.Equal(b, want) {
			t.Errorf("%s:\n got %x\nwant %x", g.name, b, want)
		}
	}
}

func TestGoldenDecode(t *testing.T) {
	for _, g := range goldens() {
		b := unhex(t, g.hex)
		m, err := Decode(b)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		if reflect.TypeOf(m) != reflect.TypeOf(g.msg) {
			t.Errorf("%s: decoded %T, want %T", g.name, m, g.msg)
			continue
		}
		back, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("%s: re-encoded %x (%v), want %x", g.name, back, err, b)
		}
		if m.Hdr().Length != uint16(len(b)) {
			t.Errorf("%s: header length %d, want %d", g.name, m.Hdr().Length, len(b))
		}
	}
}

// TestGoldenFields checks decoded fields of messages whose re-encoding
// alone would not show a field lost.
func TestGoldenFields(t *testing.T) {
	for _, g := range goldens() {
		m, err := Decode(unhex(t, g.hex))
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		want := g.msg
		wb, _ := want.AppendBinary(nil)
		want, _ = Decode(wb) // fills Length and Version as decoding does
		if !reflect.DeepEqual(m, want) {
			t.Errorf("%s: decoded %+v, want %+v", g.name, m, want)
		}
	}
	m, _ := Decode(unhex(t, goldens()[0].hex))
	if h := m.(*Hello); h.VersionBitmap() != 1<<4 {
		t.Errorf("hello bitmap %#x", h.VersionBitmap())
	}
	for _, g := range goldens() {
		if g.name != "port_status" {
			continue
		}
		m, _ := Decode(unhex(t, g.hex))
		ps := m.(*PortStatus)
		if ps.PortNo != 3 || ps.Name != "eth0" || ps.HWAddr != [6]byte{0x50, 0x54, 0, 0, 0, 1} || ps.State != 4 {
			t.Errorf("port_status fields: %+v", ps)
		}
	}
}

func TestOVSPrintsGoldens(t *testing.T) {
	bin := ovsOfctl(t)
	for _, g := range goldens() {
		out, err := exec.Command(bin, "ofp-print", strings.Join(strings.Fields(g.hex), "")).CombinedOutput()
		if err != nil {
			t.Errorf("%s: ofp-print: %v: %s", g.name, err, out)
			continue
		}
		if strings.Contains(string(out), "decode error") || !strings.Contains(string(out), g.print) {
			t.Errorf("%s: ovs-ofctl ofp-print printed\n%s\nwant it to contain\n%s", g.name, out, g.print)
		}
	}
}

// TestTruncations cuts every golden at every length, with the header's
// length field both kept (a misleading length) and patched to the cut.
// Decoding must fail or give a message that round-trips, never panic; and
// cutting into a fixed part must fail.
func TestTruncations(t *testing.T) {
	type frame struct {
		name string
		full []byte
	}
	var frames []frame
	for _, g := range goldens() {
		frames = append(frames, frame{g.name, unhex(t, g.hex)})
	}
	for i, b := range ovsFrames(t) {
		if len(b) <= 4096 {
			frames = append(frames, frame{fmt.Sprintf("ovs[%d]", i), b})
		}
	}
	for _, g := range frames {
		full := g.full
		for n := 0; n < len(full); n++ {
			cut := append([]byte(nil), full[:n]...)
			if _, err := Decode(cut); err == nil {
				t.Errorf("%s[:%d] with length %d decoded", g.name, n, len(full))
			}
			if n < HeaderLen {
				continue
			}
			be.PutUint16(cut[2:], uint16(n))
			m, err := Decode(cut)
			if err != nil {
				continue
			}
			b, err := m.AppendBinary(nil)
			if err != nil {
				t.Errorf("%s[:%d]: decoded but does not encode: %v", g.name, n, err)
				continue
			}
			m2, err := Decode(b)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Errorf("%s[:%d]: round trip: %v\n%+v\n%+v", g.name, n, err, m, m2)
			}
		}
	}
}

// TestTruncationsFail checks that the fixed part of each typed message is
// required: a cut there must be an error, not a shorter message.
func TestTruncationsFail(t *testing.T) {
	fixed := map[string]int{
		"features_reply": 32, "get_config_reply": 12, "set_config": 12, "error": 12, "error_experimenter": 16,
		"flow_mod": 56, "flow_mod_1.4": 56, "flow_mod_apply": 56, "group_mod_indirect_delete": 16, "meter_mod_delete": 16,
		"bundle_open_1.3": 24, "bundle_commit_reply_1.4": 16, "bundle_add_1.3": 104, "bundle_add_1.4": 24,
		"flow_stats_request": 56, "meter_config_request": 24, "group_desc_request": 16, "packet_in": 34,
		"flow_removed": 56, "port_status": 16, "tlv_table_mod": 24, "tlv_table_request": 16,
	}
	for _, g := range goldens() {
		min, ok := fixed[g.name]
		if !ok {
			continue
		}
		full := unhex(t, g.hex)
		for n := HeaderLen; n < min; n++ {
			cut := append([]byte(nil), full[:n]...)
			be.PutUint16(cut[2:], uint16(n))
			if m, err := Decode(cut); err == nil {
				if _, unk := m.(*Unknown); !unk {
					t.Errorf("%s[:%d]: decoded %T", g.name, n, m)
				}
			}
		}
	}
}

func TestDecodeVersions(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want Message // nil: a decoding error
	}{
		{"010e0008 00000001", &Unknown{}},                                          // OF1.0 flow_mod
		{"01120008 00000001", &Unknown{}},                                          // OF1.0 barrier request is 18
		{"06050008 00000001", &FeaturesRequest{}},                                  // OF1.5
		{"060f0010 00000003 00020200 fffffffc", nil},                               // OF1.5 group_mod, cut before command_bucket_id
		{"04210010 00000005 00000001 00050001", &Unknown{}},                        // no native bundles in 1.3
		{"05040018 00000005 4f4e4600 000008fc 00000001 00000003", &Experimenter{}}, // no ONF bundles in 1.4
		{"05040010 00000005 4f4e4600 0000074f", &Experimenter{}},                   // nor the ONF flow monitor
		{"041e0018 00000000 00000003 01000000 00000000 00000007", &Unknown{}},      // no OFPT_ROLE_STATUS in 1.3
		{"04120010 00000009 00100000 00000000", &MultipartRequest{}},               // nor OFPMP_FLOW_MONITOR
		{"0404000c 00000001 00002320", &Unknown{}},                                 // experimenter without exp_type
		{"04120010 00000009 00010000 00000000", nil},                               // truncated flow stats request
		{"03180018 00000001 00000002 00000000 00000000 00000005", &Unknown{}},      // OF1.2 role request: untyped
	} {
		b := unhex(t, tc.hex)
		m, err := Decode(b)
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: decoded %T, want an error", tc.hex, m)
			}
			continue
		}
		if err != nil || reflect.TypeOf(m) != reflect.TypeOf(tc.want) {
			t.Errorf("%s: %T, %v; want %T", tc.hex, m, err, tc.want)
		}
	}
}

// TestDecodeVersion0 keeps the first fuzz crasher: a version-0 frame of an
// unknown type decoded as *Unknown and re-encoded as version 4, since the
// encoders write version 0 as 1.3. No peer sends version 0 (ReadMessage
// refuses it too), so Decode refuses it rather than keep a byte the
// encoders would change.
func TestDecodeVersion0(t *testing.T) {
	for _, h := range []string{"0030000830303030", "00000008 00000001", "00020008 00000001"} {
		if m, err := Decode(unhex(t, h)); err == nil || !strings.Contains(err.Error(), "version 0") {
			t.Errorf("%s: %T, %v; want a version 0 error", h, m, err)
		}
	}
}

func TestReadMessage(t *testing.T) {
	var stream []byte
	var want [][]byte
	for _, g := range goldens() {
		b := unhex(t, g.hex)
		stream = append(stream, b...)
		want = append(want, b)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, 16)
	for i, w := range want {
		got, err := ReadMessage(r, buf)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("frame %d: %x, %v; want %x", i, got, err, w)
		}
	}
	if _, err := ReadMessage(r, buf); err != io.EOF {
		t.Errorf("at end: %v, want io.EOF", err)
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"0414", io.ErrUnexpectedEOF},
		{"04140010 00000001 0000", io.ErrUnexpectedEOF},
		{"04140007 00000001", ErrBadFrame},
		{"00140008 00000001", ErrBadFrame},
		{"07140008 00000001", ErrBadFrame},
		{"3f000008 00000001", nil}, // a HELLO may come from any version
	} {
		_, err := ReadMessage(bytes.NewReader(unhex(t, tc.in)), nil)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.in, err, tc.want)
		}
	}
	// Large frames grow past buf.
	big := &EchoRequest{payloadMsg{Data: make([]byte, 60000)}}
	b, _ := big.AppendBinary(nil)
	got, err := ReadMessage(bytes.NewReader(b), make([]byte, 0, 64))
	if err != nil || !bytes.Equal(got, b) {
		t.Errorf("big frame: %d bytes, %v", len(got), err)
	}
}

func TestTooLong(t *testing.T) {
	m := &EchoRequest{payloadMsg{Data: make([]byte, MaxMessageLen)}}
	if _, err := m.AppendBinary(nil); !errors.Is(err, ErrTooLong) {
		t.Errorf("65543-byte echo: %v", err)
	}
}

func ovsPrint(t testing.TB, bin string, b []byte) string {
	t.Helper()
	out, err := exec.Command(bin, "ofp-print", hex.EncodeToString(b)).CombinedOutput()
	if err != nil {
		t.Fatalf("ofp-print %x: %v: %s", b, err, out)
	}
	return string(out)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// ovsFrames reads the messages OVS itself sent, kept as hex under
// testdata/ovs-*.hex (one message a line; # starts a comment).
func ovsFrames(t testing.TB) [][]byte { return hexFrames(t, "ovs-*.hex") }

// hexFrames reads the frames of the testdata files that match pattern.
func hexFrames(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	if len(files) == 0 {
		t.Fatalf("no testdata/%s", pattern)
	}
	var out [][]byte
	for _, fn := range files {
		text, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(text), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, unhex(t, line))
		}
	}
	return out
}

// seedFrames is every golden and every OVS-produced message kept under
// testdata, for the fuzz targets.
func seedFrames(f *testing.F) [][]byte {
	var out [][]byte
	for _, g := range goldens() {
		out = append(out, unhex(f, g.hex))
	}
	// OVS's 64 KB flow stats parts would only slow the fuzzer down.
	for _, b := range append(ovsFrames(f), sessionFrames(f)...) {
		if len(b) <= 4096 {
			out = append(out, b)
		}
	}
	return out
}

// FuzzDecode: whatever Decode accepts must encode, and decode again to the
// same message.
func FuzzDecode(f *testing.F) {
	for _, b := range seedFrames(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sh, shErr := DecodeShallow(b) // must not panic, whatever b is
		m, err := Decode(b)
		if err != nil {
			return
		}
		// What decodes whole decodes shallow, and the entries' Decode
		// makes it the same.
		if shErr != nil {
			t.Fatalf("%x decodes but not shallow: %v", b, shErr)
		}
		switch sh := sh.(type) {
		case *FlowStatsReply:
			for i := range sh.Stats {
				if err := sh.Stats[i].Decode(sh.Version); err != nil {
					t.Fatalf("%x: entry %d: %v", b, i, err)
				}
			}
			sh.Shallow = false
		case *FlowMonitorReply:
			for i := range sh.Updates {
				if err := sh.Updates[i].Decode(sh.Version); err != nil {
					t.Fatalf("%x: update %d: %v", b, i, err)
				}
			}
			sh.Shallow = false
		}
		if !reflect.DeepEqual(sh, m) {
			t.Fatalf("shallow then Decode of %x:\n%#v\n%#v", b, sh, m)
		}
		enc, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("%T decoded from %x does not encode: %v", m, b, err)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("%T: re-encoded %x does not decode: %v", m, enc, err)
		}
		// Length may change: the action and oxm encoders write the
		// canonical form of what they decoded (less padding, say).
		clearLengths(m)
		clearLengths(m2)
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip of %x:\n%#v\n%#v", b, m, m2)
		}
		enc2, err := m2.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("%T: encoding is not stable: %x then %x (%v)", m, enc, enc2, err)
		}
	})
}

// It also clears flow stats and flow monitor replies' raw bytes, which are the input's
// (padding and all), not what the encoder writes.
func clearLengths(m Message) {
	m.Hdr().Length = 0
	if ba, ok := m.(*BundleAdd); ok && ba.Message != nil {
		clearLengths(ba.Message)
	}
	switch m := m.(type) {
	case *FlowStatsReply:
		for i := range m.Stats {
			m.Stats[i].RawMatch, m.Stats[i].RawInstructions = nil, nil
		}
	case *FlowMonitorReply:
		for i := range m.Updates {
			m.Updates[i].RawMatch, m.Updates[i].RawInstructions = nil, nil
		}
	}
}

// TestOVSFrames decodes every message OVS sent in the captured sessions
// and writes each back byte for byte.
func TestOVSFrames(t *testing.T) {
	var r Reassembler
	var flows, errNames []string
	for i, b := range ovsFrames(t) {
		m, err := Decode(b)
		if err != nil {
			t.Errorf("frame %d (%x...): %v", i, b[:min(len(b), 32)], err)
			continue
		}
		back, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("frame %d %T: re-encoded differs (%v)\n got %x\nwant %x", i, m, err, back[:min(len(back), 96)], b[:min(len(b), 96)])
		}
		switch m := m.(type) {
		case *Error:
			errNames = append(errNames, m.Err().Name)
			req, err := m.RequestMessage() // OVS sends the request back whole
			if err != nil || req.Hdr().XID != m.XID {
				t.Errorf("frame %d: request %v, %v", i, req, err)
			}
		case *PortStatus:
			if !strings.HasPrefix(m.Name, "q") || m.PortNo < 3 || m.HWAddr[0] != 0xaa {
				t.Errorf("frame %d: port_status %+v", i, m)
			}
		case *FlowStatsReply:
			whole, err := r.Add(m)
			if err != nil {
				t.Fatal(err)
			}
			if whole != nil {
				flows = append(flows, fmt.Sprint(len(whole.(*FlowStatsReply).Stats)))
			}
		}
	}
	want := "OFPFMFC_BAD_TABLE_ID OFPGMFC_GROUP_EXISTS NXTTMFC_ALREADY_MAPPED NXTTMFC_DUP_ENTRY OFPBAC_BAD_OUT_GROUP " +
		"OFPBFC_MSG_UNSUP OFPGMFC_UNKNOWN_GROUP OFPBFC_MSG_FAILED OFPBFC_BAD_ID"
	if got := strings.Join(errNames, " "); got != want+" "+want {
		t.Errorf("errors:\n%s\nwant twice\n%s", got, want)
	}
	// Each session dumped the whole table in three parts; the first
	// session's bundle added one flow before the second's dump.
	if got := strings.Join(flows, " "); got != "1506 1507" {
		t.Errorf("reassembled flow counts %q", got)
	}
}

// FuzzReadMessage: framing never panics, and every frame it returns is as
// long as its header says.
func FuzzReadMessage(f *testing.F) {
	var stream []byte
	for _, b := range seedFrames(f) {
		stream = append(stream, b...)
		f.Add(b)
	}
	f.Add(stream)
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		buf := make([]byte, 0, 64)
		for {
			b, err := ReadMessage(r, buf)
			if err != nil {
				return
			}
			if len(b) < HeaderLen || int(be.Uint16(b[2:])) != len(b) || b[0] == 0 {
				t.Fatalf("frame %x", b)
			}
		}
	})
}
