package reconciler

import (
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// A round's messages go out in windows, each one Send ending with a
// barrier; this file is the round's side of that: which messages a window
// holds, which xid is which item, and what the switch's answers mean.

// outgoing is a window to send: its messages and how long the connection
// routes replies to each (a bundle ADD_MESSAGE stays routed until the
// barrier after the COMMIT: OVS names a message that fails at commit by its
// ADD_MESSAGE's xid).
type outgoing struct {
	w       *window
	msgs    []openflow.Message
	routing []messages.Routing
}

func (o *outgoing) add(m openflow.Message, r messages.Routing, slot int32) {
	o.msgs = append(o.msgs, m)
	o.routing = append(o.routing, r)
	o.w.slots = append(o.w.slots, slot)
}

// moreAdds reports whether the add phase has a window left to send: items
// not yet sent, or the first window (OPEN) of a round that has none. An
// open round sends only what it has.
func (r *round) moreAdds() bool {
	if r.failed != "" || r.discard {
		return false
	}
	return r.cursor < r.nPre+r.nBundle || len(r.windows) == 0 && !r.open
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
// assigned by the connection and reported back through sentWindow.
func (r *round) nextWindow(ref uint64) *outgoing {
	o := &outgoing{w: &window{ref: ref}}
	for ; r.cursor < r.nPre; r.cursor++ {
		o.add(r.all[r.cursor].message(r.ofVersion), messages.RouteDefault, int32(r.cursor))
	}
	if (r.nBundle > 0 || r.open) && !r.opened {
		r.opened = true
		// Routed until the commit: a bundle that expires (OVS's idle
		// timeout) is reported with an error carrying the OPEN's xid.
		o.add(bundleControl(r.ofVersion, r.bundleID, openflow.BundleOpenRequest), messages.RouteUntilRelease, slotOpen)
	}
	for end := min(r.cursor+r.windowSize, r.nPre+r.nBundle); r.cursor < end; r.cursor++ {
		o.add(&openflow.BundleAdd{
			Header:   openflow.Header{Version: r.ofVersion},
			BundleID: r.bundleID,
			Flags:    bundleFlags,
			Message:  r.all[r.cursor].message(r.ofVersion),
		}, messages.RouteUntilRelease, int32(r.cursor))
	}
	return r.closeWindow(o)
}

// keepaliveWindow returns a window that only keeps the round's open bundle
// alive: OVS discards a bundle that has taken no message for its idle
// timeout (other_config:bundle-idle-timeout, 10 s by default), and an
// ADD_MESSAGE sent after that would open a new bundle implicitly, holding
// only what follows. A streamed round waiting for the next part of a slow
// put sends this now and then: the ADD_MESSAGE of a DELETE_STRICT whose
// cookie filter, -1 under a full mask, matches no flow (no flow can have
// cookie -1: OpenFlow reserves it), so that committing it changes nothing.
func (r *round) keepaliveWindow(ref uint64) *outgoing {
	o := &outgoing{w: &window{ref: ref}}
	del := openflow.NewFlowMod(r.ofVersion, openflow.FlowDeleteStrict)
	del.Cookie, del.CookieMask = ^uint64(0), ^uint64(0)
	o.add(&openflow.BundleAdd{Header: openflow.Header{Version: r.ofVersion}, BundleID: r.bundleID, Flags: bundleFlags,
		Message: del}, messages.RouteUntilRelease, slotKeepalive)
	return r.closeWindow(o)
}

// closeWindow ends a window with a barrier and records it.
func (r *round) closeWindow(o *outgoing) *outgoing {
	o.add(openflow.NewBarrierRequest(r.ofVersion), messages.RouteDefault, slotBarrier)
	for _, s := range o.w.slots {
		if s >= 0 {
			o.w.items++
		}
	}
	r.sent += o.w.items
	r.windows = append(r.windows, o.w)
	return o
}

// sentWindow records the xids of the window sent as ref: its i-th message
// went out as first+i. It reports whether ref was one of the round's.
func (r *round) sentWindow(ref uint64, first uint32) bool {
	for _, w := range r.windows {
		if w.ref != ref {
			continue
		}
		w.acked, w.first = true, first
		for i, s := range w.slots {
			if s >= 0 {
				r.all[s].xid = first + uint32(i)
			}
		}
		return true
	}
	return false
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
// confirmed, so that the commit (or discard) can go.
func (r *round) addsDone() bool {
	return r.phase == phaseAdd && !r.open && !r.moreAdds() && r.inFlight() == 0
}

// endPhase returns the window of the second phase: COMMIT (DISCARD for a
// discarded or failed bundle) and the meter deletes.
func (r *round) endPhase(ref uint64) *outgoing {
	r.phase = phaseCommit
	o := &outgoing{w: &window{ref: ref}}
	switch {
	case r.bundleLive() && !r.discard && !r.check:
		r.committed = true
		o.add(bundleControl(r.ofVersion, r.bundleID, openflow.BundleCommitRequest), messages.RouteRelease, slotCommit)
	case r.opened:
		// Given up, failed, or nothing in it the switch took: nothing to
		// commit, and an open bundle would linger on the switch.
		o.add(bundleControl(r.ofVersion, r.bundleID, openflow.BundleDiscardRequest), messages.RouteRelease, slotCommit)
	}
	if !r.discard && !r.check && r.failed == "" {
		for i := r.nPre + r.nBundle; i < len(r.all); i++ {
			o.add(r.all[i].message(r.ofVersion), messages.RouteDefault, int32(i))
		}
	}
	return r.closeWindow(o)
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
	case s == slotCommit && !r.discard:
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
// rejected, and what a failed or discarded bundle reverted is marked dirty
// again. It returns the refused items, for reporting, and whether a refusal
// said our view of the switch was stale (the round then did not bring its
// version in, though nothing was refused: the next round will).
func (r *round) finish(st *State) (refused []*item, stale bool) {
	committed := r.failed == "" && !r.discard && !r.check && r.phase == phaseCommit
	for i, it := range r.all {
		done := it.xid != 0 // sent: unbundled items take effect at once
		switch {
		case it.bundled:
			done = committed
		case i >= r.nPre:
			done = done && committed
		}
		if h, ok := staleView(it.kind, it.err); ok {
			// Not a refusal of the object: correct our view and plan again.
			s := st.keyspace(it.kind)
			s.installedAs(it.c.Key, h)
			s.dirty[it.c.Key] = struct{}{}
			stale = true
		} else if r.settle(st.keyspace(it.kind), it, done) {
			refused = append(refused, it)
		}
	}
	st.trim()
	return refused, stale
}

// settle applies one item's outcome; it reports whether the switch refused
// the object.
func (r *round) settle(s *keyspace, it *item, done bool) bool {
	switch {
	case it.err != "":
		s.rejectedAs(it.c.Key, it.c.Val, it.err, r.version)
		return true
	case done && it.c.Val == "":
		s.installedAs(it.c.Key, nothing)
	case done:
		s.installedAs(it.c.Key, holding(it.c.Val))
	default:
		s.retry([]change{it.c})
	}
	return false
}

// abort gives the round up (the connection was lost): every item is marked
// dirty again. What the switch really holds is read back after the next
// connect, so nothing is assumed installed.
func (r *round) abort(st *State) {
	for _, it := range r.all {
		st.keyspace(it.kind).retry([]change{it.c})
	}
}

// carries reports whether the round sends something for key of kind k.
func (r *round) carries(k kind, key string) bool {
	for _, it := range r.all {
		if it.kind == k && it.c.Key == key {
			return true
		}
	}
	return false
}
