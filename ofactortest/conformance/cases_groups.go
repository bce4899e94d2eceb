package conformance

import (
	"strconv"

	"github.com/ofactor/ofactor/openflow"
)

// Group and meter tables.

func groupCmd(cmd uint16, text string) *openflow.GroupMod {
	g := group(text)
	g.Command = cmd
	return g
}

func meterCmd(cmd uint16, text string) *openflow.MeterMod {
	m := meter(text)
	m.Command = cmd
	return m
}

func init() {
	register("group/exists-unknown", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			group("group_id=1,type=all,bucket=actions=output:1"),
			group("group_id=1,type=all,bucket=actions=output:2"),
			groupCmd(openflow.GroupModify, "group_id=2,type=all,bucket=actions=output:2"),
			groupCmd(openflow.GroupModify, "group_id=1,type=select,bucket=weight:5,actions=output:3,bucket=actions=output:4"),
			&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 77},
			&openflow.GroupMod{Command: 0x8000, Type: openflow.GroupTypeAll, GroupID: 3}, // add_or_mod
		)
		h.Want("replies", r.Summary(), "@1 error OFPGMFC_GROUP_EXISTS", "@2 error OFPGMFC_UNKNOWN_GROUP")
		h.Groups()
		h.Want("ofctl", []string{h.Ofctl("add-group", "group_id=3,type=all,bucket=actions=drop")}, "OFPGMFC_GROUP_EXISTS")
		h.Want("ofctl", []string{h.Ofctl("mod-group", "group_id=9,type=all,bucket=actions=drop")}, "OFPGMFC_UNKNOWN_GROUP")
		c.Exchange(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: openflow.GroupAll})
		h.Want("groups", h.Groups())
	})

	register("group/invalid", func(h *H) {
		c := h.Dial("c")
		bad := group("group_id=5,type=all,bucket=actions=drop")
		bad.Type = 9
		big := group("group_id=5,type=all,bucket=actions=drop")
		big.GroupID = 0xffffff01
		all := group("group_id=5,type=all,bucket=actions=drop")
		all.GroupID = openflow.GroupAll
		badCmd := group("group_id=5,type=all,bucket=actions=drop")
		badCmd.Command = 9
		delBuckets := groupCmd(openflow.GroupDelete, "group_id=5,type=all,bucket=actions=drop")
		// Groups the text parser would refuse, made by hand.
		typed := func(text string, typ uint8) *openflow.GroupMod {
			g := group(text)
			g.Type = typ
			return g
		}
		indirect2 := typed("group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2", openflow.GroupTypeIndirect)
		weighted := group("group_id=2,type=all,bucket=actions=output:1")
		weighted.Buckets[0].Weight = 3
		ffNoWatch := typed("group_id=3,type=all,bucket=actions=output:1", openflow.GroupTypeFastFailover)
		watched := group("group_id=4,type=all,bucket=actions=output:1")
		watched.Buckets[0].WatchPort = 1
		r := c.Exchange(
			indirect2, weighted, ffNoWatch, watched,
			bad, big, all, badCmd, delBuckets,
			group("group_id=6,type=fast_failover,bucket=watch_port:1,actions=output:1"),
			group("group_id=7,type=indirect,bucket=actions=output:1"),
			group("group_id=8,type=select"))
		h.Want("replies", r.Summary(),
			"@0 error OFPGMFC_INVALID_GROUP",
			"@1 error OFPGMFC_INVALID_GROUP",
			"@2 error OFPGMFC_INVALID_GROUP",
			"@3 error OFPGMFC_WATCH_UNSUPPORTED",
			"@4 error OFPGMFC_BAD_TYPE",
			"@5 error OFPGMFC_INVALID_GROUP",
			"@6 error OFPGMFC_INVALID_GROUP",
			"@7 error OFPGMFC_BAD_COMMAND",
			"@8 error OFPGMFC_INVALID_GROUP")
		h.Groups()
	})

	register("group/delete-takes-its-flows", func(h *H) {
		c := h.Dial("c")
		c.Exchange(
			group("group_id=1,type=all,bucket=actions=output:1"),
			group("group_id=2,type=all,bucket=actions=output:2"),
			flow("table=1,priority=1 actions=group:1"),
			flow("table=1,priority=2 actions=clone(group:1)"),
			flow("table=1,priority=3 actions=write_actions(group:1)"),
			flow("table=1,priority=4 actions=group:2"),
			flow("table=2,priority=5 actions=output:1,group:2,group:1"))
		// A modify keeps the flows; a delete takes those naming the group.
		c.Exchange(groupCmd(openflow.GroupModify, "group_id=1,type=select,bucket=actions=output:5"))
		h.Flows()
		c.Exchange(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 1})
		h.Want("flows", h.Flows(), " table=1, priority=4 actions=group:2")
		h.Ofctl("del-groups")
		h.Want("flows", h.Flows())
	})

	register("group/chains-and-loops", func(h *H) {
		c := h.Dial("c")
		// Buckets may name groups that do not exist, or loop: OVS does
		// not look at them until a packet goes there.
		r := c.Exchange(
			group("group_id=1,type=all,bucket=actions=group:2"),
			group("group_id=2,type=all,bucket=actions=group:1"),
			group("group_id=3,type=indirect,bucket=actions=group:3"),
			group("group_id=4,type=all,bucket=actions=group:99"),
			flow("table=1 actions=group:1"))
		h.Want("replies", r.Summary())
		// Deleting a group a bucket names leaves the naming group alone.
		c.Exchange(&openflow.GroupMod{Command: openflow.GroupDelete, GroupID: 2})
		h.Groups()
		h.Flows()
	})

	register("group/insert-remove-bucket", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			group("group_id=1,type=select,bucket=weight:2,actions=output:1"),
			groupCmd(openflow.GroupInsertBucket, "group_id=1,type=select,bucket=weight:3,actions=output:2"),
			group("group_id=2,type=select"),
			groupCmd(openflow.GroupInsertBucket, "group_id=2,type=select,bucket=weight:3,actions=output:2"),
			groupCmd(openflow.GroupInsertBucket, "group_id=7,type=select,bucket=actions=output:2"),
			groupCmd(openflow.GroupRemoveBucket, "group_id=1,type=select,bucket=actions=output:2"),
			groupCmd(openflow.GroupRemoveBucket, "group_id=1,type=select"))
		h.Want("replies", r.Summary(),
			"@1 error NXBRC_UNENCODABLE_ERROR", // OFPGMFC_BUCKET_EXISTS has no OpenFlow 1.3 code
			"@4 error OFPGMFC_UNKNOWN_GROUP",
			"@5 error OFPGMFC_BAD_BUCKET")
		h.Groups()
	})

	register("group/desc-split-into-parts", func(h *H) {
		c := h.Dial("c")
		var gms []openflow.Message
		for i := range 800 {
			gms = append(gms, group("group_id="+strconv.Itoa(i+1)+",type=select,bucket=actions=output:1,bucket=actions=output:2,bucket=actions=output:3"))
		}
		c.Exchange(gms...)
		parts := c.ReadReply(c.Send(&openflow.GroupDescRequest{})[0])
		var sizes []int
		for _, p := range parts {
			sizes = append(sizes, len(p))
		}
		h.Note("group desc parts %v", sizes)
		if len(parts) < 2 {
			h.Errorf("%d parts for 800 groups", len(parts))
		}
	})

	register("meter/exists-unknown-invalid", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			meter("meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100"),
			meter("meter=1,kbps,bands=type=drop,rate=60"),
			meterCmd(openflow.MeterModify, "meter=2,kbps,bands=type=drop,rate=60"),
			meterCmd(openflow.MeterModify, "meter=1,pktps,burst,bands=type=drop,rate=70,burst_size=7"),
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 0},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 0xffff0001},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 3, Flags: openflow.MeterKBPS | openflow.MeterPKTPS},
			meter("meter=4,kbps,bands=type=dscp_remark,rate=10,prec_level=1"),
			&openflow.MeterMod{Command: 7, MeterID: 5},
			meter("meter=6,pktps,bands=type=drop,rate=5"),
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 7, Flags: 0x10},
			&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: 99},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 8, Flags: openflow.MeterKBPS},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 9, Bands: []openflow.MeterBand{{Type: openflow.MeterBandDrop, Rate: 5}}},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 10, Flags: openflow.MeterKBPS, Bands: []openflow.MeterBand{{Type: openflow.MeterBandDrop}}},
			&openflow.MeterMod{Command: openflow.MeterAdd, MeterID: 11, Flags: openflow.MeterKBPS | 0x20, Bands: []openflow.MeterBand{{Type: openflow.MeterBandDrop, Rate: 5}}})
		h.Want("replies", r.Summary(),
			"@1 error OFPMMFC_METER_EXISTS",
			"@2 error OFPMMFC_UNKNOWN_METER",
			"@4 error OFPMMFC_INVALID_METER",
			"@5 error OFPMMFC_INVALID_METER",
			"@6 error OFPMMFC_BAD_FLAGS",
			"@7 error OFPMMFC_BAD_BAND",
			"@8 error OFPMMFC_BAD_COMMAND",
			"@10 error OFPMMFC_BAD_FLAGS",
			"@12 error OFPMMFC_OUT_OF_BANDS",
			"@13 error OFPMMFC_BAD_FLAGS",
			"@14 error OFPMMFC_BAD_RATE",
			"@15 error OFPMMFC_BAD_FLAGS")
		h.Meters()
		h.Want("ofctl", []string{h.Ofctl("add-meter", "meter=6,kbps,bands=type=drop,rate=1")}, "OFPMMFC_METER_EXISTS")
		one := &openflow.MeterConfigRequest{MeterID: 6}
		none := &openflow.MeterConfigRequest{MeterID: 42}
		h.Want("replies", c.Exchange(&openflow.MeterConfigRequest{MeterID: openflow.MeterAll}, one, none).Summary(),
			"@0 meters 2", "@1 meters 1", "@2 error OFPMMFC_UNKNOWN_METER")
	})

	register("meter/burst-zero-is-rate", func(h *H) {
		c := h.Dial("c")
		m := meter("meter=1,kbps,burst,bands=type=drop,rate=300,burst_size=1")
		m.Bands[0].BurstSize = 0
		c.Exchange(m)
		h.Want("meters", h.Meters(), "meter=1,kbps,burst,bands=type=drop,rate=300,burst_size=300")
	})

	register("meter/delete-takes-its-flows", func(h *H) {
		c := h.Dial("c")
		r := c.Exchange(
			meter("meter=1,kbps,bands=type=drop,rate=50"),
			meter("meter=2,kbps,bands=type=drop,rate=50"),
			flow("table=1,priority=1 actions=meter:1,output:1"),
			flow("table=1,priority=2 actions=meter:2,output:1"),
			flow("table=1,priority=3 actions=output:1"))
		h.Want("replies", r.Summary())
		c.Exchange(meterCmd(openflow.MeterModify, "meter=1,pktps,bands=type=drop,rate=9"))
		h.Flows()
		c.Exchange(&openflow.MeterMod{Command: openflow.MeterDelete, MeterID: 1})
		h.Flows()
		h.Ofctl("del-meters")
		h.Want("flows", h.Flows(), " table=1, priority=3 actions=output:1")
		h.Meters()
	})

	register("meter/features", func(h *H) {
		c := h.Dial("c")
		req := &openflow.MultipartRequest{MPType: openflow.MultipartMeterFeatures}
		h.Want("replies", c.Exchange(req).Summary(), "@0 OFPST_METER_FEATURES reply")
	})
}
