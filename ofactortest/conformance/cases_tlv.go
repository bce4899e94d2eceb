package conformance

import (
	"github.com/ofactor/ofactor/openflow"
)

// The Geneve TLV map.

func init() {
	register("tlv/mapped-dup-in-use", func(h *H) {
		c := h.Dial("c")
		other := openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x81, OptionLen: 8, Index: 1}
		r := c.Exchange(
			tlvAdd(geneve(0)),
			tlvAdd(geneve(0)), // the same, again
			tlvAdd(openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x99, OptionLen: 4, Index: 0}), // index taken
			tlvAdd(geneve(2)), // option taken
			tlvAdd(other),
			&openflow.TLVTableRequest{})
		h.Want("replies", r.Summary(),
			"@1 error NXTTMFC_ALREADY_MAPPED",
			"@2 error NXTTMFC_ALREADY_MAPPED",
			"@3 error NXTTMFC_DUP_ENTRY",
			"@5 tlv 2")
		h.TLVMap()
		// A mapping a flow uses (in its match or its actions) stays.
		r = c.Exchange(
			flow("table=1,tun_metadata0=0x5 actions=drop"),
			flow("table=1,priority=9 actions=set_field:0x1->tun_metadata1"),
			tlvDel(geneve(0)),
			tlvDel(other),
			&openflow.TLVTableMod{Command: openflow.TLVTableClear})
		h.Want("replies", r.Summary(),
			"@2 error NXTTMFC_INVALID_TLV_DEL",
			"@3 error NXTTMFC_INVALID_TLV_DEL",
			"@4 error NXTTMFC_INVALID_TLV_DEL")
		h.TLVMap()
		h.Want("ofctl", []string{h.Ofctl("add-tlv-map", "{class=0x102,type=0x80,len=4}->tun_metadata5")}, "NXTTMFC_DUP_ENTRY")
		h.Want("ofctl", []string{h.Ofctl("del-tlv-map")}, "NXTTMFC_INVALID_TLV_DEL")
		// Deleting what is not mapped is fine.
		h.Want("replies", c.Exchange(tlvDel(geneve(7))).Summary())
	})

	register("tlv/invalid", func(h *H) {
		c := h.Dial("c")
		bad := &openflow.TLVTableMod{Command: 3}
		r := c.Exchange(
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 1, OptionLen: 5, Index: 0}),
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 2, OptionLen: 128, Index: 0}),
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 3, OptionLen: 4, Index: 64}),
			bad,
			// 124 + 124 + 12 bytes: more than the 256 of option space.
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 4, OptionLen: 124, Index: 1},
				openflow.TLVMap{OptionClass: 1, OptionType: 5, OptionLen: 124, Index: 2},
				openflow.TLVMap{OptionClass: 1, OptionType: 6, OptionLen: 12, Index: 3}),
			// An add of several is all or nothing.
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 7, OptionLen: 4, Index: 4},
				openflow.TLVMap{OptionClass: 1, OptionType: 7, OptionLen: 4, Index: 5}),
			tlvAdd(openflow.TLVMap{OptionClass: 1, OptionType: 8, OptionLen: 0, Index: 6}),
			&openflow.TLVTableRequest{})
		h.Want("replies", r.Summary(),
			"@0 error NXTTMFC_BAD_OPT_LEN",
			"@1 error NXTTMFC_BAD_OPT_LEN",
			"@2 error NXTTMFC_BAD_FIELD_IDX",
			"@3 error NXTTMFC_BAD_COMMAND",
			"@4 error NXTTMFC_TABLE_FULL",
			"@5 error NXTTMFC_DUP_ENTRY",
			"@7 tlv 1")
		h.TLVMap()
	})

	register("tlv/flows-with-mapped-length", func(h *H) {
		c := h.Dial("c")
		c.Exchange(tlvAdd(geneve(0), openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x81, OptionLen: 4, Index: 1}))
		r := c.Exchange(
			flow("table=1,tun_metadata0=0x5 actions=drop"),
			flow("table=1,priority=2,tun_metadata0=0x10/0xf0 actions=move:tun_metadata1[0..7]->reg0[0..7]"),
			flow("table=1,priority=3 actions=set_field:0x7->tun_metadata0"))
		h.Want("replies", r.Summary())
		h.Flows()
		// (Clearing the map right after deleting the flows is not
		// checked: OVS releases a flow's hold on a mapping only after an
		// RCU grace period, so it may still refuse.)
	})
}
