package reconciler

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ofactor/ofactor/internal/parallel"
)

// keyspace is one kind of switch object (flows, groups or meters): the
// desired and the installed table, the keys whose two sides may differ, and
// the objects the switch refused.
//
// Every change to either side marks its key dirty, so working out what to
// send costs O(changes), not O(table): a one-flow change in a million-flow
// table looks at one key. (The dirty set is the change detector every
// bench row leans on: BenchmarkDiff1Change, the watch-mode row.)
//
// The installed table is kept as its differences from the desired one
// (instDiff): a key missing there is installed as desired, or not installed
// if it is not desired. A switch in sync costs no installed table at all,
// where a second map of a million flows would cost some 75 bytes a flow.
type keyspace struct {
	desired    *table
	instDiff   map[string]held
	nInstalled int // keys installed
	diffPeak   int // the largest instDiff since it was made: see trim
	dirty      map[string]struct{}
	allDirty   bool // every key of instDiff is dirty too (setInstalled)
	rejected   map[string]rejection
	heldBack   map[string]struct{} // keys not planned for now (a conflict with another controller)
	// keepTimed: undesired installed flows with a timeout are left alone:
	// they expire by themselves, and the switch makes such flows itself
	// (learn actions). Only the flow keyspace has it.
	keepTimed bool
	sum       uint64 // of keyHash over the desired keys: see replaceSame

	digest   digest // of the last full put, while digestOK: see replaceSame
	digestOK bool
}

// held is what the switch holds for a key whose installed side differs
// from its desired one.
type held struct {
	val   string
	state heldState
}

type heldState uint8

const (
	heldNothing heldState = iota // not installed
	heldValue                    // installed as val
	// heldUnknown: installed, contents unknown (the switch said it exists:
	// GROUP_EXISTS); it never equals a desired value, so the next round
	// modifies it.
	heldUnknown
)

// nothing is held{} spelt out.
var nothing = held{state: heldNothing}

func holding(val string) held { return held{val: val, state: heldValue} }

// has reports whether the switch holds something for the key.
func (h held) has() bool { return h.state != heldNothing }

// is reports whether the switch holds exactly val.
func (h held) is(val string) bool { return h.state == heldValue && h.val == val }

// rejection remembers that the switch refused val for a key, so that the
// same value is not sent again until the desired state changes.
type rejection struct {
	val     string
	err     string
	version uint64 // of the round that sent it
	// retry: planned again (an audit, or a group or meter it may need
	// changed); still counted as refused until the switch says otherwise.
	retry bool
	// expired: not refused: a flow whose timeout ran out on the switch,
	// not put back until it is desired anew.
	expired bool
}

func newKeyspace() *keyspace {
	return &keyspace{
		desired:  newTable(0),
		instDiff: map[string]held{},
		dirty:    map[string]struct{}{},
		rejected: map[string]rejection{},
	}
}

// installedOf returns what the switch holds for key.
func (s *keyspace) installedOf(key string) held {
	if h, ok := s.instDiff[key]; ok {
		return h
	}
	if d, ok := s.desired.Get(key); ok {
		return holding(d)
	}
	return nothing
}

// installedLen is how many keys the switch holds.
func (s *keyspace) installedLen() int { return s.nInstalled }

// isDesired says whether key is desired.
func (s *keyspace) isDesired(key string) bool {
	return s.desired.Has(key)
}

// noteInstalled records h as what the switch holds for key, relative to
// the key's desired value as it now is.
func (s *keyspace) noteInstalled(key string, h held) {
	d, hasD := s.desired.Get(key)
	if hasD && h.is(d) || !hasD && !h.has() {
		delete(s.instDiff, key)
		return
	}
	s.instDiff[key] = h
	s.diffPeak = max(s.diffPeak, len(s.instDiff))
}

// presize makes an empty desired table room for about n keys, and, when
// the switch holds nothing either (a first install), the installed
// differences too: each desired key will be one until it is installed.
// Growing them key by key costs a million-flow put some 2.5 s of hashing
// on rehashes.
func (s *keyspace) presize(n int) {
	n = min(n, 1<<26) // a hint is no licence to allocate without bound
	if s.desired.Len() == 0 {
		s.desired = newTable(n)
	}
	if s.nInstalled == 0 && len(s.instDiff) == 0 {
		s.instDiff = make(map[string]held, n)
	}
}

// trim makes the installed differences anew once they have shrunk well
// below their peak (a Go map keeps the room it once grew to): after a
// million-flow round settles, or once a restart's put has matched a
// million-flow dump with nothing to send, they are nearly empty.
func (s *keyspace) trim() {
	s.desired.Compact()
	if s.diffPeak > 4096 && len(s.instDiff) < s.diffPeak/16 {
		next := make(map[string]held, len(s.instDiff))
		for k, v := range s.instDiff {
			next[k] = v
		}
		s.instDiff, s.diffPeak = next, len(next)
	}
}

// put sets the desired value of key.
func (s *keyspace) put(key, val string) {
	if s.putClean(key, val) {
		s.dirty[key] = struct{}{}
	}
}

// putClean sets the desired value of key without marking it dirty, for a
// caller that sends the change itself (a streamed round). It reports
// whether the desired value changed.
func (s *keyspace) putClean(key, val string) bool {
	_, changed := s.putCleanHeld(key, val)
	return changed
}

// lookup is what the switch holds for key (h), whether instDiff has it
// (inDiff: else h is the desired value, or nothing), and the key's desired
// value (val, desired): each table looked up once.
func (s *keyspace) lookup(key string) (h held, inDiff bool, val string, desired bool) {
	val, desired = s.desired.Get(key)
	h, inDiff = s.instDiff[key]
	switch {
	case inDiff:
	case desired:
		h = holding(val)
	default:
		h = nothing
	}
	return h, inDiff, val, desired
}

// putCleanHeld is putClean that also returns what the switch holds for
// key. It looks each table up once (a million-flow put does this a
// million times: every lookup is a cache miss).
func (s *keyspace) putCleanHeld(key, val string) (held, bool) {
	h, inDiff, old, ok := s.lookup(key)
	if ok && old == val {
		return h, false
	}
	if !ok {
		s.sum += keyHash(key)
	}
	s.digestOK = false
	s.desired.Set(key, val)
	s.noteDiff(key, h, inDiff, h.is(val))
	if len(s.rejected) > 0 {
		delete(s.rejected, key)
	}
	return h, true
}

// noteDiff records h as what the switch holds for key, which instDiff
// holds already (inDiff) or not, given whether that is the key's desired
// side (same, counting "not installed" as the same as "not desired").
func (s *keyspace) noteDiff(key string, h held, inDiff, same bool) {
	switch {
	case same && inDiff:
		delete(s.instDiff, key)
	case !same:
		s.instDiff[key] = h
		s.diffPeak = max(s.diffPeak, len(s.instDiff))
	}
}

// remove makes key undesired.
func (s *keyspace) remove(key string) {
	if _, ok := s.desired.Get(key); !ok {
		return
	}
	h := s.installedOf(key)
	s.sum -= keyHash(key)
	s.digestOK = false
	s.desired.Delete(key)
	s.noteInstalled(key, h)
	s.dirty[key] = struct{}{}
	delete(s.rejected, key)
}

// replace makes m the whole desired table. It looks each key of m up once
// and walks the desired table only when some desired key is missing from m
// (something was removed); the values of unchanged keys keep their old
// strings.
func (s *keyspace) replace(m map[string]string) {
	before, kept := s.desired.Len(), 0
	for k, v := range m {
		if old, ok := s.desired.Get(k); ok {
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
	for k := range s.desired.Keys() {
		if _, ok := m[k]; !ok {
			s.remove(k)
		}
	}
}

// setInstalled makes m what the switch holds (a dump after a connect) and
// marks every key whose two sides differ. Forgotten rejections are retried:
// the switch may have changed.
func (s *keyspace) setInstalled(m map[string]string) {
	s.instDiff, s.diffPeak, s.nInstalled = make(map[string]held, len(m)/64), 0, len(m)
	s.dirty = map[string]struct{}{}
	s.rejected = map[string]rejection{}
	s.allDirty = false
	if s.desired.Len() == 0 {
		// Nothing desired yet (a bridge that reads the switch while its
		// first desired state is still being made): every installed key
		// differs. They are marked dirty all at once (allDirty), when a
		// plan first looks.
		s.instDiff = make(map[string]held, len(m))
		for k, v := range m {
			s.instDiff[k] = holding(v)
		}
		s.diffPeak, s.allDirty = len(m), len(m) != 0
		return
	}
	for k, v := range m {
		if d, ok := s.desired.Get(k); !ok || d != v {
			s.instDiff[k] = holding(v)
			s.dirty[k] = struct{}{}
		}
	}
	for k := range s.desired.Keys() {
		if _, ok := m[k]; !ok {
			s.instDiff[k] = nothing
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
	for k, h := range s.instDiff {
		if h.state == heldValue {
			odd = append(odd, kv{k: k, v: h.val})
		}
	}
	parallel.For(len(odd), func(i int) {
		if k, v, ok := norm(odd[i].k, odd[i].v); ok {
			odd[i].nk, odd[i].nv = k, v
		}
	})
	for _, e := range odd {
		if e.nk == "" || e.nk == e.k && e.nv == e.v {
			continue
		}
		s.installedAs(e.k, nothing)
		s.installedAs(e.nk, holding(e.nv))
	}
}

// change is one object to send: Val is the desired value ("" for a
// delete), Old what the switch holds.
type change struct {
	Key, Val string
	Old      held
}

// plan takes the dirty keys and returns what to send: additions (not
// installed), modifications and deletions (unless !deletes: those keys
// stay dirty), each sorted by key so that a round is reproducible. Keys
// whose desired value the switch already refused are left out. The keys
// planned leave the dirty set: the caller reports back with installedAs /
// rejectedAs / retry.
func (s *keyspace) plan(deletes bool) (adds, mods, dels []change) {
	adds, mods, dels = s.planUnsorted(deletes)
	sortChanges(adds)
	sortChanges(mods)
	sortChanges(dels)
	return adds, mods, dels
}

// planUnsorted is plan without the sorting. Without deletes, the keys to
// delete are left in the dirty set where they are: a streamed round that
// starts on a switch holding a million flows not yet desired (a restart)
// looks them up once and moves none of them.
func (s *keyspace) planUnsorted(deletes bool) (adds, mods, dels []change) {
	s.markAllDirty()
	before, kept := len(s.dirty), 0
	for k := range s.dirty {
		if _, hb := s.heldBack[k]; hb {
			kept++
			continue
		}
		d, hasD := s.desired.Get(k)
		h := s.installedOf(k)
		switch {
		case hasD && h.is(d):
		case hasD && s.refused(k, d) && !s.rejected[k].retry:
		case hasD && !h.has():
			adds = append(adds, change{Key: k, Val: d, Old: h})
		case hasD:
			mods = append(mods, change{Key: k, Val: d, Old: h})
		case h.has() && !s.keepsUndesired(k):
			if !deletes {
				kept++
				continue
			}
			dels = append(dels, change{Key: k, Old: h})
		}
		delete(s.dirty, k)
	}
	if kept == 0 {
		s.clearDirty(before)
	}
	return adds, mods, dels
}

// keepsUndesired reports whether key is an undesired installed flow with a
// timeout, which is left alone (see keepTimed).
func (s *keyspace) keepsUndesired(key string) bool {
	if !s.keepTimed {
		return false
	}
	if _, desired := s.desired.Get(key); desired {
		return false
	}
	h := s.installedOf(key)
	return h.state == heldValue && len(h.val) >= 12 && (h.val[8] != 0 || h.val[9] != 0 || h.val[10] != 0 || h.val[11] != 0)
}

// expiredAs records that the desired flow val of key expired on the
// switch: not put back until it is desired anew.
func (s *keyspace) expiredAs(key, val string) {
	s.rejected[key] = rejection{val: val, err: "expired", expired: true}
}

// hold keeps key out of plans until release.
func (s *keyspace) hold(key string) {
	if s.heldBack == nil {
		s.heldBack = map[string]struct{}{}
	}
	s.heldBack[key] = struct{}{}
}

// release lets key be planned again.
func (s *keyspace) release(key string) {
	delete(s.heldBack, key)
	s.dirty[key] = struct{}{}
}

// markAllDirty makes the dirty set hold what allDirty stands for.
func (s *keyspace) markAllDirty() {
	if s.allDirty {
		s.allDirty = false
		for k := range s.instDiff {
			s.dirty[k] = struct{}{}
		}
	}
}

// refused reports whether the switch refused val for key.
func (s *keyspace) refused(key, val string) bool {
	r, ok := s.rejected[key]
	return ok && r.val == val
}

// sortChanges sorts changes by key, so that a round is reproducible.
func sortChanges(cs []change) {
	slices.SortFunc(cs, func(a, b change) int { return strings.Compare(a.Key, b.Key) })
}

// clearDirty makes the emptied dirty set anew once it held more than a
// few keys (peak): a Go map keeps the room it grew to, and clearing or
// ranging over it costs that room, so that after a large round a
// one-flow change would pay for a million-key map.
func (s *keyspace) clearDirty(peak int) {
	if peak > 1024 {
		s.dirty = map[string]struct{}{}
	}
}

// installedAs records that the switch now holds h for key.
func (s *keyspace) installedAs(key string, h held) {
	if len(s.rejected) > 0 {
		if r, ok := s.rejected[key]; ok && h.is(r.val) {
			delete(s.rejected, key) // taken after all
		}
	}
	prev, inDiff, d, hasD := s.lookup(key)
	if had := prev.has(); had != h.has() {
		if had {
			s.nInstalled--
		} else {
			s.nInstalled++
		}
	}
	same := hasD && h.is(d) || !hasD && !h.has()
	s.noteDiff(key, h, inDiff, same)
	if !same {
		s.dirty[key] = struct{}{} // desired moved on meanwhile
	}
}

// rejectedAs records that the switch refused val for key, sent by the
// round of version.
func (s *keyspace) rejectedAs(key, val, err string, version uint64) {
	s.rejected[key] = rejection{val: val, err: err, version: version}
	if d := s.desired.Val(key); d != val {
		s.dirty[key] = struct{}{}
	}
}

// retry marks the keys of an unfinished round dirty again.
func (s *keyspace) retry(cs []change) {
	for _, c := range cs {
		s.dirty[c.Key] = struct{}{}
	}
}

// inSync reports whether the switch holds every desired object as desired,
// apart from refused ones, and nothing undesired. It changes nothing.
func (s *keyspace) inSync() bool {
	for k, h := range s.instDiff {
		d, hasD := s.desired.Get(k)
		if !(hasD && !h.has() && s.refused(k, d)) && !s.keepsUndesired(k) {
			return false
		}
	}
	return true
}

// check verifies the keyspace's invariants, for tests: every difference
// between the two sides is dirty, refused or carried by the round in flight
// (inRound), so that a plan sees it; the installed count is the number of
// keys held; instDiff holds no key whose two sides agree.
func (s *keyspace) check(inRound func(key string) bool) error {
	n := 0
	for k, h := range s.instDiff {
		d, hasD := s.desired.Get(k)
		if hasD && h.is(d) || !hasD && !h.has() {
			return fmt.Errorf("instDiff holds %q with both sides equal", k)
		}
		if h.has() {
			n++
		}
		_, dirty := s.dirty[k]
		if !dirty && !s.allDirty && !(hasD && s.refused(k, d)) && !inRound(k) && !s.keepsUndesired(k) {
			return fmt.Errorf("%q differs from its desired side and is not dirty", k)
		}
	}
	for k := range s.desired.Keys() {
		if _, differs := s.instDiff[k]; !differs {
			n++
		}
	}
	if n != s.nInstalled {
		return fmt.Errorf("installed count %d, %d keys held", s.nInstalled, n)
	}
	return nil
}
