package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/actors/connection"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

// epochRetry is the delay before an activation asks etcd for an epoch
// again (etcd unreachable or restarting).
const epochRetry = 500 * time.Millisecond

// Self-messages of a grain.
type (
	epochTaken struct {
		epoch uint64
		prev  Owner
		err   error
	}
	takeEpoch   struct{}
	republish   struct{ left int }
	filesLoaded struct {
		put *messages.PutDesired
		err error
	}
)

// stashed is a request that came before the bridge subtree existed.
type stashed struct {
	msg    any
	sender *actor.PID
}

// grain is one activation of a bridge: the body of the cluster kind. It
// takes an epoch, spawns the bridge subtree claiming MASTER with it,
// passes the clients' requests on, publishes the bridge's events on its
// topic, and stops itself at once when demoted.
type grain struct {
	m     *Member
	name  string
	br    Bridge
	log   *zap.Logger
	self  *actor.PID
	epoch uint64

	child    *actor.PID // the bridge subtree, once the epoch is taken
	stash    []stashed
	waiting  bool // pushed, and nothing put since the activation
	master   bool // the switch granted MASTER on the current connection
	granted  bool // MASTER was granted once under this epoch (Activated sent)
	stopping bool
	started  time.Time
	events   *publisher
}

func (g *grain) Receive(ctx actor.Context) {
	if f := g.m.cfg.OnEvent; f != nil && g.child != nil && ofactor.IsEvent(ctx.Message()) {
		f(g.name, ctx.Message())
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		g.onStarted(ctx)
	case *actor.Stopping:
		g.onStopping()
	case *actor.Stopped, *actor.Restarting, *cluster.ClusterInit:
	case *takeEpoch:
		g.takeEpoch(ctx)
	case *republish:
		g.republishActivated(ctx, m.left)
	case *epochTaken:
		g.onEpoch(ctx, m)
	case *filesLoaded:
		g.onFilesLoaded(ctx, m)
	case *fleetpb.PutDesired, *fleetpb.UpdateFlows:
		g.onDesire(ctx, m)
	case *fleetpb.GetStatus:
		g.onGetStatus(ctx)
	case *messages.RoleGranted:
		g.onRoleGranted(ctx, m)
	case *messages.Demoted:
		g.demote(ctx, m.Reason)
	case *messages.VersionInstalled:
		g.publish(&fleetpb.VersionInstalled{Bridge: g.name, Member: g.m.address, Epoch: g.epoch, Version: m.Version,
			Flows: int64(m.Flows), Groups: int64(m.Groups), Meters: int64(m.Meters), Rejected: int64(m.Rejected)})
	case *messages.Rejected:
		g.publish(&fleetpb.Rejected{Bridge: g.name, Member: g.m.address, Epoch: g.epoch, Version: m.Version,
			Kind: m.Kind, Text: m.Text, Error: m.Error})
	case *messages.Disconnected:
		g.master = false
		g.m.metrics.owned.WithLabelValues(g.name).Set(0)
		g.m.update(g.name, g.self, func(a *activation) { a.master = false })
	case *messages.RoundFinished:
		g.m.update(g.name, g.self, func(a *activation) {
			a.flowMods += m.FlowAdds + m.FlowModifies + m.FlowDeletes
			a.groupMods += m.GroupMods
			a.meterMods += m.MeterMods
		})
	case *messages.Connected, *messages.ConnectFailed, *messages.GeneveFieldAssigned, *messages.Progress,
		*messages.InSync, *messages.OutOfSync, *messages.Drift, *messages.Conflict, *messages.Audited,
		*messages.Unsolicited, *messages.DesiredAccepted, *messages.Planned, *messages.Checked:
	case *actor.Terminated:
		if m.Who.Equal(g.child) && !g.stopping {
			g.log.Error("bridge subtree stopped on its own; stopping the activation")
			g.stop(ctx)
		}
	default:
		g.log.Debug("unknown message", zap.String("type", fmt.Sprintf("%T", m)))
	}
}

// onStarted checks that the bridge is one of the fleet's and that this
// member owns it by its own view of the membership (a requester with a
// stale view may have asked the wrong member), then asks for an epoch.
func (g *grain) onStarted(ctx actor.Context) {
	g.self, g.started = ctx.Self(), time.Now()
	id := cluster.GetClusterIdentity(ctx)
	g.name = id.Identity
	g.log = g.m.log.With(zap.String("bridge", g.name), zap.String("activation", g.self.Id))
	br, ok := g.m.bridges[g.name]
	switch {
	case !ok:
		g.log.Warn("activation of a bridge not in the configuration refused")
		g.stop(ctx)
		return
	case g.m.expelled():
		g.log.Warn("activation refused: this member left the cluster")
		g.stop(ctx)
		return
	case !g.m.owns(g.name):
		g.log.Info("activation refused: another member owns the bridge by this member's view",
			zap.String("owner", g.m.ownerOf(g.name)))
		g.stop(ctx)
		return
	}
	g.br = br
	g.events = newPublisher(g.m.cl, Topic(g.name), g.m.cfg.RequestTimeout, g.log)
	g.log.Info("bridge activating: taking an epoch")
	g.takeEpoch(ctx)
}

// takeEpoch asks etcd for the next epoch off the actor's goroutine.
func (g *grain) takeEpoch(ctx actor.Context) {
	sys, self := ctx.ActorSystem(), ctx.Self()
	m := g.m
	name := g.name
	go func() {
		c, cancel := context.WithTimeout(context.Background(), m.cfg.RequestTimeout)
		defer cancel()
		epoch, prev, err := m.nextEpoch(c, name)
		sys.Root.Send(self, &epochTaken{epoch: epoch, prev: prev, err: err})
	}()
}

func (g *grain) onEpoch(ctx actor.Context, m *epochTaken) {
	if g.stopping {
		return
	}
	switch {
	case errors.Is(m.err, ErrExpelled):
		g.log.Error("cannot take an epoch: this member left the cluster", zap.Error(m.err))
		g.m.expel()
		g.stop(ctx)
		return
	case m.err != nil:
		g.log.Warn("cannot take an epoch; retrying", zap.Error(m.err), zap.Duration("delay", epochRetry))
		sys, self := ctx.ActorSystem(), ctx.Self()
		time.AfterFunc(epochRetry, func() { sys.Root.Send(self, &takeEpoch{}) })
		return
	}
	g.epoch = m.epoch
	g.log = g.log.With(zap.Uint64("epoch", g.epoch))
	takeover := m.prev.MemberID != "" && m.prev.MemberID != g.m.nodeID
	g.log.Info("epoch taken: claiming MASTER", zap.String("previous_owner", m.prev.Member),
		zap.Uint64("previous_epoch", m.prev.Epoch))
	if takeover {
		g.m.metrics.failovers.Inc()
	}
	epoch := g.epoch
	cfg := ofactor.Config{
		Bridge:        g.name,
		Target:        g.br.Target,
		Geneve:        g.br.Geneve,
		Probe:         g.br.Probe,
		TLS:           g.br.TLS,
		Versions:      g.br.Versions,
		AuditInterval: g.br.AuditInterval,
		NoFlowMonitor: g.br.NoFlowMonitor,
		Subscribers:   []*actor.PID{ctx.Self()},
		Logger:        g.m.cfg.Logger,
		Role: func() (connection.RoleClaim, bool) {
			return connection.RoleClaim{Role: openflow.RoleMaster, GenerationID: epoch}, true
		},
	}
	child, err := ctx.SpawnNamed(ofactor.Props(cfg), "bridge")
	if err != nil {
		g.log.Error("cannot spawn the bridge", zap.Error(err))
		g.stop(ctx)
		return
	}
	g.child = child
	g.m.activated(g.name, g.self, g.epoch)
	if g.br.Pushed() {
		g.waiting = true
	} else {
		g.loadFiles(ctx)
	}
	for _, s := range g.stash {
		g.handle(ctx, s.msg, s.sender)
	}
	g.stash = nil
}

// loadFiles reads the bridge's files off the actor's goroutine.
func (g *grain) loadFiles(ctx actor.Context) {
	sys, self, files := ctx.ActorSystem(), ctx.Self(), g.br.Files
	go func() {
		put, err := desired.Load(files)
		sys.Root.Send(self, &filesLoaded{put: put, err: err})
	}()
}

func (g *grain) onFilesLoaded(ctx actor.Context, m *filesLoaded) {
	if m.err != nil {
		// Nothing is desired then, so nothing is touched: the last good
		// state stays on the switch.
		g.log.Error("cannot load the bridge's files: nothing put", zap.Error(m.err))
		return
	}
	ctx.Request(g.child, m.put)
}

func (g *grain) onDesire(ctx actor.Context, m any) {
	if g.child == nil {
		g.stash = append(g.stash, stashed{msg: m, sender: ctx.Sender()})
		return
	}
	g.handle(ctx, m, ctx.Sender())
}

// handle passes a client's request to the bridge subtree and answers the
// client with the wire form of the answer.
func (g *grain) handle(ctx actor.Context, msg any, sender *actor.PID) {
	answer := func(res *fleetpb.DesiredAccepted) {
		res.Bridge, res.Member, res.Epoch = g.name, g.m.address, g.epoch
		if sender != nil {
			ctx.Send(sender, res)
		}
	}
	var req any
	switch m := msg.(type) {
	case *fleetpb.PutDesired:
		put, err := FromProtoPut(m)
		if err != nil {
			answer(&fleetpb.DesiredAccepted{Errors: []string{err.Error()}})
			return
		}
		g.waiting = false
		req = put
	case *fleetpb.UpdateFlows:
		if g.waiting {
			// A delta on nothing would desire only the delta: the client
			// puts its whole state first.
			answer(&fleetpb.DesiredAccepted{Errors: []string{ErrWaitingForPut.Error()}})
			return
		}
		up, err := FromProtoUpdate(m)
		if err != nil {
			answer(&fleetpb.DesiredAccepted{Errors: []string{err.Error()}})
			return
		}
		req = up
	case *fleetpb.GetStatus:
		g.statusTo(ctx, sender)
		return
	}
	f := ctx.RequestFuture(g.child, req, g.m.cfg.RequestTimeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		switch r := res.(type) {
		case *messages.DesiredAccepted:
			answer(&fleetpb.DesiredAccepted{Version: r.Version, Errors: r.Errors})
		default:
			if err == nil {
				err = fmt.Errorf("unexpected answer %T", res)
			}
			answer(&fleetpb.DesiredAccepted{Errors: []string{err.Error()}})
		}
	})
}

// ErrWaitingForPut refuses an UpdateFlows to a bridge activated since the
// client's last put: the client puts its whole desired state again first.
var ErrWaitingForPut = errors.New("bridge activated anew: waiting for a put of the whole desired state")

func (g *grain) onGetStatus(ctx actor.Context) {
	if g.child == nil {
		ctx.Respond(&fleetpb.Status{Bridge: g.name, Member: g.m.address, Phase: "activating"})
		return
	}
	g.statusTo(ctx, ctx.Sender())
}

func (g *grain) statusTo(ctx actor.Context, sender *actor.PID) {
	base := &fleetpb.Status{Bridge: g.name, Member: g.m.address, Epoch: g.epoch, Master: g.master,
		WaitingForDesired: g.waiting}
	if a, ok := g.m.activation(g.name); ok && a.pid.Equal(g.self) {
		base.FlowMods, base.GroupMods, base.MeterMods = int64(a.flowMods), int64(a.groupMods), int64(a.meterMods)
	}
	f := ctx.RequestFuture(g.child, &messages.GetStatus{}, g.m.cfg.RequestTimeout)
	ctx.ReenterAfter(f, func(res any, err error) {
		if st, ok := res.(*messages.Status); ok {
			base.Phase, base.Connected = st.Phase, st.Connected
			base.DesiredVersion, base.InstalledVersion = st.DesiredVersion, st.InstalledVersion
			base.DesiredFlows, base.InstalledFlows = int64(st.DesiredFlows), int64(st.InstalledFlows)
			base.LastError = st.LastError
		} else if err != nil {
			base.LastError = err.Error()
		}
		if sender != nil {
			ctx.Send(sender, base)
		}
	})
}

// onRoleGranted: the switch answered our claim. MASTER under this epoch
// for the first time is the activation's news: Activated.
func (g *grain) onRoleGranted(ctx actor.Context, m *messages.RoleGranted) {
	if m.Role != openflow.RoleMaster {
		g.demote(ctx, fmt.Sprintf("granted role %d, not MASTER", m.Role))
		return
	}
	g.master = true
	g.m.metrics.owned.WithLabelValues(g.name).Set(1)
	g.m.update(g.name, g.self, func(a *activation) {
		a.master = true
		if a.masterSince.IsZero() {
			a.masterSince = time.Now()
		}
	})
	if g.granted {
		return
	}
	g.granted = true
	g.log.Info("MASTER", zap.Duration("since_activation", time.Since(g.started)))
	g.publish(g.activatedEvent())
	if g.waiting {
		g.republishActivated(ctx, activatedRepeats)
	}
}

func (g *grain) activatedEvent() *fleetpb.Activated {
	return &fleetpb.Activated{Bridge: g.name, Member: g.m.address, Epoch: g.epoch, Pushed: g.br.Pushed()}
}

// activatedRepeats and activatedRepeat: a pushed bridge waiting for its put
// publishes Activated again, twice a second apart. The topic actor lives on
// some member, and when that member is the one that died, the new topic
// actor has no subscriber until the clients subscribe again (they do on the
// topology change, as the new owner activates): one of the repeats reaches
// them. (The client's status poll is the last resort.)
const (
	activatedRepeats = 2
	activatedRepeat  = time.Second
)

func (g *grain) republishActivated(ctx actor.Context, left int) {
	if left < activatedRepeats {
		if !g.waiting || g.stopping {
			return
		}
		g.publish(g.activatedEvent())
	}
	if left > 0 {
		sys, self := ctx.ActorSystem(), ctx.Self()
		time.AfterFunc(activatedRepeat, func() { sys.Root.Send(self, &republish{left: left - 1}) })
	}
}

// demote stops the bridge at once: the switch has another master, so
// anything this activation would still write is refused anyway.
func (g *grain) demote(ctx actor.Context, reason string) {
	if g.stopping {
		return
	}
	g.log.Warn("demoted: stopping the bridge", zap.String("reason", reason))
	g.m.metrics.demotions.Inc()
	g.publish(&fleetpb.Demoted{Bridge: g.name, Member: g.m.address, Epoch: g.epoch, Reason: reason})
	g.stop(ctx)
}

func (g *grain) stop(ctx actor.Context) {
	g.stopping = true
	ctx.Stop(ctx.Self())
}

func (g *grain) onStopping() {
	g.stopping = true
	if g.child != nil {
		g.m.deactivated(g.name, g.self)
		g.log.Info("bridge stopped")
	}
	if g.events != nil {
		g.events.close() // what is queued is still published
	}
}

// publish puts an event on the bridge's topic, in order, without waiting.
func (g *grain) publish(msg proto.Message) {
	if g.events != nil {
		g.events.publish(msg)
	}
}
