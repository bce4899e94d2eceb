package ofactortest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Switch is an in-memory OpenFlow switch with one bridge: the flow tables,
// group table, meter table and Geneve TLV map of an Open vSwitch bridge,
// and the connections controllers make to its management socket. Every
// method is safe for concurrent use.
type Switch struct {
	cfg config

	mu    sync.Mutex
	st    *state
	conns map[*conn]bool
	ls    []net.Listener
	wg    sync.WaitGroup // accept loops and connections
	recv  Counts
	// unmodelled counts the messages answered with an error only
	// because the switch does not model them.
	unmodelled Counts
	fault      faults
	// epoch counts restarts: a connection made before one is closed and
	// must not touch the new state.
	epoch   uint64
	closed  bool
	done    chan struct{} // closed by Close
	janitor bool          // the bundle expiry goroutine runs
}

// config is what Options set.
type config struct {
	bridge     string
	datapathID uint64
	hwAddr     net.HardwareAddr
	versions   []uint8
	now        func() time.Time
	bundleIdle time.Duration
}

// Option configures a Switch made by New.
type Option func(*config)

// WithBridge names the bridge (default "br-int"): the name of its LOCAL
// port in a port description, and of the socket Start makes.
func WithBridge(name string) Option { return func(c *config) { c.bridge = name } }

// WithDatapathID sets the datapath id the features reply carries. By
// default it is the LOCAL port's Ethernet address, as OVS picks it.
func WithDatapathID(id uint64) Option { return func(c *config) { c.datapathID = id } }

// WithVersions sets the OpenFlow versions the switch accepts in HELLO.
// Only OpenFlow 1.3 is modelled today, which is also the default; the
// others are refused until they are (the dispatch is by version, so they
// slot in).
func WithVersions(v ...uint8) Option {
	return func(c *config) { c.versions = append([]uint8(nil), v...) }
}

// WithClock makes the switch read the time from now: flow durations and
// the bundle idle timeout follow it. Tests that want to step time give a
// fake clock.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithBundleIdleTimeout sets how long a bundle may stay idle before the
// switch discards it with OFPBFC_TIMEOUT (OVS's other_config
// bundle-idle-timeout, 10 s by default). The timeout is checked whenever
// the switch handles a message, against the switch's clock.
func WithBundleIdleTimeout(d time.Duration) Option { return func(c *config) { c.bundleIdle = d } }

// New makes a switch with an empty bridge (only OVS's hidden table 254
// rules). It listens nowhere until ListenUnix or Listen; ServeConn serves
// a connection made by other means (net.Pipe).
func New(opts ...Option) *Switch {
	c := config{
		bridge:     "br-int",
		hwAddr:     net.HardwareAddr{0x02, 0x0f, 0xac, 0x70, 0x00, 0x01},
		versions:   []uint8{openflow.Version13},
		now:        time.Now,
		bundleIdle: 10 * time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	if c.datapathID == 0 {
		for _, b := range c.hwAddr {
			c.datapathID = c.datapathID<<8 | uint64(b)
		}
	}
	s := &Switch{cfg: c, conns: map[*conn]bool{}, recv: Counts{}, unmodelled: Counts{}, done: make(chan struct{})}
	s.st = newState(c.now())
	return s
}

// ListenUnix listens on a unix socket at path, as ovs-vswitchd listens on
// <bridge>.mgmt; an old socket file there is removed first.
func (s *Switch) ListenUnix(path string) error {
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("ofactortest: %w", err)
	}
	return s.Listen(l)
}

// Listen serves every connection l accepts until Close.
func (s *Switch) Listen(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		l.Close()
		return errors.New("ofactortest: switch closed")
	}
	s.ls = append(s.ls, l)
	s.wg.Add(1)
	go s.accept(l)
	return nil
}

// Target is where a controller connects: "unix:PATH" of the first
// listener (or "tcp:HOST:PORT" for a TCP one), "" when not listening.
func (s *Switch) Target() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ls) == 0 {
		return ""
	}
	a := s.ls[0].Addr()
	if a.Network() == "unix" {
		return "unix:" + a.String()
	}
	return a.Network() + ":" + a.String()
}

func (s *Switch) accept(l net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		if err := s.ServeConn(nc); err != nil {
			nc.Close()
		}
	}
}

// ServeConn serves one connection, e.g. one end of net.Pipe, until it
// closes or the switch does. It returns at once; the connection is served
// by goroutines of its own.
func (s *Switch) ServeConn(nc net.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("ofactortest: switch closed")
	}
	c := newConn(s, nc, s.epoch)
	s.conns[c] = true
	s.wg.Add(1)
	go c.serve()
	return nil
}

// Close stops listening, closes every connection and waits for their
// goroutines. The switch's tables stay readable.
func (s *Switch) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	for _, l := range s.ls {
		l.Close()
	}
	s.fault.release()
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Restart drops everything, as kill -9 and a restart of ovs-vswitchd
// would: every connection is closed, the flow, group and meter tables and
// the TLV map are emptied (table 254's hidden rules come back), stalls are
// released and pending cuts forgotten. Listeners stay: controllers
// reconnect to the same target. Refusals stay too (they are the test's,
// not the switch's).
func (s *Switch) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	s.st = newState(s.cfg.now())
	s.fault.release()
	s.fault.cutAfter = 0
	for c := range s.conns {
		c.close()
	}
}

// Disconnect closes every controller connection, as a network that drops
// them or a restart of the controllers would; the tables stay. What the
// switch had queued for them is lost.
func (s *Switch) Disconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.close()
	}
}

// RecreateBridge is `ovs-vsctl del-br` then `add-br` of the bridge: the
// connections to its management socket close and it comes back empty.
// For a controller it is the same as Restart.
func (s *Switch) RecreateBridge() { s.Restart() }

// SetBundleIdleTimeout changes the bundle idle timeout (see
// WithBundleIdleTimeout), as setting other_config:bundle-idle-timeout
// does on a running OVS.
func (s *Switch) SetBundleIdleTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.bundleIdle = d
}

// Connections is the number of controller connections open now.
func (s *Switch) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// janitorTick is how often idle bundles are looked for (OVS: every second).
const janitorTick = 100 * time.Millisecond

// startJanitor starts the goroutine that expires idle bundles, unless it
// runs; it ends when no connection has a bundle. Call with s.mu held.
func (s *Switch) startJanitor() {
	if s.janitor || s.closed {
		return
	}
	s.janitor = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(janitorTick)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-s.done:
				return
			}
			s.mu.Lock()
			now, open := s.cfg.now(), false
			for c := range s.conns {
				if c.epoch == s.epoch {
					c.queue(c.expireBundles(now)...)
					open = open || len(c.bundles) > 0
				}
			}
			if !open {
				s.janitor = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
		}
	}()
}

// dropConn forgets a connection that has ended.
func (s *Switch) dropConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}
