package openflow

import "testing"

// TestPortMap follows a port table as a controller sees it: the port
// description reply, then port status messages; a shared name resolves to
// nothing, as ovs-ofctl's port map has it.
func TestPortMap(t *testing.T) {
	var pm PortMap
	if _, ok := pm.Number("p1"); ok || pm.Len() != 0 {
		t.Fatal("zero map resolves")
	}
	if pm.Apply(&BarrierReply{}) {
		t.Error("a barrier reply applied")
	}
	pm.Apply(&PortDescReply{Ports: []Port{testPort(1, "p1"), testPort(2, "p2"), {PortNo: PortLocal, Name: "br-int"}}})
	check := func(step, name string, want uint32, ok bool) {
		t.Helper()
		got, gotOK := pm.Number(name)
		if gotOK != ok || got != want {
			t.Errorf("%s: Number(%q) = %d, %v; want %d, %v", step, name, got, gotOK, want, ok)
		}
		if ok {
			if n, nok := pm.Name(want); !nok || n != name {
				t.Errorf("%s: Name(%d) = %q, %v", step, want, n, nok)
			}
		}
	}
	check("desc", "p1", 1, true)
	check("desc", "br-int", PortLocal, true)
	pm.Apply(&PortStatus{Reason: PortReasonAdd, Port: testPort(3, "p3")})
	check("add", "p3", 3, true)
	pm.Apply(&PortStatus{Reason: PortReasonModify, Port: testPort(2, "p2-renamed")})
	check("rename", "p2", 0, false)
	check("rename", "p2-renamed", 2, true)
	pm.Apply(&PortStatus{Reason: PortReasonAdd, Port: testPort(4, "p1")}) // a second p1
	check("dup", "p1", 0, false)
	if _, ok := pm.Name(1); ok {
		t.Error("a shared name resolves by number")
	}
	pm.Apply(&PortStatus{Reason: PortReasonDelete, Port: testPort(1, "p1")})
	check("delete", "p1", 4, true)
	if pm.Len() != 4 {
		t.Errorf("%d ports, want 4", pm.Len())
	}
	// A new description replaces everything.
	pm.Apply(&PortDescReply{Ports: []Port{testPort(9, "x")}})
	check("redesc", "p3", 0, false)
	check("redesc", "x", 9, true)
	// What OVS sent in the captured 1.5 session: the names it knows.
	var live PortMap
	for _, b := range hexFrames(t, "session-of15.hex") {
		if m, err := Decode(b); err == nil {
			live.Apply(m)
		}
	}
	if no, ok := live.Number("p1"); !ok || no != 3 {
		t.Errorf("session: p1 is %d, %v", no, ok)
	}
	if _, ok := live.Number("q6"); ok {
		t.Error("session: q6 was deleted, still resolves")
	}
}
