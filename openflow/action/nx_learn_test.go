package action

import (
	"encoding/hex"
	"testing"
)

func TestLearnVectors(t *testing.T) {
	for _, v := range nxtVectors(t, nxastLearn, nxastLearn2) {
		t.Run(v.text, func(t *testing.T) {
			nxtRoundTrip(t, v)
			nxtTruncations(t, v.bin, false)
		})
	}
}

func TestLearnOVNSample(t *testing.T) {
	for _, s := range nxtOVNActions(t, "learn") {
		t.Run(s, func(t *testing.T) { nxtTextRoundTrip(t, s, true) })
	}
}

// nxtLearnTexts cover every spec kind and flag.
var nxtLearnTexts = []string{
	"learn(table=0,idle_timeout=1,hard_timeout=2,priority=3,send_flow_rem,delete_learned,cookie=0xffffffffffffffff,limit=4294967295,result_dst=NXM_NX_REG15[31],NXM_OF_ETH_DST[])",
	"learn(table=254,NXM_OF_VLAN_TCI[0..11]=0xfff,NXM_NX_REG0[5]=0x1,NXM_NX_REG1[0..15]=NXM_NX_REG2[16..31])",
	"learn(table=1,load:NXM_NX_REG0[]->NXM_NX_REG1[],load:0x123456789abcdef0123->NXM_NX_XXREG1[1..127],load:0->NXM_NX_CT_LABEL[])",
	"learn(table=1,in_port=99,output:NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[])",
	"learn(table=1)",
}

func TestLearnTexts(t *testing.T) {
	for _, s := range nxtLearnTexts {
		t.Run(s, func(t *testing.T) { nxtTextRoundTrip(t, s, true) })
	}
}

var nxtLearnBad = []string{
	"table=255", "bogus=1", "NXM_NX_REG0[0..3]=NXM_NX_REG1[]", "NXM_NX_REG0[0..3]=0x10",
	"load:0x10->NXM_NX_REG0[0..3]", "load:NXM_NX_REG0[]->NXM_NX_REG1[0..3]", "output:NOPE[]",
	"result_dst=NXM_NX_REG0[0..1]", "NXM_NX_REG0[32]", "limit=x",
}

func TestLearnParseBad(t *testing.T) {
	for _, s := range nxtLearnBad {
		if _, err := parseLearn(Context{Version: 4}, "learn", s, true); err == nil {
			t.Errorf("learn(%s) parsed", s)
		}
	}
}

// nxtLearnBadDecodes are encodings OVS refuses (checked with ovs-ofctl).
var nxtLearnBadDecodes = []struct{ hex, err string }{
	// table 255
	{"ffff002000002320001000000000000000000000000000000000ff0000000000", "OFPBAC_BAD_ARGUMENT"},
	// pad nonzero
	{"ffff002000002320001000000000000000000000000000000000010100000000", "OFPBAC_BAD_ARGUMENT"},
	// unknown flag
	{"ffff002000002320001000000000000000000000000000000004010000000000", "OFPBAC_BAD_ARGUMENT"},
	// learn2 pad2 nonzero
	{"ffff002800002320002d000000000000000000000000000000000100000000000000000000000001", "NXBAC_MUST_BE_ZERO"},
	// spec src=immediate dst=output
	{"ffff00300000232000100000000000000000000000000000000001000000000030100000000000000000000000000000", "OFPBAC_BAD_ARGUMENT"},
	// spec runs past the end
	{"ffff0028000023200010000000000000000000000000000000000100000000000030000004060000", "OFPBAC_BAD_LEN"},
	// garbage after the terminating zero header
	{"ffff0028000023200010000000000000000000000000000000000100000000000000000100000000", "OFPBAC_BAD_ARGUMENT"},
}

func TestLearnBadDecodes(t *testing.T) {
	for _, c := range nxtLearnBadDecodes {
		b, err := hex.DecodeString(c.hex)
		if err != nil {
			t.Fatal(err)
		}
		if int(be.Uint16(b[2:])) != len(b) {
			t.Fatalf("%s: length field %d, %d bytes", c.hex, be.Uint16(b[2:]), len(b))
		}
		nxtOracleErr(t, b, c.err)
		_, err = nxtDecode(Context{Version: 4}, b)
		if err == nil || lastColon(err.Error()) != c.err {
			t.Errorf("%x: got %v, want %s", b, err, c.err)
		}
	}
}
