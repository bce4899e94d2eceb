package conformance

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
)

// Every truncation of well-formed requests, the length field saying so:
// what OVS answers to each is what its decoders find first.

func init() {
	register("truncations", func(h *H) {
		c := h.Dial("c")
		c.Exchange(tlvAdd(geneve(0)), group("group_id=1,type=all,bucket=actions=drop"))
		fsr := stats(openflow.TableAll)
		fsr.Match = match("tcp,tp_dst=80")
		for _, m := range []struct {
			name string
			msg  openflow.Message
		}{
			{"flow_mod", flow("cookie=0x5,table=2,priority=9,tcp,nw_src=10.0.0.0/8,tp_dst=80,tun_metadata0=0x7 actions=set_field:0x5->reg1,group:1,resubmit(,3),goto_table:4")},
			{"flow_mod ct", flow("table=3,ct_state=+trk+est,ip actions=ct(commit,zone=NXM_NX_REG13[0..15],nat(src=10.0.0.1),exec(set_field:0x1->ct_mark)),write_actions(output:2)")},
			{"group_mod", group("group_id=2,type=select,bucket=weight:5,actions=output:1,bucket=actions=ct(commit,table=3)")},
			{"meter_mod", meter("meter=1,kbps,burst,bands=type=drop,rate=10,burst_size=20")},
			{"tlv_mod", tlvAdd(geneve(1), geneve(2))},
			{"bundle_control", open(1, atomic)},
			{"bundle_add", add(1, atomic, flow("table=1,ip actions=drop"))},
			{"flow_stats", fsr},
			{"meter_config", &openflow.MeterConfigRequest{MeterID: openflow.MeterAll}},
		} {
			full := encode(m.msg, 0)
			if ba, ok := m.msg.(*openflow.BundleAdd); ok {
				_ = ba // the inner xid is rewritten with the outer one below
			}
			var got []string
			for n := openflow.HeaderLen; n < len(full); n++ {
				b := append([]byte(nil), full[:n]...)
				binary.BigEndian.PutUint16(b[2:], uint16(n))
				x := c.XID()
				binary.BigEndian.PutUint32(b[4:], x)
				if m.name == "bundle_add" && n >= 32 {
					binary.BigEndian.PutUint32(b[28:], x)
				}
				for _, s := range c.ExchangeRaw(b).Summary() {
					got = append(got, fmt.Sprintf("%s %d: %s", m.name, n, s))
				}
			}
			h.Note("%s: %d truncations answered", m.name, len(got))
		}
		h.Flows()
		h.Groups()
	})
}
