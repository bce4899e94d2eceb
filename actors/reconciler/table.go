package reconciler

import (
	"hash/maphash"
	"iter"
	"unsafe"
)

// table is the desired side of a keyspace: key to value, both strings of
// canonical bytes, as a map[string]string would hold them, in 24 bytes a
// slot (the two strings' data pointers, their lengths and 16 bits of the
// key's hash) where a Go map spends 33, at a load between 2/5 and 4/5
// where a Go map of a million entries sits under one half (its tables
// split by powers of two, and a million is just past one): some 40 bytes
// an entry against 70 to 80.
//
// Open addressing with linear probing from a range-reduced hash (so that
// the capacity need not be a power of two); deletions leave tombstones,
// dropped when the table is remade.
//
// Readers may run concurrently (flowEntries looks keys up on every core);
// writers may not. All tolerates deletions and value updates while it runs,
// not insertions of new keys (they may remake the table: a broken
// invariant, it panics).
type table struct {
	slots []slot
	n     int // entries
	dead  int // tombstones
	gen   uint32
}

// slot is one entry: kp at the key's kl bytes (nil: empty; tombstone:
// deleted), vp at the value's vl, and 16 bits of the key's hash to skip
// most mismatches without reading the key.
type slot struct {
	kp, vp unsafe.Pointer
	vl     uint32
	kl     uint16
	tag    uint16
}

// tombstone marks a deleted slot.
var tombstone = unsafe.Pointer(new(byte))

// tableSeed hashes every table's keys.
var tableSeed = maphash.MakeSeed()

const (
	tableMinCap = 8
	maxLoadNum  = 4 // grown past 4/5 full, counting tombstones
	maxLoadDen  = 5
)

func newTable(hint int) *table {
	t := &table{}
	if hint > 0 {
		t.slots = make([]slot, max(tableMinCap, hint*maxLoadDen/maxLoadNum+1))
	}
	return t
}

// Len is the number of entries.
func (t *table) Len() int { return t.n }

func hashKey(key string) (uint64, uint16) {
	h := maphash.String(tableSeed, key)
	return h, uint16(h >> 48)
}

// home is where a hash's probe starts in a table of n slots.
func home(h uint64, n int) int { return int((uint64(uint32(h)) * uint64(n)) >> 32) }

func (s *slot) key() string { return unsafe.String((*byte)(s.kp), int(s.kl)) }

func (s *slot) val() string { return unsafe.String((*byte)(s.vp), int(s.vl)) }

// dataOf is the data pointer a slot keeps of s: the empty string's may be
// nil, which marks an empty slot, so it points at emptyData instead.
func dataOf(s string) unsafe.Pointer {
	if len(s) == 0 {
		return unsafe.Pointer(&emptyData)
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

var emptyData byte

// find returns the index of key's slot, or -1.
func (t *table) find(key string) int {
	if len(t.slots) == 0 || len(key) > 0xffff {
		return -1
	}
	h, tag := hashKey(key)
	n := len(t.slots)
	for i := home(h, n); ; i++ {
		if i == n {
			i = 0
		}
		s := &t.slots[i]
		switch {
		case s.kp == nil:
			return -1
		case s.kp != tombstone && s.tag == tag && int(s.kl) == len(key) && s.key() == key:
			return i
		}
	}
}

// Get returns key's value.
func (t *table) Get(key string) (string, bool) {
	if i := t.find(key); i >= 0 {
		return t.slots[i].val(), true
	}
	return "", false
}

// Val returns key's value, "" if none.
func (t *table) Val(key string) string {
	v, _ := t.Get(key)
	return v
}

// Has reports whether key is in the table.
func (t *table) Has(key string) bool { return t.find(key) >= 0 }

// Set makes key's value val. The table keeps the strings, not a copy. A
// key over 65535 bytes (no OpenFlow message holds one) is a broken
// invariant.
func (t *table) Set(key, val string) {
	if len(key) > 0xffff || uint64(len(val)) > 0xffffffff {
		panic("reconciler: table key or value too long")
	}
	if i := t.find(key); i >= 0 {
		s := &t.slots[i]
		s.kp, s.vp, s.vl = dataOf(key), dataOf(val), uint32(len(val))
		return
	}
	if (t.n+t.dead+1)*maxLoadDen > len(t.slots)*maxLoadNum {
		t.remake(max(tableMinCap, (t.n+1)*2))
	}
	h, tag := hashKey(key)
	n := len(t.slots)
	for i := home(h, n); ; i++ {
		if i == n {
			i = 0
		}
		s := &t.slots[i]
		if s.kp == nil || s.kp == tombstone {
			if s.kp == tombstone {
				t.dead--
			}
			*s = slot{kp: dataOf(key), vp: dataOf(val), vl: uint32(len(val)), kl: uint16(len(key)), tag: tag}
			t.n++
			return
		}
	}
}

// Delete removes key.
func (t *table) Delete(key string) {
	if i := t.find(key); i >= 0 {
		t.slots[i] = slot{kp: tombstone}
		t.n--
		t.dead++
	}
}

// Compact remakes the table when it is mostly empty room or tombstones
// (after a large table was replaced or emptied). Never call it from inside
// All.
func (t *table) Compact() {
	if len(t.slots) > 1024 && (t.n*8 < len(t.slots) || t.dead > t.n) {
		t.remake(max(tableMinCap, t.n*2))
	}
}

// remake moves every entry to a table of c slots, dropping tombstones.
func (t *table) remake(c int) {
	old := t.slots
	t.slots, t.dead = make([]slot, c), 0
	t.gen++
	for i := range old {
		s := &old[i]
		if s.kp == nil || s.kp == tombstone {
			continue
		}
		h, _ := hashKey(s.key())
		for j := home(h, c); ; j++ {
			if j == c {
				j = 0
			}
			if t.slots[j].kp == nil {
				t.slots[j] = *s
				break
			}
		}
	}
}

// All yields every entry, in no set order. The loop may delete entries
// and change values; a new key makes it panic if the table had to grow.
func (t *table) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		slots, gen := t.slots, t.gen
		for i := range slots {
			s := &slots[i]
			if s.kp == nil || s.kp == tombstone {
				continue
			}
			if !yield(s.key(), s.val()) {
				return
			}
			if t.gen != gen {
				panic("reconciler: table grown while it is iterated")
			}
		}
	}
}

// Keys yields every key, as All.
func (t *table) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range t.All() {
			if !yield(k) {
				return
			}
		}
	}
}
