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
type keyspace struct {
	desired   map[string]string
	installed map[string]string
	dirty     map[string]struct{}
	rejected  map[string]rejection
	sum       uint64 // of keyHash over the desired keys: see replaceSame

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
		desired:   map[string]string{},
		installed: map[string]string{},
		dirty:     map[string]struct{}{},
		rejected:  map[string]rejection{},
	}
}

// put sets the desired value of key.
func (s *keyspace) put(key, val string) {
	old, ok := s.desired[key]
	if ok && old == val {
		return
	}
	if !ok {
		s.sum += keyHash(key)
	}
	s.digestOK = false
	s.desired[key] = val
	s.dirty[key] = struct{}{}
	delete(s.rejected, key)
}

// remove makes key undesired.
func (s *keyspace) remove(key string) {
	if _, ok := s.desired[key]; !ok {
		return
	}
	s.sum -= keyHash(key)
	s.digestOK = false
	delete(s.desired, key)
	s.dirty[key] = struct{}{}
	delete(s.rejected, key)
}

// replace makes m the whole desired table. It looks each key of m up once
// and walks the desired table only when some desired key is missing from m
// (something was removed); the values of unchanged keys keep their old
// strings, so that desired and installed keep sharing them.
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
	s.installed = m
	s.dirty = map[string]struct{}{}
	s.rejected = map[string]rejection{}
	for k, v := range m {
		if d, ok := s.desired[k]; !ok || d != v {
			s.dirty[k] = struct{}{}
		} else {
			s.installed[k] = d // share the desired bytes
		}
	}
	for k := range s.desired {
		if _, ok := m[k]; !ok {
			s.dirty[k] = struct{}{}
		}
	}
}

// canonicalize puts an installed table read as raw bytes (a dump) in
// canonical form: every installed flow equal to its desired one already is
// (and now shares the desired strings); the others are normalized by norm,
// on every core. The dirty set is made anew from the whole tables.
func (s *keyspace) canonicalize(norm func(k, v string) (string, string, bool)) {
	inst := make(map[string]string, len(s.installed))
	s.dirty = map[string]struct{}{}
	for k, d := range s.desired {
		if v, ok := s.installed[k]; ok && v == d {
			inst[k] = d
		} else {
			s.dirty[k] = struct{}{}
		}
	}
	if len(inst) < len(s.installed) {
		type kv struct{ k, v string }
		var odd []kv
		for k, v := range s.installed {
			if _, ok := inst[k]; !ok {
				odd = append(odd, kv{k, v})
			}
		}
		parallel(len(odd), func(i int) {
			if k, v, ok := norm(odd[i].k, odd[i].v); ok {
				odd[i] = kv{k, v}
			}
		})
		for _, e := range odd {
			if d, ok := s.desired[e.k]; ok && d == e.v {
				e.v = d
				delete(s.dirty, e.k)
			} else {
				s.dirty[e.k] = struct{}{}
			}
			inst[e.k] = e.v
		}
	}
	s.installed = inst
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
	for k := range s.dirty {
		d, hasD := s.desired[k]
		i, hasI := s.installed[k]
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
	if val == "" {
		delete(s.installed, key)
	} else {
		if d, ok := s.desired[key]; ok && d == val {
			val = d // share the desired bytes
		}
		s.installed[key] = val
	}
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
	if len(s.dirty) != 0 {
		// plan has not looked at these yet
		for k := range s.dirty {
			d, hasD := s.desired[k]
			i, hasI := s.installed[k]
			if hasD != hasI || d != i {
				if !(hasD && s.rejected[k].val == d && s.rejected[k].err != "" && !hasI) {
					return false
				}
			}
		}
	}
	return true
}
