package desired

import (
	"fmt"
	"hash/maphash"
	"os"
	"sort"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Loader reads a bridge's files and remembers the last good flows file
// line by line, so that a reload parses only the lines not seen before and
// hands the reconciler only what changed (messages.UpdateFlows).
//
// A line is remembered by a 128-bit hash of its text, not the text, with
// its flow's key (whose string the reconciler's table shares), in a dense
// table indexed by int32 (lineIndex): remembering a file costs some 50 bytes
// a line (BenchmarkRemember). Two different lines with one hash (odds about 2^-100 for a 1M-line
// file) would make a changed line look unchanged.
type Loader struct {
	files  Files
	opts   Options
	seed   [2]maphash.Seed // of the line hashes
	lines  *lineIndex      // distinct lines, into ents; nil until a Load succeeds
	ents   []entry
	free   []int32 // unused ents
	order  []int32 // the file's lines in order, into ents
	geneve bool    // some line names the Geneve field or a port: read in full
	dups   bool    // two distinct lines have the same key
	gen    uint32  // marks the entries seen by a Reload

	lastDups []Duplicate // found by the last Load or Reload that succeeded
	lastWarn []ofctl.Warning
	where    *Index // of the last Load, with Options.Index
}

// Options configure a Loader.
type Options struct {
	// Remember keeps the flows file, line by line, so that a reload
	// parses only the lines not seen before and hands over only what
	// changed (the daemon). Without it (a one-shot run) nothing is kept
	// and every Reload reads everything.
	Remember bool
	// Strict makes a duplicate (Duplicate) an error: the files are not
	// taken.
	Strict bool
	// Index keeps, after each Load, where every object is (Loader.Index).
	Index bool
	// Version is the OpenFlow version the files are parsed for, as
	// ovs-ofctl -O parses them: what the version lacks is refused, and the
	// put is in its encoding (PutDesired.Version). 0 is OpenFlow 1.3. The
	// daemon parses for the highest version it offers, which is what the
	// switch usually takes; a connection in another version has the tables
	// re-encoded.
	Version uint8
}

func (o Options) version() uint8 {
	if o.Version == 0 {
		return openflow.Version13
	}
	return o.Version
}

// lineHash names a line's text (see Loader).
type lineHash [2]uint64

// entry is one distinct line of the flows file: the line's hash, its
// flow's key and a short hash of the key (owners scans a whole file's
// entries for a few keys: the hash spares hashing every key). A free entry
// has no key.
type entry struct {
	h   lineHash
	key string
	gen uint32
	kh  uint32
}

func (l *Loader) entryOf(h lineHash, key string, gen uint32) entry {
	return entry{h: h, key: key, gen: gen, kh: l.keyHash(key)}
}

// keyHash is an entry's short hash of its key.
func (l *Loader) keyHash(key string) uint32 { return uint32(maphash.String(l.seed[0], key)) }

// NewLoader returns a Loader of f's files.
func NewLoader(f Files, opts Options) *Loader {
	return &Loader{files: f, opts: opts, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// Files returns the files the Loader reads.
func (l *Loader) Files() Files { return l.files }

// Duplicates returns the duplicates the last Load or Reload that succeeded
// found (a Reload that reads only what changed finds those among the lines
// that changed). The later line won each.
func (l *Loader) Duplicates() []Duplicate { return l.lastDups }

// Warnings returns what the last Load or Reload that succeeded found that
// ovs-ofctl does without a word (a match field dropped for a missing
// prerequisite: `tcp_dst needs tcp`), each at file:line:column, up to 20;
// a Reload that reads only what changed finds those of the lines that
// changed.
func (l *Loader) Warnings() []ofctl.Warning { return l.lastWarn }

// Index returns where each object of the files was at the last Load; nil
// without Options.Index.
func (l *Loader) Index() *Index { return l.where }

func (l *Loader) hash(ln line) lineHash {
	t := ln.text()
	return lineHash{maphash.String(l.seed[0], t), maphash.String(l.seed[1], t)}
}

// Load reads every file, as the package's Load does, and remembers the
// flows file. On an error nothing is remembered anew.
func (l *Loader) Load() (*messages.PutDesired, error) { return l.LoadParts(nil) }

// LoadParts is Load that, when part is not nil, hands it the flows file in
// parts (PutDesired.More, the first with the groups and meters) as its
// lines are parsed, so that a bridge can start on them; the put returned
// is then the last part. Nothing more is handed over once a line fails to
// parse, and the error is returned: the parts already handed over are
// never completed, so the switch commits none of them.
func (l *Loader) LoadParts(part func(*messages.PutDesired)) (*messages.PutDesired, error) {
	r, err := load(l.files, part, l.opts)
	if err != nil {
		return nil, err
	}
	l.lines, l.order, l.geneve, l.dups = nil, nil, false, r.distinct
	l.lastDups, l.where, l.lastWarn = r.dups, nil, nil
	if r.ff != nil {
		l.lastWarn = lineWarnings(l.files.Flows, r.ff.lines, r.ff.res)
	}
	if l.opts.Index {
		l.where = r.where
	}
	if r.ff != nil && l.opts.Remember {
		l.keep(r.ff)
	}
	return r.put, nil
}

// keep remembers a flows file. A file with a line naming the Geneve field
// or a port is read in full on every change (those flows go as text, in
// the whole put), so nothing of it is kept.
func (l *Loader) keep(ff *flowFile) {
	for _, p := range ff.res {
		if p.text() {
			l.geneve = true
			return
		}
	}
	l.lines = newLineIndex(len(ff.lines))
	l.ents, l.free = make([]entry, 0, len(ff.lines)), nil
	l.order = make([]int32, len(ff.lines))
	for i, ln := range ff.lines {
		h := l.hash(ln)
		e, ok := l.lines.get(l.ents, h)
		if !ok {
			e = l.newEntry(l.entryOf(h, ff.res[i].flow.Key(), 0))
			l.lines.put(l.ents, e)
		}
		l.order[i] = e
	}
}

// newEntry stores e in a free slot of ents and returns its index.
func (l *Loader) newEntry(e entry) int32 {
	if n := len(l.free); n > 0 {
		i := l.free[n-1]
		l.free = l.free[:n-1]
		l.ents[i] = e
		return i
	}
	l.ents = append(l.ents, e)
	return int32(len(l.ents) - 1)
}

// Reloaded is what a Reload found: everything, read again as Load reads
// it (Put), or only the flows that changed (Update); neither when nothing
// changed.
type Reloaded struct {
	Put    *messages.PutDesired
	Update *messages.UpdateFlows
}

// Reload reads the files again. When only the flows file changed
// (onlyFlows) and no flow names the Geneve field, before or now, it finds
// the flows that changed (Update); otherwise it reads everything (Put). A
// file with two lines of the same key is also read in full: which of them
// wins depends on their order, which a delta of lines does not see. On an
// error the Loader keeps the last good file.
//
// The line hashes that make this cheap are the change detector the
// watch-mode bench row (1% of 100k lines changed) relies on: a reload
// parses only the lines not seen before.
func (l *Loader) Reload(onlyFlows bool) (Reloaded, error) {
	if !onlyFlows || l.geneve || l.dups || l.lines == nil || l.files.Flows == "" {
		put, err := l.Load()
		return Reloaded{Put: put}, err
	}
	name := l.files.Flows
	data, err := os.ReadFile(name)
	if err != nil {
		return Reloaded{}, fmt.Errorf("%s: %w", name, err)
	}
	lines := splitLines(fileText(data))
	l.gen++
	order := make([]int32, len(lines))
	var (
		todo   []line
		todoAt []int
		hashes []lineHash
	)
	var again []int32 // entries of lines seen twice: identical duplicates
	for i, ln := range lines {
		h := l.hash(ln)
		if e, ok := l.lines.get(l.ents, h); ok {
			if l.ents[e].gen == l.gen {
				again = append(again, e)
			}
			l.ents[e].gen = l.gen
			order[i] = e
		} else {
			todo, todoAt, hashes = append(todo, ln), append(todoAt, i), append(hashes, h)
		}
	}
	res := parseAll(todo, geneveCheckContext(l.opts.version()), nil)
	if err := lineErrors(name, todo, res); err != nil {
		return Reloaded{}, err
	}
	for _, p := range res {
		if p.text() {
			put, err := l.Load()
			return Reloaded{Put: put}, err
		}
	}
	upd, err := l.delta(lines, order, todoAt, hashes, res, again)
	if err != nil {
		return Reloaded{}, err
	}
	l.lastWarn = lineWarnings(name, todo, res)
	return Reloaded{Update: upd}, nil
}

// delta completes order with the new lines, works out for every key whose
// lines changed which line owns it (the last, as PutDesired keeps the
// later of duplicates) before and now, and makes the difference the
// Loader's state. Duplicates can only be among the keys whose lines
// changed and the lines seen twice (again): those are found, and under
// Options.Strict refused, leaving the Loader's state as it was.
func (l *Loader) delta(lines []line, order []int32, todoAt []int, hashes []lineHash, res []parsed,
	again []int32) (*messages.UpdateFlows, error) {
	affected := map[string]bool{}
	added := map[lineHash]int32{}
	flows := map[int32]flowkey.Flow{} // of the added entries
	for j, h := range hashes {
		e, ok := added[h]
		if !ok {
			e = l.newEntry(l.entryOf(h, res[j].flow.Key(), l.gen))
			added[h] = e
			flows[e] = res[j].flow
			affected[res[j].flow.Key()] = true
		} else {
			again = append(again, e)
		}
		order[todoAt[j]] = e
	}
	var removed []int32 // entries of lines gone
	for e := range l.ents {
		if en := &l.ents[e]; en.key != "" && en.gen != l.gen {
			removed = append(removed, int32(e))
			affected[en.key] = true
		}
	}
	// Only keys whose lines changed can have become duplicates.
	var (
		before, now map[string]int32
		dups        bool
		found       []Duplicate
	)
	if len(affected) > 0 {
		before, _ = l.owners(l.order, affected)
		now, dups = l.owners(order, affected)
	}
	if dups || len(again) > 0 {
		found = l.dupLines(lines, order, affected, again)
	}
	if l.opts.Strict && len(found) > 0 {
		for _, e := range added {
			l.ents[e] = entry{}
			l.free = append(l.free, e)
		}
		return nil, dupError(found)
	}
	l.lastDups = found
	if len(affected) == 0 {
		l.order = order
		return nil, nil
	}
	keys := make([]string, 0, len(affected))
	for k := range affected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	upd := &messages.UpdateFlows{Version: l.opts.version()}
	for _, k := range keys {
		b, bok := before[k]
		n, nok := now[k]
		switch {
		case bok == nok && b == n:
		case !nok:
			upd.RemoveCanonical = append(upd.RemoveCanonical, flowkey.FromStrings(k, ""))
		default:
			// An add replaces the flow a key had, if any. Without
			// duplicates before, a new owner is a line just parsed.
			if f, ok := flows[n]; ok {
				upd.AddCanonical = append(upd.AddCanonical, f)
			}
		}
	}
	for _, e := range removed {
		l.lines.del(l.ents, e)
		l.ents[e] = entry{}
		l.free = append(l.free, e)
	}
	for _, e := range added {
		l.lines.put(l.ents, e)
	}
	l.order, l.dups = order, dups
	if len(upd.AddCanonical) == 0 && len(upd.RemoveCanonical) == 0 {
		return nil, nil
	}
	return upd, nil
}

// dupLines returns the duplicates among the lines whose key is one of keys
// or an entry of again's, each naming the line it replaces.
func (l *Loader) dupLines(lines []line, order []int32, keys map[string]bool, again []int32) []Duplicate {
	want := make(map[string]bool, len(keys)+len(again))
	hashes := make(map[uint32]bool, len(keys)+len(again))
	for k := range keys {
		want[k] = true
	}
	for _, e := range again {
		want[l.ents[e].key] = true
	}
	for k := range want {
		hashes[l.keyHash(k)] = true
	}
	var out []Duplicate
	last := make(map[string]int, len(want))
	for i, e := range order {
		if !hashes[l.ents[e].kh] || !want[l.ents[e].key] {
			continue
		}
		k := l.ents[e].key
		if p, ok := last[k]; ok {
			out = append(out, Duplicate{Kind: "flow", File: l.files.Flows, Line: lines[i].n, Replaces: lines[p].n})
		}
		last[k] = i
	}
	return out
}

// owners returns, for each key of keys, the last entry of order with it,
// and whether another entry has one of those keys too.
func (l *Loader) owners(order []int32, keys map[string]bool) (map[string]int32, bool) {
	out := make(map[string]int32, len(keys))
	hashes := make(map[uint32]bool, len(keys))
	for k := range keys {
		hashes[l.keyHash(k)] = true
	}
	dups := false
	for _, e := range order {
		if !hashes[l.ents[e].kh] {
			continue
		}
		k := l.ents[e].key
		if keys[k] {
			if o, ok := out[k]; ok && o != e {
				dups = true
			}
			out[k] = e
		}
	}
	return out, dups
}
