package desired

// lineIndex finds a remembered line's entry by the line's hash: open
// addressing with linear probing over int32 slots (0: empty, -1: deleted,
// else the entry's index + 1), the hash itself kept in the entry. Four
// bytes a slot at a load under 3/4, where a map[lineHash]int32 spends some
// 40 bytes a line (BenchmarkRemember).
type lineIndex struct {
	slots []int32
	n     int // entries
	used  int // slots not empty: entries and tombstones
}

const tombstoneSlot = -1

// newLineIndex makes an index for about hint entries, at a load of 2/3.
func newLineIndex(hint int) *lineIndex {
	x := &lineIndex{}
	x.remake(nil, hint+hint/2)
	return x
}

// Len is the number of entries.
func (x *lineIndex) Len() int { return x.n }

// home is where h's probe starts among n slots (n need not be a power of
// two).
func homeSlot(h lineHash, n int) int { return int((uint64(uint32(h[0])) * uint64(n)) >> 32) }

// get returns the entry of ents whose line hash is h.
func (x *lineIndex) get(ents []entry, h lineHash) (int32, bool) {
	n := len(x.slots)
	for i := homeSlot(h, n); ; i++ {
		if i == n {
			i = 0
		}
		switch s := x.slots[i]; {
		case s == 0:
			return 0, false
		case s > 0 && ents[s-1].h == h:
			return s - 1, true
		}
	}
}

// put indexes entry e of ents by its hash, which the index does not hold.
func (x *lineIndex) put(ents []entry, e int32) {
	if (x.used+1)*4 > len(x.slots)*3 {
		x.remake(ents, 2*(x.n+1))
	}
	n := len(x.slots)
	for i := homeSlot(ents[e].h, n); ; i++ {
		if i == n {
			i = 0
		}
		switch x.slots[i] {
		case 0:
			x.used++
			fallthrough
		case tombstoneSlot:
			x.slots[i] = e + 1
			x.n++
			return
		}
	}
}

// del removes entry e of ents (still holding its hash) from the index.
func (x *lineIndex) del(ents []entry, e int32) {
	n := len(x.slots)
	for i := homeSlot(ents[e].h, n); ; i++ {
		if i == n {
			i = 0
		}
		switch x.slots[i] {
		case 0:
			return
		case e + 1:
			x.slots[i] = tombstoneSlot
			x.n--
			return
		}
	}
}

// remake makes size slots (at least 16) and puts the entries back,
// dropping tombstones.
func (x *lineIndex) remake(ents []entry, size int) {
	old := x.slots
	x.slots, x.n, x.used = make([]int32, max(size, 16)), 0, 0
	for _, s := range old {
		if s > 0 {
			x.put(ents, s-1)
		}
	}
}
