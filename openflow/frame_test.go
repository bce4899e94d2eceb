package openflow

import (
	"testing"

	"github.com/ofactor/ofactor/openflow/ofperr"
)

func TestFrameHelpers(t *testing.T) {
	byName := map[string][]byte{}
	for _, g := range goldens() {
		byName[g.name] = unhex(t, g.hex)
	}
	for _, tc := range []struct {
		name                       string
		xid                        uint32
		final, more, async, async2 bool
	}{
		{"hello", 0, true, false, false, false},
		{"error", 6, false, false, false, false},
		{"barrier_reply", 9, true, false, false, false},
		{"multipart_reply_raw", 12, false, true, false, false},
		{"flow_stats_reply_1.5", 7, false, true, false, false},
		{"flow_stats_request_1.5", 7, true, false, false, false},
		{"packet_in", 0, true, false, true, true},
		{"flow_removed_1.5", 0, true, false, true, true},
		{"port_status_1.4", 0, true, false, true, true},
		{"role_status_1.3", 0, true, false, false, true}, // ONF experimenter: async by frame only
		{"role_status_1.4", 0, true, false, true, true},
		{"flow_monitor_paused_1.3", 0, true, false, false, true},
		{"flow_monitor_reply_1.3", 0, true, false, false, true},  // xid 0: an update
		{"flow_monitor_reply_1.4", 1, false, true, false, false}, // a reply to xid 1, more to come
		{"bundle_add_1.5", 4, true, false, false, false},
	} {
		b := byName[tc.name]
		if b == nil {
			t.Fatalf("no golden %s", tc.name)
		}
		if got := FrameXID(b); got != tc.xid {
			t.Errorf("%s: FrameXID %d, want %d", tc.name, got, tc.xid)
		}
		if got := IsFinalReply(b); got != tc.final {
			t.Errorf("%s: IsFinalReply %v", tc.name, got)
		}
		if got := FrameMultipartMore(b); got != tc.more {
			t.Errorf("%s: FrameMultipartMore %v", tc.name, got)
		}
		if got := IsAsync(Type(b[1]), b[0]); got != tc.async {
			t.Errorf("%s: IsAsync %v", tc.name, got)
		}
		if got := IsAsyncFrame(b); got != tc.async2 {
			t.Errorf("%s: IsAsyncFrame %v", tc.name, got)
		}
	}
	// Types 30-32 exist from 1.4 on.
	if IsAsync(TypeRoleStatus, Version13) || !IsAsync(TypeTableStatus, Version15) || IsAsync(TypeFlowMod, Version15) {
		t.Error("IsAsync by version")
	}
	// Too short for anything.
	for _, b := range [][]byte{nil, {4}, {4, 1, 0, 8, 0, 0, 0}} {
		SetFrameXID(b, 9)
		if FrameXID(b) != 0 || IsFinalReply(b) || FrameMultipartMore(b) || IsAsyncFrame(b) {
			t.Errorf("%x: answers for a short frame", b)
		}
		if _, _, _, ok := ErrorFields(b); ok {
			t.Errorf("%x: error fields", b)
		}
		if _, _, ok := BundleFrame(b); ok {
			t.Errorf("%x: bundle", b)
		}
	}
}

// TestSetFrameXID renumbers bundle ADD_MESSAGEs of both framings: outer
// and inner xid change, nothing else.
func TestSetFrameXID(t *testing.T) {
	for _, name := range []string{"bundle_add_1.3", "bundle_add_1.4", "bundle_add_1.5", "flow_mod", "role_status_1.3"} {
		var b []byte
		for _, g := range goldens() {
			if g.name == name {
				b = unhex(t, g.hex)
			}
		}
		orig := append([]byte(nil), b...)
		SetFrameXID(b, 0xabcdef01)
		m, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Hdr().XID != 0xabcdef01 {
			t.Errorf("%s: outer xid %#x", name, m.Hdr().XID)
		}
		if ba, ok := m.(*BundleAdd); ok && ba.Message.Hdr().XID != 0xabcdef01 {
			t.Errorf("%s: inner xid %#x", name, ba.Message.Hdr().XID)
		}
		SetFrameXID(b, FrameXID(orig))
		if string(b) != string(orig) {
			t.Errorf("%s: renumbering back gives %x, want %x", name, b, orig)
		}
	}
	// A bundle ADD cut before its inner header keeps the outer change only.
	cut := unhex(t, "05220018 00000008 00000002 00000002 050e0038")
	SetFrameXID(cut, 7)
	if FrameXID(cut) != 7 || cut[16] != 5 || len(cut) != 20 {
		t.Errorf("cut bundle add: %x", cut)
	}
}

func TestErrorFieldsAndBundleFrame(t *testing.T) {
	byName := map[string][]byte{}
	for _, g := range goldens() {
		byName[g.name] = unhex(t, g.hex)
	}
	for name, want := range map[string]string{
		"error": "OFPBAC_BAD_OUT_GROUP", "error_experimenter": "OFPBFC_MSG_FAILED", "error_bundle_1.4": "OFPBFC_MSG_FAILED",
		"error_tlv_1.5": "NXTTMFC_ALREADY_MAPPED", "error_stale_1.5": "OFPRRFC_STALE",
	} {
		b := byName[name]
		typ, code, exp, ok := ErrorFields(b)
		if got := ofperr.Decode(b[0], typ, code, exp).Name; !ok || got != want {
			t.Errorf("%s: %s (%v), want %s", name, got, ok, want)
		}
	}
	if _, _, _, ok := ErrorFields(byName["flow_mod"]); ok {
		t.Error("a flow_mod has error fields")
	}
	if _, _, _, ok := ErrorFields(unhex(t, "04010010 00000001 ffff0909")); ok {
		t.Error("experimenter error without its experimenter id")
	}
	for name, want := range map[string][2]int{ // control type, add (1) or not
		"bundle_open_1.3": {int(BundleOpenRequest), 0}, "bundle_commit_reply_1.4": {int(BundleCommitReply), 0},
		"bundle_open_1.5": {int(BundleOpenRequest), 0}, "bundle_add_1.3": {0, 1}, "bundle_add_1.5": {0, 1},
	} {
		typ, add, ok := BundleFrame(byName[name])
		if !ok || int(typ) != want[0] || add != (want[1] == 1) {
			t.Errorf("%s: BundleFrame %d %v %v", name, typ, add, ok)
		}
	}
	for _, name := range []string{"flow_mod", "role_status_1.3", "tlv_table_request_1.5"} {
		if _, _, ok := BundleFrame(byName[name]); ok {
			t.Errorf("%s: a bundle", name)
		}
		if _, ok := BundleInner(byName[name]); ok {
			t.Errorf("%s: BundleInner of no bundle add", name)
		}
	}
	for _, name := range []string{"bundle_add_1.3", "bundle_add_1.5"} {
		b := byName[name]
		in, ok := BundleInner(b)
		if !ok || len(in) < HeaderLen || in[0] != b[0] || int(be.Uint16(in[2:])) != len(in) {
			t.Errorf("%s: BundleInner %x %v", name, in, ok)
		}
		if _, ok := BundleInner(b[:len(b)-1]); ok {
			t.Errorf("%s: BundleInner of a cut frame", name)
		}
	}
	// ONF bundles exist in 1.3 only; native ones from 1.4.
	if _, _, ok := BundleFrame(unhex(t, "05040018 00000005 4f4e4600 000008fc 00000001 00000003")); ok {
		t.Error("ONF bundle control in 1.4")
	}
	if _, _, ok := BundleFrame(unhex(t, "04210010 00000005 00000001 00050001")); ok {
		t.Error("native bundle control in 1.3")
	}
}

// FuzzFrame: the frame helpers never panic, and agree with Decode on
// whatever it accepts.
func FuzzFrame(f *testing.F) {
	for _, b := range seedFrames(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		xid := FrameXID(b)
		final, more, async := IsFinalReply(b), FrameMultipartMore(b), IsAsyncFrame(b)
		typ, code, exp, isErr := ErrorFields(b)
		ctrl, add, isBundle := BundleFrame(b)
		_, _, _ = final, async, ctrl
		c := append([]byte(nil), b...)
		SetFrameXID(c, xid+1)
		m, err := Decode(b)
		if err != nil {
			return
		}
		h := m.Hdr()
		if h.XID != xid {
			t.Fatalf("%x: FrameXID %d, header %d", b, xid, h.XID)
		}
		switch m := m.(type) {
		case *Error:
			if !isErr || typ != m.ErrType || code != m.Code || exp != m.Experimenter {
				t.Fatalf("%x: ErrorFields %d %d %d %v, decoded %+v", b, typ, code, exp, isErr, m)
			}
		case *BundleControl:
			if !isBundle || add || ctrl != m.Type {
				t.Fatalf("%x: BundleFrame %d %v %v", b, ctrl, add, isBundle)
			}
		case *BundleAdd:
			if !isBundle || !add {
				t.Fatalf("%x: BundleFrame of an add: %v %v", b, add, isBundle)
			}
			m2, err := Decode(c)
			if err != nil || m2.Hdr().XID != xid+1 || m2.(*BundleAdd).Message.Hdr().XID != xid+1 {
				t.Fatalf("%x: SetFrameXID on a bundle add: %v", b, err)
			}
		case *FlowStatsReply:
			if more != (m.Flags&MultipartMore != 0) {
				t.Fatalf("%x: FrameMultipartMore %v", b, more)
			}
		}
		if isErr != (h.Type == TypeError) {
			t.Fatalf("%x: ErrorFields ok %v for a %T", b, isErr, m)
		}
	})
}
