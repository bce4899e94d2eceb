package negotiator

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zaptest"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// probe is an actor that hands every message it receives to the test.
func probe(t *testing.T, sys *actor.ActorSystem) (*actor.PID, chan any) {
	ch := make(chan any, 64)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case actor.SystemMessage, actor.AutoReceiveMessage, *actor.Started, *actor.Stopping, *actor.Stopped:
			return
		}
		ch <- ctx.Message()
	}))
	return pid, ch
}

// next returns the next message on ch, which must be a T. The timeout only
// bounds a broken test; nothing waits on it.
func next[T any](t *testing.T, ch chan any) T {
	t.Helper()
	select {
	case m := <-ch:
		v, ok := m.(T)
		if !ok {
			var want T
			t.Fatalf("got %T %+v, want %T", m, m, want)
		}
		return v
	case <-time.After(5 * time.Second):
		var want T
		t.Fatalf("no %T", want)
		panic("unreachable")
	}
}

// The actor against a fake connection that numbers what it sends as the
// real one does (Sent with FirstXID), through three connections.
func TestActor(t *testing.T) {
	log := zaptest.NewLogger(t)
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(zapslog.NewHandler(log.Core()))
	}))
	defer sys.Shutdown()
	conn, connCh := probe(t, sys)
	rec, recCh := probe(t, sys)
	sub, subCh := probe(t, sys)

	props, err := Props(ActorConfig{Connection: conn, Reconciler: rec, Subscribers: []*actor.PID{sub},
		Negotiator: DefaultConfig(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	neg := sys.Root.Spawn(props)
	if s := next[*Subscribe](t, connCh); !s.PID.Equal(neg) {
		t.Fatalf("subscribed %v, want %v", s.PID, neg)
	}
	send := func(m any) { sys.Root.Send(neg, m) }
	// expectSend checks the next Send and acknowledges it with first.
	expectSend := func(ref, seq uint64, want string, first uint32) {
		t.Helper()
		s := next[*Send](t, connCh)
		if s.Ref != ref || s.Seq != seq || !s.ReplyTo.Equal(neg) {
			t.Fatalf("Send ref %d seq %d reply_to %v, want %d %d %v", s.Ref, s.Seq, s.ReplyTo, ref, seq, neg)
		}
		var got string
		for i, m := range s.Msgs {
			if i > 0 {
				got += "\n"
			}
			got += describe(m)
		}
		if got != want {
			t.Fatalf("Send:\n%s\nwant:\n%s", got, want)
		}
		send(&Sent{Ref: ref, Seq: seq, FirstXID: first, N: len(s.Msgs)})
	}
	expectResult := func(ch chan any, want GeneveFieldAssigned) {
		t.Helper()
		if got := next[*GeneveFieldAssigned](t, ch); *got != want {
			t.Fatalf("got %+v, want %+v", *got, want)
		}
	}

	// Connection 1: index 1 is free; we take it.
	send(&Connected{Seq: 1, Version: openflow.Version13})
	send(&Connected{Seq: 1, Version: openflow.Version13}) // told twice: once is enough
	expectSend(1, 1, "tlv_table_request xid=1", 100)
	send(&Reply{Seq: 1, XID: 100, Msg: reply(100, other(0))})
	expectSend(2, 1, "tlv_table_mod cmd=0 0x0102,0x80,4->1 xid=2\nbarrier_request xid=3", 200)
	send(&Reply{Seq: 1, XID: 201, Msg: barrierReply(201)})
	g1 := GeneveFieldAssigned{Seq: 1, Enabled: true, Index: 1, Class: 0x0102, Type: 0x80, Len: 4}
	g1.Lengths[0], g1.Lengths[1] = 8, 4 // the other option's, and ours
	expectResult(recCh, g1)
	expectResult(subCh, g1)

	// Connection 2: the mapping is still there. The reconciler hears of
	// it, the subscriber does not: nothing changed.
	send(&Disconnected{Seq: 1})
	send(&Connected{Seq: 2, Version: openflow.Version13})
	expectSend(3, 2, "tlv_table_request xid=4", 300)
	send(&Reply{Seq: 1, XID: 300, Msg: reply(300)}) // an older connection's: dropped
	send(&Reply{Seq: 2, XID: 300, Msg: reply(300, ours(1))})
	g2 := g1
	g2.Seq, g2.Lengths[0] = 2, 0 // the other option is gone: its length too
	expectResult(recCh, g2)

	// A late subscriber learns the current result at once.
	late, lateCh := probe(t, sys)
	send(&Subscribe{PID: late})
	expectResult(lateCh, g2)

	// Connection 3: a reply before Sent cannot be to our new request, so
	// it goes to the common handler; then the switch refuses the request.
	send(&Connected{Seq: 3, Version: openflow.Version13})
	s := next[*Send](t, connCh)
	send(&Reply{Seq: 3, XID: s.Msgs[0].Hdr().XID, Msg: reply(s.Msgs[0].Hdr().XID, ours(1))})
	send(&Sent{Ref: s.Ref, Seq: 3, FirstXID: 400, N: 1})
	send(&Reply{Seq: 3, XID: 400, Msg: errorReply(400, "OFPBRC_BAD_SUBTYPE")})
	g3 := GeneveFieldAssigned{Seq: 3, Index: -1, Class: 0x0102, Type: 0x80, Len: 4}
	expectResult(recCh, g3)
	expectResult(subCh, g3) // the subscriber's next event: none came for connection 2
	expectResult(lateCh, g3)

	// Unsubscribed, the late subscriber hears no more; unknown messages are
	// only logged.
	send(&Unsubscribe{PID: late})
	send("bogus")
	send(&Connected{Seq: 4, Version: openflow.Version13})
	expectSend(5, 4, "tlv_table_request xid=6", 500)
	send(&SendFailed{Ref: 5, Seq: 4, Index: 0, Err: "message too long"})
	g4 := GeneveFieldAssigned{Seq: 4, Index: -1, Class: 0x0102, Type: 0x80, Len: 4}
	expectResult(recCh, g4)

	// Connection 5 maps the option again: a change. Neither the earlier
	// unchanged result nor anything after Unsubscribe reached the probes.
	send(&Connected{Seq: 5, Version: openflow.Version13})
	expectSend(6, 5, "tlv_table_request xid=7", 600)
	send(&Reply{Seq: 5, XID: 600, Msg: reply(600, ours(7))})
	g5 := GeneveFieldAssigned{Seq: 5, Enabled: true, Index: 7, Class: 0x0102, Type: 0x80, Len: 4}
	g5.Lengths[7] = 4
	expectResult(recCh, g5)
	expectResult(subCh, g5)
	send(&Subscribe{PID: late})
	expectResult(lateCh, g5)
}

func TestPropsErrors(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	conn := sys.NewLocalPID("conn")
	if _, err := Props(ActorConfig{Negotiator: DefaultConfig()}); err == nil {
		t.Error("Props accepted no connection")
	}
	if _, err := Props(ActorConfig{Connection: conn, Negotiator: Config{OptionLen: 5}}); err == nil {
		t.Error("Props accepted option length 5")
	}
	if _, err := Props(ActorConfig{Connection: conn, Negotiator: DefaultConfig(), Logger: zap.NewNop()}); err != nil {
		t.Error(err)
	}
}

// A switch that never answers the TLV request: after the timeout the
// negotiator has the connection dropped (it reconnects), saying why, and
// nothing more is sent; a Renegotiate on the next connection asks again.
func TestActorTimeout(t *testing.T) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	conn, connCh := probe(t, sys)
	props, err := Props(ActorConfig{Connection: conn, Negotiator: DefaultConfig(), Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pid := sys.Root.Spawn(props)
	next[*Subscribe](t, connCh)
	sys.Root.Send(pid, &Connected{Seq: 1, Version: openflow.Version13})
	send := next[*Send](t, connCh)
	sys.Root.Send(pid, &Sent{Ref: send.Ref, Seq: 1, FirstXID: 7, N: 1})
	drop := next[*messages.Drop](t, connCh)
	if drop.Seq != 1 || drop.Err != "negotiation: no answer to NXT_TLV_TABLE_REQUEST" {
		t.Fatalf("drop %+v", drop)
	}
	sys.Root.Send(pid, &Disconnected{Seq: 1})
	sys.Root.Send(pid, &Connected{Seq: 2, Version: openflow.Version13})
	send = next[*Send](t, connCh)
	sys.Root.Send(pid, &messages.Renegotiate{Seq: 2})
	if again := next[*Send](t, connCh); len(again.Msgs) != 1 || again.Seq != 2 {
		t.Fatalf("renegotiate sent %+v", again)
	}
	_ = send
}
