package main

import (
	"context"
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
	o       *runOptions
	log     *zap.Logger
	sys     *actor.ActorSystem
	metrics *metrics.Metrics
	http    *httpapi.Server
	bridges []*bridgeRunner
}

// newDaemon spawns the bridges; on an error (TLS files that do not load)
// the bridges spawned so far are stopped.
func newDaemon(o *runOptions, log *zap.Logger) (*daemon, error) {
	d := &daemon{o: o, log: log, sys: newActorSystem(log), metrics: metrics.New()}
	for _, bo := range o.bridges {
		r, err := d.spawnBridge(bo)
		if err != nil {
			d.shutdown()
			return nil, fmt.Errorf("bridge %s: %w", bo.name, err)
		}
		d.bridges = append(d.bridges, r)
	}
	if o.metricsAddr != "" {
		// A port already taken must not stop the flows from being
		// installed: log it and run without the endpoints.
		srv, err := httpapi.Listen(o.metricsAddr, d.metrics, log)
		if err != nil {
			log.Error("no /metrics, /status or /healthz", zap.Error(err))
		} else {
			d.http = srv
		}
	}
	return d, nil
}

func (d *daemon) spawnBridge(bo bridgeOptions) (*bridgeRunner, error) {
	r := &bridgeRunner{o: bo, log: d.log.With(zap.String("bridge", bo.name)), sys: d.sys,
		events: newEventQueue(), timeout: d.o.timeout}
	target := bo.target
	if target == "" {
		target = connection.DefaultTarget(bo.name)
	}
	r.mb = d.metrics.AddBridge(bo.name, target, r.status)
	sink := d.sys.Root.Spawn(ofactor.EventFunc(func(ev any) {
		r.mb.Observe(ev)
		r.events.push(ev)
	}))
	b, err := ofactor.Spawn(d.sys.Root, ofactor.Config{
		Bridge:      bo.name,
		Target:      bo.target,
		Geneve:      bo.geneve,
		Probe:       bo.probe,
		TLS:         bo.tls,
		Subscribers: []*actor.PID{sink},
		Logger:      d.log,
	})
	if err != nil {
		return nil, err
	}
	r.bridge = b
	return r, nil
}

func (d *daemon) shutdown() {
	if d.http != nil {
		d.http.Close()
	}
	for _, r := range d.bridges {
		d.sys.Root.PoisonFuture(r.bridge.PID).Wait()
	}
	d.sys.Shutdown()
}

// once installs every bridge's desired state at the same time and returns
// the worst exit status: 0 all held, 1 something refused or unreadable, 2 a
// bridge timed out.
func (d *daemon) once(ctx context.Context, puts []*messages.PutDesired, stderr io.Writer) int {
	var bar *progressBar
	if f, ok := stderr.(*os.File); ok && len(d.bridges) == 1 && isTerminal(f) {
		bar = &progressBar{w: stderr}
	}
	return d.eachBridge(func(i int, r *bridgeRunner) int { return r.once(ctx, puts[i], stderr, bar) })
}

// watch keeps every bridge equal to its files until ctx ends; loaders
// read puts.
func (d *daemon) watch(ctx context.Context, puts []*messages.PutDesired, loaders []*desired.Loader) int {
	return d.eachBridge(func(i int, r *bridgeRunner) int {
		// The bridge keeps the flows as canonical bytes: drop the parsed
		// file once it has it.
		put := puts[i]
		puts[i] = nil
		return r.watch(ctx, put, loaders[i])
	})
}

// eachBridge runs f for every bridge at the same time and returns the worst
// exit status.
func (d *daemon) eachBridge(f func(i int, r *bridgeRunner) int) int {
	codes := make([]int, len(d.bridges))
	var wg sync.WaitGroup
	for i, r := range d.bridges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = f(i, r)
		}()
	}
	wg.Wait()
	worst := 0
	for _, c := range codes {
		worst = max(worst, c)
	}
	return worst
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
	return st, nil
}
