package main

import (
	"context"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
)

// debounce is how long the files must be quiet before they are read again:
// an editor's save is a write or a rename (or a few of them in a row), all
// within a few milliseconds; a file read half-written fails to parse or
// is read again by the next event, and either way the last good state holds
// until it parses. A file that appears under its name (a rename over it,
// the way to replace a file whole) is complete at once: it waits only
// renameDebounce, for the rest of a burst; a write after it waits debounce
// again. A reload that would remove much of the switch's state waits
// longer (shrinkGuard).
const (
	debounce       = 50 * time.Millisecond
	renameDebounce = 5 * time.Millisecond
)

// reloadFiles asks the watch to read every file again (SIGHUP).
func (r *bridgeRunner) reloadFiles() {
	select {
	case r.hup <- struct{}{}:
	default:
	}
}

// stopWatch ends the watch, if it runs, and returns its exit status.
func (r *bridgeRunner) stopWatch() int {
	if r.cancel == nil {
		return 0
	}
	r.cancel()
	<-r.done
	return r.code
}

// watcher is the state of one bridge's watch between file events.
type watcher struct {
	quiet      <-chan time.Time // the debounce
	lastWait   time.Duration    // of quiet
	onlyFlows  bool             // only the flows file changed since the last reload
	lastChange time.Time        // of a watched file
	settle     *time.Timer      // a held-back reload waits for it
	held       bool             // a reload was held back: the loader is ahead of the bridge
	inPlace    bool             // a file was written in place since the last reload
}

// watch installs put (nil: nothing yet, the files did not parse), then
// every good version of the files, until ctx ends.
func (r *bridgeRunner) watch(ctx context.Context, put *messages.PutDesired) int {
	if put != nil {
		if _, err := r.put(put); err != nil {
			r.log.Error("initial desired state", zap.Error(err))
		}
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
	st := &watcher{onlyFlows: true}
	freed := false // the first version was installed
	defer func() {
		if st.settle != nil {
			st.settle.Stop()
		}
	}()
	for {
		var settled <-chan time.Time
		if st.settle != nil {
			settled = st.settle.C
		}
		select {
		case <-ctx.Done():
			return 0
		case <-r.hup:
			r.log.Info("SIGHUP: reading the files again")
			st.quiet = nil
			r.reload(st, false, false)
		case ev := <-w.Events:
			abs, _ := filepath.Abs(ev.Name)
			if !names[abs] {
				continue
			}
			wait := debounce
			if ev.Op == fsnotify.Create && (st.quiet == nil || st.lastWait == renameDebounce) {
				wait = renameDebounce
			}
			st.quiet, st.lastWait = time.After(wait), wait
			st.onlyFlows = st.onlyFlows && abs == flowsFile
			st.lastChange = time.Now()
			switch {
			case ev.Op.Has(fsnotify.Create):
				st.inPlace = false // replaced whole: what was written in place is gone
			case ev.Op.Has(fsnotify.Write):
				st.inPlace = true
			}
			if st.settle != nil {
				// Changed again: the quiet reload looks anew.
				st.settle.Stop()
				st.settle = nil
			}
		case err := <-w.Errors:
			r.log.Warn("file watch", zap.Error(err))
		case <-st.quiet:
			st.quiet = nil
			r.reload(st, st.onlyFlows, false)
			st.onlyFlows = true
		case <-settled:
			st.settle = nil
			r.reload(st, false, true)
		case <-r.events.notify:
			for _, ev := range r.events.take() {
				r.logEvent(ev)
				if _, ok := ev.(*messages.VersionInstalled); ok && !freed {
					// Give the parsed file and the garbage of parsing and
					// installing it back to the system, or a daemon that
					// runs for months keeps its peak.
					freed = true
					debug.FreeOSMemory()
				}
			}
		}
	}
}

// reload reads the files again; a bad file keeps the last good state. When
// only the flows file changed, the loader sends the flows that changed. A
// reload that would remove much of what the switch holds is held back
// until the files have been unchanged for the settle time, unless settled
// says they have.
func (r *bridgeRunner) reload(st *watcher, onlyFlows, settled bool) {
	// After a reload held back the loader remembers a file the bridge
	// does not have: read everything.
	got, err := r.loader.Reload(onlyFlows && !st.held)
	if err != nil {
		r.log.Error("files not applied; keeping the last good desired state", zap.Error(err))
		r.mb.FileError(err)
		return
	}
	r.warnDuplicates()
	if got.Put == nil && got.Update == nil {
		st.held = false
		r.log.Info("files loaded; no flow changed")
		return
	}
	if g := r.o.guard; g.settle > 0 {
		if status, err := r.status(5 * time.Second); err == nil {
			s := shrinkOf(status, got, len(r.loader.Duplicates()))
			// A file written in place may be read half written: what it
			// removes waits until it has settled, however little.
			if g.holds(s.removed, s.base, s.after) || st.inPlace && s.removed > 0 {
				fields := []zap.Field{zap.Strings("files", r.o.files.Paths()), zap.Int("removes", s.removed),
					zap.Int("of", s.base), zap.Int("leaves", s.after)}
				if !settled {
					wait := max(g.settle-time.Since(st.lastChange), time.Millisecond)
					if st.settle != nil {
						st.settle.Stop()
					}
					st.settle, st.held = time.NewTimer(wait), true
					r.log.Warn("reload would remove much of what the switch holds; waiting until the files are unchanged",
						append(fields, zap.Duration("settle", g.settle))...)
					return
				}
				r.log.Warn("applying a reload that removes much of what the switch holds: the files were unchanged",
					append(fields, zap.Duration("settle", g.settle))...)
			}
		}
	}
	st.held, st.inPlace = false, false
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
	}
}

// logEvent logs what the actors do not log themselves.
func (r *bridgeRunner) logEvent(ev any) {
	switch m := ev.(type) {
	case *messages.Progress:
		r.logProgress(m)
	case *messages.InSync:
		// The moment the switch holds the desired state again, and why
		// (install, restore, heal): what a heal is timed by.
		r.log.Info("in sync", zap.Uint64("version", m.Version), zap.String("cause", m.Cause))
	case *messages.OutOfSync:
		r.log.Info("out of sync", zap.String("reason", m.Reason))
	case *messages.Audited:
		r.log.Info("audited", zap.Bool("flows", m.Flows), zap.Int("differences", m.Differences))
	case *messages.RoundFinished:
		r.lastProgress = time.Time{}
		if m.Duration >= time.Second {
			r.log.Info("round finished", zap.Uint64("version", m.Version), zap.Duration("duration", m.Duration),
				zap.Int("flow_adds", m.FlowAdds), zap.Int("flow_modifies", m.FlowModifies),
				zap.Int("flow_deletes", m.FlowDeletes), zap.Int("refused", m.Refused))
		}
	}
}
