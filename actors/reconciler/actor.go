package reconciler

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/scheduler"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
)

// Config configures a reconciler actor.
type Config struct {
	// Connection is the connection actor the reconciler sends through.
	Connection *actor.PID
	// Negotiator is the negotiator actor, asked to negotiate again when an
	// audit finds the TLV map changed; nil without one.
	Negotiator *actor.PID
	// State holds the desired tables. It outlives the actor: a restarted
	// reconciler finds the desired state where its predecessor left it.
	State *State
	// Subscribers get the reconciler's events.
	Subscribers []*actor.PID
	// RetryAfter is the delay before a round that failed as a whole (a
	// refused bundle) is tried again; it doubles up to 32 times itself.
	RetryAfter time.Duration
	// GeneveLen is the Geneve option's length (default 4, OVN's).
	GeneveLen uint8
	// GeneveOff: no negotiator runs; every connection has Geneve disabled.
	GeneveOff bool
	// Mode is ModeApply unless the reconciler only looks (ModeDiff,
	// ModeCheck).
	Mode Mode
	// Audit configures the audits and the flow monitor.
	Audit  AuditConfig
	Logger *zap.Logger
}

// Props returns the props of a reconciler actor.
func Props(cfg Config) *actor.Props {
	if cfg.State == nil {
		cfg.State = NewState()
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	log := cfg.Logger.With(zap.String("actor", "reconciler"))
	// The subscribers outlive an incarnation, as the State does: one that
	// subscribed stays subscribed across a restart.
	subs := &subscribers{pids: append([]*actor.PID(nil), cfg.Subscribers...)}
	return actor.PropsFromProducer(func() actor.Actor {
		return &reconcilerActor{cfg: cfg, log: log, subs: subs, m: NewMachine(MachineConfig{
			Mode: cfg.Mode, RetryAfter: cfg.RetryAfter, GeneveLen: cfg.GeneveLen, GeneveOff: cfg.GeneveOff,
			AuditInterval: cfg.Audit.Interval, AuditFlowsEvery: cfg.Audit.FlowsEvery, NoFlowMonitor: cfg.Audit.NoFlowMonitor,
			Logger: log}, cfg.State)}
	})
}

// AuditConfig is MachineConfig's AuditInterval, AuditFlowsEvery and
// NoFlowMonitor.
type AuditConfig struct {
	Interval      time.Duration
	FlowsEvery    int
	NoFlowMonitor bool
}

// subscribers is the reconciler's subscriber list, shared by its
// incarnations (only the live one touches it).
type subscribers struct{ pids []*actor.PID }

// reconcilerActor is the machine's shell: it moves messages between the
// machine and the connection, the senders of desired states and the
// subscribers, and keeps the retry timer.
type reconcilerActor struct {
	cfg    Config
	log    *zap.Logger
	m      *Machine
	subs   *subscribers
	timers [numTimers]scheduler.CancelFunc
	drain  *actor.PID // who asked for Drain, answered with Drained
}

// Drained answers Drain once the reconciler has drained.
type Drained struct{}

// timerFired is a timer's self-message; owner is the incarnation that set
// it.
type timerFired struct {
	owner *reconcilerActor
	due   TimerDue
}

func (a *reconcilerActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.log.Debug("started", zap.Uint64("desired_version", a.cfg.State.version))
		// A restarted reconciler would otherwise wait for a Connected that
		// the surviving connection never sends again: subscribing makes
		// the connection tell us now if it is connected.
		ctx.Send(a.cfg.Connection, &messages.Subscribe{PID: ctx.Self()})
	case *actor.Restarting, *actor.Stopping:
		// The desired tables live in State; the rest is re-learned from
		// the switch after the next connect.
		a.stopTimers()
	case *actor.Stopped:
	case *messages.Subscribe:
		a.subs.pids = append(removePID(a.subs.pids, msg.PID), msg.PID)
	case *messages.Unsubscribe:
		a.subs.pids = removePID(a.subs.pids, msg.PID)
	case *timerFired:
		if msg.owner == a {
			a.timers[msg.due.Kind] = nil
			a.step(ctx, &msg.due)
		}
	case *Drain:
		a.drain = ctx.Sender()
		a.step(ctx, msg)
	case *Kick:
		a.step(ctx, msg)
	case *messages.Connected, *messages.Disconnected, *messages.GeneveFieldAssigned,
		*messages.PutDesired, *messages.AbortPut, *messages.UpdateFlows, *messages.UpdateInstalled,
		*messages.GetStatus, *messages.GetInstalled, *messages.GetTables, *messages.Sent, *messages.SendFailed, *messages.Reply,
		*messages.TransactionsFailed, *messages.Unsolicited:
		a.step(ctx, msg)
	default:
		a.log.Debug("unknown message", zap.String("type", fmt.Sprintf("%T", msg)))
	}
}

// step gives the machine one input and carries out what it then has to do.
func (a *reconcilerActor) step(ctx actor.Context, in any) {
	if err := a.m.Step(time.Now(), in); err != nil {
		a.log.Warn("input refused", zap.Error(err))
		return
	}
	if !a.m.HasReady() {
		return
	}
	rd := a.m.Ready()
	for _, s := range rd.Sends {
		ctx.Send(a.cfg.Connection, &messages.Send{Ref: s.Ref, Seq: s.Seq, Msgs: s.Msgs, Routing: s.Routing, ReplyTo: ctx.Self()})
	}
	if rd.Answer != nil && ctx.Sender() != nil {
		ctx.Respond(rd.Answer)
	}
	for _, ev := range rd.Events {
		for _, pid := range a.subs.pids {
			ctx.Send(pid, ev)
		}
	}
	for _, k := range rd.Cancel {
		a.stopTimer(k)
	}
	if rd.Renegotiate && a.cfg.Negotiator != nil {
		ctx.Send(a.cfg.Negotiator, &messages.Renegotiate{Seq: a.m.seq})
	}
	if rd.Drained && a.drain != nil {
		ctx.Send(a.drain, &Drained{})
		a.drain = nil
	}
	for _, t := range rd.Timers {
		a.stopTimer(t.Kind)
		a.timers[t.Kind] = scheduler.NewTimerScheduler(ctx).SendOnce(t.Delay, ctx.Self(),
			&timerFired{owner: a, due: TimerDue{Kind: t.Kind, Gen: t.Gen}})
	}
	if rd.Kick {
		ctx.Send(ctx.Self(), &Kick{}) // behind what is waiting
	}
	a.m.Advance()
}

func (a *reconcilerActor) stopTimer(k TimerKind) {
	if a.timers[k] != nil {
		a.timers[k]()
		a.timers[k] = nil
	}
}

func (a *reconcilerActor) stopTimers() {
	for k := range a.timers {
		a.stopTimer(TimerKind(k))
	}
}

func removePID(pids []*actor.PID, pid *actor.PID) []*actor.PID {
	out := pids[:0]
	for _, p := range pids {
		if !p.Equal(pid) {
			out = append(out, p)
		}
	}
	return out
}
