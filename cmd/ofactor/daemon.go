package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/actors/connection"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/httpapi"
	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/messages"
)

// daemon is one process: an actor system, one bridge subtree per
// configured bridge, and the HTTP endpoints. Bridges are isolated: each has
// its own subtree, desired state, event queue and goroutine, so a bridge
// whose switch is slow or gone never stalls another.
type daemon struct {
	o              *runOptions
	log            *zap.Logger
	level          zap.AtomicLevel
	sys            *actor.ActorSystem
	metrics        *metrics.Metrics
	http           *httpapi.Server
	httpAddr       string // what http listens on, as configured
	stdout, stderr io.Writer
	bridges        []*bridgeRunner // in the configuration's order

	exited chan *bridgeRunner // a watch that ended by itself
	quit   chan struct{}      // closed at shutdown
}

// newDaemon spawns the bridges; on an error the bridges spawned so far are
// stopped.
func newDaemon(o *runOptions, log *zap.Logger, level zap.AtomicLevel, stdout, stderr io.Writer) (*daemon, error) {
	d := &daemon{o: o, log: log, level: level, sys: newActorSystem(log), metrics: metrics.New(),
		stdout: stdout, stderr: stderr, exited: make(chan *bridgeRunner), quit: make(chan struct{})}
	for _, bo := range o.bridges {
		r, err := d.spawnBridge(bo)
		if err != nil {
			d.shutdown()
			return nil, err
		}
		d.bridges = append(d.bridges, r)
	}
	d.listen(o.metricsAddr)
	return d, nil
}

// listen serves the endpoints on addr ("" for none). A port already taken
// must not stop the flows from being installed: it is logged and ofactor
// runs without the endpoints.
func (d *daemon) listen(addr string) {
	if d.http != nil {
		d.http.Close()
		d.http = nil
	}
	d.httpAddr = addr
	if addr == "" {
		return
	}
	srv, err := httpapi.Listen(addr, d.metrics, d.log)
	if err != nil {
		d.log.Error("no /metrics, /status or /healthz", zap.Error(err))
		return
	}
	d.http = srv
}

func (d *daemon) spawnBridge(bo bridgeOptions) (*bridgeRunner, error) {
	r := &bridgeRunner{o: bo, log: d.log.With(zap.String("bridge", bo.name)), sys: d.sys,
		events: newEventQueue(), timeout: d.o.timeout, started: time.Now(),
		stdout: d.stdout, stderr: d.stderr, once: d.o.once, hup: make(chan struct{}, 1)}
	r.loader = desired.NewLoader(bo.files, desired.Options{Remember: !d.o.once, Strict: bo.strict, Version: bo.fileVersion()})
	target := bo.target
	if target == "" {
		target = connection.DefaultTarget(bo.name)
	}
	// /status may ask before the bridge is spawned: it is told so until
	// then (spawned orders the write of r.bridge before the reads).
	spawned := make(chan struct{})
	r.mb = d.metrics.AddBridge(bo.name, target, func(timeout time.Duration) (*messages.Status, error) {
		select {
		case <-spawned:
			return r.status(timeout)
		default:
			return nil, errors.New("the bridge is starting")
		}
	})
	r.sink = d.sys.Root.Spawn(eventSink(func(ev any) {
		r.mb.Observe(ev)
		r.events.push(ev)
	}))
	cfg := bo.ofactorConfig()
	cfg.Subscribers = []*actor.PID{r.sink}
	cfg.Logger = d.log
	b, err := ofactor.Spawn(d.sys.Root, cfg)
	if err != nil {
		d.sys.Root.StopFuture(r.sink).Wait()
		d.metrics.RemoveBridge(bo.name)
		return nil, err
	}
	r.bridge = b
	close(spawned)
	return r, nil
}

// eventSink returns the props of a subscriber that hands f every event a
// bridge publishes, but for what the switch sends on its own
// (Unsolicited: packet-ins, port status), which the command has no use
// for.
func eventSink(f func(ev any)) *actor.Props {
	return actor.PropsFromFunc(func(c actor.Context) {
		switch c.Message().(type) {
		case *actor.Started, *actor.Stopping, *actor.Stopped, *actor.Restarting, *messages.Unsolicited:
			return
		}
		f(c.Message())
	})
}

// stopBridge stops a bridge whose watch has ended: its subtree (a round
// not committed yet is discarded), its event sink and its metrics.
func (d *daemon) stopBridge(r *bridgeRunner) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.bridge.Stop(ctx); err != nil {
		r.log.Info("bridge stopped", zap.Error(err))
	}
	d.sys.Root.StopFuture(r.sink).Wait()
	d.metrics.RemoveBridge(r.o.name)
}

func (d *daemon) shutdown() {
	select {
	case <-d.quit:
		return
	default:
		close(d.quit)
	}
	if d.http != nil {
		d.http.Close()
	}
	for _, r := range d.bridges {
		r.stopWatch()
		d.stopBridge(r)
	}
	d.sys.Shutdown()
}

// once installs every bridge's desired state, each as soon as its files
// are read (one bridge's files after the other's), and returns the worst
// exit status: 0 all held, 1 something refused or unreadable, 2 a bridge
// unreachable or timed out. A bridge whose files do not parse sends
// nothing.
func (d *daemon) once(ctx context.Context) int {
	var bar *progressBar
	if f, ok := d.stderr.(*os.File); ok && len(d.bridges) == 1 && isTerminal(f) {
		bar = &progressBar{w: d.stderr}
	}
	codes := make([]int, len(d.bridges))
	var wg sync.WaitGroup
	for i, r := range d.bridges {
		put, err := r.load()
		if err != nil {
			fmt.Fprintf(d.stderr, "ofactor: bridge %s: %v\n", r.o.name, err)
			codes[i] = 1
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = r.runOnce(ctx, put, bar)
		}()
	}
	wg.Wait()
	worst := 0
	for _, c := range codes {
		worst = max(worst, c)
	}
	return worst
}

// watch keeps every bridge equal to its files until ctx ends or every
// bridge's watch has ended by itself; each value of hup reloads the
// configuration (or, without --config, the files). Each bridge's watch
// starts as soon as its files are read. Files that do not parse at the
// start end the command (exit 1) when they are its only bridge's;
// with --config that bridge starts with nothing desired, as a bridge a
// SIGHUP adds does, and the others run on.
func (d *daemon) watch(ctx context.Context, hup <-chan os.Signal) int {
	for _, r := range d.bridges {
		put, err := r.load()
		if err != nil {
			if d.o.config == "" {
				fmt.Fprintf(d.stderr, "ofactor: bridge %s: %v\n", r.o.name, err)
				return 1
			}
			r.log.Error("files not applied; nothing is desired until they parse", zap.Error(err))
			r.mb.FileError(err)
			put = nil
		}
		// The bridge keeps the flows as canonical bytes: the parsed file
		// goes once it has it.
		d.startWatch(ctx, r, put)
	}
	worst := 0
	for {
		select {
		case <-ctx.Done():
			for _, r := range d.bridges {
				worst = max(worst, r.stopWatch())
			}
			return worst
		case <-hup:
			d.reload(ctx)
		case r := <-d.exited:
			i := d.index(r)
			if i < 0 {
				continue // stopped by a reload
			}
			worst = max(worst, r.code)
			d.stopBridge(r)
			d.bridges = append(d.bridges[:i:i], d.bridges[i+1:]...)
			if len(d.bridges) == 0 {
				return worst
			}
		}
	}
}

func (d *daemon) index(r *bridgeRunner) int {
	for i, b := range d.bridges {
		if b == r {
			return i
		}
	}
	return -1
}

// startWatch runs r's watch in its own goroutine until stopWatch.
func (d *daemon) startWatch(ctx context.Context, r *bridgeRunner, put *messages.PutDesired) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.done = make(chan struct{})
	go func() {
		r.code = r.watch(ctx, put)
		close(r.done)
		select {
		case d.exited <- r:
		case <-d.quit:
		}
	}()
}

// eventQueue hands a bridge's events from its subscriber actor to the
// bridge's goroutine without ever blocking the actor: it is unbounded,
// except that a Progress event replaces an unread one.
type eventQueue struct {
	mu     sync.Mutex
	q      []any
	notify chan struct{}
}

func newEventQueue() *eventQueue { return &eventQueue{notify: make(chan struct{}, 1)} }

func (e *eventQueue) push(ev any) {
	e.mu.Lock()
	if _, ok := ev.(*messages.Progress); ok && len(e.q) > 0 {
		if _, last := e.q[len(e.q)-1].(*messages.Progress); last {
			e.q[len(e.q)-1] = ev
			e.mu.Unlock()
			return
		}
	}
	e.q = append(e.q, ev)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
}

// take returns the queued events, oldest first.
func (e *eventQueue) take() []any {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.q
	e.q = nil
	return q
}

// status asks the bridge's reconciler for its status.
func (r *bridgeRunner) status(timeout time.Duration) (*messages.Status, error) {
	res, err := r.sys.Root.RequestFuture(r.bridge.PID, &messages.GetStatus{}, timeout).Result()
	if err != nil {
		return nil, err
	}
	st, _ := res.(*messages.Status)
	if st == nil {
		return nil, fmt.Errorf("status: got %T", res)
	}
	return st, nil
}
