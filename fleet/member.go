package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor"
)

// etcdDialTimeout bounds the first contact with etcd.
const etcdDialTimeout = 5 * time.Second

// Member is one running member of a fleet.
type Member struct {
	cfg     Config
	log     *zap.Logger
	bridges map[string]Bridge
	metrics *fleetMetrics

	sys      *actor.ActorSystem
	cl       *cluster.Cluster
	lookup   *lookup
	provider *lazyProvider
	etcd     *clientv3.Client
	st       *store
	nodeID   string // the cluster member id: NAME@SYSTEMID
	address  string // host:port, as the other members reach it
	reg      int64  // create revision of our registration in etcd

	expelledFlag atomic.Bool
	expelledCh   chan struct{}
	nudge        chan struct{}
	quit         chan struct{}
	wg           sync.WaitGroup
	stopOnce     sync.Once

	viewSince time.Time // the keeper's: since when the view differs from etcd

	mu     sync.Mutex
	active map[string]activation
}

// activation is what a member knows of a bridge active on it.
type activation struct {
	pid         *actor.PID
	epoch       uint64
	since       time.Time // activated (epoch taken)
	master      bool
	masterSince time.Time // first MASTER under this epoch
	flowMods    int       // sent to the switch by this activation
	groupMods   int
	meterMods   int
}

// Start joins the fleet as a member: it registers with etcd (the protoactor
// provider), listens on cfg.Listen and activates the bridges that are its
// by the membership. Stop leaves.
func Start(cfg Config) (*Member, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	met, err := newFleetMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return start(cfg, met)
}

func start(cfg Config, met *fleetMetrics) (*Member, error) {
	m := &Member{
		cfg:        cfg,
		log:        cfg.Logger,
		bridges:    map[string]Bridge{},
		metrics:    met,
		expelledCh: make(chan struct{}),
		nudge:      make(chan struct{}, 1),
		quit:       make(chan struct{}),
		active:     map[string]activation{},
	}
	for _, b := range cfg.Bridges {
		m.bridges[b.Name] = b
	}
	ecfg := clientv3.Config{Endpoints: cfg.Etcd, DialTimeout: etcdDialTimeout, Logger: cfg.Logger.Named("etcd").WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))}
	// protoactor's cluster panics when its provider cannot start: find out
	// first, and say so as an error.
	if err := pingEtcd(ecfg, cfg.Name); err != nil {
		return nil, err
	}
	if err := m.startCluster(ecfg); err != nil {
		return nil, err
	}
	m.wg.Add(2)
	go m.watchRegistration()
	go m.keep()
	m.log.Info("fleet member started", zap.String("member", m.address), zap.String("member_id", m.nodeID),
		zap.String("cluster", cfg.Name), zap.Int("bridges", len(cfg.Bridges)))
	return m, nil
}

func (m *Member) startCluster(ecfg clientv3.Config) error {
	cfg := m.cfg
	host, port, err := splitHostPort(cfg.Listen)
	if err != nil {
		return err
	}
	// The remote would fail its Listen in a goroutine and carry on deaf.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("fleet: listen: %w", err)
	}
	ln.Close()
	ecfg.Logger = ecfg.Logger.WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))
	provider := &lazyProvider{cfg: ecfg}
	m.provider = provider
	var unlock func()
	provider.beforeStart = func() error {
		// Our own etcd client only now (see lazyProvider), and the join
		// lock taken with it.
		cli, err := clientv3.New(ecfg)
		if err != nil {
			return err
		}
		m.etcd = cli
		m.st = &store{cli: cli, cluster: cfg.Name}
		unlock = m.lockJoin()
		return nil
	}
	// protoactor logs every topology change at info; ours says what matters.
	m.sys = actor.NewActorSystem(ofactor.WithZap(cfg.Logger.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))))
	rcfg := remote.Configure(host, port, remote.WithAdvertisedHost(cfg.Advertise))
	kind := cluster.NewKind(Kind, actor.PropsFromProducer(func() actor.Actor { return &grain{m: m} }))
	m.lookup = newLookup()
	ccfg := cluster.Configure(cfg.Name, provider, m.lookup, rcfg,
		cluster.WithKinds(kind),
		cluster.WithRequestTimeout(cfg.RequestTimeout),
		cluster.WithHeartbeatExpiration(cfg.HeartbeatExpiration))
	ccfg.GossipInterval = cfg.GossipInterval
	m.cl = cluster.New(m.sys, ccfg)
	m.sys.EventStream.Subscribe(func(ev any) {
		if t, ok := ev.(*cluster.ClusterTopology); ok {
			addrs := make([]string, 0, len(t.Members))
			for _, mem := range t.Members {
				addrs = append(addrs, mem.Address())
			}
			m.log.Info("membership", zap.Strings("members", addrs), zap.Int("joined", len(t.Joined)),
				zap.Int("left", len(t.Left)))
			m.poke()
		}
	})
	m.cl.StartMember() // it waits a second after the provider started: our watch is up
	if unlock != nil {
		unlock()
	}
	fail := func(err error) error {
		m.cl.Shutdown(false)
		provider.Shutdown(false)
		if m.etcd != nil {
			m.etcd.Close()
		}
		return err
	}
	if provider.err != nil {
		return fail(fmt.Errorf("fleet: etcd provider: %w", provider.err))
	}
	m.nodeID = cfg.Name + "@" + m.sys.ID
	m.address = m.sys.Address()
	ctx, cancel := context.WithTimeout(context.Background(), etcdDialTimeout)
	defer cancel()
	if m.reg, err = m.st.registration(ctx, m.nodeID); err != nil || m.reg == 0 {
		return fail(fmt.Errorf("fleet: our registration %s is not in etcd (%v)", m.st.memberKey(m.nodeID), err))
	}
	return nil
}

// joinLockTimeout bounds the wait for the join lock; joinLockTTL is how
// long a member that died holding it keeps it.
const (
	joinLockTimeout = 30 * time.Second
	joinLockTTL     = 5
)

// lockJoin takes the cluster's join lock in etcd, so that members join one
// at a time: protoactor's provider reads the members, then watches from
// "now", and a member registering in between would be missed for good
// (viewBroken is the backstop). Without the lock in time the member joins
// anyway. The returned function releases it.
func (m *Member) lockJoin() func() {
	sess, err := concurrency.NewSession(m.etcd, concurrency.WithTTL(joinLockTTL))
	if err != nil {
		m.log.Warn("joining without the join lock", zap.Error(err))
		return func() {}
	}
	mu := concurrency.NewMutex(sess, keyPrefix+m.cfg.Name+"/join")
	ctx, cancel := context.WithTimeout(context.Background(), joinLockTimeout)
	defer cancel()
	if err := mu.Lock(ctx); err != nil {
		m.log.Warn("joining without the join lock", zap.Error(err))
		sess.Close()
		return func() {}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), etcdDialTimeout)
		defer cancel()
		mu.Unlock(ctx)
		sess.Close()
	}
}

// Address is the member's address, host:port, as the others reach it.
func (m *Member) Address() string { return m.address }

// ID is the member's cluster id.
func (m *Member) ID() string { return m.nodeID }

// Cluster is the member's protoactor cluster.
func (m *Member) Cluster() *cluster.Cluster { return m.cl }

// Expelled is closed when the cluster has seen this member leave (its
// registration expired: paused, cut off from etcd): its bridges are stopped
// then, and it must rejoin as a new member (Run does).
func (m *Member) Expelled() <-chan struct{} { return m.expelledCh }

func (m *Member) expelled() bool { return m.expelledFlag.Load() }

// expel stops every bridge of this member at once.
func (m *Member) expel() {
	if !m.expelledFlag.CompareAndSwap(false, true) {
		return
	}
	m.log.Error("this member left the cluster: stopping its bridges", zap.String("member_id", m.nodeID))
	m.mu.Lock()
	pids := make([]*actor.PID, 0, len(m.active))
	for _, a := range m.active {
		pids = append(pids, a.pid)
	}
	m.mu.Unlock()
	for _, pid := range pids {
		m.sys.Root.Stop(pid)
	}
	close(m.expelledCh)
}

// Stop leaves the cluster: the bridges stop, the registration is removed
// (so the others take the bridges over at once), the listener closes.
func (m *Member) Stop() {
	m.stopOnce.Do(func() {
		close(m.quit)
		m.wg.Wait()
		graceful := !m.expelled()
		m.cl.Shutdown(graceful)
		if !graceful {
			// An ungraceful cluster shutdown leaves the provider running:
			// its keepalive would hold our old registration up for good.
			m.provider.Shutdown(false)
		}
		m.etcd.Close()
		m.log.Info("fleet member stopped", zap.String("member", m.address))
	})
}

func (m *Member) poke() {
	select {
	case m.nudge <- struct{}{}:
	default:
	}
}

// nextEpoch takes the bridge's next epoch for this member.
func (m *Member) nextEpoch(ctx context.Context, bridge string) (uint64, Owner, error) {
	if m.expelled() {
		return 0, Owner{}, ErrExpelled
	}
	return m.st.nextEpoch(ctx, Owner{Bridge: bridge, Member: m.address, MemberID: m.nodeID, Since: time.Now().UTC()}, m.reg)
}

// ownerOf is the member that owns bridge by this member's view.
func (m *Member) ownerOf(bridge string) string {
	return m.lookup.owner(cluster.NewClusterIdentity(bridge, Kind))
}

func (m *Member) owns(bridge string) bool { return m.ownerOf(bridge) == m.address }

func (m *Member) activated(name string, pid *actor.PID, epoch uint64) {
	m.mu.Lock()
	m.active[name] = activation{pid: pid, epoch: epoch, since: time.Now()}
	m.mu.Unlock()
	if m.expelled() {
		m.sys.Root.Stop(pid)
	}
}

// update changes the record of an activation still current.
func (m *Member) update(name string, pid *actor.PID, f func(*activation)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.active[name]; ok && a.pid.Equal(pid) {
		f(&a)
		m.active[name] = a
	}
}

func (m *Member) deactivated(name string, pid *actor.PID) {
	m.mu.Lock()
	if a, ok := m.active[name]; ok && a.pid.Equal(pid) {
		delete(m.active, name)
	}
	m.mu.Unlock()
	m.metrics.owned.WithLabelValues(name).Set(0)
}

// Active returns the bridges active on this member and their epochs.
func (m *Member) Active() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]uint64, len(m.active))
	for n, a := range m.active {
		out[n] = a.epoch
	}
	return out
}

// keep makes sure that every bridge this member owns by its view is
// active, every KeepInterval and on every topology change. Only the owner
// activates (a cluster.Get to its own placement actor), so members never
// ask each other to activate and a stale view cannot bounce a bridge.
func (m *Member) keep() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.KeepInterval)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
		case <-m.nudge:
		}
		if m.expelled() {
			continue
		}
		// Members that left are blocked by node id, members whose gossip
		// heartbeat expired by actor system id; either is for good.
		if bl := m.cl.Remote.BlockList(); bl.IsBlocked(m.nodeID) || bl.IsBlocked(m.sys.ID) {
			m.log.Error("the cluster blocked this member (heartbeat expired)")
			m.expel()
			continue
		}
		if m.viewBroken() {
			m.expel()
			continue
		}
		for _, b := range m.cfg.Bridges {
			if !m.owns(b.Name) {
				continue
			}
			m.mu.Lock()
			_, ok := m.active[b.Name]
			m.mu.Unlock()
			if !ok {
				m.cl.Get(b.Name, Kind)
			}
		}
	}
}

// viewGrace is how long this member's view of the membership may differ
// from the registrations in etcd before it rejoins.
const viewGrace = 3 * time.Second

// viewBroken compares the membership this member's cluster sees with the
// registrations in etcd, blocked members left out. protoactor's etcd
// provider reads the members, then starts watching from "now": a member
// that registers in between is never seen, and the two members would both
// own its bridges, for ever. A view that disagrees for longer than
// viewGrace (a change on its way takes milliseconds) is broken: the member
// rejoins, which reads the membership anew.
func (m *Member) viewBroken() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	resp, err := m.etcd.Get(ctx, providerPrefix+"/"+m.cfg.Name+"/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		m.viewSince = time.Time{}
		return false // etcd away: nothing to compare with
	}
	bl := m.cl.Remote.BlockList()
	inEtcd := map[string]bool{}
	for _, kv := range resp.Kvs {
		id := strings.TrimPrefix(string(kv.Key), providerPrefix+"/"+m.cfg.Name+"/")
		if !bl.IsBlocked(id) {
			inEtcd[id] = true
		}
	}
	seen := 0
	differ := false
	for _, mem := range m.cl.MemberList.Members().Members() {
		seen++
		if !inEtcd[mem.Id] {
			differ = true
		}
	}
	if seen != len(inEtcd) {
		differ = true
	}
	switch {
	case !differ:
		m.viewSince = time.Time{}
	case m.viewSince.IsZero():
		m.viewSince = time.Now()
	case time.Since(m.viewSince) > viewGrace:
		m.log.Error("this member's view of the membership differs from etcd's: rejoining",
			zap.Int("members_seen", seen), zap.Int("members_in_etcd", len(inEtcd)))
		return true
	}
	return false
}

// watchRegistration expels the member when its registration in etcd is
// deleted or made anew: the others have seen it leave and block its id.
func (m *Member) watchRegistration() {
	defer m.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-m.quit
		cancel()
	}()
	key := m.st.memberKey(m.nodeID)
	for ctx.Err() == nil {
		for resp := range m.etcd.Watch(ctx, key, clientv3.WithRev(m.reg+1)) {
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete || ev.Kv.CreateRevision != m.reg {
					m.log.Warn("our registration in etcd is gone", zap.String("key", key))
					m.expel()
					return
				}
			}
			if err := resp.Err(); err != nil && !errors.Is(err, context.Canceled) {
				m.log.Warn("watching our registration", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (m *Member) activation(name string) (activation, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.active[name]
	return a, ok
}
