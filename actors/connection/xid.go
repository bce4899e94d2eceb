package connection

import (
	"fmt"
	"sort"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/messages"
)

// txn is one open transaction: a message we sent whose completion we still
// wait for (the seed's tx_counter counts these per holder).
type txn struct {
	xid     uint32
	seq     uint64  // order of sending, across wraps of the xid space
	holder  *holder // nil: the actor's own (the probe's echo request)
	routing messages.Routing
	done    bool

	// mpDropped: a multipart reply broke a reassembly limit; its holder
	// was told and its remaining parts are dropped until the last.
	mpDropped bool
}

// holder is the actor a Send named as ReplyTo, and its open transactions in
// the order they were sent: open holds those a barrier ends, kept the
// RouteUntilRelease ones (bundle ADD_MESSAGEs), which only a barrier after
// a RouteRelease message ends (see barrier).
type holder struct {
	key        string
	pid        *actor.PID
	open, kept []*txn
	// release is the seq of the last RouteRelease transaction finished
	// (0: none since the kept ones were last released). Its own reply
	// (a bundle COMMIT_REPLY) normally finishes it before the barrier
	// after it is answered, which then releases the kept ones before it.
	release uint64
}

// table allocates xids and remembers which holder each belongs to. It is
// plain data, driven by the actor alone.
type table struct {
	next    uint32
	seq     uint64
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

// alloc opens n consecutive transactions for pid (nil: our own), routed as
// routing says (nil: RouteDefault), and returns the first xid.
func (t *table) alloc(pid *actor.PID, n int, routing []messages.Routing) (uint32, error) {
	if routing != nil && len(routing) != n {
		return 0, fmt.Errorf("routing for %d messages, %d sent", len(routing), n)
	}
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
		t.seq++
		tx := &txn{xid: first + uint32(i), seq: t.seq, holder: h}
		if routing != nil {
			tx.routing = routing[i]
		}
		t.routes[tx.xid] = tx
		switch {
		case h == nil:
		case tx.routing == messages.RouteUntilRelease:
			h.kept = append(h.kept, tx)
		default:
			h.open = append(h.open, tx)
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
	h := t.holders[pidKey(pid)]
	if h == nil {
		return 0
	}
	n := 0
	for _, l := range [][]*txn{h.open, h.kept} {
		for _, tx := range l {
			if !tx.done {
				n++
			}
		}
	}
	return n
}

func (t *table) lookup(xid uint32) *txn { return t.routes[xid] }

func (t *table) finish(tx *txn) {
	if tx.done {
		return
	}
	tx.done = true
	if tx.routing == messages.RouteRelease && tx.holder != nil {
		tx.holder.release = max(tx.holder.release, tx.seq)
	}
	delete(t.routes, tx.xid)
	if len(t.routes) == 0 && t.peak > 4096 {
		// A Go map keeps the room it grew to: a million-flow round's
		// xids would stay allocated for good.
		t.routes, t.peak = map[uint32]*txn{}, 0
	}
}

// trim drops finished transactions from the front of h's lists, and h
// itself once it holds nothing.
func (t *table) trim(h *holder) {
	h.open = dropDone(h.open)
	h.kept = dropDone(h.kept)
	if len(h.open) == 0 && len(h.kept) == 0 {
		delete(t.holders, h.key)
	}
}

func dropDone(l []*txn) []*txn {
	i := 0
	for i < len(l) && l[i].done {
		i++
	}
	return dropFront(l, i)
}

// dropFront returns l without its first i transactions. The garbage
// collector keeps alive everything a slice's backing array points to, not
// only what the slice spans: the dropped slots are cleared, and once the
// rest is small the array is given up. Otherwise a holder that stays open
// for good (the flow monitor's request) would keep every transaction of a
// million-flow bundle alive (some 70 MB).
func dropFront(l []*txn, i int) []*txn {
	if i == 0 {
		return l
	}
	clear(l[:i])
	rest := l[i:]
	switch {
	case len(rest) == 0:
		return nil
	case cap(l) > 1024 && len(rest) < cap(l)/4:
		return append([]*txn(nil), rest...)
	}
	return rest
}

// complete finishes tx alone (a final reply: TLV table reply, last
// multipart part, bundle control reply, echo reply).
func (t *table) complete(tx *txn) {
	t.finish(tx)
	if tx.holder != nil {
		t.trim(tx.holder)
	}
}

// final takes tx's final reply (a bundle control reply, the last part of
// a multipart reply, ...): it finishes tx, unless tx is routed until a
// release (a bundle OPEN: OVS names the bundle it expires by the OPEN's
// xid, after the OPEN_REPLY).
func (t *table) final(tx *txn) {
	if tx.routing != messages.RouteUntilRelease {
		t.complete(tx)
	}
}

// barrier finishes tx and every transaction of its holder sent before it
// (the switch has processed everything sent before a barrier request when it
// answers it, OpenFlow 1.3.5 §6.2), except the RouteUntilRelease ones: of
// those, it finishes the ones sent before the last RouteRelease message it
// finishes. A barrier thus walks its own window of open transactions, and
// the kept ones only when a release ends them.
func (t *table) barrier(tx *txn) {
	h := tx.holder
	if h == nil || tx.routing == messages.RouteUntilRelease {
		t.finish(tx)
		if h != nil {
			t.trim(h)
		}
		return
	}
	i := 0
	for ; i < len(h.open) && h.open[i].seq <= tx.seq; i++ {
		t.finish(h.open[i]) // a release among them sets h.release
	}
	h.open = dropFront(h.open, i)
	if release := h.release; release != 0 && release < tx.seq {
		// A release sent before this barrier has finished, by its own
		// reply or just now.
		j := 0
		for ; j < len(h.kept) && h.kept[j].seq < release; j++ {
			t.finish(h.kept[j])
		}
		h.kept = dropFront(h.kept, j)
		h.release = 0
	}
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
		for _, tx := range mergeBySeq(h.open, h.kept) {
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

// mergeBySeq returns a and b, each in sending order, merged in sending order.
func mergeBySeq(a, b []*txn) []*txn {
	out := make([]*txn, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}
