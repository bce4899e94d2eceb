package reconciler

import (
	"slices"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// A put in parts (PutDesired.More) is streamed: once the switch's tables
// are known and no round is in flight, a round opens on the parts that have
// arrived and sends, in its bundle, every flow of them that the switch does
// not hold as desired; each later part adds its own. Each flow it looks at
// becomes desired there and then, settled by the switch or by its item, so
// that the work of taking a large table is done while it arrives. The round
// stays open, never committing, until the last part makes the put whole:
// then the State takes the put (a new version; it finds the streamed flows
// in place, and removes what the put no longer has), the plan of what
// still differs, less what the bundle already carries, seals the round,
// and the commit follows the last window as in any round. The switch thus works
// through the first parts while the last ones are still being parsed, and
// the version still lands in one atomic bundle.
//
// The first part's groups and meters open the round (meters before the
// bundle, groups first in it), so the flows that use them come after them.
type streamed struct {
	seen  int                 // flows of the partial put looked at
	items [3]map[string]int32 // by kind and key: the item sent, or -1 if none was needed
}

// streamWindow is the window of a streamed round, whose size is not known
// in advance.
const streamWindow = 4096

// newStreamRound opens a round on the parts of st.partial so far.
func newStreamRound(ofVersion uint8, st *State) *round {
	r := &round{ofVersion: ofVersion, open: true, windowSize: streamWindow,
		bundleID: lastBundleID.Add(1), stream: &streamed{}}
	for k := range r.stream.items {
		r.stream.items[k] = map[string]int32{}
	}
	p := st.partial
	r.tableItems(kindMeter, p.meters, st.meters, openflow.MeterAdd, openflow.MeterModify, false)
	r.nPre = len(r.all)
	r.tableItems(kindGroup, p.groups, st.groups, openflow.GroupAdd, openflow.GroupModify, true)
	r.nBundle = len(r.all) - r.nPre
	r.extend(st)
	return r
}

// tableItems adds, in key order, an item for every entry of want that the
// switch does not hold as it is.
func (r *round) tableItems(k kind, want map[string]string, ks *keyspace, add, mod uint16, bundled bool) {
	keys := make([]string, 0, len(want))
	for key := range want {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := want[key]
		old, ok := ks.installedOf(key)
		cmd := add
		if ok {
			if old == v {
				r.stream.items[k][key] = -1
				continue
			}
			cmd = mod
		}
		r.stream.items[k][key] = int32(len(r.all))
		r.all = append(r.all, &item{kind: k, cmd: cmd, bundled: bundled, c: change{Key: key, Val: v, Old: old}})
	}
}

// extend adds an item for each flow of the parts not looked at yet that the
// switch does not hold as it is (the first of two with one key counts, as
// in a put). It returns how many it added.
func (r *round) extend(st *State) int {
	p, seen, n := st.partial, r.stream.items[kindFlow], len(r.all)
	for ; r.stream.seen < len(p.keys); r.stream.seen++ {
		i := r.stream.seen
		if p.errs[i] != nil {
			continue
		}
		k, v := p.keys[i], p.vals[i]
		if _, dup := seen[k]; dup {
			continue
		}
		// The flow is desired from now on (the last part's put then finds
		// it so and leaves it clean): only what differs is planned then.
		old, ok := st.flows.putStreamed(k, v)
		if ok && old == v {
			seen[k] = -1
			continue
		}
		c := change{Key: k, Val: v, Old: old}
		cmd := uint16(openflow.FlowAdd)
		if ok {
			cmd = modCommand(c)
		}
		seen[k] = int32(len(r.all))
		r.all = append(r.all, &item{kind: kindFlow, cmd: cmd, bundled: true, c: c})
	}
	r.nBundle += len(r.all) - n
	return len(r.all) - n
}

// seal ends the streaming of a round when the last part has been put: the
// plans of the three keyspaces, less what the round already sends, close
// its bundle, and the meters to delete follow the commit. Meter changes
// the open round did not send (meters go before the bundle) are left to
// the next round.
func (r *round) sealStream(version uint64, flows, groups, meters *keyspace) {
	r.open, r.version = false, version
	has := func(k kind, c change) bool {
		i, ok := r.stream.items[k][c.Key]
		return ok && i >= 0 && r.all[i].c.Val == c.Val
	}
	// What the round sends already is most of the plan: drop it before
	// sorting the rest.
	plan := func(k kind, s *keyspace) (adds, mods, dels []change) {
		a, m, d := s.planUnsorted()
		for _, cs := range []*[]change{&a, &m, &d} {
			*cs = slices.DeleteFunc(*cs, func(c change) bool { return has(k, c) })
			sortChanges(*cs)
		}
		return a, m, d
	}
	mAdd, mMod, mDel := plan(kindMeter, meters)
	gAdd, gMod, gDel := plan(kindGroup, groups)
	fAdd, fMod, fDel := plan(kindFlow, flows)
	meters.retry(append(mAdd, mMod...))
	r.addBundled(gAdd, gMod, fAdd, fMod, fDel, gDel)
	r.addItems(kindMeter, openflow.MeterDelete, false, mDel)
	r.stream = nil
	r.stats = roundStats(version, r.all)
}

// roundStats counts a round's items by kind and command.
func roundStats(version uint64, all []*item) (st messages.RoundFinished) {
	st.Version = version
	for _, it := range all {
		switch {
		case it.kind == kindGroup:
			st.GroupMods++
		case it.kind == kindMeter:
			st.MeterMods++
		case it.cmd == uint16(openflow.FlowDeleteStrict):
			st.FlowDeletes++
		case it.c.Old == "":
			st.FlowAdds++
		default:
			st.FlowModifies++
		}
	}
	return st
}

// streamParts starts or extends the streamed round of the put in parts
// under way, when the switch's tables are known; a plain round in flight
// makes the parts wait for it.
func (a *reconcilerActor) streamParts(ctx actor.Context) {
	if a.state != stReady || a.retryDue || a.st.partial == nil {
		return
	}
	switch r := a.round; {
	case r == nil:
		a.round = newStreamRound(a.ofVersion, a.st)
		a.startRound(ctx)
	case r.open && r.extend(a.st) > 0:
		a.fill(ctx)
	}
}

// sealParts seals the open round once the put it streams is whole. It
// reports whether there was one to seal.
func (a *reconcilerActor) sealParts(ctx actor.Context) bool {
	r := a.round
	if r == nil || !r.open || a.st.partial != nil {
		return false
	}
	a.st.canonicalizeFlows(a.ofVersion)
	r.sealStream(a.st.version, a.st.flows, a.st.groups, a.st.meters)
	if len(r.all) == 0 {
		a.round = nil
		a.installed(ctx, a.st.version)
		return true
	}
	a.fill(ctx)
	return true
}
