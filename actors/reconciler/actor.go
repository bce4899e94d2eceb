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
	Logger    *zap.Logger
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
	return actor.PropsFromProducer(func() actor.Actor {
		return &reconcilerActor{cfg: cfg, log: log, m: NewMachine(MachineConfig{
			RetryAfter: cfg.RetryAfter, GeneveLen: cfg.GeneveLen, Logger: log}, cfg.State)}
	})
}

// reconcilerActor is the machine's shell: it moves messages between the
// machine and the connection, the senders of desired states and the
// subscribers, and keeps the retry timer.
type reconcilerActor struct {
	cfg   Config
	log   *zap.Logger
	m     *Machine
	subs  []*actor.PID
	timer scheduler.CancelFunc
}

// retry is the timer's self-message; owner is the incarnation that set it.
type retry struct {
	owner *reconcilerActor
	due   RetryDue
}

func (a *reconcilerActor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		a.subs = append(a.subs, a.cfg.Subscribers...)
		a.log.Debug("started", zap.Uint64("desired_version", a.cfg.State.version))
		// A restarted reconciler would otherwise wait for a Connected that
		// the surviving connection never sends again: subscribing makes
		// the connection tell us now if it is connected.
		ctx.Send(a.cfg.Connection, &messages.Subscribe{PID: ctx.Self()})
	case *actor.Restarting, *actor.Stopping:
		// The desired tables live in State; the rest is re-learned from
		// the switch after the next connect.
		a.stopTimer()
	case *actor.Stopped:
	case *messages.Subscribe:
		a.subs = append(a.subs, msg.PID)
	case *messages.Unsubscribe:
		a.subs = removePID(a.subs, msg.PID)
	case *retry:
		if msg.owner == a {
			a.timer = nil
			a.step(ctx, &msg.due)
		}
	case *messages.Unsolicited:
		// For other subscribers of the connection.
	case *messages.Connected, *messages.Disconnected, *messages.GeneveFieldAssigned,
		*messages.PutDesired, *messages.AbortPut, *messages.UpdateFlows, *messages.UpdateInstalled,
		*messages.GetStatus, *messages.Sent, *messages.SendFailed, *messages.Reply,
		*messages.TransactionsFailed:
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
		for _, pid := range a.subs {
			ctx.Send(pid, ev)
		}
	}
	if rd.CancelRetry || rd.Retry != nil {
		a.stopTimer()
	}
	if r := rd.Retry; r != nil {
		a.timer = scheduler.NewTimerScheduler(ctx).SendOnce(r.Delay, ctx.Self(), &retry{owner: a, due: RetryDue{Gen: r.Gen}})
	}
	a.m.Advance()
}

func (a *reconcilerActor) stopTimer() {
	if a.timer != nil {
		a.timer()
		a.timer = nil
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
