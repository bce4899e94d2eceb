package connection

import (
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// bulk is a message the fake switch does not answer, of some size.
func bulk(n int) openflow.Message {
	return &openflow.Experimenter{Header: openflow.Header{Version: openflow.Version13},
		Experimenter: openflow.ExperimenterNicira, ExpType: 0xfffe, Data: make([]byte, n)}
}

func barrier() openflow.Message {
	m := &openflow.BarrierRequest{}
	m.Version = openflow.Version13
	return m
}

func TestHelloNegotiatesHighestCommon(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ours, peer []uint8
		want       uint8
	}{
		{"default, peer has all", nil, []uint8{openflow.Version13, openflow.Version14, openflow.Version15}, openflow.Version15},
		{"default, peer 1.3 only", nil, []uint8{openflow.Version10, openflow.Version13}, openflow.Version13},
		{"1.3 only", []uint8{openflow.Version13}, []uint8{openflow.Version13, openflow.Version14, openflow.Version15}, openflow.Version13},
		{"1.4 allowed", []uint8{openflow.Version13, openflow.Version14}, []uint8{openflow.Version10, openflow.Version13, openflow.Version14}, openflow.Version14},
		{"peer 1.3 only", []uint8{openflow.Version13, openflow.Version15}, []uint8{openflow.Version13}, openflow.Version13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys := newSystem()
			sw := newFakeSwitch(t)
			_, sink, _ := start(t, sys, Config{Target: sw.target(), Versions: tc.ours})
			c := sw.accept()
			h := c.handshake(tc.peer...)
			offered := tc.ours
			if offered == nil {
				offered = openflow.DefaultVersions()
			}
			if want := openflow.NewHello(offered...); h.VersionBitmap() != want.VersionBitmap() || h.Version != want.Version {
				t.Errorf("our HELLO: version %#x bitmap %#x, want %#x %#x", h.Version, h.VersionBitmap(), want.Version, want.VersionBitmap())
			}
			got := expect[*messages.Connected](t, sink)
			if got.Seq != 1 || got.Version != tc.want || got.Target != sw.target() {
				t.Errorf("Connected %+v, want seq 1 version %#x", got, tc.want)
			}
		})
	}
}

func TestHelloIncompatible(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	_, sink, logs := start(t, sys, Config{Target: sw.target(), Backoff: constBackoff(20 * time.Millisecond)})
	c := sw.accept()
	c.handshake(openflow.Version10)
	e, ok := c.read().(*openflow.Error)
	if !ok {
		t.Fatalf("want an error after an incompatible HELLO")
	}
	if name := ofperr.Decode(e.Version, e.ErrType, e.Code, e.Experimenter).Name; name != "OFPHFC_INCOMPATIBLE" {
		t.Errorf("error %s, want OFPHFC_INCOMPATIBLE", name)
	}
	if !strings.Contains(string(e.Data), "no common OpenFlow version") {
		t.Errorf("error data %q", e.Data)
	}
	if b := c.readFrame(); b != nil {
		t.Errorf("connection not closed after HELLO_FAILED: got %x", b)
	}
	// To ovs-ofctl that is a failure to connect.
	if f := expect[*messages.ConnectFailed](t, sink); f.Attempt != 1 ||
		!strings.HasSuffix(f.Err, ": failed to connect to socket (hello: no common OpenFlow version: ofactor offers OpenFlow13, OpenFlow14, OpenFlow15, the switch OpenFlow10)") {
		t.Errorf("ConnectFailed %+v", f)
	}
	// It tries again; a compatible peer then gets Connected with Seq 1:
	// the failed attempt was no connection.
	c2 := sw.accept()
	c2.handshake(openflow.Version13)
	if got := expect[*messages.Connected](t, sink); got.Seq != 1 {
		t.Errorf("Connected %+v, want seq 1", got)
	}
	if logs.FilterMessage("connect failed").Len() == 0 {
		t.Error("hello failure not logged")
	}
}

// An echo request is answered ahead of thousands of queued frames, while
// the peer is not reading them.
func TestEchoAnsweredWhileQueued(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, sink, _ := start(t, sys, Config{Target: sw.target()})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)

	const n = 5000
	msgs := make([]openflow.Message, n)
	for i := range msgs {
		msgs[i] = bulk(200)
	}
	sys.Root.Send(pid, &messages.Send{Ref: 7, Msgs: msgs, ReplyTo: sink.pid})
	sent := expect[*messages.Sent](t, sink)
	if sent.N != n || sent.Ref != 7 {
		t.Fatalf("Sent %+v", sent)
	}
	echo := &openflow.EchoRequest{}
	echo.Header = openflow.Header{Version: openflow.Version13, XID: 0xecec}
	echo.Data = []byte("ping")
	c.write(echo)
	time.Sleep(200 * time.Millisecond) // let the reader queue the reply while the writer is stuck

	before := 0
	for {
		m := c.read()
		if r, ok := m.(*openflow.EchoReply); ok {
			if r.XID != 0xecec || string(r.Data) != "ping" {
				t.Errorf("echo reply %+v", r)
			}
			break
		}
		if want := sent.XID(before); m.Hdr().XID != want {
			t.Fatalf("frame %d xid %d, want %d", before, m.Hdr().XID, want)
		}
		before++
	}
	if before >= n {
		t.Fatalf("echo reply came after all %d queued frames", n)
	}
	t.Logf("echo reply overtook %d of %d queued frames", n-before, n)
	for i := before; i < n; i++ {
		if m := c.read(); m.Hdr().XID != sent.XID(i) {
			t.Fatalf("frame %d xid %d, want %d", i, m.Hdr().XID, sent.XID(i))
		}
	}
}

func TestSendFailsWhenQueueFull(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, sink, _ := start(t, sys, Config{Target: sw.target(), MaxQueue: 10})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
	msgs := make([]openflow.Message, 11)
	for i := range msgs {
		msgs[i] = barrier()
	}
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: msgs, ReplyTo: sink.pid})
	if f := expect[*messages.SendFailed](t, sink); f.Ref != 1 || !strings.Contains(f.Err, "queue full") {
		t.Errorf("SendFailed %+v", f)
	}
	// A stale Seq and a message of another version fail too.
	sys.Root.Send(pid, &messages.Send{Ref: 2, Seq: 9, Msgs: msgs[:1], ReplyTo: sink.pid})
	if f := expect[*messages.SendFailed](t, sink); f.Ref != 2 || !strings.Contains(f.Err, "gone") {
		t.Errorf("SendFailed %+v", f)
	}
	wrong := &openflow.BarrierRequest{}
	wrong.Version = openflow.Version14
	sys.Root.Send(pid, &messages.Send{Ref: 3, Msgs: []openflow.Message{barrier(), wrong}, ReplyTo: sink.pid})
	if f := expect[*messages.SendFailed](t, sink); f.Ref != 3 || f.Index != 1 {
		t.Errorf("SendFailed %+v", f)
	}
}

func barrierReply(xid uint32) openflow.Message {
	m := &openflow.BarrierReply{}
	m.Header = openflow.Header{Version: openflow.Version13, XID: xid}
	return m
}

func mpReply(xid uint32, more bool, body string) openflow.Message {
	var flags uint16
	if more {
		flags = openflow.MultipartMore
	}
	return &openflow.MultipartReply{Header: openflow.Header{Version: openflow.Version13, XID: xid},
		MPType: openflow.MultipartTable, Flags: flags, Body: []byte(body)}
}

// Replies go to the holder of their xid, Sent first: a barrier reply, an
// error (which does not end its transaction) and a multipart reply in three
// parts, while another holder's TLV table reply goes to it.
func TestRepliesRoutedByXID(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, subs, logs := start(t, sys, Config{Target: sw.target()})
	c := sw.accept()
	c.handshake(openflow.Version13)
	seq := expect[*messages.Connected](t, subs).Seq
	a, b := newSink(t, sys), newSink(t, sys)

	mp := &openflow.MultipartRequest{Header: openflow.Header{Version: openflow.Version13}, MPType: openflow.MultipartTable}
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: []openflow.Message{bulk(8), bulk(8), mp}, ReplyTo: a.pid})
	tlvReq := &openflow.TLVTableRequest{Header: openflow.Header{Version: openflow.Version13}}
	sys.Root.Send(pid, &messages.Send{Ref: 2, Msgs: []openflow.Message{tlvReq}, ReplyTo: b.pid})

	var xids []uint32
	for i := 0; i < 4; i++ {
		xids = append(xids, c.read().Hdr().XID)
	}
	// The switch answers at once: replies race the Sent acknowledgements.
	c.write(openflow.NewError(openflow.Header{Version: openflow.Version13, XID: xids[1]}, ofperr.Named("OFPBRC_BAD_TYPE"), nil))
	c.write(mpReply(xids[2], true, "aaaa"))
	c.write(&openflow.TLVTableReply{Header: openflow.Header{Version: openflow.Version13, XID: xids[3]}, MaxOptionSpace: 256, MaxFields: 64})
	c.write(mpReply(xids[2], true, "bbbb"))
	c.write(mpReply(xids[2], false, "cccc"))
	c.write(openflow.NewError(openflow.Header{Version: openflow.Version13, XID: 0xdead}, ofperr.Named("OFPBAC_BAD_OUT_GROUP"), nil))

	sa := expect[*messages.Sent](t, a)
	if sa.Ref != 1 || sa.Seq != seq || sa.N != 3 || sa.FirstXID != xids[0] || xids[2] != sa.XID(2) {
		t.Fatalf("Sent %+v for xids %v", sa, xids)
	}
	if r := expect[*messages.Reply](t, a); r.XID != xids[1] || r.Seq != seq {
		t.Errorf("reply %+v, want the error for xid %d", r, xids[1])
	} else if e, ok := r.Msg.(*openflow.Error); !ok || ofperr.Decode(e.Version, e.ErrType, e.Code, e.Experimenter).Name != "OFPBRC_BAD_TYPE" {
		t.Errorf("reply %T %+v", r.Msg, r.Msg)
	}
	r := expect[*messages.Reply](t, a)
	whole, ok := r.Msg.(*openflow.MultipartReply)
	if !ok || r.XID != xids[2] || string(whole.Body) != "aaaabbbbcccc" || whole.Flags != 0 {
		t.Errorf("multipart reply %+v (%T %+v)", r, r.Msg, r.Msg)
	}
	sb := expect[*messages.Sent](t, b)
	if sb.FirstXID != xids[3] {
		t.Errorf("Sent %+v", sb)
	}
	if r := expect[*messages.Reply](t, b); r.XID != xids[3] {
		t.Errorf("reply %+v", r)
	} else if _, ok := r.Msg.(*openflow.TLVTableReply); !ok {
		t.Errorf("reply %T", r.Msg)
	}

	// The multipart reply ended its transaction; the bulk messages (one
	// with an error) are open until a barrier.
	c.write(openflow.NewError(openflow.Header{Version: openflow.Version13, XID: xids[0]}, ofperr.Named("OFPBRC_BAD_LEN"), nil))
	if r := expect[*messages.Reply](t, a); r.XID != xids[0] {
		t.Errorf("reply %+v: the first bulk message is open until a barrier", r)
	}
	sys.Root.Send(pid, &messages.Send{Ref: 3, Msgs: []openflow.Message{barrier()}, ReplyTo: a.pid})
	sa = expect[*messages.Sent](t, a)
	if m := c.read(); m.Hdr().XID != sa.FirstXID {
		t.Fatalf("barrier xid %d, want %d", m.Hdr().XID, sa.FirstXID)
	}
	c.write(barrierReply(sa.FirstXID))
	if r := expect[*messages.Reply](t, a); r.XID != sa.FirstXID {
		t.Errorf("barrier reply %+v", r)
	} else if _, ok := r.Msg.(*openflow.BarrierReply); !ok {
		t.Errorf("barrier reply %T", r.Msg)
	}
	// The barrier ended every earlier transaction: a late error for one of
	// them reaches nobody.
	c.write(openflow.NewError(openflow.Header{Version: openflow.Version13, XID: xids[0]}, ofperr.Named("OFPBAC_BAD_OUT_GROUP"), nil))
	waitFor(t, func() bool { return logs.FilterField(zapString("error", "OFPBAC_BAD_OUT_GROUP")).Len() == 2 })
	if logs.FilterField(zapString("error", "OFPBAC_BAD_OUT_GROUP")).Len() != 2 {
		t.Errorf("error with an unknown xid not logged by name: %v", logs.All())
	}
	a.quiet(t, 50*time.Millisecond)
	b.quiet(t, 10*time.Millisecond)
}

// Unsolicited messages go to every subscriber, static or not.
func TestUnsolicitedPublished(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, subs, _ := start(t, sys, Config{Target: sw.target()})
	c := sw.accept()
	c.handshake(openflow.Version13)
	seq := expect[*messages.Connected](t, subs).Seq
	late := newSink(t, sys)
	sys.Root.Send(pid, &messages.Subscribe{PID: late.pid})
	if got := expect[*messages.Connected](t, late); got.Seq != seq {
		t.Errorf("late subscriber: %+v", got)
	}
	// NXT_PACKET_IN2 (subtype 30), xid 0, as OVS sends it.
	ps := &openflow.Experimenter{Header: openflow.Header{Version: openflow.Version13},
		Experimenter: openflow.ExperimenterNicira, ExpType: 30, Data: []byte{0, 0, 0, 0}}
	c.write(ps)
	for _, s := range []*sink{subs, late} {
		u := expect[*messages.Unsolicited](t, s)
		if u.Seq != seq || u.Msg.Hdr().Type != openflow.TypeExperimenter {
			t.Errorf("unsolicited %+v", u)
		}
	}
	sys.Root.Send(pid, &messages.Unsubscribe{PID: late.pid})
	c.write(barrierReply(0)) // no open transaction: dropped, not published
	c.write(ps)
	expect[*messages.Unsolicited](t, subs)
	late.quiet(t, 50*time.Millisecond)
}

// A multipart reply past the reassembly bounds fails its transaction
// instead of growing without bound; its remaining parts are dropped and the
// last one ends the transaction.
func TestMultipartReassemblyBounded(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, subs, _ := start(t, sys, Config{Target: sw.target()})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, subs)
	h := newSink(t, sys)
	mp := &openflow.MultipartRequest{Header: openflow.Header{Version: openflow.Version13}, MPType: openflow.MultipartTable}
	sys.Root.Send(pid, &messages.Send{Msgs: []openflow.Message{mp}, ReplyTo: h.pid})
	xid := expect[*messages.Sent](t, h).FirstXID
	c.read()
	var stream []byte
	for i := 0; i <= openflow.DefaultMaxParts+10; i++ {
		stream, _ = mpReply(xid, true, "x").AppendBinary(stream)
	}
	stream, _ = mpReply(xid, false, "end").AppendBinary(stream)
	if _, err := c.nc.Write(stream); err != nil {
		t.Fatal(err)
	}
	if f := expect[*messages.TransactionsFailed](t, h); len(f.XIDs) != 1 || f.XIDs[0] != xid || !strings.Contains(f.Err, "limit") {
		t.Errorf("TransactionsFailed %+v", f)
	}
	// The last part ended the transaction: another part reaches nobody.
	c.write(mpReply(xid, false, "late"))
	h.quiet(t, 50*time.Millisecond)
}

// A request sent RouteParts gets its multipart reply part by part, each
// with More but the last, however many parts (no reassembly bound), and
// the last part ends the transaction.
func TestMultipartRouteParts(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitch(t)
	pid, subs, _ := start(t, sys, Config{Target: sw.target()})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, subs)
	h := newSink(t, sys)
	mp := &openflow.MultipartRequest{Header: openflow.Header{Version: openflow.Version13}, MPType: openflow.MultipartTable}
	sys.Root.Send(pid, &messages.Send{Msgs: []openflow.Message{mp}, Routing: []messages.Routing{messages.RouteParts}, ReplyTo: h.pid})
	xid := expect[*messages.Sent](t, h).FirstXID
	c.read()
	const n = openflow.DefaultMaxParts + 10 // more parts than a reassembly takes
	var stream []byte
	for i := 0; i < n; i++ {
		stream, _ = mpReply(xid, i < n-1, "x").AppendBinary(stream)
	}
	if _, err := c.nc.Write(stream); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		r := expect[*messages.Reply](t, h)
		if r.XID != xid || r.More != (i < n-1) {
			t.Fatalf("part %d: %+v", i, r)
		}
	}
	c.write(mpReply(xid, false, "late"))
	h.quiet(t, 50*time.Millisecond)
}
