package negotiator

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// ActorConfig configures a negotiator actor.
type ActorConfig struct {
	// Connection is the connection actor: the negotiator subscribes to it
	// when it starts, and sends its requests through it.
	Connection *actor.PID
	// Reconciler gets GeneveFieldAssigned at the end of every connection's
	// negotiation (it waits for it before touching the switch), changed or
	// not. May be nil.
	Reconciler *actor.PID
	// Subscribers get GeneveFieldAssigned the first time and whenever the
	// result differs from the previous connection's. Subscribe adds more.
	Subscribers []*actor.PID
	// Negotiator says which option to negotiate; its Logger and NextXID
	// are the actor's own (the connection numbers what it sends).
	Negotiator Config
	// Timeout bounds the wait for the switch's answers on one connection
	// (default DefaultTimeout); then the connection is dropped, and the next
	// one starts over.
	Timeout time.Duration
	Logger  *zap.Logger
}

// DefaultTimeout is ActorConfig.Timeout's default.
const DefaultTimeout = 10 * time.Second

// Props returns the props of a negotiator actor, or an error if
// cfg.Negotiator is not valid. Each incarnation (the first and each restart)
// starts idle and subscribes to the connection, which answers with
// Connected when a connection is up.
func Props(cfg ActorConfig) (*actor.Props, error) {
	if cfg.Connection == nil {
		return nil, fmt.Errorf("negotiator: no connection actor")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.Negotiator.NextXID = nil
	cfg.Negotiator.Logger = nil
	if _, err := New(cfg.Negotiator); err != nil {
		return nil, err
	}
	cfg.Subscribers = append([]*actor.PID(nil), cfg.Subscribers...)
	return actor.PropsFromProducer(func() actor.Actor { return newNegotiatorActor(cfg) }), nil
}

type negotiatorActor struct {
	cfg  ActorConfig
	log  *zap.Logger
	rare *zap.Logger // the common handler's, sampled as the seed's VLOG_RATE_LIMIT(30, 300)
	n    *Negotiator
	seq  uint64 // current connection; 0 when there is none
	ref  uint64 // Ref of our latest Send
	// unacked: the latest Send has no Sent yet, so its xids are not known
	// and no reply can be to it (the connection acknowledges first).
	unacked bool
	subs    []*actor.PID
	last    *GeneveFieldAssigned // the latest result, for new subscribers
	version uint8                // of the current connection
	timer   scheduler.CancelFunc
	gen     uint64 // of the timeout pending
}

// expired is the timeout's self-message.
type expired struct {
	owner *negotiatorActor
	gen   uint64
}

func newNegotiatorActor(cfg ActorConfig) *negotiatorActor {
	log := cfg.Logger.With(zap.String("actor", "negotiator"))
	ncfg := cfg.Negotiator
	ncfg.Logger = log
	n, err := New(ncfg)
	if err != nil {
		// Props checked this very configuration.
		panic(fmt.Sprintf("negotiator: %v", err))
	}
	rare := log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, 5*time.Minute, 30, 0)
	}))
	return &negotiatorActor{cfg: cfg, log: log, rare: rare, n: n,
		subs: append([]*actor.PID(nil), cfg.Subscribers...)}
}

// Receive moves messages between the connection and the Negotiator.
func (a *negotiatorActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		ctx.Send(a.cfg.Connection, &Subscribe{PID: ctx.Self()})
	case *actor.Stopping, *actor.Stopped, *actor.Restarting:
		// The connection fails our transactions; the timer is ours.
		a.stopTimer()
	case *expired:
		if m.owner == a && m.gen == a.gen {
			a.timer = nil
			if why := a.n.Expired(); why != "" {
				ctx.Send(a.cfg.Connection, &messages.Drop{Seq: a.seq, Err: why})
			}
		}
	case *messages.Renegotiate:
		if m.Seq == a.seq && a.seq != 0 {
			a.log.Info("negotiating the Geneve option again", zap.Uint64("seq", a.seq))
			a.start(ctx)
		}
	case *Connected:
		a.onConnected(ctx, m)
	case *Disconnected:
		if m.Seq == a.seq {
			a.seq = 0
			a.n.Disconnected()
			a.stopTimer()
		}
	case *Reply:
		a.onReply(ctx, m)
	case *Sent:
		if m.Seq == a.seq && m.Ref == a.ref {
			a.unacked = false
			a.n.Sent(m.FirstXID)
		}
	case *SendFailed:
		a.onSendFailed(ctx, m)
	case *TransactionsFailed, *Unsolicited, *ConnectFailed, *RoleGranted, *Demoted:
		// Disconnected follows the first; the others are not ours.
	case *Subscribe:
		a.onSubscribe(ctx, m)
	case *Unsubscribe:
		a.subs = removePID(a.subs, m.PID)
	default:
		a.log.Warn("unknown message", zap.String("type", fmt.Sprintf("%T", m)))
	}
}

func (a *negotiatorActor) onConnected(ctx actor.Context, m *Connected) {
	if m.Seq == a.seq {
		return // told twice (configured subscriber and Subscribe)
	}
	a.seq, a.version = m.Seq, m.Version
	a.start(ctx)
}

// start negotiates on the current connection, with the timeout set.
func (a *negotiatorActor) start(ctx actor.Context) {
	a.unacked = false
	a.n.Start(a.version)
	a.stopTimer()
	a.gen++
	a.timer = scheduler.NewTimerScheduler(ctx).SendOnce(a.cfg.Timeout, ctx.Self(), &expired{owner: a, gen: a.gen})
	a.flush(ctx)
}

func (a *negotiatorActor) stopTimer() {
	if a.timer != nil {
		a.timer()
		a.timer = nil
	}
}

func (a *negotiatorActor) onReply(ctx actor.Context, m *Reply) {
	if m.Seq != a.seq || a.seq == 0 {
		a.log.Debug("dropping reply from an old connection", zap.Uint64("seq", m.Seq), zap.Uint32("xid", m.XID))
		return
	}
	if a.unacked || !a.n.Step(m.Msg) {
		a.commonHandler(m)
	}
	a.flush(ctx)
}

// commonHandler is ofctrl_recv for what the negotiator no longer waits for
// (a barrier reply after a lost race, say); the connection itself answers
// echo requests.
func (a *negotiatorActor) commonHandler(m *Reply) {
	h := m.Msg.Hdr()
	if e, ok := m.Msg.(*openflow.Error); ok {
		a.rare.Info("OpenFlow error", zap.Uint32("xid", h.XID), zap.String("error", e.Err().Name))
		return
	}
	a.rare.Debug("OpenFlow packet ignored", zap.Uint32("xid", h.XID), zap.Uint8("of_type", uint8(h.Type)),
		zap.String("state", a.n.State().String()))
}

func (a *negotiatorActor) onSendFailed(ctx actor.Context, m *SendFailed) {
	if m.Seq != a.seq || m.Ref != a.ref {
		return
	}
	// With no connection, Disconnected follows and the next Connected
	// starts over; a message that did not encode will not next time either.
	a.log.Warn("send failed", zap.Int("index", m.Index), zap.String("error", m.Err))
	if m.Index >= 0 {
		a.n.Abort(m.Err)
		a.flush(ctx)
	}
}

func (a *negotiatorActor) onSubscribe(ctx actor.Context, m *Subscribe) {
	for _, p := range a.subs {
		if p.Equal(m.PID) {
			return
		}
	}
	a.subs = append(a.subs, m.PID)
	if a.last != nil {
		ev := *a.last
		ctx.Send(m.PID, &ev)
	}
}

// flush sends what the Negotiator has ready and publishes its result.
func (a *negotiatorActor) flush(ctx actor.Context) {
	if !a.n.HasReady() {
		return
	}
	rd := a.n.Ready()
	if len(rd.Msgs) > 0 {
		a.ref++
		a.unacked = true
		ctx.Send(a.cfg.Connection, &Send{Ref: a.ref, Seq: a.seq, Msgs: rd.Msgs, ReplyTo: ctx.Self()})
	}
	if r := rd.Result; r != nil {
		a.stopTimer()
		g := r.Geneve
		ev := GeneveFieldAssigned{Seq: a.seq, Enabled: g.Enabled, Index: g.Index,
			Class: g.Class, Type: g.Type, Len: g.Len, Unmapped: g.Unmapped, Lengths: g.Lengths}
		a.last = &ev
		if a.cfg.Reconciler != nil {
			e := ev
			ctx.Send(a.cfg.Reconciler, &e)
		}
		if r.Changed {
			for _, p := range a.subs {
				e := ev
				ctx.Send(p, &e)
			}
		}
	}
	a.n.Advance()
}

func removePID(pids []*actor.PID, pid *actor.PID) []*actor.PID {
	for i, p := range pids {
		if p.Equal(pid) {
			return append(pids[:i:i], pids[i+1:]...)
		}
	}
	return pids
}
