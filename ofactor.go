package ofactor

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/actors/connection"
	"github.com/ofactor/ofactor/actors/negotiator"
	"github.com/ofactor/ofactor/actors/reconciler"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// GeneveOption is the Geneve option ofactor maps to a tun_metadata field.
type GeneveOption struct {
	Class uint16
	Type  uint8
	Len   uint8 // option data bytes, a multiple of 4
	// Off turns Geneve negotiation off: no TLV map is read or written, and
	// flows naming the field symbolically are left out.
	Off bool
}

// DefaultGeneveOption is OVN's: class 0x0102, type 0x80, 4 bytes.
var DefaultGeneveOption = GeneveOption{Class: 0x0102, Type: 0x80, Len: 4}

// GeneveOff is Config.Geneve for bridges that are not OVN's: no Geneve
// negotiation at all.
var GeneveOff = GeneveOption{Off: true}

// Config configures one bridge subtree.
type Config struct {
	// Bridge names the bridge; "br-int" when empty.
	Bridge string
	// Target is the switch's OpenFlow endpoint: unix:PATH, tcp:HOST[:PORT]
	// or ssl:HOST[:PORT] (port 6653 when omitted; ssl: needs TLS). Empty
	// means unix:<OVS rundir>/<bridge>.mgmt, as ovn-controller does.
	Target string
	// Versions are the OpenFlow versions offered in HELLO; the highest
	// the switch has too is used (OVS: the bridge's protocols column).
	// Default openflow.DefaultVersions(): 1.3, 1.4 and 1.5. Desired state
	// in another version than the connection's (ofbuild builds OpenFlow
	// 1.3; PutDesired.Version says a put's) is re-encoded through
	// ovs-ofctl's syntax, a few microseconds a flow: offer only 1.3 to
	// spare an embedder that builds 1.3 the cost on a 1.5 switch.
	Versions []uint8
	// Geneve is the option to map; DefaultGeneveOption when zero.
	Geneve GeneveOption
	// Probe is the inactivity probe interval; 0 (the default) is off.
	Probe time.Duration
	// Subscribers receive the bridge's events: messages.Connected,
	// Disconnected, GeneveFieldAssigned, VersionInstalled, Rejected,
	// Progress, RoundFinished, Planned and Checked (diff and check modes),
	// and Unsolicited, the messages the switch sends on its own (packet-ins,
	// port status, flow removed). See IsEvent and EventFunc.
	Subscribers []*actor.PID
	// State holds the desired tables. Pass the same State to a bridge
	// spawned again to keep its desired state; nil makes a new one.
	State *reconciler.State
	// TLS configures ssl: targets: the same three files as ovs-ofctl's
	// --private-key, --certificate and --ca-cert.
	TLS TLSFiles
	// ReceiverMiddleware wraps the Receive of each of the bridge's three
	// actors (tracing, metrics; the tests inject panics with it).
	ReceiverMiddleware []actor.ReceiverMiddleware
	// AuditInterval is how often the switch is audited for what no flow
	// monitor reports (groups, meters, the TLV map; the flows every
	// AuditFlowsEvery-th time): 0 means 60 s, a negative value never.
	AuditInterval time.Duration
	// AuditFlowsEvery: the flows are read every this many audits (0: 10);
	// every audit when the flow monitor is off.
	AuditFlowsEvery int
	// NoFlowMonitor turns the flow monitor off: out-of-band changes are then
	// found by the audits alone.
	NoFlowMonitor bool
	// Mode is ModeApply (the zero value): install and keep installed.
	// ModeDiff and ModeCheck only look (ofactor diff, check): see Mode.
	Mode Mode
	// Logger is the bridge's logger; nothing is logged when nil.
	Logger *zap.Logger
}

// Mode is what a bridge does with its desired state.
type Mode = reconciler.Mode

// The modes.
const (
	// ModeApply installs the desired state and keeps it installed.
	ModeApply = reconciler.ModeApply
	// ModeDiff works out what installing the desired state would change
	// and publishes it (messages.Planned); it writes nothing to the
	// switch, not even the Geneve TLV map.
	ModeDiff = reconciler.ModeDiff
	// ModeCheck is ModeDiff, then the change is judged by the switch in a
	// bundle that is opened, filled and discarded: messages.Rejected for
	// each refusal, then messages.Checked.
	ModeCheck = reconciler.ModeCheck
)

// TLSFiles names the PEM files of an ssl: connection, as ovs-ofctl takes
// them: our private key and certificate, and the CA that signed the
// switch's certificate.
type TLSFiles struct {
	PrivateKey, Certificate, CACert string
}

func (c Config) withDefaults() Config {
	if c.Bridge == "" {
		c.Bridge = "br-int"
	}
	if c.Target == "" {
		c.Target = connection.DefaultTarget(c.Bridge)
	}
	if len(c.Versions) == 0 {
		c.Versions = openflow.DefaultVersions()
	}
	if c.Geneve == (GeneveOption{}) {
		c.Geneve = DefaultGeneveOption
	}
	if c.State == nil {
		c.State = reconciler.NewState()
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	c.Logger = c.Logger.With(zap.String("bridge", c.Bridge))
	return c
}

// Bridge is a spawned bridge subtree. Send messages.PutDesired,
// messages.UpdateFlows, messages.GetStatus, messages.Subscribe to PID; the
// bridge passes them to the actor that handles them.
type Bridge struct {
	PID     *actor.PID
	sys     *actor.ActorSystem
	name    string
	watcher *watcher
}

// Props returns the props of a bridge subtree's supervisor. A
// configuration that Validate refuses (a malformed target, TLS files that
// do not load) is logged and the bridge never connects; Spawn returns that
// error instead.
func Props(cfg Config) *actor.Props {
	cfg = cfg.withDefaults()
	tc, err := cfg.check()
	if err != nil {
		cfg.Logger.Error("bad bridge configuration", zap.Error(err))
	}
	return props(cfg, tc)
}

// Validate checks a configuration as Spawn does, without spawning
// anything: the bridge name, the target's kind and address, TLS files only
// with an ssl: target and loading, the Geneve option.
func (c Config) Validate() error {
	_, err := c.withDefaults().check()
	return err
}

// check validates a configuration with its defaults and loads its TLS
// files.
func (c Config) check() (*tls.Config, error) {
	if strings.ContainsAny(c.Bridge, "/ \t\n") {
		return nil, fmt.Errorf("bridge %q: a name has no '/' and no white space", c.Bridge)
	}
	if err := checkTarget(c.Target); err != nil {
		return nil, fmt.Errorf("bridge %s: %w", c.Bridge, err)
	}
	for _, v := range c.Versions {
		if v >= 32 || openflow.Spoken&(1<<v) == 0 {
			return nil, fmt.Errorf("bridge %s: OpenFlow version %s: ofactor speaks %s", c.Bridge,
				openflow.VersionName(v), openflow.BitmapNames(openflow.Spoken))
		}
	}
	if g := c.Geneve; !g.Off && (g.Len == 0 || g.Len%4 != 0 || g.Len > 124) {
		return nil, fmt.Errorf("bridge %s: Geneve option length %d: want a multiple of 4 from 4 to 124", c.Bridge, g.Len)
	}
	tc, err := c.TLS.tlsConfig(c.Target)
	if err != nil {
		return nil, fmt.Errorf("bridge %s: %w", c.Bridge, err)
	}
	return tc, nil
}

// checkTarget refuses a target that could never be dialled: an unknown
// kind, an empty path, a host or port OVS would refuse ("bad port number").
func checkTarget(target string) error {
	network, addr, err := connection.ParseTarget(target)
	if err != nil {
		return err
	}
	if network == "unix" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("target %q: bad port number %q", target, port)
	}
	if host == "" {
		return fmt.Errorf("target %q: no host", target)
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	// Not an address: a host name, which cannot be all digits and dots
	// ("1.2.3.4.5") nor hold anything but letters, digits, '-' and '.'.
	digits := true
	for _, r := range host {
		switch {
		case r >= '0' && r <= '9', r == '.':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
			digits = false
		default:
			return fmt.Errorf("target %q: bad host %q", target, host)
		}
	}
	if digits {
		return fmt.Errorf("target %q: bad IP address %q", target, host)
	}
	return nil
}

func props(cfg Config, tc *tls.Config) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &bridge{cfg: cfg, tls: tc} },
		actor.WithSupervisor(actor.NewOneForOneStrategy(100, time.Minute, func(reason any) actor.Directive {
			cfg.Logger.Error("actor failed; restarting it", zap.Any("reason", reason))
			return actor.RestartDirective
		})))
}

// Spawn starts a bridge subtree under parent, named after the bridge. The
// configuration is checked first (Validate): a bad target or TLS files
// that do not load are an error at once, not a bridge that never
// connects. A second bridge of the same name under one parent is refused.
func Spawn(parent actor.SpawnerContext, cfg Config) (*Bridge, error) {
	cfg = cfg.withDefaults()
	tc, err := cfg.check()
	if err != nil {
		return nil, err
	}
	b := &Bridge{sys: parent.ActorSystem(), name: cfg.Bridge, watcher: newWatcher()}
	// The bridge's own subscriber, for its methods (WaitInstalled).
	b.watcher.pid = b.sys.Root.Spawn(actor.PropsFromFunc(b.watcher.receive))
	cfg.Subscribers = append([]*actor.PID{b.watcher.pid}, cfg.Subscribers...)
	pid, err := parent.SpawnNamed(props(cfg, tc), "bridge-"+cfg.Bridge)
	if err != nil {
		b.sys.Root.Stop(b.watcher.pid)
		if errors.Is(err, actor.ErrNameExists) {
			return nil, fmt.Errorf("bridge %s: a bridge of this name is already running", cfg.Bridge)
		}
		return nil, fmt.Errorf("bridge %s: %w", cfg.Bridge, err)
	}
	b.PID = pid
	return b, nil
}

// bridge is the supervisor of one bridge: the connection, the negotiator
// and the reconciler are its children and siblings of each other, so that a
// restart of one (a panic) never stops the others, and the desired state,
// which lives in Config.State, survives it.
type bridge struct {
	cfg                Config
	tls                *tls.Config // ssl: targets only
	conn, negot, recon *actor.PID
	subscribers        []*actor.PID
}

func (b *bridge) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		b.start(ctx)
	case *actor.Stopping, *actor.Restarting, *actor.Stopped:
	case *messages.PutDesired, *messages.AbortPut, *messages.UpdateFlows, *messages.UpdateInstalled,
		*messages.GetStatus, *messages.GetInstalled, *messages.GetTables, *reconciler.Drain:
		ctx.Forward(b.recon)
	case *messages.Subscribe, *messages.Unsubscribe:
		for _, child := range b.children() {
			ctx.Send(child, m)
		}
	case *stopRequest:
		b.stopGracefully(ctx, m)
	case *actor.Terminated:
	default:
		b.cfg.Logger.Debug("unknown message", zap.Any("message", m))
	}
}

// children are the bridge's actors: the negotiator only when Geneve is on.
func (b *bridge) children() []*actor.PID {
	if b.negot == nil {
		return []*actor.PID{b.conn, b.recon}
	}
	return []*actor.PID{b.conn, b.negot, b.recon}
}

// start spawns the three siblings. Their PIDs are known before they exist
// (a child's id is its parent's plus its name), so each gets the others'.
func (b *bridge) start(ctx actor.Context) {
	self := ctx.Self()
	pid := func(name string) *actor.PID { return actor.NewPID(self.Address, self.Id+"/"+name) }
	b.conn, b.recon = pid("connection"), pid("reconciler")
	if !b.cfg.Geneve.Off {
		b.negot = pid("negotiator")
	}
	cfg := b.cfg
	subs := append([]*actor.PID(nil), cfg.Subscribers...)

	mw := func(p *actor.Props) *actor.Props {
		if len(cfg.ReceiverMiddleware) > 0 {
			p.Configure(actor.WithReceiverMiddleware(cfg.ReceiverMiddleware...))
		}
		return p
	}
	// The connection first, paused: the others subscribe to it when they
	// start, and a message to a sibling still being spawned races with
	// protoactor's spawn (the PID is published before the mailbox is ready).
	_, err := ctx.SpawnNamed(mw(connection.Props(connection.Config{
		Target:      cfg.Target,
		TLS:         b.tls,
		Versions:    cfg.Versions,
		Probe:       cfg.Probe,
		Subscribers: append(b.children()[1:], subs...),
		Logger:      cfg.Logger,
		Paused:      true,
	})), "connection")
	b.must(err)
	_, err = ctx.SpawnNamed(mw(reconciler.Props(reconciler.Config{
		Connection:  b.conn,
		Negotiator:  b.negot,
		State:       cfg.State,
		Subscribers: subs,
		GeneveLen:   cfg.Geneve.Len,
		GeneveOff:   cfg.Geneve.Off,
		Mode:        cfg.Mode,
		Audit:       reconciler.AuditConfig{Interval: cfg.AuditInterval, FlowsEvery: cfg.AuditFlowsEvery, NoFlowMonitor: cfg.NoFlowMonitor},
		Logger:      cfg.Logger,
	})), "reconciler")
	b.must(err)
	if cfg.Geneve.Off {
		// No negotiator: the connection's subscribers are the others.
		ctx.Send(b.conn, &connection.Start{})
		return
	}
	nc := negotiator.DefaultConfig()
	nc.OptionClass, nc.OptionType, nc.OptionLen = cfg.Geneve.Class, cfg.Geneve.Type, cfg.Geneve.Len
	nc.Logger = cfg.Logger
	nc.ReadOnly = cfg.Mode != ModeApply
	np, err := negotiator.Props(negotiator.ActorConfig{
		Connection:  b.conn,
		Reconciler:  b.recon,
		Subscribers: subs,
		Negotiator:  nc,
		Logger:      cfg.Logger,
	})
	b.must(err)
	_, err = ctx.SpawnNamed(mw(np), "negotiator")
	b.must(err)
	// Every sibling exists now: the connection may dial and publish.
	ctx.Send(b.conn, &connection.Start{})
}

func (b *bridge) must(err error) {
	if err != nil {
		// Names are fixed and unique under this supervisor: a failure here
		// is a broken invariant.
		panic(err)
	}
}

// stopRequest asks the supervisor to stop gracefully (Bridge.Stop):
// answered with stopReady once the reconciler has drained (a bundle in
// flight discarded or committed) and the connection is closed, so that
// stopping the actors then sends nothing to anyone.
type stopRequest struct{ timeout time.Duration }

type stopReady struct{}

func (b *bridge) stopGracefully(ctx actor.Context, m *stopRequest) {
	asker := ctx.Sender()
	deadline := time.Now().Add(m.timeout)
	drained := ctx.RequestFuture(b.recon, &reconciler.Drain{}, m.timeout)
	ctx.ReenterAfter(drained, func(any, error) {
		closed := ctx.RequestFuture(b.conn, &connection.Close{}, max(time.Until(deadline), time.Millisecond))
		ctx.ReenterAfter(closed, func(any, error) {
			if asker != nil {
				ctx.Send(asker, &stopReady{})
			}
		})
	})
}
