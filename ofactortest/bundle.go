package ofactortest

import (
	"encoding/binary"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Bundles as OVS 3.1 keeps them (ofproto/bundles.c, ofproto.c
// handle_bundle_control, handle_bundle_add, do_bundle_commit): per
// connection, by id. A message is decoded when it is added, so that what
// is wrong with it alone is refused at once with the ADD_MESSAGE's xid;
// what depends on the tables is found at commit, which then sends that
// error (quoting the ADD_MESSAGE), reverts everything and fails with
// OFPBFC_MSG_FAILED.

// bundle is one open (or closed, not yet committed) bundle.
type bundle struct {
	id     uint32
	flags  uint16
	closed bool
	used   time.Time
	opener []byte // the message that made it, quoted by OFPBFC_TIMEOUT
	msgs   []bundled
}

// bundled is one message of a bundle.
type bundled struct {
	add   []byte // the ADD_MESSAGE as received
	flow  *flowOp
	group *groupOp
}

// bundleCtrlLen is the header and struct ofp14_bundle_ctrl_msg in
// OpenFlow 1.3's ONF framing.
const bundleCtrlLen = 24

// handleBundleControl is handle_bundle_control.
func (c *conn) handleBundleControl(r *request) string {
	var m openflow.BundleControl
	if err := m.UnmarshalBinary(r.raw); err != nil {
		return "OFPBRC_BAD_LEN"
	}
	s := c.sw
	now := s.cfg.now()
	b := c.bundles[m.BundleID]
	var reply uint16
	switch m.Type {
	case openflow.BundleOpenRequest:
		reply = openflow.BundleOpenReply
		if b != nil {
			delete(c.bundles, m.BundleID)
			return "OFPBFC_BAD_ID"
		}
		c.bundles[m.BundleID] = &bundle{id: m.BundleID, flags: m.Flags, used: now, opener: r.raw}
		s.startJanitor()
	case openflow.BundleCloseRequest:
		reply = openflow.BundleCloseReply
		switch {
		case b == nil:
			return "OFPBFC_BAD_ID"
		case b.closed:
			delete(c.bundles, m.BundleID)
			return "OFPBFC_BUNDLE_CLOSED"
		case b.flags != m.Flags:
			delete(c.bundles, m.BundleID)
			return "OFPBFC_BAD_FLAGS"
		}
		b.used, b.closed = now, true
	case openflow.BundleCommitRequest:
		reply = openflow.BundleCommitReply
		if b == nil {
			return "OFPBFC_BAD_ID"
		}
		// The bundle is gone whatever the outcome.
		delete(c.bundles, m.BundleID)
		if b.flags != m.Flags {
			return "OFPBFC_BAD_FLAGS"
		}
		if e := c.commit(r, b); e != "" {
			return e
		}
	case openflow.BundleDiscardRequest:
		reply = openflow.BundleDiscardReply
		if b == nil {
			return "OFPBFC_BAD_ID"
		}
		delete(c.bundles, m.BundleID)
	case openflow.BundleOpenReply, openflow.BundleCloseReply, openflow.BundleCommitReply, openflow.BundleDiscardReply:
		return "OFPBFC_BAD_TYPE"
	default:
		return "OFPBFC_BAD_TYPE"
	}
	r.reply(&openflow.BundleControl{
		Header:   openflow.Header{Version: r.raw[0], XID: r.xid},
		BundleID: m.BundleID,
		Type:     reply,
	})
	return ""
}

// commit applies a bundle's messages in order; the first to fail is
// reported with its ADD_MESSAGE's xid and all are undone.
func (c *conn) commit(r *request, b *bundle) string {
	s := c.sw
	j := &journal{}
	for _, m := range b.msgs {
		var e string
		switch {
		case m.flow != nil:
			e = s.startFlowMod(m.flow, j)
		case m.group != nil:
			e = s.startGroupMod(m.group, j)
		}
		if e != "" {
			r.replyRaw(errorMessage(m.add, e))
			j.revert()
			return "OFPBFC_MSG_FAILED"
		}
	}
	return ""
}

// handleBundleAdd is handle_bundle_add: ofputil_decode_bundle_add's
// checks of the inner message, its own decoding, then the bundle's state.
func (c *conn) handleBundleAdd(r *request) string {
	be := binary.BigEndian
	raw := r.raw
	id, flags := be.Uint32(raw[16:]), be.Uint16(raw[22:])
	in := raw[bundleCtrlLen:]
	if len(in) < openflow.HeaderLen {
		return "OFPBFC_MSG_BAD_LEN"
	}
	if in[0] != raw[0] {
		return "OFPBFC_BAD_VERSION"
	}
	n := int(be.Uint16(in[2:]))
	if n < openflow.HeaderLen || n > len(in) {
		return "OFPBFC_MSG_BAD_LEN"
	}
	if be.Uint32(in[4:]) != r.xid {
		return "OFPBFC_MSG_BAD_XID"
	}
	in = in[:n]
	k, e := classify(in)
	if e != "" {
		return "OFPBFC_MSG_UNSUP"
	}
	c.sw.count(k.name)
	m := bundled{add: raw}
	switch k.name {
	case MsgFlowMod:
		op, e := decodeFlowMod(c.sw.st, in)
		if e != "" {
			return e
		}
		m.flow = op
	case MsgGroupMod:
		op, e := decodeGroupMod(in)
		if e != "" {
			return e
		}
		m.group = op
	default:
		// OVS also bundles PORT_MOD and PACKET_OUT, which this switch
		// does not model.
		return "OFPBFC_MSG_UNSUP"
	}
	now := c.sw.cfg.now()
	b := c.bundles[id]
	switch {
	case b == nil:
		b = &bundle{id: id, flags: flags, opener: raw}
		c.bundles[id] = b
		c.sw.startJanitor()
	case b.closed:
		delete(c.bundles, id)
		return "OFPBFC_BUNDLE_CLOSED"
	case b.flags != flags:
		delete(c.bundles, id)
		return "OFPBFC_BAD_FLAGS"
	}
	b.used = now
	b.msgs = append(b.msgs, m)
	return ""
}

// expireBundles discards the connection's bundles idle for longer than
// the bundle idle timeout, each with OFPBFC_TIMEOUT quoting the message
// that made it (bundle_remove_expired).
func (c *conn) expireBundles(now time.Time) [][]byte {
	var out [][]byte
	limit := now.Add(-c.sw.cfg.bundleIdle)
	for _, id := range sortedIDs(c.bundles) {
		b := c.bundles[id]
		if !b.used.After(limit) {
			out = append(out, errorMessage(b.opener, "OFPBFC_TIMEOUT"))
			delete(c.bundles, id)
		}
	}
	return out
}

// decodeForHooks decodes a flow_mod for the refusal hooks, which see
// messages in the codec's form.
func decodeForHooks(raw []byte) *openflow.FlowMod {
	var fm openflow.FlowMod
	if fm.UnmarshalBinary(raw) != nil {
		return nil
	}
	return &fm
}
