package reconciler

import (
	"runtime"
	"slices"
	"strings"
	"sync"
)

// keyspace is one kind of switch object (flows, groups or meters): the
// desired and the installed table, the keys whose two sides may differ, and
// the objects the switch refused.
//
// Every change to either side marks its key dirty, so working out what to
// send costs O(changes), not O(table): a one-flow change in a million-flow
// table looks at one key.
//
// The installed table is kept as its differences from the desired one
// (instDiff): a key missing there is installed as desired, or not installed
// if it is not desired; "" there means not installed. A switch in sync
// costs no installed table at all, where a second map of a million flows
// would cost some 75 bytes a flow.
type keyspace struct {
	desired    map[string]string
	instDiff   map[string]string
	nInstalled int // keys installed
	diffPeak   int // the largest instDiff since it was made: see trim
	dirty      map[string]struct{}
	allDirty   bool // every key of instDiff is dirty too (setInstalled)
	rejected   map[string]rejection
	sum        uint64 // of keyHash over the desired keys: see replaceSame

	digest   digest // of the last full put, while digestOK: see replaceSame
	digestOK bool
}

// rejection remembers that the switch refused val for a key, so that the
// same value is not sent again until the desired state changes.
type rejection struct {
	val string
	err string
}

func newKeyspace() *keyspace {
	return &keyspace{
		desired:  map[string]string{},
		instDiff: map[string]string{},
		dirty:    map[string]struct{}{},
		rejected: map[string]rejection{},
	}
}

// installedOf returns what the switch holds for key.
func (s *keyspace) installedOf(key string) (string, bool) {
	if v, ok := s.instDiff[key]; ok {
		return v, v != ""
	}
	d, ok := s.desired[key]
	return d, ok
}

// installedLen is how many keys the switch holds.
func (s *keyspace) installedLen() int { return s.nInstalled }

// noteInstalled records inst (hasI) as what the switch holds for key,
// relative to the key's desired value as it now is.
func (s *keyspace) noteInstalled(key, inst string, hasI bool) {
	d, hasD := s.desired[key]
	switch {
	case hasI && hasD && inst == d, !hasI && !hasD:
		delete(s.instDiff, key)
		return
	case hasI:
		s.instDiff[key] = inst
	default:
		s.instDiff[key] = ""
	}
	s.diffPeak = max(s.diffPeak, len(s.instDiff))
}

// trim makes the installed differences anew once they have shrunk well
// below their peak (a Go map keeps the room it once grew to): after a
// million-flow round settles they are nearly empty.
func (s *keyspace) trim() {
	if s.diffPeak > 4096 && len(s.instDiff) < s.diffPeak/16 {
		next := make(map[string]string, len(s.instDiff))
		for k, v := range s.instDiff {
			next[k] = v
		}
		s.instDiff, s.diffPeak = next, len(next)
	}
}

// put sets the desired value of key.
func (s *keyspace) put(key, val string) {
	old, ok := s.desired[key]
	if ok && old == val {
		return
	}
	inst, hasI := s.installedOf(key)
	if !ok {
		s.sum += keyHash(key)
	}
	s.digestOK = false
	s.desired[key] = val
	s.noteInstalled(key, inst, hasI)
	s.dirty[key] = struct{}{}
	delete(s.rejected, key)
}

// putStreamed sets the desired value of key for a streamed round that
// sends it unless the switch holds it already (parts.go): the key is not
// left dirty, since either the switch holds val or the round's item for
// it settles it. It returns what the switch holds.
func (s *keyspace) putStreamed(key, val string) (string, bool) {
	d, ok := s.desired[key]
	inst, hasI := d, ok // installedOf, with one lookup fewer
	if v, differs := s.instDiff[key]; differs {
		inst, hasI = v, v != ""
	}
	if !ok {
		s.sum += keyHash(key)
	}
	if !ok || d != val {
		s.digestOK = false
		s.desired[key] = val
		delete(s.rejected, key)
	}
	switch {
	case hasI && inst == val:
		delete(s.instDiff, key)
	case hasI:
		s.instDiff[key] = inst
	default:
		s.instDiff[key] = ""
	}
	s.diffPeak = max(s.diffPeak, len(s.instDiff))
	if len(s.dirty) != 0 {
		delete(s.dirty, key)
	}
	return inst, hasI
}

// remove makes key undesired.
func (s *keyspace) remove(key string) {
	if _, ok := s.desired[key]; !ok {
		return
	}
	inst, hasI := s.installedOf(key)
	s.sum -= keyHash(key)
	s.digestOK = false
	delete(s.desired, key)
	s.noteInstalled(key, inst, hasI)
	s.dirty[key] = struct{}{}
	delete(s.rejected, key)
}

// replace makes m the whole desired table. It looks each key of m up once
// and walks the desired table only when some desired key is missing from m
// (something was removed); the values of unchanged keys keep their old
// strings.
func (s *keyspace) replace(m map[string]string) {
	before, kept := len(s.desired), 0
	for k, v := range m {
		if old, ok := s.desired[k]; ok {
			kept++
			if old == v {
				continue
			}
		}
		s.put(k, v)
	}
	if kept == before {
		return // every old key is still desired
	}
	for k := range s.desired {
		if _, ok := m[k]; !ok {
			s.remove(k)
		}
	}
}

// setInstalled makes m what the switch holds (a dump after a connect) and
// marks every key whose two sides differ. Forgotten rejections are retried:
// the switch may have changed.
func (s *keyspace) setInstalled(m map[string]string) {
	s.instDiff, s.diffPeak, s.nInstalled = map[string]string{}, 0, len(m)
	s.dirty = map[string]struct{}{}
	s.rejected = map[string]rejection{}
	if len(s.desired) == 0 {
		// Nothing desired yet (a bridge that reads the switch while its
		// first desired state is still being made): every installed key
		// differs, and the dump is the differences as it is.
		s.instDiff, s.diffPeak, s.allDirty = m, len(m), len(m) != 0
		return
	}
	for k, v := range m {
		if d, ok := s.desired[k]; !ok || d != v {
			s.instDiff[k] = v
			s.dirty[k] = struct{}{}
		}
	}
	for k := range s.desired {
		if _, ok := m[k]; !ok {
			s.instDiff[k] = ""
			s.dirty[k] = struct{}{}
		}
	}
	s.diffPeak = len(s.instDiff)
}

// canonicalize puts an installed table read as raw bytes (a dump) in
// canonical form: an installed flow equal to its desired one already is;
// the others (those installed that differ from the desired table) are
// normalized by norm, on every core, and those whose bytes change move to
// their canonical key.
func (s *keyspace) canonicalize(norm func(k, v string) (string, string, bool)) {
	type kv struct{ k, v, nk, nv string }
	var odd []kv
	for k, v := range s.instDiff {
		if v != "" {
			odd = append(odd, kv{k: k, v: v})
		}
	}
	parallel(len(odd), func(i int) {
		if k, v, ok := norm(odd[i].k, odd[i].v); ok {
			odd[i].nk, odd[i].nv = k, v
		}
	})
	for _, e := range odd {
		if e.nk == "" || e.nk == e.k && e.nv == e.v {
			continue
		}
		s.installedAs(e.k, "")
		s.installedAs(e.nk, e.nv)
	}
}

// parallel calls f(0) ... f(n-1) on every core.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), 1+n/1024)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// change is one object to send: Val is the desired value ("" for a delete),
// Old the installed one ("" when not installed).
type change struct {
	Key, Val, Old string
}

// plan takes the dirty keys and returns what to send: additions (not
// installed), modifications and deletions, each sorted by key so that a
// round is reproducible. Keys whose desired value the switch already refused
// are left out. The dirty set is emptied: the caller reports back with
// installedAs / rejectedAs / abort.
func (s *keyspace) plan() (adds, mods, dels []change) {
	adds, mods, dels = s.planUnsorted()
	sortChanges(adds)
	sortChanges(mods)
	sortChanges(dels)
	return adds, mods, dels
}

// planUnsorted is plan without the sorting, for a caller that drops most
// of the changes first.
func (s *keyspace) planUnsorted() (adds, mods, dels []change) {
	if s.allDirty {
		s.allDirty = false
		for k := range s.instDiff {
			s.dirty[k] = struct{}{}
		}
	}
	for k := range s.dirty {
		d, hasD := s.desired[k]
		i, hasI := s.installedOf(k)
		switch {
		case hasD && hasI && d == i:
		case hasD && s.rejected[k].val == d && s.rejected[k].err != "":
		case hasD && !hasI:
			adds = append(adds, change{Key: k, Val: d})
		case hasD:
			mods = append(mods, change{Key: k, Val: d, Old: i})
		case hasI:
			dels = append(dels, change{Key: k, Old: i})
		}
	}
	s.clearDirty()
	return adds, mods, dels
}

// sortChanges sorts changes by key, so that a round is reproducible.
func sortChanges(cs []change) {
	slices.SortFunc(cs, func(a, b change) int { return strings.Compare(a.Key, b.Key) })
}

// clearDirty empties the dirty set. Clearing a Go map costs its capacity,
// not its length: after a large round the set is made anew, so that a
// one-flow change later does not pay for a million-key clear.
func (s *keyspace) clearDirty() {
	if len(s.dirty) > 1024 {
		s.dirty = map[string]struct{}{}
		return
	}
	clear(s.dirty)
}

// installedAs records that the switch now holds val for key ("" = nothing).
func (s *keyspace) installedAs(key, val string) {
	if _, had := s.installedOf(key); had != (val != "") {
		if had {
			s.nInstalled--
		} else {
			s.nInstalled++
		}
	}
	s.noteInstalled(key, val, val != "")
	if d, ok := s.desired[key]; ok != (val != "") || d != val {
		s.dirty[key] = struct{}{} // desired moved on meanwhile
	}
}

// rejectedAs records that the switch refused val for key.
func (s *keyspace) rejectedAs(key, val, err string) {
	s.rejected[key] = rejection{val: val, err: err}
	if d := s.desired[key]; d != val {
		s.dirty[key] = struct{}{}
	}
}

// retry marks the keys of an unfinished round dirty again.
func (s *keyspace) retry(cs []change) {
	for _, c := range cs {
		s.dirty[c.Key] = struct{}{}
	}
}

// synced reports whether every desired object is installed as desired,
// apart from rejected ones, and nothing undesired is installed.
func (s *keyspace) synced() bool {
	if s.allDirty {
		for k := range s.instDiff {
			s.dirty[k] = struct{}{}
		}
		s.allDirty = false
	}
	if len(s.dirty) != 0 {
		// plan has not looked at these yet
		for k := range s.dirty {
			d, hasD := s.desired[k]
			i, hasI := s.installedOf(k)
			if hasD != hasI || d != i {
				if !(hasD && s.rejected[k].val == d && s.rejected[k].err != "" && !hasI) {
					return false
				}
			}
		}
	}
	return true
}
