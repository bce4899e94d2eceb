package connection

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// States of the connection actor, for logs.
const (
	stateDialing   = "dialing"
	stateBackoff   = "backoff"
	stateHello     = "hello"
	stateConnected = "connected"
	stateIdle      = "idle" // the backoff said Stop: no more reconnects
	stateStopped   = "stopped"
	statePaused    = "paused" // Config.Paused: waiting for Start
)

const dialTimeout = 10 * time.Second

// Timer and dial self-messages. owner is the incarnation that scheduled
// them: a restarted actor ignores what its predecessor left behind.
type (
	redial struct{ owner *connActor }
	dialed struct{ d *dialAttempt }
	tick   struct {
		owner *connActor
		c     *conn
		kind  tickKind
	}
)

type tickKind int

const (
	tickHandshake tickKind = iota
	tickProbe
	tickStable
)

// dialAttempt hands a dialled socket from its goroutine to the actor, or
// closes it if the actor gave up on it meanwhile (so that no socket is left
// behind in a dead mailbox).
type dialAttempt struct {
	mu     sync.Mutex
	nc     net.Conn
	err    error
	closed bool
	cancel context.CancelFunc
}

func (d *dialAttempt) abandon() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	d.cancel()
	if d.nc != nil {
		d.nc.Close()
		d.nc = nil
	}
}

// connActor is one incarnation of the connection actor. Everything in it is
// rebuilt on restart; what must survive is in sh.
type connActor struct {
	sh     *shared
	log    *zap.Logger
	self   *actor.PID
	system *actor.ActorSystem
	wg     sync.WaitGroup // every goroutine this incarnation started

	state     string
	dial      *dialAttempt
	c         *conn
	lingering []*conn // torn down with a flush (HELLO_FAILED), not yet closed
	seq       uint64  // current connection; 0 until Connected
	version   uint8
	tx        *table
	mp        *openflow.Reassembler

	timers    map[tickKind]*time.Timer
	retry     *time.Timer
	probeSent time.Time // zero: no probe echo outstanding

	logUnsolicited, logUnknownXID, logErrors, logDial *limiter
}

func newConnActor(sh *shared) *connActor {
	return &connActor{
		sh:             sh,
		log:            sh.cfg.Logger.With(zap.String("target", sh.cfg.Target)),
		tx:             newTable(),
		mp:             newReassembler(),
		timers:         map[tickKind]*time.Timer{},
		logUnsolicited: newLimiter(1, 5),
		logUnknownXID:  newLimiter(1, 5),
		logErrors:      newLimiter(5, 20),
		// A switch that is down is tried every 8 s at most: say so three
		// times, then once a minute.
		logDial: newLimiter(1.0/60, 3),
	}
}

// Receive handles lifecycle, then the connection's own messages, then the
// socket's and timers' self-messages.
func (a *connActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.self, a.system = ctx.Self(), ctx.ActorSystem()
		a.log.Info("connection actor started")
		if a.sh.closed.Load() {
			a.become(stateIdle)
		} else if a.sh.released.Load() {
			a.startDial()
		} else {
			a.become(statePaused)
		}
	case *Start:
		if a.sh.released.CompareAndSwap(false, true) && a.state == statePaused && !a.sh.closed.Load() {
			a.startDial()
		}
	case *Close:
		a.sh.closed.Store(true)
		a.shutdown(ctx, "connection closed")
		a.become(stateIdle)
		ctx.Respond(&Closed{})
	case *actor.Restarting:
		a.shutdown(ctx, "connection actor restarting")
	case *actor.Stopping:
		a.shutdown(ctx, "connection actor stopping")
	case *actor.Stopped:
	case *messages.Send:
		a.handleSend(ctx, m)
	case *messages.Drop:
		if m.Seq == a.seq && a.c != nil {
			a.lost(ctx, errors.New(m.Err))
		}
	case *messages.Subscribe:
		a.sh.subscribe(m.PID)
		if a.state == stateConnected {
			ctx.Send(m.PID, &messages.Connected{Seq: a.seq, Version: a.version, Target: a.sh.cfg.Target})
		}
	case *messages.Unsubscribe:
		a.sh.unsubscribe(m.PID)
	case *inbound:
		if m.c == a.c {
			a.handleInbound(ctx, m)
		}
	case *connFailed:
		if m.c == a.c {
			a.lost(ctx, m.err)
		}
	case *dialed:
		a.handleDialed(ctx, m)
	case *redial:
		if m.owner == a && a.state == stateBackoff && !a.sh.closed.Load() {
			a.startDial()
		}
	case *tick:
		if m.owner == a && m.c == a.c && a.c != nil {
			a.handleTick(ctx, m)
		}
	default:
		a.log.Warn("unknown message", zap.String("type", fmt.Sprintf("%T", m)))
	}
}

func (a *connActor) become(s string) {
	if a.state != s {
		a.log.Info("connection state", zap.String("state", s), zap.String("old_state", a.state))
		a.state = s
	}
}

// sendSelf is how goroutines reach the actor: a mailbox push that never
// blocks.
func (a *connActor) sendSelf(msg any) { a.system.Root.Send(a.self, msg) }

func (a *connActor) startDial() {
	a.become(stateDialing)
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	d := &dialAttempt{cancel: cancel}
	a.dial = d
	dial := a.sh.cfg.Dial
	if dial == nil {
		dial = a.sh.dialTarget
	}
	target := a.sh.cfg.Target
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer cancel()
		nc, err := dial(ctx, target)
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.closed {
			if nc != nil {
				nc.Close()
			}
			return
		}
		d.nc, d.err = nc, err
		a.sendSelf(&dialed{d: d})
	}()
}

func (a *connActor) handleDialed(ctx actor.Context, m *dialed) {
	d := m.d
	d.mu.Lock()
	nc, err, stale := d.nc, d.err, d.closed || d != a.dial
	d.nc = nil
	d.mu.Unlock()
	if stale {
		if nc != nil {
			nc.Close()
		}
		return
	}
	a.dial = nil
	if err != nil {
		a.connectFailed(ctx, err)
		a.scheduleRetry()
		return
	}
	a.c = newConn(nc, &a.wg, a.sendSelf)
	a.become(stateHello)
	hello, _ := openflow.NewHello(a.sh.cfg.Versions...).AppendBinary(nil)
	a.c.priority(hello)
	a.schedule(tickHandshake, a.sh.cfg.HandshakeTimeout)
}

// handleHello negotiates the version (OpenFlow 1.3.5 §6.3.1): the highest
// one both bitmaps have; none in common is OFPHFC_INCOMPATIBLE.
func (a *connActor) handleHello(ctx actor.Context, in *inbound) {
	h, ok := in.msg.(*openflow.Hello)
	if !ok {
		a.lost(ctx, fmt.Errorf("hello: peer sent %s before HELLO", typeName(openflow.Type(in.frame[1]))))
		return
	}
	common := a.sh.offered & h.VersionBitmap()
	if common == 0 {
		err := fmt.Errorf("hello: no common OpenFlow version: ofactor offers %s, the switch %s",
			openflow.BitmapNames(a.sh.offered), openflow.BitmapNames(h.VersionBitmap()))
		v := a.sh.max
		if h.Version < v {
			v = h.Version
		}
		a.c.priority(helloFailed(v, h.XID, err.Error()))
		a.c.closeAfterFlush()
		a.linger(a.c)
		a.lost(ctx, err)
		return
	}
	a.version = uint8(31 - bits.LeadingZeros32(common))
	a.seq = a.sh.seq.Add(1)
	a.sh.failures.Store(0)
	a.stopTimer(tickHandshake)
	a.become(stateConnected)
	a.log.Info("connected", zap.Uint64("seq", a.seq), zap.Uint8("version", a.version))
	a.schedule(tickStable, a.sh.cfg.StableAfter)
	if a.sh.cfg.Probe > 0 {
		a.schedule(tickProbe, a.sh.cfg.Probe)
	}
	a.publish(ctx, &messages.Connected{Seq: a.seq, Version: a.version, Target: a.sh.cfg.Target})
}

func (a *connActor) publish(ctx actor.Context, msg any) {
	for _, pid := range a.sh.subscribers() {
		ctx.Send(pid, msg)
	}
}

// lost ends the current connection: every pending transaction is failed to
// its holder, then subscribers learn Disconnected, then a reconnect is
// scheduled.
func (a *connActor) lost(ctx actor.Context, err error) {
	inHello := a.seq == 0 && a.state == stateHello
	a.teardown(ctx, err)
	if inHello {
		// The switch accepted the socket but no OpenFlow connection came
		// of it: to ovs-ofctl that is still a failure to connect.
		a.connectFailed(ctx, err)
	}
	a.scheduleRetry()
}

// teardown closes the socket (unless a flush is closing it), fails the
// pending transactions and publishes Disconnected if HELLO had completed.
func (a *connActor) teardown(ctx actor.Context, err error) {
	if a.c != nil {
		a.c.close()
		a.c = nil
	}
	for k := range a.timers {
		a.stopTimer(k)
	}
	a.probeSent = time.Time{}
	if a.seq == 0 {
		if a.state == stateHello {
			a.log.Debug("connection lost during hello", zap.Error(err))
		}
		return
	}
	seq := a.seq
	a.seq, a.version = 0, 0
	a.log.Info("disconnected", zap.Uint64("seq", seq), zap.Error(err))
	a.mp = newReassembler()
	for _, f := range a.tx.drain() {
		ctx.Send(f.pid, &messages.TransactionsFailed{Seq: seq, XIDs: f.xids, Err: err.Error()})
	}
	a.publish(ctx, &messages.Disconnected{Seq: seq, Err: err.Error()})
}

func newReassembler() *openflow.Reassembler {
	return &openflow.Reassembler{} // the codec's bounds: 4096 parts, 64 MiB per reply
}

func (a *connActor) scheduleRetry() {
	a.sh.mu.Lock()
	d := a.sh.bo.NextBackOff()
	a.sh.mu.Unlock()
	if d == backoff.Stop {
		a.become(stateIdle)
		a.log.Error("reconnect backoff stopped: not reconnecting")
		return
	}
	a.become(stateBackoff)
	a.log.Info("reconnecting", zap.Duration("delay", d))
	a.retry = time.AfterFunc(d, func() { a.sendSelf(&redial{owner: a}) })
}

// shutdown is Restarting and Stopping: the connection ends as a lost one
// does (holders and subscribers are told), and every goroutine of this
// incarnation is stopped and waited for.
func (a *connActor) shutdown(ctx actor.Context, why string) {
	a.teardown(ctx, errors.New(why))
	if a.retry != nil {
		a.retry.Stop()
	}
	if a.dial != nil {
		a.dial.abandon()
		a.dial = nil
	}
	for _, c := range a.lingering {
		c.nc.Close()
	}
	a.lingering = nil
	a.wg.Wait()
	a.become(stateStopped)
}

// linger remembers a connection closing after a flush, so that shutdown
// can cut it short, and forgets those already closed.
func (a *connActor) linger(c *conn) {
	keep := a.lingering[:0]
	for _, l := range a.lingering {
		select {
		case <-l.writerDone:
		default:
			keep = append(keep, l)
		}
	}
	a.lingering = append(keep, c)
}

func (a *connActor) schedule(k tickKind, d time.Duration) {
	a.stopTimer(k)
	t := &tick{owner: a, c: a.c, kind: k}
	a.timers[k] = time.AfterFunc(d, func() { a.sendSelf(t) })
}

func (a *connActor) stopTimer(k tickKind) {
	if t := a.timers[k]; t != nil {
		t.Stop()
		delete(a.timers, k)
	}
}

func (a *connActor) handleTick(ctx actor.Context, t *tick) {
	switch t.kind {
	case tickHandshake:
		if a.state == stateHello {
			a.lost(ctx, fmt.Errorf("hello: no HELLO from peer within %v", a.sh.cfg.HandshakeTimeout))
		}
	case tickStable:
		a.sh.mu.Lock()
		a.sh.bo.Reset()
		a.sh.mu.Unlock()
		a.log.Debug("connection stable: backoff reset", zap.Uint64("seq", a.seq))
	case tickProbe:
		a.probe(ctx)
	}
}
