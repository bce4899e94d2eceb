package desired

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Loader reads a bridge's files and remembers the last good flows file
// line by line, so that a reload parses only the lines not seen before and
// hands the reconciler only what changed (messages.UpdateFlows).
//
// It keeps each distinct line's text and key (table, priority, match), not
// its FlowMod: the reconciler holds the flows; a line that goes away is
// parsed again to name it in a Remove.
type Loader struct {
	files    Files
	remember bool              // whether to keep the flows file at all
	lines    map[string]*entry // by text; nil until a Load succeeds
	order    []*entry          // the file's lines in order
	geneve   bool              // some line names the Geneve field
	dups     bool              // two distinct lines have the same key
	gen      uint32            // marks the entries seen by a Reload
}

// entry is one distinct line of the flows file.
type entry struct {
	text, key string
	gen       uint32
}

// NewLoader returns a Loader of f's files. Without remember (a one-shot
// run) it keeps nothing and every Reload reads everything.
func NewLoader(f Files, remember bool) *Loader { return &Loader{files: f, remember: remember} }

// Load reads every file, as the package's Load does, and remembers the
// flows file. On an error nothing is remembered anew.
func (l *Loader) Load() (*messages.PutDesired, error) {
	put, ff, err := load(l.files, l.remember)
	if err != nil {
		return nil, err
	}
	l.lines, l.order, l.geneve, l.dups = nil, nil, false, false
	if ff != nil && l.remember {
		l.keep(ff)
	}
	return put, nil
}

func (l *Loader) keep(ff *flowFile) {
	l.lines = make(map[string]*entry, len(ff.lines))
	l.order = make([]*entry, len(ff.lines))
	for i, ln := range ff.lines {
		t := ln.text()
		e := l.lines[t]
		if e == nil {
			e = &entry{text: t, key: ff.res[i].key}
			l.lines[t] = e
		}
		l.order[i] = e
		l.geneve = l.geneve || ff.res[i].geneve
	}
	keys := make(map[string]struct{}, len(l.lines))
	for _, e := range l.lines {
		if _, dup := keys[e.key]; dup {
			l.dups = true
			break
		}
		keys[e.key] = struct{}{}
	}
}

// Reload reads the files again. When only the flows file changed
// (onlyFlows) and no flow names the Geneve field, before or now, it returns
// a *messages.UpdateFlows with the flows that changed, or nil when none
// did; otherwise a *messages.PutDesired of everything, as Load. A file with
// two lines of the same key is also read in full: which of them wins
// depends on their order, which a delta of lines does not see. On an error
// the Loader keeps the last good file.
func (l *Loader) Reload(onlyFlows bool) (any, error) {
	if !onlyFlows || l.geneve || l.dups || l.lines == nil || l.files.Flows == "" {
		return l.Load()
	}
	name := l.files.Flows
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lines := splitLines(string(data))
	l.gen++
	order := make([]*entry, len(lines))
	var todo []line
	var todoAt []int
	for i, ln := range lines {
		if e := l.lines[ln.text()]; e != nil {
			e.gen = l.gen
			order[i] = e
		} else {
			todo, todoAt = append(todo, ln), append(todoAt, i)
		}
	}
	res := parseAll(todo, geneveCheckContext, true)
	if err := lineErrors(name, todo, res); err != nil {
		return nil, err
	}
	for _, p := range res {
		if p.geneve {
			return l.Load()
		}
	}
	return l.delta(order, todo, todoAt, res)
}

// delta completes order with the new lines, works out for every key whose
// lines changed which line owns it (the first, as PutDesired keeps the
// first of duplicates) before and now, and makes the difference the
// Loader's state.
func (l *Loader) delta(order []*entry, todo []line, todoAt []int, res []parsed) (any, error) {
	affected := map[string]bool{}
	mods := map[*entry]*openflow.FlowMod{}
	added := map[string]*entry{}
	for j, ln := range todo {
		// A clone, so that the new file's text is not kept alive by a few
		// of its lines.
		t := strings.Clone(ln.text())
		e := added[t]
		if e == nil {
			e = &entry{text: t, key: res[j].key, gen: l.gen}
			added[t] = e
			mods[e] = res[j].mod
			affected[e.key] = true
		}
		order[todoAt[j]] = e
	}
	var removed []*entry
	for _, e := range l.lines {
		if e.gen != l.gen {
			removed = append(removed, e)
			affected[e.key] = true
		}
	}
	if len(affected) == 0 {
		l.order = order
		return nil, nil
	}
	// Only keys whose lines changed can have become duplicates.
	before, _ := owners(l.order, affected)
	now, dups := owners(order, affected)
	keys := make([]string, 0, len(affected))
	for k := range affected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	upd := &messages.UpdateFlows{}
	ctx := geneveCheckContext()
	for _, k := range keys {
		b, n := before[k], now[k]
		switch {
		case b == n:
		case n == nil:
			fm, err := reparse(b, mods, ctx)
			if err != nil {
				return nil, err
			}
			upd.Remove = append(upd.Remove, fm)
		default:
			// Add replaces the flow a key had, if any.
			fm, err := reparse(n, mods, ctx)
			if err != nil {
				return nil, err
			}
			upd.Add = append(upd.Add, fm)
		}
	}
	for _, e := range removed {
		delete(l.lines, e.text)
	}
	for t, e := range added {
		l.lines[t] = e
	}
	l.order, l.dups = order, dups
	if len(upd.Add) == 0 && len(upd.Remove) == 0 {
		return nil, nil
	}
	return upd, nil
}

// owners returns, for each key of keys, the first entry of order with it,
// and whether another entry has one of those keys too.
func owners(order []*entry, keys map[string]bool) (map[string]*entry, bool) {
	out := make(map[string]*entry, len(keys))
	dups := false
	for _, e := range order {
		if keys[e.key] {
			if o, ok := out[e.key]; !ok {
				out[e.key] = e
			} else if o != e {
				dups = true
			}
		}
	}
	return out, dups
}

// reparse returns an entry's FlowMod: the one just parsed, or the line
// parsed again (it parsed when it was read).
func reparse(e *entry, mods map[*entry]*openflow.FlowMod, ctx *ofctl.Context) (*openflow.FlowMod, error) {
	if fm := mods[e]; fm != nil {
		return fm, nil
	}
	fm, err := ofctl.ParseFlow(e.text, ctx)
	if err != nil {
		return nil, fmt.Errorf("flow %q no longer parses: %w", e.text, err)
	}
	return fm, nil
}
