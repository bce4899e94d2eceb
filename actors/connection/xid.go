package connection

import (
	"fmt"
	"sort"

	"github.com/asynkron/protoactor-go/actor"
)

// txn is one open transaction: a message we sent whose completion we still
// wait for (the seed's tx_counter counts these per holder).
type txn struct {
	xid    uint32
	holder *holder // nil: the actor's own (the probe's echo request)
	done   bool

	// mpDropped: a multipart reply broke a reassembly limit; its holder
	// was told and its remaining parts are dropped until the last.
	mpDropped bool

	// bundle says whether this is a bundle ADD_MESSAGE or the COMMIT or
	// DISCARD that ends a bundle: see barrier.
	bundle bundleRole
}

// bundleRole is a transaction's part in a bundle.
type bundleRole uint8

const (
	notBundle bundleRole = iota
	bundleAdd            // ADD_MESSAGE: may still fail at commit
	bundleEnd            // COMMIT_REQUEST or DISCARD_REQUEST
)

// holder is the actor a Send named as ReplyTo, and its open transactions in
// the order they were sent.
type holder struct {
	key   string
	pid   *actor.PID
	open  []*txn
	count int
	// kept is how many of open's first transactions are bundle
	// ADD_MESSAGEs an earlier barrier kept (see barrier): a barrier looks
	// at the transactions after them alone, so a round of a million
	// ADD_MESSAGEs costs each window's barrier its own window, not the
	// whole bundle.
	kept int
}

// table allocates xids and remembers which holder each belongs to. It is
// plain data, driven by the actor alone.
type table struct {
	next    uint32
	routes  map[uint32]*txn
	peak    int // the most routes since the map was made: see finish
	holders map[string]*holder
}

func newTable() *table {
	return &table{next: 1, routes: map[uint32]*txn{}, holders: map[string]*holder{}}
}

func pidKey(p *actor.PID) string { return p.Address + "/" + p.Id }

// free reports whether n xids from first are unused and do not wrap
// through 0 (which OVS's own asynchronous messages carry).
func (t *table) free(first uint32, n int) (bool, uint32) {
	for i := 0; i < n; i++ {
		x := first + uint32(i)
		if x == 0 {
			return false, 0
		}
		if _, used := t.routes[x]; used {
			return false, x
		}
	}
	return true, 0
}

// alloc opens n consecutive transactions for pid (nil: our own) and returns
// the first xid.
func (t *table) alloc(pid *actor.PID, n int) (uint32, error) {
	first := t.next
	for tries := 0; ; tries++ {
		if tries == 64 {
			return 0, fmt.Errorf("no %d consecutive free xids", n)
		}
		ok, used := t.free(first, n)
		if ok {
			break
		}
		first = used + 1 // past the xid in use, or past 0 after a wrap
	}
	var h *holder
	if pid != nil {
		k := pidKey(pid)
		if h = t.holders[k]; h == nil {
			h = &holder{key: k, pid: pid}
			t.holders[k] = h
		}
	}
	for i := 0; i < n; i++ {
		tx := &txn{xid: first + uint32(i), holder: h}
		t.routes[tx.xid] = tx
		if h != nil {
			h.open = append(h.open, tx)
			h.count++
		}
	}
	t.peak = max(t.peak, len(t.routes))
	t.next = first + uint32(n)
	if t.next == 0 {
		t.next = 1
	}
	return first, nil
}

// inFlight is how many of pid's transactions are open.
func (t *table) inFlight(pid *actor.PID) int {
	if h := t.holders[pidKey(pid)]; h != nil {
		return h.count
	}
	return 0
}

func (t *table) lookup(xid uint32) *txn { return t.routes[xid] }

func (t *table) finish(tx *txn) {
	if tx.done {
		return
	}
	tx.done = true
	delete(t.routes, tx.xid)
	if len(t.routes) == 0 && t.peak > 4096 {
		// A Go map keeps the room it grew to: a million-flow round's
		// xids would stay allocated for good.
		t.routes, t.peak = map[uint32]*txn{}, 0
	}
	if tx.holder != nil {
		tx.holder.count--
	}
}

// trim drops finished transactions from the front of h's list, and h
// itself once it holds nothing.
func (t *table) trim(h *holder) {
	i := 0
	for i < len(h.open) && h.open[i].done {
		i++
	}
	h.open = h.open[i:]
	h.kept = max(0, h.kept-i)
	if len(h.open) == 0 {
		delete(t.holders, h.key)
	}
}

// complete finishes tx alone (a final reply: TLV table reply, last
// multipart part, bundle control reply, echo reply).
func (t *table) complete(tx *txn) {
	t.finish(tx)
	if tx.holder != nil {
		t.trim(tx.holder)
	}
}

// barrier finishes tx and every earlier transaction of its holder: the
// switch has processed everything sent before a barrier request when it
// answers it (OpenFlow 1.3.5 §6.2). A bundle ADD_MESSAGE is the exception
// until its bundle is committed or discarded: OVS reports a message that
// fails at COMMIT with the xid of its ADD_MESSAGE, so that xid must still
// lead to its holder. It finishes with the first barrier after the COMMIT.
func (t *table) barrier(tx *txn) {
	h := tx.holder
	if h == nil {
		t.finish(tx)
		return
	}
	end := -1
	for i := h.kept; i < len(h.open); i++ {
		if h.open[i] == tx {
			end = i
			break
		}
	}
	if end < 0 {
		t.finish(tx)
		t.trim(h)
		return
	}
	// Walk back from the barrier: an ADD_MESSAGE is kept unless a COMMIT
	// or DISCARD came after it, before the barrier. The ones kept by
	// earlier barriers precede everything here, so one COMMIT here
	// finishes them all.
	ended := false
	w := end + 1 // h.open[w:end+1] holds what this barrier keeps
	for i := end; i >= h.kept; i-- {
		o := h.open[i]
		if o.bundle == bundleEnd {
			ended = true
		}
		if o.bundle == bundleAdd && !ended && !o.done {
			w--
			h.open[w] = o
			continue
		}
		t.finish(o)
	}
	old := h.open[:h.kept]
	if ended {
		for _, o := range old {
			t.finish(o)
		}
		old = old[:0]
	}
	n := copy(h.open[len(old):], h.open[w:end+1])
	h.kept = len(old) + n
	h.open = append(h.open[:h.kept], h.open[end+1:]...)
	t.trim(h)
}

// failed is one holder's open transactions, for TransactionsFailed.
type failed struct {
	pid  *actor.PID
	xids []uint32
}

// drain finishes every open transaction and returns them by holder, in a
// stable order, our own left out.
func (t *table) drain() []failed {
	var out []failed
	for _, h := range t.holders {
		f := failed{pid: h.pid}
		for _, tx := range h.open {
			if !tx.done {
				f.xids = append(f.xids, tx.xid)
			}
		}
		if len(f.xids) > 0 {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return pidKey(out[i].pid) < pidKey(out[j].pid) })
	t.routes = map[uint32]*txn{}
	t.holders = map[string]*holder{}
	return out
}
