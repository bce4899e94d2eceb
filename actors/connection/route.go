package connection

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// handleSend encodes a Send's messages, gives them consecutive xids, answers
// Sent and only then queues the frames: Sent is in the holder's mailbox
// before any reply to them can be read.
func (a *connActor) handleSend(ctx actor.Context, m *messages.Send) {
	to := m.ReplyTo
	if to == nil {
		to = ctx.Sender()
	}
	if to == nil {
		a.log.Warn("send without ReplyTo dropped", zap.Uint64("ref", m.Ref), zap.Int("n", len(m.Msgs)))
		return
	}
	fail := func(i int, format string, args ...any) {
		ctx.Send(to, &messages.SendFailed{Ref: m.Ref, Seq: m.Seq, Index: i, Err: fmt.Sprintf(format, args...)})
	}
	switch {
	case a.state != stateConnected:
		fail(-1, "send: not connected (state %s)", a.state)
		return
	case m.Seq != 0 && m.Seq != a.seq:
		fail(-1, "send: connection %d is gone (current %d)", m.Seq, a.seq)
		return
	}
	n := len(m.Msgs)
	if q := int(a.c.queued.Load()); q+n > a.sh.cfg.MaxQueue {
		fail(-1, "send: write queue full: %d frames queued, %d more exceed MaxQueue %d", q, n, a.sh.cfg.MaxQueue)
		return
	}
	buf, offs, i, err := a.encode(m.Msgs)
	if err != nil {
		fail(i, "send: msgs[%d]: %v", i, err)
		return
	}
	first, err := a.tx.alloc(to, n, m.Routing)
	if err != nil {
		fail(-1, "send: %v", err)
		return
	}
	for i, off := range offs {
		openflow.SetFrameXID(buf[off:], first+uint32(i))
	}
	ctx.Send(to, &messages.Sent{Ref: m.Ref, Seq: a.seq, FirstXID: first, N: n})
	if n > 0 {
		a.c.enqueue(batch{buf: buf, frames: n})
	}
	if ce := a.log.Check(zap.DebugLevel, "sent"); ce != nil {
		ce.Write(zap.Uint64("ref", m.Ref), zap.Uint32("xid", first), zap.Int("n", n))
	}
}

// encode appends every message into one buffer and returns where each one
// starts, or the index of the first that cannot be sent.
func (a *connActor) encode(msgs []openflow.Message) (buf []byte, offs []int, index int, err error) {
	offs = make([]int, len(msgs))
	for i, msg := range msgs {
		if msg == nil {
			return nil, nil, i, fmt.Errorf("nil message")
		}
		start := len(buf)
		if buf, err = msg.AppendBinary(buf); err != nil {
			return nil, nil, i, err
		}
		if len(buf)-start < openflow.HeaderLen {
			return nil, nil, i, fmt.Errorf("encoded to %d bytes", len(buf)-start)
		}
		if v := buf[start]; v != a.version {
			return nil, nil, i, fmt.Errorf("%s is version %#x, the connection speaks %#x",
				typeName(openflow.Type(buf[start+1])), v, a.version)
		}
		offs[i] = start
	}
	return buf, offs, 0, nil
}

// handleInbound routes one frame from the switch: a reply goes to the
// holder of its xid, the rest to subscribers.
func (a *connActor) handleInbound(ctx actor.Context, in *inbound) {
	if a.state == stateHello {
		a.handleHello(ctx, in)
		return
	}
	t, xid := openflow.Type(in.frame[1]), openflow.FrameXID(in.frame)
	if in.frame[0] != a.version {
		// As OVS's vconn does: a peer that changes version mid-connection
		// is broken, and nothing it says can be trusted to mean what the
		// negotiated version's codec reads.
		a.lost(ctx, fmt.Errorf("%s xid %d: OpenFlow version %#x, negotiated %#x",
			typeName(t), xid, in.frame[0], a.version))
		return
	}
	if !a.probeSent.IsZero() && a.c.lastRecv.Load() > a.probeSent.UnixNano() {
		a.probeSent = time.Time{}
	}
	if a.state == stateRole {
		a.handleRoleAnswer(ctx, in)
		return
	}
	if a.checkDemotion(ctx, in) {
		return
	}
	if openflow.IsAsyncFrame(in.frame) {
		// Sent on its own: packet-in, port and role status, flow monitor
		// updates (xid 0 multipart replies), ... Each part of a flow
		// monitor update stands alone: they are not reassembled.
		a.unsolicited(ctx, in)
		return
	}
	if tx := a.tx.lookup(xid); tx != nil {
		a.reply(ctx, tx, in)
		return
	}
	switch t {
	case openflow.TypeError:
		a.logUnknownError(in.frame)
	case openflow.TypeEchoReply, openflow.TypeFeaturesReply, openflow.TypeGetConfigReply,
		openflow.TypeMultipartReply, openflow.TypeBarrierReply, openflow.TypeQueueGetConfigReply,
		openflow.TypeRoleReply, openflow.TypeGetAsyncReply, openflow.TypeBundleControl, openflow.TypeHello:
		if ok, s := a.logUnknownXID.allow(time.Now()); ok {
			a.log.Debug("reply to no open transaction dropped", zap.String("of_type", typeName(t)),
				zap.Uint32("xid", xid), zap.Int("suppressed", s))
		}
	default:
		a.unsolicited(ctx, in)
	}
}

// reply hands a reply to its transaction's holder and ends the transaction
// as the reply says: a barrier reply ends it and every earlier one of the
// same holder, a final reply its own, an error none.
func (a *connActor) reply(ctx actor.Context, tx *txn, in *inbound) {
	t := openflow.Type(in.frame[1])
	if tx.holder == nil { // our probe's echo reply
		a.tx.complete(tx)
		return
	}
	msg, more := in.msg, false
	switch {
	case t == openflow.TypeMultipartReply && tx.routing == messages.RouteParts:
		more = openflow.FrameMultipartMore(in.frame)
	case t == openflow.TypeMultipartReply:
		if msg = a.reassemble(ctx, tx, in); msg == nil {
			return
		}
	case t == openflow.TypeError:
		a.mp.Forget(tx.xid)
	}
	ctx.Send(tx.holder.pid, &messages.Reply{Seq: a.seq, XID: tx.xid, Msg: msg, More: more})
	switch {
	case t == openflow.TypeBarrierReply:
		a.tx.barrier(tx)
	case openflow.IsFinalReply(in.frame):
		a.tx.final(tx)
	}
}

// reassemble adds one multipart part and returns the whole reply once its
// last part is in. A reply past the reassembly limits fails its
// transaction; the rest of its parts are then dropped.
func (a *connActor) reassemble(ctx actor.Context, tx *txn, in *inbound) openflow.Message {
	last := !openflow.FrameMultipartMore(in.frame)
	if tx.mpDropped {
		if last {
			a.tx.complete(tx)
		}
		return nil
	}
	whole, err := a.mp.Add(in.msg)
	if err != nil {
		a.mp.Forget(tx.xid)
		tx.mpDropped = true
		ctx.Send(tx.holder.pid, &messages.TransactionsFailed{Seq: a.seq, XIDs: []uint32{tx.xid}, Err: err.Error()})
		if last {
			a.tx.complete(tx)
		}
		return nil
	}
	return whole
}

func (a *connActor) unsolicited(ctx actor.Context, in *inbound) {
	subs := a.sh.subscribers()
	if len(subs) == 0 {
		if ok, s := a.logUnsolicited.allow(time.Now()); ok {
			a.log.Debug("unsolicited message dropped: no subscriber",
				zap.String("of_type", typeName(openflow.Type(in.frame[1]))),
				zap.Uint32("xid", openflow.FrameXID(in.frame)), zap.Int("suppressed", s))
		}
		return
	}
	u := &messages.Unsolicited{Seq: a.seq, Msg: in.msg}
	for _, pid := range subs {
		ctx.Send(pid, u)
	}
}

// logUnknownError logs an error no transaction waits for, by its OVS name.
func (a *connActor) logUnknownError(b []byte) {
	ok, s := a.logErrors.allow(time.Now())
	if !ok {
		return
	}
	name := "truncated ofp_error_msg"
	if typ, code, exp, fine := openflow.ErrorFields(b); fine {
		name = ofperr.Decode(b[0], typ, code, exp).Name
	}
	a.log.Warn("error for no open transaction", zap.Uint32("xid", openflow.FrameXID(b)),
		zap.String("error", name), zap.Int("suppressed", s))
}

// probe is the inactivity probe (OVS rconn's): Probe without a frame sends
// an echo request, another Probe without one drops the connection.
func (a *connActor) probe(ctx actor.Context) {
	p := a.sh.cfg.Probe
	now := time.Now()
	last := time.Unix(0, a.c.lastRecv.Load())
	if !a.probeSent.IsZero() {
		if last.After(a.probeSent) {
			a.probeSent = time.Time{}
		} else {
			if now.Sub(a.probeSent) >= p {
				a.lost(ctx, fmt.Errorf("inactivity probe: nothing received for %v", now.Sub(last).Round(time.Millisecond)))
				return
			}
			a.schedule(tickProbe, p-now.Sub(a.probeSent))
			return
		}
	}
	if idle := now.Sub(last); idle < p {
		a.schedule(tickProbe, p-idle)
		return
	}
	xid, err := a.tx.alloc(nil, 1, nil)
	if err != nil {
		a.lost(ctx, fmt.Errorf("inactivity probe: %w", err))
		return
	}
	echo := &openflow.EchoRequest{}
	echo.Header = openflow.Header{Version: a.version, XID: xid}
	b, _ := echo.AppendBinary(nil)
	a.c.priority(b)
	a.probeSent = now
	a.log.Debug("inactivity probe: echo request sent", zap.Uint32("xid", xid))
	a.schedule(tickProbe, p)
}
