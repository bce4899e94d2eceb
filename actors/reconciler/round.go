package reconciler

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// kind is what sort of switch object an item is.
type kind uint8

const (
	kindFlow kind = iota
	kindGroup
	kindMeter
)

func (k kind) String() string {
	switch k {
	case kindFlow:
		return "flow"
	case kindGroup:
		return "group"
	}
	return "meter"
}

// item is one object a round sends: which keyspace, which key, the value it
// installs ("" for a delete) and the command that does it.
type item struct {
	kind    kind
	cmd     uint16 // flow, group or meter command
	bundled bool   // sent as a bundle ADD_MESSAGE
	c       change
	xid     uint32
	err     string // the switch's refusal, if any
}

// message builds the item's message from its canonical bytes.
func (it *item) message(version uint8) openflow.Message {
	switch it.kind {
	case kindFlow:
		val := it.c.Val
		if it.cmd == uint16(openflow.FlowDeleteStrict) {
			val = it.c.Old
		}
		return FlowModMessage(version, uint8(it.cmd), it.c.Key, val)
	case kindGroup:
		val := it.c.Val
		if it.cmd == openflow.GroupDelete {
			val = it.c.Old
		}
		return GroupMessage(version, it.cmd, id32(it.c.Key), val)
	}
	return MeterMessage(version, it.cmd, id32(it.c.Key), it.c.Val)
}

// Phases of a round. Every update is one ORDERED|ATOMIC bundle (OVN's
// ofctrl does the same since 2021), with meters outside it because OVS
// cannot bundle meter_mods:
//
//	phaseAdd:    meter adds/mods, OPEN, group adds/mods, flow changes,
//	             group deletes (all as ADD_MESSAGE), in windows each
//	             ending with a BARRIER
//	phaseCommit: COMMIT, meter deletes, BARRIER
//
// The add phase is streamed: windows of up to windowSize ADD_MESSAGEs go
// out back to back, at most maxWindows unconfirmed, so the socket never
// idles waiting for a round trip and the connection's queue stays bounded
// however large the round. Each window's barrier reply confirms it (and
// makes a Progress event).
//
// The last barrier before COMMIT lets every ADD_MESSAGE error arrive first:
// a refused message is not in the bundle, so COMMIT installs the rest. An
// error at COMMIT reverts the whole bundle (OFPBFC_MSG_FAILED follows the
// error of the message at fault); the round then ends with the culprit
// rejected and everything else marked dirty for the next round.
type phase uint8

const (
	phaseIdle phase = iota
	phaseAdd
	phaseCommit
)

// Window bounds: a window holds between minWindow and maxWindow items,
// about 1/32 of the round, and at most maxWindows are unconfirmed, so that
// the connection's queue (MaxQueue 131072 frames) never overflows.
const (
	minWindow  = 2048
	maxWindow  = 32768
	maxWindows = 3
)

// Slots of a window that are not items.
const (
	slotOpen    int32 = -1
	slotCommit  int32 = -2
	slotBarrier int32 = -3
)

// window is one Send: what each of its messages is, in order.
type window struct {
	slots []int32 // index into round.all, or a slot constant
	first uint32  // xid of slots[0], once Sent
	acked bool    // Sent received
	done  bool    // barrier reply received
	items int
}

// lastBundleID numbers bundles, one fresh id per round. A constant id
// would collide after a reconciler restart (a panic) on a connection that
// survived it: the dead incarnation's bundle may still be open on the switch
// (OVS drops idle bundles only after 10 s), and OVS answers an OPEN of an
// existing id with OFPBFC_BAD_ID and discards both.
var lastBundleID atomic.Uint32

// round is one update of the switch, from plan to barrier reply.
type round struct {
	version   uint64 // the desired version this round brings in
	ofVersion uint8
	bundleID  uint32 // fresh per round: see lastBundleID
	phase     phase

	// all is pre (meter adds/mods, sent before the bundle), then bundle
	// (group and flow changes), then post (meter deletes, after the commit).
	all               []*item
	nPre, nBundle     int
	cursor            int // next item of the add phase to send
	windowSize        int
	windows           []*window
	opened, committed bool // OPEN / COMMIT sent

	sent, confirmed int    // items handed to the connection / barrier-confirmed
	failed          string // the bundle as a whole failed: why
	stats           messages.RoundFinished

	// open says the round is streamed from a put still arriving in parts
	// (stream.go); it commits only once sealed.
	open   bool
	stream *streamed

	slab []item // the items of a round planned whole, in one allocation
}

// newRound turns the plans of the three keyspaces into a round. It returns
// nil when there is nothing to send.
func newRound(ofVersion uint8, version uint64, flows, groups, meters *keyspace) *round {
	r := &round{version: version, ofVersion: ofVersion}
	mAdd, mMod, mDel := meters.plan()
	gAdd, gMod, gDel := groups.plan()
	fAdd, fMod, fDel := flows.plan()
	n := len(mAdd) + len(mMod) + len(mDel) + len(gAdd) + len(gMod) + len(gDel) + len(fAdd) + len(fMod) + len(fDel)
	if n == 0 {
		return nil
	}
	r.bundleID = lastBundleID.Add(1)
	r.all = make([]*item, 0, n)
	r.slab = make([]item, 0, n) // one allocation for the round's items
	r.addItems(kindMeter, openflow.MeterAdd, false, mAdd)
	r.addItems(kindMeter, openflow.MeterModify, false, mMod)
	r.nPre = len(r.all)
	r.addBundled(gAdd, gMod, fAdd, fMod, fDel, gDel)
	r.addItems(kindMeter, openflow.MeterDelete, false, mDel)
	r.windowSize = min(max(r.nBundle/32, minWindow), maxWindow)
	r.stats = roundStats(version, r.all)
	return r
}

// addItem adds an item, from the round's slab while it has room.
func (r *round) addItem(it item) {
	if len(r.slab) < cap(r.slab) {
		r.slab = append(r.slab, it)
		r.all = append(r.all, &r.slab[len(r.slab)-1])
		return
	}
	r.all = append(r.all, &it)
}

// addItems adds an item for each change, with command cmd.
func (r *round) addItems(k kind, cmd uint16, bundled bool, cs []change) {
	for _, c := range cs {
		r.addItem(item{kind: k, cmd: cmd, bundled: bundled, c: c})
	}
}

// addBundled adds the bundle's items in the order OVS must see them: groups
// before the flows that use them, flows deleted before the groups they
// used.
func (r *round) addBundled(gAdd, gMod, fAdd, fMod, fDel, gDel []change) {
	n := len(r.all)
	r.addItems(kindGroup, openflow.GroupAdd, true, gAdd)
	r.addItems(kindGroup, openflow.GroupModify, true, gMod)
	r.addItems(kindFlow, uint16(openflow.FlowAdd), true, fAdd)
	for _, c := range fMod {
		r.addItem(item{kind: kindFlow, cmd: modCommand(c), bundled: true, c: c})
	}
	r.addItems(kindFlow, uint16(openflow.FlowDeleteStrict), true, fDel)
	r.addItems(kindGroup, openflow.GroupDelete, true, gDel)
	r.nBundle += len(r.all) - n
}

// modCommand is the command that changes c's flow: MODIFY_STRICT when only
// its instructions change, else ADD (see sameButActions).
func modCommand(c change) uint16 {
	if sameButActions(c.Val, c.Old) {
		return uint16(openflow.FlowModifyStrict)
	}
	return uint16(openflow.FlowAdd)
}

func id32(key string) uint32 { return binary.BigEndian.Uint32([]byte(key)) }

func idKey(id uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], id)
	return string(b[:])
}

// items returns every item of the round.
func (r *round) items() []*item { return r.all }

// moreAdds reports whether the add phase has a window left to send. An
// open round sends only what it has.
func (r *round) moreAdds() bool {
	return r.failed == "" && r.cursor < r.nPre+r.nBundle || r.phase == phaseIdle && !r.open
}

// inFlight is how many windows await their barrier reply.
func (r *round) inFlight() int {
	n := 0
	for i := len(r.windows) - 1; i >= 0 && !r.windows[i].done; i-- {
		n++
	}
	return n
}

// nextWindow returns the next window of the add phase: the first carries
// the unbundled items before the bundle and the OPEN. Their xids are
// assigned by the connection actor and reported back through sent.
func (r *round) nextWindow() []openflow.Message {
	r.phase = phaseAdd
	w := &window{}
	msgs := make([]openflow.Message, 0, min(r.windowSize, r.nPre+r.nBundle-r.cursor)+2)
	for ; r.cursor < r.nPre; r.cursor++ {
		msgs = append(msgs, r.all[r.cursor].message(r.ofVersion))
		w.slots = append(w.slots, int32(r.cursor))
	}
	if r.nBundle > 0 && !r.opened {
		r.opened = true
		msgs = append(msgs, bundleControl(r.ofVersion, r.bundleID, openflow.BundleOpenRequest))
		w.slots = append(w.slots, slotOpen)
	}
	for end := min(r.cursor+r.windowSize, r.nPre+r.nBundle); r.cursor < end; r.cursor++ {
		msgs = append(msgs, &openflow.BundleAdd{
			Header:   openflow.Header{Version: r.ofVersion},
			BundleID: r.bundleID,
			Flags:    bundleFlags,
			Message:  r.all[r.cursor].message(r.ofVersion),
		})
		w.slots = append(w.slots, int32(r.cursor))
	}
	return r.seal(w, msgs)
}

// seal ends a window with a barrier and records it.
func (r *round) seal(w *window, msgs []openflow.Message) []openflow.Message {
	w.slots = append(w.slots, slotBarrier)
	for _, s := range w.slots {
		if s >= 0 {
			w.items++
		}
	}
	r.sent += w.items
	r.windows = append(r.windows, w)
	return append(msgs, &openflow.BarrierRequest{})
}

// sent records the xids of the oldest window not yet acknowledged:
// its i-th message went out as first+i.
func (r *round) sentWindow(first uint32) {
	for _, w := range r.windows {
		if w.acked {
			continue
		}
		w.acked, w.first = true, first
		for i, s := range w.slots {
			if s >= 0 {
				r.all[s].xid = first + uint32(i)
			}
		}
		return
	}
}

// slot finds what the message with xid was.
func (r *round) slot(xid uint32) (*window, int32, bool) {
	for i := len(r.windows) - 1; i >= 0; i-- {
		w := r.windows[i]
		if w.acked && xid-w.first < uint32(len(w.slots)) {
			return w, w.slots[xid-w.first], true
		}
	}
	return nil, 0, false
}

// onBarrier takes a barrier reply; it reports whether it closed a window
// of this round.
func (r *round) onBarrier(xid uint32) bool {
	w, s, ok := r.slot(xid)
	if !ok || s != slotBarrier || w.done {
		return false
	}
	w.done = true
	r.confirmed += w.items
	return true
}

// addsDone reports whether every window of the add phase is sent and
// confirmed, so that the commit can go.
func (r *round) addsDone() bool { return !r.open && !r.moreAdds() && r.inFlight() == 0 }

// commitPhase returns the messages of the second phase.
func (r *round) commitPhase() []openflow.Message {
	r.phase = phaseCommit
	w := &window{}
	var msgs []openflow.Message
	if r.bundleLive() {
		r.committed = true
		msgs = append(msgs, bundleControl(r.ofVersion, r.bundleID, openflow.BundleCommitRequest))
		w.slots = append(w.slots, slotCommit)
	}
	for i := r.nPre + r.nBundle; i < len(r.all); i++ {
		msgs = append(msgs, r.all[i].message(r.ofVersion))
		w.slots = append(w.slots, int32(i))
	}
	return r.seal(w, msgs)
}

// bundleLive reports whether there is a bundle to commit: it was opened and
// not every message in it was refused.
func (r *round) bundleLive() bool {
	if !r.opened || r.failed != "" {
		return false
	}
	for _, it := range r.all[r.nPre : r.nPre+r.nBundle] {
		if it.err == "" {
			return true
		}
	}
	return false
}

// onError attributes an error reply to the item or control message with its
// xid. It returns the item at fault, or nil for a control message.
func (r *round) onError(xid uint32, name string) *item {
	_, s, ok := r.slot(xid)
	switch {
	case !ok:
		return nil
	case s >= 0:
		it := r.all[s]
		it.err = name
		return it
	case s == slotOpen:
		r.failed = "bundle open: " + name
	case s == slotCommit:
		// The commit was refused; the error of the message at fault came
		// first. Everything in the bundle was reverted.
		if r.failed == "" {
			r.failed = "bundle commit: " + name
		}
	}
	return nil
}

// bundleFlags are ORDERED|ATOMIC.
const bundleFlags = openflow.BundleAtomic | openflow.BundleOrdered

func bundleControl(version uint8, id uint32, typ uint16) openflow.Message {
	return &openflow.BundleControl{
		Header:   openflow.Header{Version: version},
		BundleID: id,
		Type:     typ,
		Flags:    bundleFlags,
	}
}

// finish applies the outcome of a round that reached its last barrier reply
// to the keyspaces: what the switch took is installed, what it refused is
// rejected, and what a failed bundle reverted is marked dirty again. It
// returns the refused items, for reporting.
func (r *round) finish(flows, groups, meters *keyspace) (refused []*item) {
	ks := func(k kind) *keyspace {
		switch k {
		case kindFlow:
			return flows
		case kindGroup:
			return groups
		}
		return meters
	}
	committed := r.failed == "" && r.phase == phaseCommit
	for i, it := range r.all {
		done := it.xid != 0 // sent: unbundled items take effect at once
		switch {
		case it.bundled:
			done = committed
		case i >= r.nPre:
			done = done && r.phase == phaseCommit
		}
		r.settle(ks(it.kind), it, done, &refused)
	}
	flows.trim()
	groups.trim()
	meters.trim()
	return refused
}

func (r *round) settle(s *keyspace, it *item, done bool, refused *[]*item) {
	if inst, ok := staleView(it.kind, it.err); ok {
		// Not a refusal of the object: correct our view and plan again.
		s.installedAs(it.c.Key, inst)
		s.dirty[it.c.Key] = struct{}{}
		return
	}
	switch {
	case it.err != "":
		s.rejectedAs(it.c.Key, it.c.Val, it.err)
		*refused = append(*refused, it)
	case done:
		s.installedAs(it.c.Key, it.c.Val)
	default:
		s.retry([]change{it.c})
	}
}

// abort gives the round up (the connection was lost): every item is marked
// dirty again. What the switch really holds is read back after the next
// connect, so nothing is assumed installed.
func (r *round) abort(flows, groups, meters *keyspace) {
	for _, it := range r.items() {
		switch it.kind {
		case kindFlow:
			flows.retry([]change{it.c})
		case kindGroup:
			groups.retry([]change{it.c})
		default:
			meters.retry([]change{it.c})
		}
	}
}
