package desired

import (
	"errors"
	"fmt"
	"hash/maphash"

	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Duplicate is a line of a file that replaces an earlier line of the same
// file: a flow with the same table, priority and match, or a group or meter
// with the same id. The later line wins, as in `ovs-ofctl add-flows`,
// add-groups and add-meters.
type Duplicate struct {
	Kind     string // "flow", "group" or "meter"
	File     string
	Line     int // the line that wins
	Replaces int // the earlier line it replaces
}

var sameWhat = map[string]string{
	"flow":  "same table, priority and match",
	"group": "same group_id",
	"meter": "same meter_id",
}

// String is the warning: "flows.txt:2: replaces flows.txt:1 (same table,
// priority and match)".
func (d Duplicate) String() string {
	return fmt.Sprintf("%s:%d: replaces %s:%d (%s)", d.File, d.Line, d.File, d.Replaces, sameWhat[d.Kind])
}

// dupError is the error a duplicate is under Options.Strict.
func dupError(ds []Duplicate) error {
	errs := make([]error, 0, len(ds))
	for i, d := range ds {
		if i == maxErrors {
			errs = append(errs, fmt.Errorf("%s: too many duplicates, stopped", d.File))
			break
		}
		errs = append(errs, fmt.Errorf("%s (duplicates are errors with --strict)", d))
	}
	return errors.Join(errs...)
}

// keyIndex maps flow keys to the index of the line that holds them, by a
// 64-bit hash of the key: a 100k-line file costs a map of integers, not a
// second copy of its keys. Keys whose hash another key has (odds about
// 2^-44 for a 1M-line file) go to other, by their string.
type keyIndex struct {
	seed   maphash.Seed
	byHash map[uint64]int32
	other  map[string]int32
	keyOf  func(i int32) string
}

func newKeyIndex(n int, keyOf func(int32) string) *keyIndex {
	return &keyIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]int32, n), keyOf: keyOf}
}

// put makes i the line of key and returns the line that had it before.
func (x *keyIndex) put(key string, i int32) (prev int32, had bool) {
	h := maphash.String(x.seed, key)
	j, ok := x.byHash[h]
	switch {
	case !ok:
		x.byHash[h] = i
		return 0, false
	case x.keyOf(j) == key:
		x.byHash[h] = i
		return j, true
	}
	if x.other == nil {
		x.other = map[string]int32{}
	}
	prev, had = x.other[key]
	x.other[key] = i
	return prev, had
}

// get returns the line holding key.
func (x *keyIndex) get(key string) (int32, bool) {
	if j, ok := x.byHash[maphash.String(x.seed, key)]; ok && x.keyOf(j) == key {
		return j, true
	}
	j, ok := x.other[key]
	return j, ok
}

// flowDups finds the duplicate flows of a flows file and indexes each key's
// line (the last with it). distinct says whether two lines with different
// texts share a key: then which one wins depends on their order.
func flowDups(name string, ff *flowFile) (dups []Duplicate, idx *keyIndex, distinct bool) {
	idx = newKeyIndex(len(ff.lines), func(i int32) string { return ff.res[i].flow.Key() })
	for i := range ff.res {
		prev, had := idx.put(ff.res[i].flow.Key(), int32(i))
		if !had {
			continue
		}
		dups = append(dups, Duplicate{Kind: "flow", File: name, Line: ff.lines[i].n, Replaces: ff.lines[prev].n})
		if ff.lines[i].text() != ff.lines[prev].text() {
			distinct = true
		}
	}
	return dups, idx, distinct
}

// idDups finds the duplicate ids of a groups or meters file and returns
// where each id is (its last line).
func idDups(kind string, pos []ofctl.Pos, ids []uint32) ([]Duplicate, map[uint32]ofctl.Pos) {
	var dups []Duplicate
	at := make(map[uint32]ofctl.Pos, len(ids))
	for i, id := range ids {
		if p, ok := at[id]; ok {
			dups = append(dups, Duplicate{Kind: kind, File: pos[i].File, Line: pos[i].Line, Replaces: p.Line})
		}
		at[id] = pos[i]
	}
	return dups, at
}
