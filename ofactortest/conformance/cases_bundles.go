package conformance

import (
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// ONF bundles in OpenFlow 1.3 (ONFT_BUNDLE_CONTROL / ADD_MESSAGE).

func init() {
	register("bundle/commit", func(h *H) {
		c := h.Dial("c")
		c.Exchange(flow("table=1,priority=1 actions=drop"))
		r := c.Exchange(
			open(1, atomic),
			add(1, atomic, group("group_id=5,type=all,bucket=actions=output:1")),
			add(1, atomic, flow("table=1,priority=2 actions=group:5")),
			add(1, atomic, flow("delete_strict table=1,priority=1")),
			add(1, atomic, flowCmd(openflow.FlowModifyStrict, "table=1,priority=2 actions=group:5,output:3")),
			commit(1, atomic))
		h.Want("replies", r.Summary(), "@0 bundle OPEN_REPLY", "@5 bundle COMMIT_REPLY")
		h.Want("flows", h.Flows(), " table=1, priority=2 actions=group:5,output:3")
		h.Groups()
		// A committed bundle is gone.
		h.Want("replies", c.Exchange(commit(1, atomic)).Summary(), "@0 error OFPBFC_BAD_ID")
	})

	register("bundle/error-at-add", func(h *H) {
		c := h.Dial("c")
		// What is wrong with a message alone is refused when it is added,
		// with the ADD_MESSAGE's xid; the bundle stays open, and a commit
		// applies the rest.
		r := c.Exchange(
			open(2, atomic),
			add(2, atomic, flow("table=1,priority=1 actions=drop")),
			add(2, atomic, flow("table=3,priority=2 actions=goto_table:1")),
			add(2, atomic, flow("table=1,priority=3,tun_metadata0=1 actions=drop")),
			add(2, atomic, internalTable(flow("table=1,priority=3 actions=drop"))),
			add(2, atomic, flow("table=1,priority=4 actions=drop")))
		h.Want("replies", r.Summary(),
			"@0 bundle OPEN_REPLY",
			"@2 error OFPBIC_BAD_TABLE_ID",
			"@3 error NXFMFC_INVALID_TLV_FIELD",
			"@4 error OFPBRC_EPERM")
		h.Want("nothing yet", h.Flows())
		h.Want("replies", c.Exchange(commit(2, atomic)).Summary(), "@0 bundle COMMIT_REPLY")
		h.Want("flows", h.Flows(), " table=1, priority=1 actions=drop", " table=1, priority=4 actions=drop")
	})

	register("bundle/error-at-commit-reverts", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			group("group_id=1,type=all,bucket=actions=output:1"),
			meter("meter=1,kbps,bands=type=drop,rate=5"),
			flow("table=1,priority=1 actions=group:1"),
			flow("table=1,priority=2 actions=output:2"),
			flow("check_overlap,table=2,priority=5,ip actions=drop"))
		before := h.Flows()
		// What depends on the tables is found at commit: that message's
		// own error, quoting its ADD_MESSAGE, then OFPBFC_MSG_FAILED for
		// the commit, and nothing done.
		for _, bad := range []struct {
			m   openflow.Message
			err string
		}{
			{flow("table=1,priority=9 actions=group:9"), "OFPBAC_BAD_OUT_GROUP"},
			{flow("table=1,priority=9 actions=group:1"), "OFPBAC_BAD_OUT_GROUP"}, // deleted earlier in the bundle
			{flow("table=1,priority=9 actions=meter:9"), "OFPMMFC_INVALID_METER"},
			{flow("check_overlap,table=2,priority=5,ip,nw_src=1.1.1.1 actions=drop"), "OFPFMFC_OVERLAP"},
			{group("group_id=2,type=all,bucket=actions=output:3"), "OFPGMFC_GROUP_EXISTS"}, // added earlier in the bundle
			{groupCmd(openflow.GroupModify, "group_id=8,type=all,bucket=actions=output:3"), "OFPGMFC_UNKNOWN_GROUP"},
		} {
			r := c.Exchange(
				open(3, atomic),
				add(3, atomic, flow("delete table=1")),
				add(3, atomic, &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1}),
				add(3, atomic, group("group_id=2,type=all,bucket=actions=output:2")),
				add(3, atomic, flow("table=1,priority=3 actions=group:2")),
				add(3, atomic, bad.m),
				add(3, atomic, flow("table=1,priority=4 actions=drop")),
				commit(3, atomic))
			h.Want("replies", r.Errors(), "@5 "+bad.err, "@7 OFPBFC_MSG_FAILED")
			h.Want("flows unchanged", h.Flows(), before...)
			h.Want("groups unchanged", h.Groups(), "group_id=1,type=all,bucket=actions=output:1")
			h.Want("gone", c.Exchange(commit(3, atomic)).Summary(), "@0 error OFPBFC_BAD_ID")
		}
	})

	register("bundle/state-errors", func(h *H) {
		c := h.Dial("c")
		f := flow("table=1,priority=1 actions=drop")
		r := c.Exchange(
			commit(9, atomic),                // no such bundle
			closeB(9, atomic),                // no such bundle
			discard(9, atomic),               // no such bundle
			open(1, atomic), open(1, atomic), // twice: refused, and the first is gone
			commit(1, atomic),                  // gone
			open(2, atomic), closeB(2, atomic), // closed
			closeB(2, atomic), // twice: refused, and gone
			commit(2, atomic),
			open(3, atomic), closeB(3, atomic),
			add(3, atomic, f),                                                                        // to a closed bundle: refused, gone
			commit(3, atomic),                                                                        // gone
			open(4, atomic), add(4, openflow.BundleOrdered, flow("table=1,priority=4 actions=drop")), // other flags
			commit(4, atomic),                                 // gone
			open(5, atomic), commit(5, openflow.BundleAtomic), // commit with other flags
			commit(5, atomic),                                  // gone
			open(6, atomic), closeB(6, openflow.BundleOrdered), // close with other flags: gone
			open(6, 0), discard(6, 0), commit(6, 0), // discarded
			bundleCtl(openflow.BundleOpenReply, 7, 0),               // a reply type
			add(8, atomic, flow("table=1,priority=8 actions=drop")), // an add opens the bundle
			commit(8, atomic))
		h.Want("replies", r.Summary(),
			"@0 error OFPBFC_BAD_ID",
			"@1 error OFPBFC_BAD_ID",
			"@2 error OFPBFC_BAD_ID",
			"@3 bundle OPEN_REPLY",
			"@4 error OFPBFC_BAD_ID",
			"@5 error OFPBFC_BAD_ID",
			"@6 bundle OPEN_REPLY",
			"@7 bundle CLOSE_REPLY",
			"@8 error OFPBFC_BUNDLE_CLOSED",
			"@9 error OFPBFC_BAD_ID",
			"@10 bundle OPEN_REPLY",
			"@11 bundle CLOSE_REPLY",
			"@12 error OFPBFC_BUNDLE_CLOSED",
			"@13 error OFPBFC_BAD_ID",
			"@14 bundle OPEN_REPLY",
			"@15 error OFPBFC_BAD_FLAGS",
			"@16 error OFPBFC_BAD_ID",
			"@17 bundle OPEN_REPLY",
			"@18 error OFPBFC_BAD_FLAGS",
			"@19 error OFPBFC_BAD_ID",
			"@20 bundle OPEN_REPLY",
			"@21 error OFPBFC_BAD_FLAGS",
			"@22 bundle OPEN_REPLY",
			"@23 bundle DISCARD_REPLY",
			"@24 error OFPBFC_BAD_ID",
			"@25 error OFPBFC_BAD_TYPE",
			"@27 bundle COMMIT_REPLY")
		h.Want("flows", h.Flows(), " table=1, priority=8 actions=drop")
	})

	register("bundle/unbundlable-and-framing", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			open(1, atomic),
			add(1, atomic, meter("meter=1,kbps,bands=type=drop,rate=5")),
			add(1, atomic, tlvAdd(geneve(0))),
			add(1, atomic, &openflow.BarrierRequest{}),
			add(1, atomic, &openflow.EchoRequest{}))
		h.Want("replies", r.Summary(),
			"@0 bundle OPEN_REPLY",
			"@1 error OFPBFC_MSG_UNSUP",
			"@2 error OFPBFC_MSG_UNSUP",
			"@3 error OFPBFC_MSG_UNSUP",
			"@4 error OFPBFC_MSG_UNSUP")
		// Broken framing of the inner message.
		good := encode(add(1, atomic, flow("table=1 actions=drop")), 0)
		mutate := func(f func(b []byte)) []byte {
			b := append([]byte(nil), good...)
			x := c.XID()
			for _, off := range []int{4, 28} { // outer and inner xid
				b[off], b[off+1], b[off+2], b[off+3] = byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
			}
			f(b)
			return b
		}
		var got []string
		for _, b := range [][]byte{
			mutate(func(b []byte) { b[31]++ }),                                // inner xid differs
			mutate(func(b []byte) { b[24] = 5 }),                              // inner version differs
			mutate(func(b []byte) { b[26], b[27] = 0xff, 0xff }),              // inner length too long
			mutate(func(b []byte) { b[26], b[27] = 0, 4 }),                    // inner length too short
			mutate(func(b []byte) { b[25] = 99 }),                             // inner type unknown
			mutate(func(b []byte) { b[26], b[27] = 0, byte(len(good)-24-1) }), // inner flow_mod of a bad length
		} {
			got = append(got, c.ExchangeRaw(b).Summary()...)
		}
		h.Want("replies", got,
			"@0 error OFPBFC_MSG_BAD_XID",
			"@0 error NXBRC_UNENCODABLE_ERROR", // OFPBFC_BAD_VERSION has no OpenFlow 1.3 code
			"@0 error OFPBFC_MSG_BAD_LEN",
			"@0 error OFPBFC_MSG_BAD_LEN",
			"@0 error OFPBFC_MSG_UNSUP",
			"@0 error OFPBFC_MSG_UNSUP")
		h.Want("still open", c.Exchange(commit(1, atomic)).Summary(), "@0 bundle COMMIT_REPLY")
	})

	register("bundle/per-connection", func(h *H) {
		a, b := h.Dial("a"), h.Dial("b")
		h.Want("a", a.Exchange(open(1, atomic), add(1, atomic, flow("table=1 actions=drop"))).Summary(), "@0 bundle OPEN_REPLY")
		h.Want("b", b.Exchange(commit(1, atomic), open(1, atomic)).Summary(), "@0 error OFPBFC_BAD_ID", "@1 bundle OPEN_REPLY")
		h.Want("a", a.Exchange(commit(1, atomic)).Summary(), "@0 bundle COMMIT_REPLY")
		h.Want("b", b.Exchange(commit(1, atomic)).Summary(), "@0 bundle COMMIT_REPLY")
		h.Want("flows", h.Flows(), " table=1, actions=drop")
	})

	register("bundle/idle-timeout", func(h *H) {
		if err := h.B.SetBundleIdleTimeout(time.Second); err != nil {
			h.Fatal(err)
		}
		defer h.B.SetBundleIdleTimeout(10 * time.Second)
		c := h.Dial("c")
		r := c.Exchange(open(1, atomic), add(1, atomic, flow("table=1 actions=drop")))
		h.Want("replies", r.Summary(), "@0 bundle OPEN_REPLY")
		// The expiry comes unasked: OFPBFC_TIMEOUT quoting the OPEN.
		f := c.Read()
		if f == nil || f[1] != byte(openflow.TypeError) {
			h.Fatalf("no timeout error")
		}
		h.Want("gone", c.Exchange(commit(1, atomic)).Summary(), "@0 error OFPBFC_BAD_ID")
	})
}
