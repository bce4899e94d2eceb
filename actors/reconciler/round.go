package reconciler

import (
	"encoding/binary"

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
// installs ("" for a delete) and the message that does it.
type item struct {
	kind kind
	c    change
	msg  openflow.Message
	xid  uint32
	err  string // the switch's refusal, if any
}

// Phases of a round. Every update is one ORDERED|ATOMIC bundle (OVN's
// ofctrl does the same since 2021), with meters outside it because OVS
// cannot bundle meter_mods:
//
//	phaseAdd:    meter adds/mods, OPEN, group adds/mods, flow changes,
//	             group deletes (all as ADD_MESSAGE), BARRIER
//	phaseCommit: COMMIT, meter deletes, BARRIER
//
// The barrier before COMMIT lets every ADD_MESSAGE error arrive first: a
// refused message is not in the bundle, so COMMIT installs the rest. An error
// at COMMIT reverts the whole bundle (OFPBFC_MSG_FAILED follows the error of
// the message at fault); the round then ends with the culprit rejected and
// everything else marked dirty for the next round.
type phase uint8

const (
	phaseIdle phase = iota
	phaseAdd
	phaseCommit
)

// bundleID is the id of the one bundle ofactor has open at a time.
const bundleID = 1

// round is one update of the switch, from plan to barrier reply.
type round struct {
	version   uint64 // the desired version this round brings in
	ofVersion uint8
	phase     phase

	pre    []*item // meter adds/mods, sent before the bundle
	bundle []*item // bundled group and flow changes
	post   []*item // meter deletes, after the commit

	// xids of this round's control messages; 0 when not sent.
	openXID, commitXID, barrierXID uint32
	first                          uint32 // xid of the first message of the current phase
	byXID                          map[uint32]*item
	failed                         string // the bundle as a whole failed: why
}

// newRound turns the plans of the three keyspaces into a round. It returns
// nil when there is nothing to send.
func newRound(ofVersion uint8, version uint64, flows, groups, meters *keyspace) *round {
	r := &round{version: version, ofVersion: ofVersion, byXID: map[uint32]*item{}}
	mAdd, mMod, mDel := meters.plan()
	gAdd, gMod, gDel := groups.plan()
	fAdd, fMod, fDel := flows.plan()
	for _, c := range append(mAdd, mMod...) {
		cmd := openflow.MeterAdd
		if c.Old != "" {
			cmd = openflow.MeterModify
		}
		r.pre = append(r.pre, &item{kind: kindMeter, c: c, msg: MeterMessage(ofVersion, cmd, id32(c.Key), c.Val)})
	}
	for _, c := range append(gAdd, gMod...) {
		cmd := openflow.GroupAdd
		if c.Old != "" {
			cmd = openflow.GroupModify
		}
		r.bundle = append(r.bundle, &item{kind: kindGroup, c: c, msg: GroupMessage(ofVersion, cmd, id32(c.Key), c.Val)})
	}
	for _, c := range fAdd {
		r.bundle = append(r.bundle, &item{kind: kindFlow, c: c, msg: FlowModMessage(ofVersion, openflow.FlowAdd, c.Key, c.Val)})
	}
	for _, c := range fMod {
		cmd := openflow.FlowModifyStrict
		if !sameButActions(c.Val, c.Old) {
			cmd = openflow.FlowAdd
		}
		r.bundle = append(r.bundle, &item{kind: kindFlow, c: c, msg: FlowModMessage(ofVersion, cmd, c.Key, c.Val)})
	}
	for _, c := range fDel {
		r.bundle = append(r.bundle, &item{kind: kindFlow, c: c, msg: FlowModMessage(ofVersion, openflow.FlowDeleteStrict, c.Key, c.Old)})
	}
	for _, c := range gDel {
		r.bundle = append(r.bundle, &item{kind: kindGroup, c: c, msg: GroupMessage(ofVersion, openflow.GroupDelete, id32(c.Key), c.Old)})
	}
	for _, c := range mDel {
		r.post = append(r.post, &item{kind: kindMeter, c: c, msg: MeterMessage(ofVersion, openflow.MeterDelete, id32(c.Key), "")})
	}
	if len(r.pre)+len(r.bundle)+len(r.post) == 0 {
		return nil
	}
	return r
}

func id32(key string) uint32 { return binary.BigEndian.Uint32([]byte(key)) }

func idKey(id uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], id)
	return string(b[:])
}

// items returns every item of the round.
func (r *round) items() []*item {
	all := make([]*item, 0, len(r.pre)+len(r.bundle)+len(r.post))
	all = append(all, r.pre...)
	all = append(all, r.bundle...)
	return append(all, r.post...)
}

// addPhase returns the messages of the first phase. Their xids are assigned
// by the connection actor and reported back through sentAdd.
func (r *round) addPhase() []openflow.Message {
	r.phase = phaseAdd
	msgs := make([]openflow.Message, 0, len(r.pre)+len(r.bundle)+3)
	for _, it := range r.pre {
		msgs = append(msgs, it.msg)
	}
	if len(r.bundle) > 0 {
		msgs = append(msgs, bundleControl(r.ofVersion, openflow.BundleOpenRequest))
		for _, it := range r.bundle {
			msgs = append(msgs, &openflow.BundleAdd{
				Header:   openflow.Header{Version: r.ofVersion},
				BundleID: bundleID,
				Flags:    bundleFlags,
				Message:  it.msg,
			})
		}
	}
	return append(msgs, &openflow.BarrierRequest{})
}

// sentAdd records the xids of the first phase: Msgs[i] went out as first+i.
func (r *round) sentAdd(first uint32) {
	x := first
	for _, it := range r.pre {
		it.xid = x
		r.byXID[x] = it
		x++
	}
	if len(r.bundle) > 0 {
		r.openXID = x
		x++
		for _, it := range r.bundle {
			it.xid = x
			r.byXID[x] = it
			x++
		}
	}
	r.barrierXID = x
}

// commitPhase returns the messages of the second phase.
func (r *round) commitPhase() []openflow.Message {
	r.phase = phaseCommit
	var msgs []openflow.Message
	if r.bundleLive() {
		msgs = append(msgs, bundleControl(r.ofVersion, openflow.BundleCommitRequest))
	}
	for _, it := range r.post {
		msgs = append(msgs, it.msg)
	}
	return append(msgs, &openflow.BarrierRequest{})
}

// sentCommit records the xids of the second phase.
func (r *round) sentCommit(first uint32) {
	x := first
	r.commitXID = 0
	if r.bundleLive() {
		r.commitXID = x
		x++
	}
	for _, it := range r.post {
		it.xid = x
		r.byXID[x] = it
		x++
	}
	r.barrierXID = x
}

// bundleLive reports whether there is a bundle to commit: it was opened and
// not every message in it was refused.
func (r *round) bundleLive() bool {
	if len(r.bundle) == 0 || r.failed != "" {
		return false
	}
	for _, it := range r.bundle {
		if it.err == "" {
			return true
		}
	}
	return false
}

// onError attributes an error reply to the item or control message with its
// xid. It returns the item at fault, or nil for a control message.
func (r *round) onError(xid uint32, name string) *item {
	if it, ok := r.byXID[xid]; ok {
		it.err = name
		return it
	}
	switch xid {
	case r.openXID:
		r.failed = "bundle open: " + name
	case r.commitXID:
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

func bundleControl(version uint8, typ uint16) openflow.Message {
	return &openflow.BundleControl{
		Header:   openflow.Header{Version: version},
		BundleID: bundleID,
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
	for _, it := range r.pre {
		r.settle(ks(it.kind), it, true, &refused)
	}
	committed := r.failed == "" && r.phase == phaseCommit
	for _, it := range r.bundle {
		r.settle(ks(it.kind), it, committed, &refused)
	}
	for _, it := range r.post {
		r.settle(ks(it.kind), it, r.phase == phaseCommit, &refused)
	}
	return refused
}

func (r *round) settle(s *keyspace, it *item, done bool, refused *[]*item) {
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
