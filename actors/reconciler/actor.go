package reconciler

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
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
	Logger     *zap.Logger
}

// Props returns the props of a reconciler actor.
func Props(cfg Config) *actor.Props {
	if cfg.State == nil {
		cfg.State = NewState()
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = 500 * time.Millisecond
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &reconcilerActor{cfg: cfg, st: cfg.State, log: cfg.Logger.With(zap.String("actor", "reconciler"))}
	})
}

// connState is where the reconciler is with the current connection.
type connState uint8

const (
	stDisconnected connState = iota
	stNegotiating            // connected; waiting for the negotiator's result
	stDumping                // reading what the switch holds
	stReady                  // installed table known; rounds run
)

func (s connState) String() string {
	return [...]string{"disconnected", "negotiating", "dumping", "ready"}[s]
}

// Refs tag this actor's Sends, so that each Sent is matched to its purpose.
const (
	refDump uint64 = iota + 1
	refAdd
	refCommit
)

type reconcilerActor struct {
	cfg Config
	st  *State
	log *zap.Logger

	state     connState
	seq       uint64
	ofVersion uint8
	round     *round
	dump      *dump
	subs      []*actor.PID
	retryIn   time.Duration
	retryDue  bool // a retry is scheduled
	clock     roundClock
	lastError string
}

// retryRound is the self-message of a scheduled retry.
type retryRound struct{}

func (a *reconcilerActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.subs = append(a.subs, a.cfg.Subscribers...)
		a.log.Debug("started", zap.Uint64("desired_version", a.st.version))
		// A restarted reconciler would otherwise wait for a Connected that
		// the surviving connection never sends again: subscribing makes
		// the connection tell us now if it is connected.
		ctx.Send(a.cfg.Connection, &messages.Subscribe{PID: ctx.Self()})
	case *actor.Restarting, *actor.Stopping:
		// The desired tables live in State; the rest is re-learned from
		// the switch after the next connect.
	case *messages.Connected:
		a.onConnected(ctx, m)
	case *messages.Disconnected:
		a.onDisconnected(ctx, m)
	case *messages.GeneveFieldAssigned:
		a.onGeneve(ctx, m)
	case *messages.PutDesired:
		ctx.Respond(a.st.put(m, a.log))
		if m.More {
			a.streamParts(ctx)
		} else {
			a.kick(ctx)
		}
	case *messages.UpdateFlows:
		ctx.Respond(a.st.update(m))
		a.kick(ctx)
	case *messages.UpdateInstalled:
		ctx.Respond(a.st.updateInstalled(m))
		a.kick(ctx)
	case *messages.Sent:
		a.onSent(m)
	case *messages.SendFailed:
		a.onSendFailed(ctx, m)
	case *messages.Reply:
		a.onReply(ctx, m)
	case *messages.TransactionsFailed:
		// A flow dump over the reassembly limits fails alone; anything
		// else means Disconnected follows, and the round is given up there.
		a.dumpTooLarge(ctx, m)
	case *retryRound:
		a.retryDue = false
		if a.state == stNegotiating && a.st.geneve.Seq == a.seq {
			a.startDump(ctx)
		} else {
			a.kick(ctx)
		}
	case *messages.Subscribe:
		a.subs = append(a.subs, m.PID)
	case *messages.Unsubscribe:
		a.subs = removePID(a.subs, m.PID)
	case *messages.GetStatus:
		ctx.Respond(a.status())
	default:
		a.log.Debug("unknown message", zap.Any("message", m))
	}
}

func (a *reconcilerActor) become(s connState) {
	if s != a.state {
		a.log.Info("state", zap.Stringer("old", a.state), zap.Stringer("new", s), zap.Uint64("seq", a.seq))
		a.state = s
	}
}

func (a *reconcilerActor) onConnected(ctx actor.Context, m *messages.Connected) {
	if m.Seq == a.seq && a.state != stDisconnected {
		return // told twice: configured subscriber and Subscribe
	}
	a.seq, a.ofVersion = m.Seq, m.Version
	a.round, a.dump = nil, nil
	a.become(stNegotiating)
	if a.st.geneve.Seq == m.Seq {
		// Restarted after this connection's negotiation ended: the
		// negotiator will not say it again.
		a.startDump(ctx)
	}
}

func (a *reconcilerActor) onDisconnected(ctx actor.Context, m *messages.Disconnected) {
	if m.Seq != a.seq {
		return
	}
	if a.round != nil {
		a.round.abort(a.st.flows, a.st.groups, a.st.meters)
		a.round = nil
	}
	a.dump = nil
	a.become(stDisconnected)
}

// onGeneve ends negotiation: the Geneve field is known (or disabled), so the
// flows that name it can be rendered and the switch's tables read.
func (a *reconcilerActor) onGeneve(ctx actor.Context, m *messages.GeneveFieldAssigned) {
	if m.Seq != a.seq || a.state == stDisconnected {
		return
	}
	a.st.setGeneve(*m, a.log)
	if a.state == stNegotiating {
		a.startDump(ctx)
	} else {
		a.kick(ctx)
	}
}

// kick starts a round when the switch's tables are known, none is in
// flight, and something differs.
func (a *reconcilerActor) kick(ctx actor.Context) {
	if a.state != stReady || a.retryDue || a.sealParts(ctx) || a.round != nil {
		return
	}
	if a.st.partial != nil {
		// A put in parts is under way: stream it rather than plan the
		// version it replaces.
		a.streamParts(ctx)
		return
	}
	if a.st.version == 0 {
		// Nothing desired has been said yet (an embedder or the daemon
		// spawns the bridge before its first PutDesired): an empty desired
		// table would delete everything the switch holds.
		return
	}
	a.st.canonicalizeFlows(a.ofVersion)
	r := newRound(a.ofVersion, a.st.version, a.st.flows, a.st.groups, a.st.meters)
	if r == nil {
		a.installed(ctx, a.st.version)
		return
	}
	a.round = r
	a.log.Debug("round", zap.Uint64("version", r.version), zap.Int("pre", r.nPre),
		zap.Int("bundle", r.nBundle), zap.Int("post", len(r.all)-r.nPre-r.nBundle))
	a.startRound(ctx)
}

func (a *reconcilerActor) send(ctx actor.Context, ref uint64, msgs []openflow.Message) {
	ctx.Send(a.cfg.Connection, &messages.Send{Ref: ref, Seq: a.seq, Msgs: msgs, ReplyTo: ctx.Self()})
}

func (a *reconcilerActor) onSent(m *messages.Sent) {
	if m.Seq != a.seq {
		return
	}
	switch {
	case m.Ref == refDump && a.dump != nil:
		a.dump.sent(m.FirstXID, m.N)
	case (m.Ref == refAdd || m.Ref == refCommit) && a.round != nil:
		a.round.sentWindow(m.FirstXID)
	}
}

func (a *reconcilerActor) onSendFailed(ctx actor.Context, m *messages.SendFailed) {
	a.lastError = m.Err
	a.log.Warn("send failed", zap.String("error", m.Err), zap.Uint64("seq", m.Seq))
	// The connection is gone or going: Disconnected follows and a new
	// connection starts over with a dump.
}

func (a *reconcilerActor) onReply(ctx actor.Context, m *messages.Reply) {
	if m.Seq != a.seq {
		return
	}
	if a.dump != nil {
		if done, err := a.dump.reply(m); err != "" {
			a.fail("dump: " + err)
			a.dump = nil
			a.scheduleDumpRetry(ctx)
			return
		} else if done {
			a.dumped(ctx)
			return
		}
	}
	if a.round == nil {
		return
	}
	r := a.round
	switch msg := m.Msg.(type) {
	case *openflow.Error:
		name := msg.Err().Name
		if it := r.onError(m.XID, name); it != nil {
			a.log.Debug("refused", zap.String("kind", it.kind.String()), zap.Uint32("xid", m.XID), zap.String("error", name))
		} else {
			a.fail(r.failed)
		}
	case *openflow.BarrierReply:
		if r.onBarrier(m.XID) {
			a.windowDone(ctx)
		}
	}
}

// endRound applies the outcome of the round in flight and starts the next
// one if the desired state moved on.
func (a *reconcilerActor) endRound(ctx actor.Context) {
	r := a.round
	a.round = nil
	refused := r.finish(a.st.flows, a.st.groups, a.st.meters)
	for _, it := range refused {
		a.reject(ctx, it)
	}
	a.finished(ctx, r, refused)
	if r.failed != "" {
		if r.culprit() {
			// The culprit is known and left out: the next round can
			// succeed at once.
			a.kick(ctx)
		} else {
			a.scheduleRetry(ctx)
		}
		return
	}
	a.retryIn = 0
	if r.deletedGroupsOrMeters() {
		// OVS deletes the flows that use a group or meter with it: read
		// the flows back before saying the version is installed.
		a.startDump(ctx)
		return
	}
	a.installed(ctx, r.version)
	a.kick(ctx)
}

// installed publishes VersionInstalled when version is newer than the last.
func (a *reconcilerActor) installed(ctx actor.Context, version uint64) {
	if version <= a.st.installedVersion && a.st.installedVersion != 0 {
		return
	}
	a.st.installedVersion = version
	ev := &messages.VersionInstalled{
		Version:  version,
		Flows:    a.st.flows.installedLen(),
		Groups:   a.st.groups.installedLen(),
		Meters:   a.st.meters.installedLen(),
		Rejected: len(a.st.flows.rejected) + len(a.st.groups.rejected) + len(a.st.meters.rejected),
	}
	a.log.Info("version installed", zap.Uint64("version", version), zap.Int("flows", ev.Flows),
		zap.Int("groups", ev.Groups), zap.Int("meters", ev.Meters), zap.Int("rejected", ev.Rejected))
	a.publish(ctx, ev)
}

func (a *reconcilerActor) reject(ctx actor.Context, it *item) {
	ev := &messages.Rejected{Kind: it.kind.String(), Text: a.st.describe(a.ofVersion, it), Error: it.err}
	a.lastError = it.err + ": " + ev.Text
	a.log.Warn("switch refused "+ev.Kind, zap.String("error", it.err), zap.String(ev.Kind, ev.Text))
	a.publish(ctx, ev)
}

func (a *reconcilerActor) fail(why string) {
	if why == "" {
		return
	}
	a.lastError = why
	a.log.Warn("round failed", zap.String("error", why))
}

func (a *reconcilerActor) scheduleRetry(ctx actor.Context) {
	if a.retryIn == 0 {
		a.retryIn = a.cfg.RetryAfter
	} else if a.retryIn < 32*a.cfg.RetryAfter {
		a.retryIn *= 2
	}
	a.retryDue = true
	self, sys := ctx.Self(), ctx.ActorSystem()
	time.AfterFunc(a.retryIn, func() { sys.Root.Send(self, &retryRound{}) })
}

func (a *reconcilerActor) publish(ctx actor.Context, ev any) {
	for _, pid := range a.subs {
		ctx.Send(pid, ev)
	}
}

func (a *reconcilerActor) status() *messages.Status {
	st := a.st
	return &messages.Status{
		Connected:        a.state != stDisconnected,
		Seq:              a.seq,
		Geneve:           st.geneve,
		DesiredVersion:   st.version,
		InstalledVersion: st.installedVersion,
		DesiredFlows:     len(st.flows.desired),
		InstalledFlows:   st.flows.installedLen(),
		DesiredGroups:    len(st.groups.desired),
		InstalledGroups:  st.groups.installedLen(),
		DesiredMeters:    len(st.meters.desired),
		InstalledMeters:  st.meters.installedLen(),
		Rejected:         len(st.flows.rejected) + len(st.groups.rejected) + len(st.meters.rejected),
		LastError:        a.lastError,
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
