// Package fleet runs ofactor's bridges on protoactor-go's cluster: every
// member of a fleet runs the same configuration, each bridge is the cluster
// kind "ofactor-bridge" with the bridge's name as identity, active on one
// member at a time (protoactor's identity lookup over the etcd provider's
// membership), and its body is the bridge subtree of package ofactor.
//
// An activation takes a fresh ownership epoch from etcd (a per-bridge
// counter advanced in a transaction) and claims the OpenFlow role MASTER
// with generation_id = epoch before it writes anything, so that the switch
// itself refuses an older owner that comes back (OFPRRFC_STALE,
// OFPBRC_IS_SECONDARY); an owner that learns it was demoted stops its
// bridge at once. See docs/fleet.md.
//
// Member is one member (Start, or Run, which rejoins after an expulsion);
// Client drives any bridge of the fleet from another process.
package fleet

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
)

// Kind is the cluster kind of a bridge.
const Kind = "ofactor-bridge"

// Defaults of Config's zero fields, tuned so that a member killed with
// kill -9 loses its bridges to the survivors in seconds: the etcd provider
// drops a member whose lease (3 s) is not kept alive, and gossip blocks one
// whose heartbeat is older than HeartbeatExpiration.
const (
	DefaultGossipInterval      = 300 * time.Millisecond
	DefaultHeartbeatExpiration = 6 * time.Second
	DefaultKeepInterval        = time.Second
	DefaultRequestTimeout      = 5 * time.Second
)

// Config configures one member of a fleet. Every member of a fleet runs
// the same Name, Etcd and Bridges; only Listen and Advertise differ.
type Config struct {
	// Name is the cluster's name: members with another name never mix.
	Name string
	// Etcd are the etcd endpoints (http://HOST:PORT), the membership
	// provider and the home of the ownership epochs.
	Etcd []string
	// Listen is the HOST:PORT the member's remote (gRPC) listens on.
	Listen string
	// Advertise is the HOST:PORT other members use to reach this one;
	// Listen when empty.
	Advertise string
	// Bridges are the fleet's bridges, the same on every member.
	Bridges []Bridge
	// GossipInterval and HeartbeatExpiration are protoactor's gossip
	// settings (defaults above: the library's heartbeat expiration, 20 s,
	// would keep a dead member's bridges unowned that long).
	GossipInterval      time.Duration
	HeartbeatExpiration time.Duration
	// KeepInterval is how often a member makes sure every bridge it owns
	// (by its view of the membership) is active; also on every topology
	// change.
	KeepInterval time.Duration
	// RequestTimeout bounds cluster requests.
	RequestTimeout time.Duration
	// Registerer receives the fleet's metrics (ofactor_bridge_owned,
	// ofactor_failovers_total); none when nil.
	Registerer prometheus.Registerer
	// Logger is the member's logger; nothing is logged when nil.
	Logger *zap.Logger
	// OnEvent, when set, is called with every event of every bridge
	// active on this member (the events of ofactor.Config.Subscribers),
	// from the bridge's activation: a daemon feeds its per-bridge metrics
	// with it. It must not block.
	OnEvent func(bridge string, event any)
}

// Bridge is one bridge of the fleet. Its desired state is the files' (read
// on every activation), or, with no file, the client's: Pushed bridges
// touch nothing on the switch after an activation until a client puts.
type Bridge struct {
	Name   string
	Target string // as ofactor.Config.Target; default from the name
	Files  desired.Files
	Geneve ofactor.GeneveOption
	Probe  time.Duration
	TLS    ofactor.TLSFiles
	// Versions, AuditInterval and NoFlowMonitor are ofactor.Config's.
	Versions      []uint8
	AuditInterval time.Duration
	NoFlowMonitor bool
}

// Pushed says whether the bridge's desired state comes from clients.
func (b Bridge) Pushed() bool { return len(b.Files.Paths()) == 0 }

func (c Config) withDefaults() Config {
	if c.Advertise == "" {
		c.Advertise = c.Listen
	}
	if c.GossipInterval <= 0 {
		c.GossipInterval = DefaultGossipInterval
	}
	if c.HeartbeatExpiration <= 0 {
		c.HeartbeatExpiration = DefaultHeartbeatExpiration
	}
	if c.KeepInterval <= 0 {
		c.KeepInterval = DefaultKeepInterval
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate checks what a member cannot run without.
func (c Config) Validate() error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("cluster: name is required"))
	}
	if len(c.Etcd) == 0 {
		errs = append(errs, errors.New("cluster: etcd: at least one endpoint is required"))
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("cluster: listen %q: %w", c.Listen, err))
	}
	if c.Advertise != "" {
		if _, _, err := splitHostPort(c.Advertise); err != nil {
			errs = append(errs, fmt.Errorf("cluster: advertise %q: %w", c.Advertise, err))
		}
	}
	seen := map[string]bool{}
	for i, b := range c.Bridges {
		switch {
		case b.Name == "":
			errs = append(errs, fmt.Errorf("bridges[%d]: name is required", i))
		case seen[b.Name]:
			errs = append(errs, fmt.Errorf("bridges[%d]: %s: duplicate name", i, b.Name))
		}
		seen[b.Name] = true
	}
	return errors.Join(errs...)
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q: want 1-65535", p)
	}
	return host, port, nil
}

// Topic is the pub-sub topic of a bridge's events.
func Topic(bridge string) string { return Kind + "/" + bridge }
