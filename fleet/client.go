package fleet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/remote"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/proto"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

// DefaultResyncInterval is how often a Client checks that each bridge it
// put to still holds its put under the epoch it knows.
const DefaultResyncInterval = time.Second

// ClientConfig configures a Client.
type ClientConfig struct {
	Name string   // the fleet's cluster name
	Etcd []string // its etcd endpoints
	// Listen is where the client's remote listens for answers and events;
	// default 127.0.0.1:0 (any free port). Advertise as in Config.
	Listen, Advertise string
	RequestTimeout    time.Duration
	ResyncInterval    time.Duration
	// OnEvent, when set, is called with every event of every bridge the
	// client put to or subscribed to (*fleetpb.Activated, VersionInstalled,
	// Rejected, Demoted), from one goroutine, in order per bridge.
	OnEvent func(proto.Message)
	Logger  *zap.Logger
}

// Client drives bridges of a fleet from another process: it joins the
// cluster as a client (no kinds), sends requests to the kind
// "ofactor-bridge" by name, and receives the bridges' events over cluster
// pub-sub. The desired state it puts is its own to keep: after a bridge is
// activated anew (failover, handoff) the new owner touches nothing until it
// is put again, and the client puts it again by itself — its last put and
// the updates since, in order.
type Client struct {
	cfg ClientConfig
	log *zap.Logger
	sys *actor.ActorSystem
	cl  *cluster.Cluster
	sub *actor.PID

	provider *lazyProvider

	quit  chan struct{}
	nudge chan struct{} // topology changed
	wg    sync.WaitGroup

	mu      sync.Mutex
	bridges map[string]*clientBridge
	waiters map[string][]chan *fleetpb.VersionInstalled
}

// clientBridge is what the client keeps of one bridge: its whole desired
// state, the last put with every update since applied to it, so that a new
// owner gets it in one put (a put and then the updates would let a round
// install the put alone in between, and change the table twice).
type clientBridge struct {
	name   string
	mu     sync.Mutex // one put at a time, in order
	put    *messages.PutDesired
	index  map[string]int // flow key (flowkey) -> index in put.Flows; removed ones are nil there
	epoch  uint64         // of the owner that has our state
	member string
	busy   atomic.Bool // a resync of this bridge is under way
}

// set makes put the bridge's state.
func (b *clientBridge) set(put *messages.PutDesired) error {
	cp := *put
	cp.Flows = nil
	b.put, b.index = &cp, map[string]int{}
	return b.apply(&messages.UpdateFlows{Add: put.Flows})
}

// apply changes the state by a delta of flows, as the reconciler does.
func (b *clientBridge) apply(up *messages.UpdateFlows) error {
	for _, fm := range up.Remove {
		k, err := flowkey.Of(fm)
		if err != nil {
			return err
		}
		if i, ok := b.index[k.Key()]; ok {
			b.put.Flows[i] = nil
			delete(b.index, k.Key())
		}
	}
	for _, fm := range up.Add {
		k, err := flowkey.Of(fm)
		if err != nil {
			return err
		}
		if i, ok := b.index[k.Key()]; ok {
			b.put.Flows[i] = fm
			continue
		}
		b.index[k.Key()] = len(b.put.Flows)
		b.put.Flows = append(b.put.Flows, fm)
	}
	if n := len(b.put.Flows); n > 2*len(b.index)+64 {
		b.compact()
	}
	return nil
}

func (b *clientBridge) compact() {
	flows := make([]*openflow.FlowMod, 0, len(b.index))
	for _, fm := range b.put.Flows {
		if fm != nil {
			flows = append(flows, fm)
		}
	}
	b.put.Flows = flows
	for i, fm := range flows {
		k, _ := flowkey.Of(fm)
		b.index[k.Key()] = i
	}
}

// wire is the state as one put for the wire: the whole state, every kind
// present (none of groups or meters is none, not "unchanged").
func (b *clientBridge) wire() (*fleetpb.PutDesired, error) {
	b.compact()
	p, err := ToProtoPut(b.put)
	if err != nil {
		return nil, err
	}
	for _, o := range []**fleetpb.Objects{&p.Flows, &p.Groups, &p.Meters} {
		if *o == nil {
			*o = &fleetpb.Objects{}
		}
	}
	return p, nil
}

// NewClient joins the fleet's cluster as a client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = DefaultResyncInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	host, p, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("fleet client: listen %q: %w", cfg.Listen, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("fleet client: listen %q: %w", cfg.Listen, err)
	}
	ecfg := clientv3.Config{Endpoints: cfg.Etcd, DialTimeout: etcdDialTimeout,
		Logger: cfg.Logger.Named("etcd").WithOptions(zap.IncreaseLevel(zapcore.ErrorLevel))}
	if err := pingEtcd(ecfg, cfg.Name); err != nil {
		return nil, err
	}
	provider := &lazyProvider{cfg: ecfg}
	c := &Client{cfg: cfg, log: cfg.Logger, quit: make(chan struct{}),
		bridges: map[string]*clientBridge{}, waiters: map[string][]chan *fleetpb.VersionInstalled{}}
	c.provider = provider
	c.sys = actor.NewActorSystem(ofactor.WithZap(cfg.Logger.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))))
	var opts []remote.ConfigOption
	if cfg.Advertise != "" {
		opts = append(opts, remote.WithAdvertisedHost(cfg.Advertise))
	}
	ccfg := cluster.Configure(cfg.Name, provider, newLookup(), remote.Configure(host, port, opts...),
		cluster.WithRequestTimeout(cfg.RequestTimeout))
	c.cl = cluster.New(c.sys, ccfg)
	c.nudge = make(chan struct{}, 1)
	c.sys.EventStream.Subscribe(func(ev any) {
		if _, ok := ev.(*cluster.ClusterTopology); ok {
			// A topic actor may have moved with the members: subscribe
			// again at once, before the new owners publish Activated.
			select {
			case c.nudge <- struct{}{}:
			default:
			}
		}
	})
	c.cl.StartClient()
	if provider.err != nil {
		c.sys.Shutdown()
		c.cl.Remote.Shutdown(false)
		return nil, fmt.Errorf("fleet client: etcd provider: %w", provider.err)
	}
	c.sub = c.sys.Root.Spawn(actor.PropsFromFunc(c.receiveEvent))
	c.wg.Add(1)
	go c.resync()
	return c, nil
}

// pingEtcd checks that some etcd endpoint accepts connections, without a
// gRPC client: protoactor's remote sets grpc's global logger when it
// starts, a data race with a gRPC client's goroutines still finishing (see
// lazyProvider). protoactor's provider would wait for an absent etcd for
// ever; this says so as an error instead.
func pingEtcd(ecfg clientv3.Config, _ string) error {
	var errs []error
	for _, ep := range ecfg.Endpoints {
		hostport := ep
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			hostport = u.Host
		}
		c, err := net.DialTimeout("tcp", hostport, etcdDialTimeout)
		if err == nil {
			c.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("fleet: etcd %v: %w", ecfg.Endpoints, errors.Join(errs...))
}

// Close leaves the cluster. (cluster.Shutdown assumes a member: it sets
// gossip state a client does not have.)
func (c *Client) Close() {
	close(c.quit)
	c.wg.Wait()
	c.sys.Shutdown()
	c.provider.Shutdown(false)
	c.cl.Remote.Shutdown(false)
}

func (c *Client) bridge(name string) *clientBridge {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.bridges[name]
	if b == nil {
		b = &clientBridge{name: name}
		c.bridges[name] = b
	}
	return b
}

// request sends msg to the bridge by name through the cluster.
func (c *Client) request(ctx context.Context, bridge string, msg proto.Message) (any, error) {
	timeout := c.cfg.RequestTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, ctx.Err()
	}
	return c.cl.Request(bridge, Kind, msg, cluster.WithTimeout(timeout))
}

// Put replaces the bridge's desired state and remembers it: the whole
// state, a nil slice being none of that kind. It returns the owner's
// answer: the version, the member, the epoch.
func (c *Client) Put(ctx context.Context, bridge string, put *messages.PutDesired) (*fleetpb.DesiredAccepted, error) {
	if _, err := ToProtoPut(put); err != nil {
		return nil, err
	}
	c.subscribe(bridge)
	b := c.bridge(bridge)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.set(put); err != nil {
		return nil, err
	}
	return c.sendPut(ctx, b)
}

// sendPut sends b's whole state in one put; b.mu is held.
func (c *Client) sendPut(ctx context.Context, b *clientBridge) (*fleetpb.DesiredAccepted, error) {
	p, err := b.wire()
	if err != nil {
		return nil, err
	}
	res, err := c.accepted(c.request(ctx, b.name, p))
	if err != nil {
		return nil, err
	}
	b.epoch, b.member = res.Epoch, res.Member
	return res, nil
}

func (c *Client) accepted(res any, err error) (*fleetpb.DesiredAccepted, error) {
	if err != nil {
		return nil, err
	}
	a, ok := res.(*fleetpb.DesiredAccepted)
	if !ok {
		return nil, fmt.Errorf("fleet client: answer %T", res)
	}
	return a, nil
}

// Update changes the bridge's desired flows by a delta, after a Put. When
// the bridge was activated anew since, the client puts its state again
// first.
func (c *Client) Update(ctx context.Context, bridge string, up *messages.UpdateFlows) (*fleetpb.DesiredAccepted, error) {
	u, err := ToProtoUpdate(up)
	if err != nil {
		return nil, err
	}
	b := c.bridge(bridge)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.put == nil {
		return nil, errors.New("fleet client: Update before Put: the client keeps the whole desired state")
	}
	if err := b.apply(up); err != nil {
		return nil, err
	}
	res, err := c.accepted(c.request(ctx, bridge, u))
	if err == nil && len(res.Errors) == 1 && res.Errors[0] == ErrWaitingForPut.Error() {
		return c.sendPut(ctx, b)
	}
	if err == nil && res.Epoch != b.epoch {
		// A new owner took our update on top of a state it did not
		// have from us: put everything again to be sure.
		return c.sendPut(ctx, b)
	}
	return res, err
}

// Status asks the bridge's owner for its status.
func (c *Client) Status(ctx context.Context, bridge string) (*fleetpb.Status, error) {
	res, err := c.request(ctx, bridge, &fleetpb.GetStatus{})
	if err != nil {
		return nil, err
	}
	st, ok := res.(*fleetpb.Status)
	if !ok {
		return nil, fmt.Errorf("fleet client: answer %T", res)
	}
	return st, nil
}

// WaitInstalled waits until the bridge's switch holds version of the
// owner with epoch (a VersionInstalled event, or its status says so).
func (c *Client) WaitInstalled(ctx context.Context, bridge string, epoch, version uint64) error {
	ch := make(chan *fleetpb.VersionInstalled, 16)
	c.mu.Lock()
	c.waiters[bridge] = append(c.waiters[bridge], ch)
	c.mu.Unlock()
	defer c.unwait(bridge, ch)
	c.subscribe(bridge)
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("fleet client: %s: version %d of epoch %d not installed: %w", bridge, version, epoch, ctx.Err())
		case ev := <-ch:
			if ev.Epoch == epoch && ev.Version >= version {
				return nil
			}
		case <-poll.C:
			st, err := c.Status(ctx, bridge)
			if err == nil && st.Epoch == epoch && st.InstalledVersion >= version {
				return nil
			}
		}
	}
}

func (c *Client) unwait(bridge string, ch chan *fleetpb.VersionInstalled) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ws := c.waiters[bridge]
	for i, w := range ws {
		if w == ch {
			c.waiters[bridge] = append(ws[:i:i], ws[i+1:]...)
			return
		}
	}
}

// Subscribe makes the client receive the bridge's events (OnEvent).
func (c *Client) Subscribe(bridge string) error {
	c.bridge(bridge)
	return c.subscribe(bridge)
}

// subscribeTimeout bounds one subscription request: a topic actor on a
// member that just died is not waited for long, the next resync tries again.
const subscribeTimeout = 2 * time.Second

func (c *Client) subscribe(bridge string) error {
	_, err := c.cl.SubscribeByPid(Topic(bridge), c.sub, cluster.WithTimeout(min(subscribeTimeout, c.cfg.RequestTimeout)))
	return err
}

// receiveEvent is the client's subscriber actor: events from every topic.
func (c *Client) receiveEvent(ctx actor.Context) {
	msg, ok := ctx.Message().(proto.Message)
	if !ok {
		return
	}
	switch ev := msg.(type) {
	case *fleetpb.Activated:
		c.onActivated(ev)
	case *fleetpb.VersionInstalled:
		c.mu.Lock()
		for _, w := range c.waiters[ev.Bridge] {
			select {
			case w <- ev:
			default:
			}
		}
		c.mu.Unlock()
	case *fleetpb.Rejected, *fleetpb.Demoted:
	default:
		return
	}
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(msg)
	}
}

// onActivated puts again to a bridge activated anew, off the actor.
func (c *Client) onActivated(ev *fleetpb.Activated) {
	c.mu.Lock()
	b := c.bridges[ev.Bridge]
	c.mu.Unlock()
	if b == nil || !ev.Pushed {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.reput(b, ev.Epoch)
	}()
}

// reput puts b's state again unless the owner of epoch (or a later one)
// has it already.
func (c *Client) reput(b *clientBridge, epoch uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.put == nil || (epoch != 0 && b.epoch >= epoch) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	res, err := c.sendPut(ctx, b)
	if err != nil {
		c.log.Warn("re-put failed; will retry", zap.String("bridge", b.name), zap.Error(err))
		return
	}
	c.log.Info("desired state put again", zap.String("bridge", b.name), zap.String("member", res.Member),
		zap.Uint64("epoch", res.Epoch), zap.Uint64("version", res.Version))
}

// resync is the safety net under the events: a topic actor lives on some
// member, and an Activated published while it was being re-activated after
// a failure reaches nobody. Every ResyncInterval the client subscribes
// again (idempotent) and asks each bridge it put to for its status: a
// bridge under another epoch, or waiting for a put, is put again.
func (c *Client) resync() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.ResyncInterval)
	defer t.Stop()
	for {
		poll := false
		select {
		case <-c.quit:
			return
		case <-t.C:
			poll = true
		case <-c.nudge:
		}
		c.mu.Lock()
		bs := make([]*clientBridge, 0, len(c.bridges))
		for _, b := range c.bridges {
			bs = append(bs, b)
		}
		c.mu.Unlock()
		// Each bridge on its own, and nothing waited for: a request to a
		// member that just died waits for its timeout, and must hold up
		// neither the other bridges nor the next topology change.
		// On a topology change the subscriptions go again even while
		// older ones still wait for a member that died.
		for _, b := range bs {
			if !poll {
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					c.subscribe(b.name)
				}()
				continue
			}
			if !b.busy.CompareAndSwap(false, true) {
				continue
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer b.busy.Store(false)
				c.subscribe(b.name)
				c.check(b)
			}()
		}
	}
}

// check asks the bridge for its status and puts the state again when its
// owner does not have it: another epoch, or waiting for a put.
func (c *Client) check(b *clientBridge) {
	b.mu.Lock()
	has, known := b.put != nil, b.epoch
	b.mu.Unlock()
	if !has {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	st, err := c.Status(ctx, b.name)
	cancel()
	if err != nil || st.Epoch == 0 {
		return
	}
	switch {
	case st.WaitingForDesired:
		c.reput(b, 0)
	case st.Epoch != known:
		c.reput(b, st.Epoch) // unless an Activated put it there meanwhile
	}
}

// Cluster is the client's protoactor cluster (its actor system sends and
// receives through it).
func (c *Client) Cluster() *cluster.Cluster { return c.cl }
