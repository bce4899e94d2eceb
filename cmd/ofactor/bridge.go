package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/messages"
)

// bridgeRunner drives one bridge from its files.
type bridgeRunner struct {
	o       bridgeOptions
	log     *zap.Logger
	sys     *actor.ActorSystem
	bridge  *ofactor.Bridge
	mb      *metrics.Bridge
	events  *eventQueue
	timeout time.Duration

	lastProgress time.Time
}

// put hands a desired state (a *messages.PutDesired or a
// *messages.UpdateFlows) to the bridge and returns its version.
func (r *bridgeRunner) put(put any) (uint64, error) {
	res, err := r.sys.Root.RequestFuture(r.bridge.PID, put, time.Minute).Result()
	if err != nil {
		return 0, fmt.Errorf("bridge did not take the desired state: %w", err)
	}
	acc := res.(*messages.DesiredAccepted)
	for _, e := range acc.Errors {
		r.log.Warn("left out of the desired state", zap.String("error", e))
	}
	return acc.Version, nil
}

// loadParts reads the files, handing the bridge the flows in parts as they
// are parsed (PutDesired.More, without waiting: the last part, sent with
// put, comes after them and is answered with every part's errors). If a
// file fails once parts went out, the put in parts is aborted: the bridge
// keeps the desired state it had.
func (r *bridgeRunner) loadParts(l *desired.Loader) (*messages.PutDesired, error) {
	sent := false
	last, err := l.LoadParts(func(p *messages.PutDesired) {
		sent = true
		r.sys.Root.RequestFuture(r.bridge.PID, p, time.Minute)
	})
	if err != nil && sent {
		r.sys.Root.Send(r.bridge.PID, &messages.AbortPut{})
	}
	return last, err
}

// once installs put and waits for the switch to hold it: 0 when it does
// with nothing refused, 1 when it holds the rest and something was refused,
// 2 on timeout. bar, when not nil, shows the progress.
func (r *bridgeRunner) once(ctx context.Context, put *messages.PutDesired, stderr io.Writer, bar *progressBar) int {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	version, err := r.put(put)
	if err != nil {
		fmt.Fprintf(stderr, "ofactor: bridge %s: %v\n", r.o.name, err)
		return 1
	}
	defer bar.clear()
	rejected := map[string]string{}
	for {
		select {
		case <-ctx.Done():
			bar.clear()
			fmt.Fprintf(stderr, "ofactor: bridge %s: the switch does not hold version %d after %v: %v\n",
				r.o.name, version, r.timeout, ctx.Err())
			return 2
		case <-r.events.notify:
		}
		for _, ev := range r.events.take() {
			switch m := ev.(type) {
			case *messages.Rejected:
				rejected[m.Text] = m.Error
			case *messages.Progress:
				if bar != nil {
					bar.draw(m)
				} else {
					r.logProgress(m)
				}
			case *messages.VersionInstalled:
				if m.Version < version {
					continue
				}
				bar.clear()
				if m.Rejected == 0 {
					return 0
				}
				for text, e := range rejected {
					fmt.Fprintf(stderr, "ofactor: bridge %s: switch refused %s: %s\n", r.o.name, e, text)
				}
				fmt.Fprintf(stderr, "ofactor: bridge %s: %d objects refused; everything else installed\n",
					r.o.name, m.Rejected)
				return 1
			}
		}
	}
}

// logProgress logs a long round's progress, at most once a second.
func (r *bridgeRunner) logProgress(m *messages.Progress) {
	now := time.Now()
	if now.Sub(r.lastProgress) < time.Second {
		return
	}
	r.lastProgress = now
	r.log.Info("installing", zap.Uint64("version", m.Version), zap.Int("sent", m.Sent),
		zap.Int("confirmed", m.Confirmed), zap.Int("total", m.Total))
}

// debounce is how long the files must be quiet before they are read again:
// an editor's save is a write or a rename (or a few of them in a row), all
// within a few milliseconds; a file read half-written fails to parse or
// is read again by the next event, and either way the last good state holds
// until it parses. A file that appears under its name (a rename over it,
// the way to replace a file whole) is complete at once: it waits only
// renameDebounce, for the rest of a burst; a write after it waits debounce
// again.
const (
	debounce       = 50 * time.Millisecond
	renameDebounce = 5 * time.Millisecond
)

// watch installs put, then every good version of the files, until ctx ends.
// loader read put and remembers the flows file, so that a reload sends only
// what changed.
func (r *bridgeRunner) watch(ctx context.Context, put *messages.PutDesired, loader *desired.Loader) int {
	if _, err := r.put(put); err != nil {
		r.log.Error("initial desired state", zap.Error(err))
	}
	put = nil // the bridge holds the flows as canonical bytes now
	w, err := fsnotify.NewWatcher()
	if err != nil {
		r.log.Error("cannot watch files", zap.Error(err))
		return 1
	}
	defer w.Close()
	// Watch directories, not files: editors replace a file by renaming a
	// new one over it, which a watch on the old inode would miss.
	names := map[string]bool{}
	for _, p := range r.o.files.Paths() {
		abs, _ := filepath.Abs(p)
		names[abs] = true
		if err := w.Add(filepath.Dir(abs)); err != nil {
			r.log.Error("cannot watch", zap.String("dir", filepath.Dir(abs)), zap.Error(err))
			return 1
		}
	}
	flowsFile, _ := filepath.Abs(r.o.files.Flows)
	var (
		quiet     <-chan time.Time
		lastWait  time.Duration // of quiet
		onlyFlows = true        // only the flows file changed since the last reload
		settled   = false       // the first version was installed
	)
	for {
		select {
		case <-ctx.Done():
			return 0
		case ev := <-w.Events:
			if abs, _ := filepath.Abs(ev.Name); names[abs] {
				wait := debounce
				if ev.Op == fsnotify.Create && (quiet == nil || lastWait == renameDebounce) {
					wait = renameDebounce
				}
				quiet, lastWait = time.After(wait), wait
				onlyFlows = onlyFlows && abs == flowsFile
			}
		case err := <-w.Errors:
			r.log.Warn("file watch", zap.Error(err))
		case <-quiet:
			quiet = nil
			r.reload(loader, onlyFlows)
			onlyFlows = true
		case <-r.events.notify:
			for _, ev := range r.events.take() {
				r.logEvent(ev)
				if _, ok := ev.(*messages.VersionInstalled); ok && !settled {
					// Give the parsed file and the garbage of parsing and
					// installing it back to the system, or a daemon that
					// runs for months keeps its peak.
					settled = true
					debug.FreeOSMemory()
				}
			}
		}
	}
}

// reload reads the files again; a bad file keeps the last good state. When
// only the flows file changed, the loader sends the flows that changed.
func (r *bridgeRunner) reload(loader *desired.Loader, onlyFlows bool) {
	got, err := loader.Reload(onlyFlows)
	if err != nil {
		r.log.Error("files not applied; keeping the last good desired state", zap.Error(err))
		return
	}
	switch m := got; {
	case m.Put != nil:
		v, err := r.put(m.Put)
		if err != nil {
			r.log.Error("reload", zap.Error(err))
			return
		}
		defer debug.FreeOSMemory() // as after the first load
		r.log.Info("files loaded", zap.Uint64("version", v), zap.Int("flows", len(m.Put.Flows)+len(m.Put.Canonical)+len(m.Put.GeneveFlows)),
			zap.Int("groups", len(m.Put.Groups)), zap.Int("meters", len(m.Put.Meters)))
	case m.Update != nil:
		v, err := r.put(m.Update)
		if err != nil {
			r.log.Error("reload", zap.Error(err))
			return
		}
		r.log.Info("flows file loaded", zap.Uint64("version", v), zap.Int("flows_added", len(m.Update.AddCanonical)),
			zap.Int("flows_removed", len(m.Update.RemoveCanonical)))
	default:
		r.log.Info("files loaded; no flow changed")
	}
}

// logEvent logs what the actors do not log themselves.
func (r *bridgeRunner) logEvent(ev any) {
	switch m := ev.(type) {
	case *messages.Progress:
		r.logProgress(m)
	case *messages.RoundFinished:
		r.lastProgress = time.Time{}
		if m.Duration >= time.Second {
			r.log.Info("round finished", zap.Uint64("version", m.Version), zap.Duration("duration", m.Duration),
				zap.Int("flow_adds", m.FlowAdds), zap.Int("flow_modifies", m.FlowModifies),
				zap.Int("flow_deletes", m.FlowDeletes), zap.Int("refused", m.Refused))
		}
	}
}

// progressBar draws one bridge's install progress on a terminal, the way
// curl or apt do: one line, redrawn in place.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	drawn bool
}

const barWidth = 30

func (p *progressBar) draw(m *messages.Progress) {
	if p == nil || m.Total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	done := m.Confirmed * barWidth / m.Total
	sent := m.Sent*barWidth/m.Total - done
	bar := strings.Repeat("=", done) + strings.Repeat("-", max(sent, 0))
	fmt.Fprintf(p.w, "\r[%-*s] %d/%d sent, %d confirmed (version %d)\x1b[K",
		barWidth, bar, m.Sent, m.Total, m.Confirmed, m.Version)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// isTerminal reports whether f is a character device (a terminal), which
// is all the progress bar needs to know.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
