package reconciler

import (
	"sync/atomic"

	"github.com/ofactor/ofactor/flowkey"
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

var kinds = [...]kind{kindFlow, kindGroup, kindMeter}

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
	val := it.c.Val
	if val == "" {
		val = it.c.Old.val
	}
	switch it.kind {
	case kindFlow:
		return flowkey.FromStrings(it.c.Key, val).Message(version, uint8(it.cmd))
	case kindGroup:
		return flowkey.GroupMessage(version, it.cmd, it.c.Key, val)
	}
	return flowkey.MeterMessage(version, it.cmd, it.c.Key, val)
}

// Phases of a round. Every update is one ORDERED|ATOMIC bundle (OVN's
// ofctrl does the same since 2021), with meters outside it because OVS
// cannot bundle meter_mods:
//
//	phaseAdd:    meter adds/mods, OPEN, group adds/mods, flow changes,
//	             group deletes (all as ADD_MESSAGE), in windows each
//	             ending with a BARRIER
//	phaseCommit: COMMIT (or DISCARD), meter deletes, BARRIER
//
// The add phase is streamed: windows of up to windowSize ADD_MESSAGEs go
// out back to back, at most maxWindows unconfirmed, so the socket never
// idles waiting for a round trip and the connection's queue stays bounded
// however large the round. Each window's barrier reply confirms it.
//
// The last barrier before COMMIT lets every ADD_MESSAGE error arrive first:
// a refused message is not in the bundle, so COMMIT installs the rest. An
// error at COMMIT reverts the whole bundle (OFPBFC_MSG_FAILED follows the
// error of the message at fault); the round then ends with the culprit
// rejected and everything else marked dirty for the next round.
type phase uint8

const (
	phaseAdd phase = iota
	phaseCommit
)

// Window bounds: a window holds between minWindow and maxWindow items,
// about 1/32 of the round, and at most maxWindows are unconfirmed, so that
// the connection's queue (MaxQueue 131072 frames) never overflows. A
// streamed round, whose size is not known in advance, uses streamWindow.
const (
	minWindow    = 2048
	maxWindow    = 32768
	maxWindows   = 3
	streamWindow = 4096
)

// Slots of a window that are not items.
const (
	slotOpen      int32 = -1
	slotCommit    int32 = -2 // or the DISCARD
	slotBarrier   int32 = -3
	slotKeepalive int32 = -4 // see keepaliveWindow
)

// window is one Send: what each of its messages is, in order.
type window struct {
	ref   uint64
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

// round is one update of the switch, from plan to barrier reply. It is
// pure data: the machine feeds it the plans and the switch's answers and
// sends what it returns.
type round struct {
	version   uint64 // the desired version this round brings in (0 while streamed)
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
	opened, committed bool   // OPEN / COMMIT sent
	discard           bool   // the bundle is to be discarded, not committed
	discardWhy        string // and why, for RoundFinished
	check             bool   // a check (ModeCheck): discarded once the switch judged it
	refusedBefore     int    // a check's refusals found before sending (missingRef)
	retryOnly         bool   // every item tries a refused object again

	sent, confirmed int    // items handed to the connection / barrier-confirmed
	failed          string // the bundle as a whole failed: why
	stats           messages.RoundFinished

	// open says the round streams a put still arriving in parts: it sends
	// what it has and commits only once sealed. carried indexes the flows
	// it carries by key (the last item for each).
	open    bool
	carried map[string]int32

	slab []item // the items of a round planned whole, in one allocation
}

// plans are the three keyspaces' plans of a round.
type plans struct {
	mAdd, mMod, mDel, gAdd, gMod, gDel, fAdd, fMod, fDel []change
}

func (p *plans) len() int {
	return len(p.mAdd) + len(p.mMod) + len(p.mDel) + len(p.gAdd) + len(p.gMod) + len(p.gDel) +
		len(p.fAdd) + len(p.fMod) + len(p.fDel)
}

// planAll takes the plans of the three keyspaces of st. Without deletes,
// the keys to delete stay dirty, for a later plan: a streamed round leaves
// deletes to its seal, since a part still to come may desire them.
func planAll(st *State, deletes bool) plans {
	var p plans
	p.mAdd, p.mMod, p.mDel = st.meters.plan(deletes)
	p.gAdd, p.gMod, p.gDel = st.groups.plan(deletes)
	p.fAdd, p.fMod, p.fDel = st.flows.plan(deletes)
	return p
}

// newRound turns plans into a round; it returns nil when there is nothing
// to send. An open round (open) streams a put in parts: its plans are
// what differs when it starts, and extend adds the parts' flows.
func newRound(ofVersion uint8, version uint64, p plans, open bool) *round {
	n := p.len()
	if n == 0 && !open {
		return nil
	}
	r := &round{version: version, ofVersion: ofVersion, open: open, bundleID: lastBundleID.Add(1)}
	r.all = make([]*item, 0, n)
	r.slab = make([]item, 0, n) // one allocation for the planned items
	r.addItems(kindMeter, openflow.MeterAdd, false, p.mAdd)
	r.addItems(kindMeter, openflow.MeterModify, false, p.mMod)
	r.nPre = len(r.all)
	r.windowSize = streamWindow
	if open {
		r.carried = map[string]int32{}
	}
	r.addBundled(p.gAdd, p.gMod, p.fAdd, p.fMod, p.fDel, p.gDel)
	r.addItems(kindMeter, openflow.MeterDelete, false, p.mDel)
	if !open {
		r.windowSize = min(max(r.nBundle/32, minWindow), maxWindow)
		r.stats = roundStats(version, r.all)
	}
	return r
}

// slabChunk is how many items a streamed round allocates at a time.
const slabChunk = 4096

// addItem adds an item, from the round's slab; a full slab (a streamed
// round's parts past what was planned) is followed by a new chunk, so
// that a million-flow round makes a few hundred allocations, not a
// million.
func (r *round) addItem(it item) {
	if len(r.slab) == cap(r.slab) {
		r.slab = make([]item, 0, slabChunk)
	}
	r.slab = append(r.slab, it)
	p := &r.slab[len(r.slab)-1]
	if r.carried != nil && p.kind == kindFlow {
		r.carried[p.c.Key] = int32(len(r.all))
	}
	r.all = append(r.all, p)
}

// addItems adds an item for each change, with command cmd.
func (r *round) addItems(k kind, cmd uint16, bundled bool, cs []change) {
	for _, c := range cs {
		r.addItem(item{kind: k, cmd: cmd, bundled: bundled, c: c})
	}
}

// addBundled adds the bundle's items in the order OVS must see them: groups
// before the flows that use them, flows deleted before the groups they
// used. Flows are deleted before others are added: the bundle is atomic, so
// the order changes nothing a packet sees, but a delete that OVS takes for
// the same flow as an add (a match written in two encodings) must not come
// after it and take the new flow away.
func (r *round) addBundled(gAdd, gMod, fAdd, fMod, fDel, gDel []change) {
	n := len(r.all)
	r.addItems(kindGroup, openflow.GroupAdd, true, gAdd)
	r.addItems(kindGroup, openflow.GroupModify, true, gMod)
	r.addItems(kindFlow, uint16(openflow.FlowDeleteStrict), true, fDel)
	r.addItems(kindFlow, uint16(openflow.FlowAdd), true, fAdd)
	for _, c := range fMod {
		r.addItem(item{kind: kindFlow, cmd: modCommand(c), bundled: true, c: c})
	}
	r.addItems(kindGroup, openflow.GroupDelete, true, gDel)
	r.nBundle += len(r.all) - n
}

// modCommand is the command that changes c's flow: MODIFY_STRICT when only
// its instructions change, else ADD (MODIFY_STRICT cannot change a
// cookie). A flow held with unknown contents is ADDed.
func modCommand(c change) uint16 {
	if c.Old.state == heldValue && flowkey.SameButInstructions(c.Val, c.Old.val) {
		return uint16(openflow.FlowModifyStrict)
	}
	return uint16(openflow.FlowAdd)
}

// extend adds a streamed round's flow changes (a part of the put it
// streams). A flow the round already carries is changed from what the
// bundle will hold by then, not from what the switch holds now.
func (r *round) extend(cs []change) {
	n := len(r.all)
	for _, c := range cs {
		cmd := uint16(openflow.FlowAdd)
		if i, ok := r.carried[c.Key]; ok && r.all[i].c.Val != "" {
			c.Old = holding(r.all[i].c.Val)
		}
		if c.Old.has() {
			cmd = modCommand(c)
		}
		r.addItem(item{kind: kindFlow, cmd: cmd, bundled: true, c: c})
	}
	r.nBundle += len(r.all) - n
}

// seal ends the streaming of a round once the put is whole: version is
// its version, p the plans of what still differs (less what the round
// carries), flows the flow keyspace. A flow the round already sent into
// the bundle that the whole put does not desire (it was desired when the
// round began, and the put leaves it out) is deleted in the same bundle:
// the switch must not commit it. Meter changes that would have to precede
// the bundle, already open, are given back for the next round.
func (r *round) seal(version uint64, p plans, flows *keyspace) (giveBack []change) {
	var gone []change
	for k, i := range r.carried {
		if c := r.all[i].c; c.Val != "" && !flows.isDesired(k) {
			gone = append(gone, change{Key: k, Old: holding(c.Val)})
		}
	}
	sortChanges(gone)
	p.fDel = append(p.fDel, gone...)
	r.open, r.version = false, version
	r.addBundled(p.gAdd, p.gMod, nil, nil, nil, nil)
	r.extend(p.fAdd)
	r.extend(p.fMod)
	r.addBundled(nil, nil, nil, nil, p.fDel, p.gDel)
	r.addItems(kindMeter, openflow.MeterDelete, false, p.mDel)
	r.carried = nil
	r.stats = roundStats(version, r.all)
	return append(p.mAdd, p.mMod...)
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
		case !it.c.Old.has():
			st.FlowAdds++
		default:
			st.FlowModifies++
		}
	}
	return st
}
