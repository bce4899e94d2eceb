package connection

import (
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Against a real ovs-vswitchd: HELLO, routed replies of each kind, an
// error then a barrier, and a reconnect after the switch is killed.
func TestAgainstOVS(t *testing.T) {
	sw := ovstest.Start(t)
	sys := newSystem()
	pid, sink, _ := start(t, sys, Config{Target: sw.Target(), Versions: []uint8{openflow.Version13, openflow.Version15},
		Backoff: constBackoff(50 * time.Millisecond)})
	got := expect[*messages.Connected](t, sink)
	if got.Seq != 1 || got.Version != openflow.Version15 {
		t.Fatalf("Connected %+v, want seq 1 OpenFlow 1.5", got)
	}
	sys.Root.Send(pid, &messages.Unsubscribe{PID: sink.pid}) // only replies from here on

	v := got.Version
	tlv := &openflow.TLVTableRequest{Header: openflow.Header{Version: v}}
	bad := &openflow.Experimenter{Header: openflow.Header{Version: v}, Experimenter: openflow.ExperimenterNicira, ExpType: 0xfffe}
	br := &openflow.BarrierRequest{}
	br.Version = v
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: []openflow.Message{tlv, bad, br}, ReplyTo: sink.pid})
	sent := expect[*messages.Sent](t, sink)
	if r := expect[*messages.Reply](t, sink); r.XID != sent.XID(0) {
		t.Errorf("reply %+v, want the TLV table reply", r)
	} else if _, ok := r.Msg.(*openflow.TLVTableReply); !ok {
		t.Errorf("reply %T", r.Msg)
	}
	if r := expect[*messages.Reply](t, sink); r.XID != sent.XID(1) {
		t.Errorf("reply %+v, want the error", r)
	} else if e, ok := r.Msg.(*openflow.Error); !ok {
		t.Errorf("reply %T", r.Msg)
	} else if name := ofperr.Decode(e.Version, e.ErrType, e.Code, e.Experimenter).Name; name != "OFPBRC_BAD_SUBTYPE" {
		t.Errorf("error %s, want OFPBRC_BAD_SUBTYPE", name)
	}
	if r := expect[*messages.Reply](t, sink); r.XID != sent.XID(2) {
		t.Errorf("reply %+v, want the barrier reply", r)
	}
	sys.Root.Send(pid, &messages.Send{Ref: 2, Msgs: []openflow.Message{openflow.NewFlowStatsRequest(v)}, ReplyTo: sink.pid})
	expect[*messages.Sent](t, sink)
	if r := expect[*messages.Reply](t, sink); r.Msg.Hdr().Type != openflow.TypeMultipartReply {
		t.Errorf("reply %T, want the flow stats reply", r.Msg)
	}

	sys.Root.Send(pid, &messages.Subscribe{PID: sink.pid})
	expect[*messages.Connected](t, sink)
	if err := sw.Kill9(); err != nil {
		t.Fatal(err)
	}
	if d := expect[*messages.Disconnected](t, sink); d.Seq != 1 {
		t.Errorf("Disconnected %+v", d)
	}
	t.Logf("switch in %s killed", sw.Dir)
	if err := sw.Restart(); err != nil {
		t.Fatal(err)
	}
	// Dials that come before the restarted switch listens fail
	// (ConnectFailed) and are retried.
	for deadline := time.After(30 * time.Second); ; {
		select {
		case m := <-sink.ch:
			if _, failed := m.(*messages.ConnectFailed); failed {
				continue
			}
			if c, ok := m.(*messages.Connected); !ok || c.Seq != 2 {
				t.Errorf("after restart: %T %+v, want Connected seq 2", m, m)
			}
		case <-deadline:
			t.Fatal("no reconnect to the restarted switch")
		}
		break
	}
}
