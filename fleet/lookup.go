package fleet

import (
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/eventstream"
)

// placementName is the placement actor every member runs.
const placementName = "fleet-placement"

// activationTimeout bounds one activation request to an owner.
const activationTimeout = 5 * time.Second

// lookup is the cluster's identity lookup: protoactor's rendezvous
// placement (cluster.Rendezvous over the members that have the kind, as its
// disthash lookup does) with its activation protocol (ActivationRequest to
// the owner's placement actor), made safe to use from many goroutines —
// disthash replaces its rendezvous while Get reads it, a data race — and
// with the owner refusing to activate what it does not own by its own view,
// so that a requester with a stale view cannot start a second activation.
type lookup struct {
	c       *cluster.Cluster
	sub     *eventstream.Subscription
	placing *actor.PID

	mu  sync.RWMutex
	rdv *cluster.Rendezvous
}

func newLookup() *lookup { return &lookup{rdv: cluster.NewRendezvous()} }

func (l *lookup) Setup(c *cluster.Cluster, _ []string, isClient bool) {
	l.c = c
	l.sub = c.ActorSystem.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*cluster.ClusterTopology); ok {
			rdv := cluster.NewRendezvous()
			rdv.UpdateMembers(t.Members)
			l.mu.Lock()
			l.rdv = rdv
			l.mu.Unlock()
			if l.placing != nil {
				c.ActorSystem.Root.Send(l.placing, t)
			}
		}
	})
	if !isClient {
		l.placing, _ = c.ActorSystem.Root.SpawnNamed(actor.PropsFromProducer(func() actor.Actor {
			return &placement{l: l, actors: map[string]placed{}}
		}), placementName)
	}
}

// owner is the address of the member that owns ci by this process's view.
func (l *lookup) owner(ci *cluster.ClusterIdentity) string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.rdv.GetByClusterIdentity(ci)
}

func (l *lookup) Get(ci *cluster.ClusterIdentity) *actor.PID {
	owner := l.owner(ci)
	if owner == "" {
		return nil
	}
	res, err := l.c.ActorSystem.Root.RequestFuture(actor.NewPID(owner, placementName),
		&cluster.ActivationRequest{ClusterIdentity: ci}, activationTimeout).Result()
	if err != nil {
		return nil
	}
	if r, ok := res.(*cluster.ActivationResponse); ok && !r.Failed {
		return r.Pid
	}
	return nil
}

func (l *lookup) RemovePid(ci *cluster.ClusterIdentity, pid *actor.PID) {
	l.c.MemberList.BroadcastEvent(&cluster.ActivationTerminated{Pid: pid, ClusterIdentity: ci}, true)
}

func (l *lookup) Shutdown() {
	if l.sub != nil {
		l.c.ActorSystem.EventStream.Unsubscribe(l.sub)
	}
	if l.placing != nil {
		l.c.ActorSystem.Root.PoisonFuture(l.placing).Wait()
	}
}

// placement is a member's placement actor: it activates what it owns and
// stops what it no longer owns when the topology changes.
type placement struct {
	l      *lookup
	actors map[string]placed // by ClusterIdentity.AsKey
}

type placed struct {
	ci  *cluster.ClusterIdentity
	pid *actor.PID
}

func (p *placement) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started, *actor.Stopped, *actor.Restarting:
	case *actor.Stopping:
		// The children stop with us.
	case *cluster.ActivationRequest:
		p.activate(ctx, m)
	case *cluster.ClusterTopology:
		self := ctx.ActorSystem().Address()
		for key, a := range p.actors {
			if p.l.owner(a.ci) != self {
				ctx.Logger().Debug("activation moves to another member", "identity", key)
				ctx.Poison(a.pid)
			}
		}
	case *actor.Terminated:
		for key, a := range p.actors {
			if a.pid.Equal(m.Who) {
				if k, ok := p.l.c.TryGetClusterKind(a.ci.Kind); ok {
					k.Dec()
				}
				delete(p.actors, key)
				p.l.RemovePid(a.ci, a.pid)
				break
			}
		}
	}
}

func (p *placement) activate(ctx actor.Context, m *cluster.ActivationRequest) {
	ci := m.ClusterIdentity
	if ci == nil {
		ctx.Respond(&cluster.ActivationResponse{Failed: true})
		return
	}
	if a, ok := p.actors[ci.AsKey()]; ok {
		ctx.Respond(&cluster.ActivationResponse{Pid: a.pid})
		return
	}
	kind, ok := p.l.c.TryGetClusterKind(ci.Kind)
	if !ok || p.l.owner(ci) != ctx.ActorSystem().Address() {
		// Not ours to start (an unknown kind, or the requester's view of
		// the membership is not ours yet): it asks again.
		ctx.Respond(&cluster.ActivationResponse{Failed: true})
		return
	}
	pid := ctx.SpawnPrefix(cluster.WithClusterIdentity(kind.Props, ci), ci.Identity)
	kind.Inc()
	p.actors[ci.AsKey()] = placed{ci: ci, pid: pid}
	ctx.Respond(&cluster.ActivationResponse{Pid: pid})
}
