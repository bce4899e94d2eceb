package main

import (
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

func encode(t *testing.T, m openflow.Message) []byte {
	t.Helper()
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, b []byte) openflow.Message {
	t.Helper()
	m, err := openflow.Decode(b)
	if err != nil {
		t.Fatalf("fake switch sent undecodable %x: %v", b, err)
	}
	return m
}

func TestFakeSwitchAnswers(t *testing.T) {
	h := openflow.Header{Version: openflow.Version13, XID: 7}
	barrier := &openflow.BarrierRequest{}
	barrier.Header = h
	if _, ok := decode(t, fakeReply(encode(t, barrier))).(*openflow.BarrierReply); !ok {
		t.Error("barrier not answered")
	}
	req := openflow.NewFlowStatsRequest(openflow.Version13)
	req.XID = 8
	if r, ok := decode(t, fakeReply(encode(t, req))).(*openflow.FlowStatsReply); !ok || len(r.Stats) != 0 || r.XID != 8 {
		t.Errorf("flow stats: %#v", r)
	}
	open := &openflow.BundleControl{Header: h, BundleID: 3, Type: openflow.BundleOpenRequest}
	if r, ok := decode(t, fakeReply(encode(t, open))).(*openflow.BundleControl); !ok || r.Type != openflow.BundleOpenReply || r.BundleID != 3 {
		t.Errorf("bundle open: %#v", r)
	}
	if _, ok := decode(t, fakeReply(encode(t, &openflow.TLVTableRequest{Header: h}))).(*openflow.TLVTableReply); !ok {
		t.Error("TLV table request not answered")
	}
	add := &openflow.BundleAdd{Header: h, BundleID: 3, Message: barrier}
	if fakeReply(encode(t, add)) != nil {
		t.Error("bundle add answered")
	}
}

func TestMedianAndOrder(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	firsts := map[int]bool{}
	for run := range 3 {
		firsts[order(run, 3)[0]] = true
	}
	if len(firsts) != 3 {
		t.Errorf("every contender should go first once in 3 runs: %v", firsts)
	}
}
