package openflow

import (
	"bytes"
	"testing"
)

// SET_ASYNC asking for port status only (and packet-in for no_match as
// the master), in 1.3's masks and 1.4/1.5's properties; `ovs-ofctl
// ofp-print` reads each as "PACKET_IN: no_match / PORT_STATUS: add delete
// modify / FLOW_REMOVED: (off)" for the primary and "PORT_STATUS: add
// delete modify" alone for the secondary.
var setAsyncGoldens = map[uint8]string{
	Version13: "041c0020 00000007 00000001 00000000 00000007 00000007 00000000 00000000",
	Version14: "051c0038 00000007 00000008 00000000 00010008 00000001 00020008 00000007 00030008 00000007 00040008 00000000 00050008 00000000",
	Version15: "061c0038 00000007 00000008 00000000 00010008 00000001 00020008 00000007 00030008 00000007 00040008 00000000 00050008 00000000",
}

func TestSetAsync(t *testing.T) {
	for v, h := range setAsyncGoldens {
		want := unhex(t, h)
		m := &SetAsync{Header: Header{Version: v, XID: 7}, PacketIn: [2]uint32{1, 0}, PortStatus: [2]uint32{7, 7}}
		b, err := m.AppendBinary(nil)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("v%d: %x %v\nwant %x", v, b, err, want)
		}
		dec, err := Decode(want)
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		got, ok := dec.(*SetAsync)
		if !ok || got.PacketIn != m.PacketIn || got.PortStatus != m.PortStatus || got.FlowRemoved != m.FlowRemoved {
			t.Errorf("v%d: decoded %+v", v, dec)
		}
		for n := HeaderLen; n < len(want); n++ {
			cut := append([]byte(nil), want[:n]...)
			cut[2], cut[3] = 0, byte(n)
			if err := new(SetAsync).UnmarshalBinary(cut); err == nil && (v == Version13 || (n-HeaderLen)%8 != 0) {
				t.Errorf("v%d: cut to %d bytes: no error", v, n)
			}
		}
	}
	for _, h := range []string{
		"051c0010 00000007 00060008 00000001", // role status: not ours
		"051c0018 00000007 00020008 00000007 00020008 00000007", // twice
		"051c0010 00000007 0002000c 00000007",                   // bad length
	} {
		if err := new(SetAsync).UnmarshalBinary(unhex(t, h)); err == nil {
			t.Errorf("%s: no error", h)
		}
	}
}

func FuzzSetAsync(f *testing.F) {
	for _, h := range setAsyncGoldens {
		f.Add(unhex(f, h))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m SetAsync
		if m.UnmarshalBinary(b) != nil {
			return
		}
		out, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var m2 SetAsync
		if err := m2.UnmarshalBinary(out); err != nil {
			t.Fatalf("%x: %v", out, err)
		}
		if m2.PacketIn != m.PacketIn || m2.PortStatus != m.PortStatus || m2.FlowRemoved != m.FlowRemoved {
			t.Fatalf("%+v != %+v", m2, m)
		}
	})
}
