package ofactortest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// What the switch writes, read by OVS itself: every reply of a session
// goes into one file that `ovs-ofctl ofp-parse` prints, and what it prints
// is what OVS would say of its own replies.
func TestRepliesReadByOVS(t *testing.T) {
	ofctlBin := ovstest.OfctlPath(t)
	sw := ofactortest.Start(t, ofactortest.WithDatapathID(0x1234))
	c := dial(t, sw)
	if err := sw.AddGroup("group_id=5,type=select,bucket=weight:3,actions=output:1"); err != nil {
		t.Fatal(err)
	}
	if err := sw.AddMeter("meter=2,kbps,burst,bands=type=drop,rate=100,burst_size=10"); err != nil {
		t.Fatal(err)
	}
	fm, err := ofctl.ParseFlow("cookie=0x9,table=3,priority=7,ip,nw_dst=10.1.0.0/16 actions=group:5", nil)
	if err != nil {
		t.Fatal(err)
	}
	echo := &openflow.EchoRequest{}
	echo.Data = []byte{1, 2, 3}
	rs := exchange(t, c,
		fm,
		&openflow.FeaturesRequest{},
		&openflow.GetConfigRequest{},
		&openflow.MultipartRequest{MPType: openflow.MultipartPortDesc},
		&openflow.MultipartRequest{MPType: openflow.MultipartDesc},
		&openflow.MultipartRequest{MPType: openflow.MultipartMeterFeatures},
		&openflow.TLVTableMod{Command: openflow.TLVTableAdd, Mappings: []openflow.TLVMap{{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4}}},
		&openflow.TLVTableRequest{},
		openflow.NewFlowStatsRequest(0),
		&openflow.GroupDescRequest{},
		&openflow.MeterConfigRequest{MeterID: openflow.MeterAll},
		&openflow.BundleControl{BundleID: 7, Type: openflow.BundleOpenRequest},
		&openflow.BundleControl{BundleID: 8, Type: openflow.BundleCommitRequest},
		echo,
		&openflow.BarrierRequest{})
	var file []byte
	for _, r := range rs {
		file = append(file, r.Raw...)
	}
	path := filepath.Join(t.TempDir(), "replies.bin")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ofctlBin, "ofp-parse", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-ofctl ofp-parse: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"OFPT_FEATURES_REPLY (OF1.3) (xid=0x102): dpid:0000000000001234\nn_tables:254, n_buffers:0\ncapabilities: FLOW_STATS TABLE_STATS PORT_STATS GROUP_STATS QUEUE_STATS",
		"OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x103): frags=normal miss_send_len=0",
		"OFPST_PORT_DESC reply (OF1.3) (xid=0x104):\n LOCAL(br-int): addr:02:0f:ac:70:00:01\n     config:     0\n     state:      LIVE\n     speed: 0 Mbps now, 0 Mbps max",
		"OFPST_DESC reply (OF1.3) (xid=0x105):\nManufacturer: Nicira, Inc.\nHardware: Open vSwitch\nSoftware: 3.1.0\nSerial Num: None\nDP Description: ofactortest in-memory switch",
		"OFPST_METER_FEATURES reply (OF1.3) (xid=0x106):\nmax_meter:262144 max_bands:8 max_color:0\nband_types: drop\ncapabilities: kbps pktps burst stats",
		"NXT_TLV_TABLE_REPLY (OF1.3) (xid=0x108):\n max option space=256 max fields=64\n allocated option space=4\n\n mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------\n  0x102  0x80       4  tun_metadata0",
		"OFPST_FLOW reply (OF1.3) (xid=0x109):\n cookie=0x9, duration=",
		"table=3, n_packets=0, n_bytes=0, priority=7,ip,nw_dst=10.1.0.0/16 actions=group:5",
		"OFPST_GROUP_DESC reply (OF1.3) (xid=0x10a):\n group_id=5,type=select,bucket=weight:3,actions=output:1",
		"OFPST_METER_CONFIG reply (OF1.3) (xid=0x10b):\nmeter=2 kbps burst bands=\ntype=drop rate=100 burst_size=10",
		"ONFT_BUNDLE_CONTROL (OF1.3) (xid=0x10c):\n bundle_id=0x7 type=OPEN_REPLY flags=0",
		"OFPT_ERROR (OF1.3) (xid=0x10d): OFPBFC_BAD_ID\nONFT_BUNDLE_CONTROL (OF1.3) (xid=0x10d):\n bundle_id=0x8 type=COMMIT_REQUEST flags=0",
		"OFPT_ECHO_REPLY (OF1.3) (xid=0x10e): 3 bytes of payload\n00000000  01 02 03",
		"OFPT_BARRIER_REPLY (OF1.3) (xid=0x10f):",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("ovs-ofctl does not print\n%s\nin\n%s", want, text)
		}
	}
}
