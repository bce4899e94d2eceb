package conformance

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Flow table semantics: ADD, MODIFY, DELETE, cookies, overlap, filters.

func init() {
	register("add/replaces-identical", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			flow("cookie=0x1,table=1,priority=5,ip,nw_dst=10.0.0.1 actions=output:1"),
			flow("cookie=0x2,table=1,priority=5,ip,nw_dst=10.0.0.1 actions=output:2"),
			flow("cookie=0x3,table=1,priority=6,ip,nw_dst=10.0.0.1 actions=output:3"))
		h.Want("replies", r.Summary())
		h.Want("flows", h.Flows(),
			" cookie=0x2, table=1, priority=5,ip,nw_dst=10.0.0.1 actions=output:2",
			" cookie=0x3, table=1, priority=6,ip,nw_dst=10.0.0.1 actions=output:3")
	})

	register("add/check-overlap", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			flow("table=2,priority=10,ip actions=drop"),
			flow("check_overlap,table=2,priority=10,ip,nw_dst=10.0.0.1 actions=drop"), // overlaps "ip"
			flow("check_overlap,table=2,priority=11,ip,nw_dst=10.0.0.1 actions=drop"), // another priority
			flow("check_overlap,table=2,priority=10,arp actions=drop"),                // disjoint
			flow("check_overlap,table=2,priority=10,ip actions=output:1"),             // identical: replaces
			flow("check_overlap,table=3,priority=10,ip,nw_dst=10.0.0.1 actions=drop"), // another table
			flow("check_overlap,table=2,priority=10,ipv6 actions=drop"))
		h.Want("replies", r.Summary(), "@1 error OFPFMFC_OVERLAP")
		h.Flows()
	})

	register("add/flags-kept-and-reset", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,table=1,priority=7,idle_timeout=100,hard_timeout=200 actions=drop"),
			flow("send_flow_rem,table=1,priority=8 actions=drop"))
		h.Flows()
		// A modify keeps the flow's flags and timeouts; an add replaces them.
		c.Exchange(flowCmd(openflow.FlowModifyStrict, "table=1,priority=7,idle_timeout=5 actions=output:1"))
		c.Exchange(flow("table=1,priority=8,hard_timeout=9 actions=output:2"))
		h.Flows()
	})

	register("add/cookie-mask-ignored", func(h *H) {
		c := h.Dial("c")
		fm := flow("cookie=0x55,table=1 actions=drop")
		fm.CookieMask = 0xff
		h.Want("replies", c.Exchange(fm).Summary())
		h.Flows()
	})

	register("modify/matching-nothing-adds-nothing", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			flowCmd(openflow.FlowModify, "table=1,ip actions=drop"),
			flowCmd(openflow.FlowModifyStrict, "table=1,priority=5,ip actions=drop"),
			flowCmd(openflow.FlowModify, "cookie=0x5,table=1 actions=drop"))
		h.Want("replies", r.Summary())
		h.Want("flows", h.Flows())
	})

	register("modify/loose-and-strict", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("cookie=0x1,table=1,priority=10,ip,nw_dst=10.0.0.1 actions=output:1"),
			flow("cookie=0x2,table=1,priority=20,ip,nw_dst=10.0.0.2 actions=output:2"),
			flow("cookie=0x3,table=1,priority=5,arp actions=output:3"),
			flow("cookie=0x4,table=2,priority=5,ip actions=output:4"))
		// Loose: every ip flow of table 1, whatever its priority; the
		// cookie of a modify does not change the flows' cookies.
		r := c.Exchange(flowCmd(openflow.FlowModify, "cookie=0x99,table=1,priority=1,ip actions=drop"))
		h.Want("replies", r.Summary())
		h.Want("flows", h.Flows(),
			" cookie=0x1, table=1, priority=10,ip,nw_dst=10.0.0.1 actions=drop",
			" cookie=0x2, table=1, priority=20,ip,nw_dst=10.0.0.2 actions=drop",
			" cookie=0x3, table=1, priority=5,arp actions=output:3",
			" cookie=0x4, table=2, priority=5,ip actions=output:4")
		// Strict: that priority and match only.
		c.Exchange(
			flowCmd(openflow.FlowModifyStrict, "table=1,priority=20,ip actions=output:9"),
			flowCmd(openflow.FlowModifyStrict, "table=1,priority=20,ip,nw_dst=10.0.0.2 actions=output:7"))
		h.Flows()
	})

	register("modify/cookie-mask", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("cookie=0x1,table=1,priority=1 actions=output:1"),
			flow("cookie=0x2,table=1,priority=2 actions=output:1"),
			flow("cookie=0x11,table=1,priority=3 actions=output:1"))
		m := flowCmd(openflow.FlowModify, "cookie=0x1,table=1 actions=output:5")
		m.CookieMask = 0xf
		c.Exchange(m)
		h.Flows()
	})

	register("delete/loose-subsumption", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("table=1,priority=1,ip actions=drop"),
			flow("table=1,priority=2,ip,nw_dst=10.0.0.0/8 actions=drop"),
			flow("table=1,priority=3,ip,nw_dst=10.1.0.0/16 actions=drop"),
			flow("table=1,priority=4,ip,nw_dst=11.0.0.0/8 actions=drop"),
			flow("table=1,priority=5,arp actions=drop"),
			flow("table=2,priority=2,ip,nw_dst=10.0.0.0/8 actions=drop"))
		r := c.Exchange(flowCmd(openflow.FlowDelete, "table=1,ip,nw_dst=10.0.0.0/8"))
		h.Want("replies", r.Summary())
		h.Want("flows", h.Flows(),
			" table=1, priority=1,ip actions=drop",
			" table=1, priority=4,ip,nw_dst=11.0.0.0/8 actions=drop",
			" table=1, priority=5,arp actions=drop",
			" table=2, priority=2,ip,nw_dst=10.0.0.0/8 actions=drop")
		// Without a table, every table.
		c.Exchange(flow("delete ip"))
		h.Want("flows", h.Flows(), " table=1, priority=5,arp actions=drop")
	})

	register("delete/strict", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("table=1,priority=1,ip actions=drop"),
			flow("table=1,priority=2,ip actions=drop"),
			flow("table=1,priority=2,ip,nw_src=1.2.3.4 actions=drop"))
		c.Exchange(
			flowCmd(openflow.FlowDeleteStrict, "table=1,priority=2,ip"),
			flowCmd(openflow.FlowDeleteStrict, "table=1,priority=9,ip"))
		h.Want("flows", h.Flows(),
			" table=1, priority=1,ip actions=drop",
			" table=1, priority=2,ip,nw_src=1.2.3.4 actions=drop")
		// delete_strict across all tables.
		c.Exchange(flowCmd(openflow.FlowDeleteStrict, "priority=1,ip"))
		h.Flows()
	})

	register("delete/cookie-mask", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("cookie=0x10,table=1,priority=1 actions=drop"),
			flow("cookie=0x11,table=1,priority=2 actions=drop"),
			flow("cookie=0x20,table=2,priority=3 actions=drop"))
		c.Exchange(flowCmd(openflow.FlowDelete, "cookie=0x10/0xf0"))
		h.Want("flows", h.Flows(), " cookie=0x20, table=2, priority=3 actions=drop")
		// A full mask looks in every table, 254's hidden flows too (whose
		// cookie is 0): those are read-only, so finding only them is EPERM.
		h.Want("replies", c.Exchange(flowCmd(openflow.FlowDelete, "cookie=0/0xffffffffffffffff")).Summary(), "@0 error OFPBRC_EPERM")
		h.Want("replies", c.Exchange(flowCmd(openflow.FlowDelete, "cookie=0x20/0xffffffffffffffff")).Summary())
		h.Want("flows", h.Flows())
	})

	register("delete/out-port-and-group", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			group("group_id=1,type=all,bucket=actions=output:1"),
			group("group_id=2,type=all,bucket=actions=output:2"),
			flow("table=1,priority=1 actions=output:1"),
			flow("table=1,priority=2 actions=output:2"),
			flow("table=1,priority=3 actions=clone(output:1)"),
			flow("table=1,priority=4 actions=group:1"),
			flow("table=1,priority=5 actions=group:2"),
			flow("table=1,priority=6 actions=write_actions(output:1)"),
			flow("table=1,priority=7 actions=CONTROLLER:100"),
			flow("table=1,priority=8 actions=output:1,group:2"))
		d := flowCmd(openflow.FlowDelete, "table=1")
		d.OutPort = 1
		c.Exchange(d)
		h.Flows()
		d = flowCmd(openflow.FlowDelete, "table=1")
		d.OutGroup = 2
		c.Exchange(d)
		h.Flows()
		d = flowCmd(openflow.FlowDelete, "table=1")
		d.OutPort = openflow.PortController
		c.Exchange(d)
		h.Flows()
	})

	register("table254/hidden-and-read-only", func(h *H) {
		c := h.Dial("c")
		h.Want("dump-flows", h.Flows())
		h.Table(254)
		r := c.Exchange(stats(openflow.TableAll), stats(254), stats(7))
		h.Want("replies", r.Summary(), "@0 flows 0", "@1 flows 4", "@2 flows 0")
		r = c.Exchange(
			internalTable(flow("table=1,priority=5 actions=drop")),
			internalTable(flowCmd(openflow.FlowModify, "table=1 actions=drop")),
			internalTable(flowCmd(openflow.FlowDelete, "table=1")),
			internalTable(flowCmd(openflow.FlowDelete, "table=1,reg0=0x5")),
			internalTable(flowCmd(openflow.FlowDeleteStrict, "table=1,priority=2,recirc_id=0")),
			flowCmd(openflow.FlowDelete, ""))
		h.Want("replies", r.Summary(),
			"@0 error OFPBRC_EPERM", "@1 error OFPBRC_EPERM", "@2 error OFPBRC_EPERM", "@4 error OFPBRC_EPERM")
		h.Table(254)
	})

	register("flowmod/invalid", func(h *H) {
		c := h.Dial("c")
		all := flow("actions=drop")
		all.TableID = openflow.TableAll
		mod := flowCmd(openflow.FlowModify, "actions=drop")
		mod.TableID = openflow.TableAll
		badCmd := flow("table=1 actions=drop")
		badCmd.Command = 7
		badFlags := flow("table=1 actions=drop")
		badFlags.Flags = 0x80
		buffer := flow("table=1 actions=drop")
		buffer.BufferID = 5
		badPort := flowCmd(openflow.FlowDelete, "table=1")
		badPort.OutPort = 0xff00
		r := c.Exchange(
			flow("table=5,priority=1 actions=goto_table:3"),
			flow("table=5,priority=2 actions=goto_table:5"),
			flow("table=5,priority=3 actions=goto_table:6"),
			flow("table=1 actions=group:99"),
			flow("table=1 actions=clone(group:98)"),
			flow("table=1 actions=meter:5"),
			all, mod, badCmd, badFlags, buffer, badPort,
			flow("table=1 actions=output:65280"))
		h.Want("replies", r.Summary(),
			"@0 error OFPBIC_BAD_TABLE_ID",
			"@1 error OFPBIC_BAD_TABLE_ID",
			"@3 error OFPBAC_BAD_OUT_GROUP",
			"@4 error OFPBAC_BAD_OUT_GROUP",
			"@5 error OFPMMFC_INVALID_METER",
			"@6 error OFPFMFC_BAD_TABLE_ID",
			"@7 error OFPFMFC_BAD_TABLE_ID",
			"@8 error OFPFMFC_BAD_COMMAND",
			"@9 error OFPFMFC_BAD_FLAGS",
			"@10 error OFPBRC_BUFFER_UNKNOWN",
			"@11 error OFPBAC_BAD_OUT_PORT",
			"@12 error OFPBAC_BAD_OUT_PORT")
		h.Flows()
	})

	register("flowmod/tun-metadata-unmapped", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			flow("table=1,tun_metadata0=0x5 actions=drop"),
			flow("table=1 actions=set_field:0x1->tun_metadata1"),
			tlvAdd(geneve(0)),
			flow("table=1,tun_metadata0=0x5 actions=drop"),
			flow("table=1,priority=2 actions=set_field:0x1->tun_metadata1"),
			flow("table=1,priority=3 actions=move:tun_metadata0[0..15]->reg1[0..15]"))
		h.Want("replies", r.Summary(),
			"@0 error NXFMFC_INVALID_TLV_FIELD",
			"@1 error NXFMFC_INVALID_TLV_FIELD",
			"@4 error NXFMFC_INVALID_TLV_FIELD")
		h.Flows()
	})

	register("flowmod/bad-matches", func(h *H) {
		c := h.Dial("c")
		base := encode(flow("table=1 actions=drop"), 0)
		// The flow_mod with its empty match (type 1, length 4, pad 4)
		// replaced by these OXM bytes.
		withFields := func(fields ...byte) []byte {
			m := append([]byte{0, 1, 0, byte(4 + len(fields))}, fields...)
			for len(m)%8 != 0 {
				m = append(m, 0)
			}
			b := append(append(append([]byte(nil), base[:48]...), m...), base[56:]...)
			b[2], b[3] = byte(len(b)>>8), byte(len(b))
			x := c.XID()
			b[4], b[5], b[6], b[7] = byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
			return b
		}
		const (
			ethType   = 0x0a
			vlanVID   = 0x0c
			ipProto   = 0x14
			tcpDst    = 0x1c
			unknown63 = 0x7e
			masked    = 1
		)
		cases := [][]byte{
			withFields(0x80, 0, tcpDst, 2, 0, 80),                                                    // no ip,tcp first
			withFields(0x80, 0, ethType, 2, 8, 0, 0x80, 0, ethType, 2, 8, 0),                         // eth_type twice
			withFields(0x80, 0, unknown63, 2, 0, 1),                                                  // no such field
			withFields(0x80, 0, ethType|masked, 4, 8, 0, 0xff, 0),                                    // eth_type is not maskable
			withFields(0x80, 0, vlanVID|masked, 4, 0, 0x0f, 0, 0x0e),                                 // value bits outside the mask
			withFields(0x80, 0, vlanVID, 2, 0xf0, 5),                                                 // PCP bits in vlan_vid
			withFields(0x80, 0, ethType, 2, 8, 0, 0x80, 0, ipProto, 1, 6, 0x80, 0, tcpDst, 2, 0, 80), // fine
			withFields(0x80, 0, ethType, 3, 8, 0, 0),                                                 // a 3-byte eth_type
			withFields(0x80, 0, ethType),                                                             // a truncated header
			withFields(0x80, 0, ethType, 4, 8, 0),                                                    // a truncated value
			// Fields that share storage.
			withFields(0, 1, 0, 4, 0, 0, 0, 1, 0x80, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2),       // reg0 and xreg0
			withFields(0, 1, 2, 4, 0, 0, 0, 1, 0x80, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2),       // reg1 and xreg0
			withFields(0, 1, 4, 4, 0, 0, 0, 1, 0x80, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2),       // reg2 and xreg0: fine
			withFields(0x80, 0, vlanVID, 2, 0x10, 5, 0x80, 0, 0x0e, 1, 3),                   // vlan_vid and vlan_pcp: fine
			withFields(0, 0, 8, 2, 0x10, 5, 0x80, 0, vlanVID, 2, 0x10, 5),                   // vlan_tci and vlan_vid
			withFields(0, 0, 0, 2, 0, 1, 0x80, 0, 0, 4, 0, 0, 0, 1),                         // in_port (NXM) and in_port (OXM)
			withFields(0x80, 0, ethType, 2, 8, 0, 0, 0, 0x0a, 1, 0x20, 0x80, 0, 0x10, 1, 8), // nw_tos and ip_dscp
			withFields(0x80, 0, ethType, 2, 8, 0, 0, 0, 0x0a, 1, 0x20, 0x80, 0, 0x12, 1, 1), // nw_tos and ip_ecn: fine
			withFields(0x80, 0, 0x34|masked, 0x20, 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), // ipv6_src/16 without ipv6
		}
		var got []string
		for _, b := range cases {
			got = append(got, c.ExchangeRaw(b).Summary()...)
		}
		h.Want("replies", got,
			"@0 error OFPBMC_BAD_PREREQ",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_BAD_FIELD",
			"@0 error OFPBMC_BAD_MASK",
			"@0 error OFPBMC_BAD_WILDCARDS",
			"@0 error OFPBMC_BAD_VALUE",
			"@0 error OFPBMC_BAD_FIELD",
			"@0 error OFPBMC_BAD_LEN",
			"@0 error OFPBMC_BAD_LEN",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_DUP_FIELD",
			"@0 error OFPBMC_BAD_PREREQ")
		h.Flows()
	})

	register("flowstats/filters", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			group("group_id=3,type=all,bucket=actions=drop"),
			flow("cookie=0x1,table=1,priority=1,ip actions=output:1"),
			flow("cookie=0x2,table=1,priority=2,ip,nw_dst=10.0.0.1 actions=output:2"),
			flow("cookie=0x3,table=2,priority=3,arp actions=group:3"),
			flow("cookie=0x13,table=2,priority=4 actions=output:2"))
		byCookie := stats(openflow.TableAll)
		byCookie.Cookie, byCookie.CookieMask = 0x3, 0xf
		byPort := stats(openflow.TableAll)
		byPort.OutPort = 2
		byGroup := stats(openflow.TableAll)
		byGroup.OutGroup = 3
		byMatch := stats(openflow.TableAll)
		byMatch.Match = match("ip")
		r := c.Exchange(stats(1), byCookie, byPort, byGroup, byMatch)
		h.Want("replies", r.Summary(), "@0 flows 2", "@1 flows 2", "@2 flows 2", "@3 flows 1", "@4 flows 2")
		// The aggregate of the same request as byCookie.
		agg := encode(byCookie, c.XID())
		agg[9] = byte(openflow.MultipartAggregate)
		c.ExchangeRaw(agg)
	})

	register("flowstats/split-into-parts", func(h *H) {
		c := h.Dial("c")
		// 2000 flows of one size: an OFPST_FLOW reply of several parts.
		var fms []openflow.Message
		for i := range 2000 {
			fms = append(fms, flow(fmt.Sprintf("table=1,priority=%d,reg0=%d actions=note:%048x", 1000+i, i, i)))
		}
		c.Exchange(fms...)
		parts := c.ReadReply(c.Send(stats(openflow.TableAll))[0])
		entry := int(binary.BigEndian.Uint16(parts[0][16:]))
		var sizes []int
		for i, p := range parts {
			sizes = append(sizes, len(p))
			more := binary.BigEndian.Uint16(p[10:])&openflow.MultipartMore != 0
			if last := i == len(parts)-1; more == last {
				h.Errorf("part %d of %d: REPLY_MORE %v", i, len(parts), more)
			}
			// Every part but the last is as full as whole entries make it.
			if i < len(parts)-1 && len(p)+entry <= openflow.MaxMessageLen {
				h.Errorf("part %d: %d bytes, room for another %d-byte entry", i, len(p), entry)
			}
		}
		h.Note("parts %v of %d-byte entries", sizes, entry)
	})
}

func init() {
	register("flows/timeouts-expire", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			flow("table=1,priority=1,hard_timeout=1 actions=drop"),
			flow("table=1,priority=2,idle_timeout=1 actions=drop"),
			flow("table=1,priority=3 actions=drop"))
		// No packets: both timeouts run out about a second from now.
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			fs, err := h.B.DumpFlows(-1)
			if err != nil {
				h.Fatal(err)
			}
			if len(fs) == 1 {
				break
			}
			if time.Now().After(deadline) {
				h.Fatalf("flows with timeouts still there: %q", fs)
			}
		}
		h.Want("flows", h.Flows(), " table=1, priority=3 actions=drop")
	})
}

func init() {
	register("flows/counters-kept-or-reset", func(h *H) {
		c := h.Dial("c")
		c.Exchange(flow("table=0,priority=1 actions=drop"))
		traffic := func(n int) {
			if err := h.B.Traffic("table=0,priority=1", n); err != nil {
				h.Fatal(err)
			}
		}
		show := func() { c.Exchange(stats(0)) }
		traffic(3)
		show()
		// An add of the same flow keeps the counters, unless reset_counts.
		c.Exchange(flow("table=0,priority=1 actions=output:2"))
		show()
		c.Exchange(flowCmd(openflow.FlowModifyStrict, "table=0,priority=1 actions=output:3"))
		show()
		traffic(2)
		c.Exchange(flowCmd(openflow.FlowModify, "reset_counts,table=0 actions=output:4"))
		show()
		traffic(1)
		c.Exchange(flow("reset_counts,table=0,priority=1 actions=output:5"))
		show()
		agg := encode(stats(openflow.TableAll), c.XID())
		agg[9] = byte(openflow.MultipartAggregate)
		traffic(4)
		c.ExchangeRaw(agg)
	})
}
