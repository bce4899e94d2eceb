package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
)

// daemon is one bridge driven from files.
type daemon struct {
	o      *runOptions
	log    *zap.Logger
	sys    *actor.ActorSystem
	bridge *ofactor.Bridge
	events chan any
}

func newDaemon(o *runOptions, log *zap.Logger) *daemon {
	d := &daemon{o: o, log: log, sys: newActorSystem(log), events: make(chan any, 1024)}
	// The events actor hands the bridge's events to this goroutine. It
	// never blocks the actor: past 1024 unread events, progress events are
	// dropped (the next VersionInstalled supersedes them).
	sink := d.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *messages.VersionInstalled, *messages.Rejected, *messages.Connected,
			*messages.Disconnected, *messages.GeneveFieldAssigned:
			select {
			case d.events <- m:
			default:
			}
		}
	}))
	b, err := ofactor.Spawn(d.sys.Root, ofactor.Config{
		Bridge:      o.bridge,
		Target:      o.target,
		Geneve:      o.geneve,
		Probe:       o.probe,
		TLS:         o.tls,
		Subscribers: []*actor.PID{sink},
		Logger:      log,
	})
	if err != nil {
		// Spawn fails only when the name is taken, and this system is new.
		panic(err)
	}
	d.bridge = b
	return d
}

func (d *daemon) shutdown() {
	d.sys.Root.PoisonFuture(d.bridge.PID).Wait()
	d.sys.Shutdown()
}

// put hands a desired state to the bridge and returns its version.
func (d *daemon) put(put *messages.PutDesired) (uint64, error) {
	res, err := d.sys.Root.RequestFuture(d.bridge.PID, put, time.Minute).Result()
	if err != nil {
		return 0, fmt.Errorf("bridge did not take the desired state: %w", err)
	}
	acc := res.(*messages.DesiredAccepted)
	for _, e := range acc.Errors {
		d.log.Warn("left out of the desired state", zap.String("error", e))
	}
	return acc.Version, nil
}

// once installs put and waits for the switch to hold it.
func (d *daemon) once(ctx context.Context, put *messages.PutDesired, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, d.o.timeout)
	defer cancel()
	version, err := d.put(put)
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 1
	}
	rejected := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "ofactor: the switch does not hold version %d after %v: %v\n", version, d.o.timeout, ctx.Err())
			return 2
		case ev := <-d.events:
			switch m := ev.(type) {
			case *messages.Rejected:
				rejected[m.Text] = m.Error
			case *messages.VersionInstalled:
				if m.Version < version {
					continue
				}
				if m.Rejected == 0 {
					return 0
				}
				for text, e := range rejected {
					fmt.Fprintf(stderr, "ofactor: switch refused %s: %s\n", e, text)
				}
				fmt.Fprintf(stderr, "ofactor: %d objects refused; everything else installed\n", m.Rejected)
				return 1
			}
		}
	}
}

// watch installs put, then every good version of the files, until ctx ends.
func (d *daemon) watch(ctx context.Context, put *messages.PutDesired) int {
	if _, err := d.put(put); err != nil {
		d.log.Error("initial desired state", zap.Error(err))
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		d.log.Error("cannot watch files", zap.Error(err))
		return 1
	}
	defer w.Close()
	// Watch directories, not files: editors replace a file by renaming a
	// new one over it, which a watch on the old inode would miss.
	names := map[string]bool{}
	for _, p := range d.o.files.Paths() {
		abs, _ := filepath.Abs(p)
		names[abs] = true
		if err := w.Add(filepath.Dir(abs)); err != nil {
			d.log.Error("cannot watch", zap.String("dir", filepath.Dir(abs)), zap.Error(err))
			return 1
		}
	}
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return 0
		case ev := <-w.Events:
			if abs, _ := filepath.Abs(ev.Name); names[abs] {
				debounce = time.After(150 * time.Millisecond)
			}
		case err := <-w.Errors:
			d.log.Warn("file watch", zap.Error(err))
		case <-debounce:
			debounce = nil
			d.reload()
		case ev := <-d.events:
			d.logEvent(ev)
		}
	}
}

// reload reads the files again; a bad file keeps the last good state.
func (d *daemon) reload() {
	put, err := desired.Load(d.o.files)
	if err != nil {
		d.log.Error("files not applied; keeping the last good desired state", zap.Error(err))
		return
	}
	if v, err := d.put(put); err != nil {
		d.log.Error("reload", zap.Error(err))
	} else {
		d.log.Info("files loaded", zap.Uint64("version", v), zap.Int("flows", len(put.Flows)+len(put.GeneveFlows)),
			zap.Int("groups", len(put.Groups)), zap.Int("meters", len(put.Meters)))
	}
}

func (d *daemon) logEvent(ev any) {
	if m, ok := ev.(*messages.Rejected); ok {
		d.log.Warn("switch refused "+m.Kind, zap.String("error", m.Error), zap.String(m.Kind, m.Text))
	}
}
