package conformance

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Connection basics, what OVS answers to what it does not expect, and
// out-of-band changes.

func init() {
	register("basics/echo-features-config-desc", func(h *H) {
		c := h.Dial("c")
		echo := &openflow.EchoRequest{}
		echo.Data = []byte("are you there?")
		r := c.Exchange(echo, &openflow.FeaturesRequest{}, &openflow.GetConfigRequest{},
			&openflow.MultipartRequest{MPType: openflow.MultipartPortDesc},
			&openflow.MultipartRequest{MPType: openflow.MultipartDesc})
		h.Want("replies", r.Summary(), "@0 echo_reply", "@1 features_reply", "@2 get_config_reply",
			"@3 OFPST_PORT_DESC reply", "@4 OFPST_DESC reply")
		set := &openflow.SetConfig{}
		set.Flags, set.MissSendLen = openflow.ConfigFragDrop, 128
		c.Exchange(set, &openflow.GetConfigRequest{})
		// Fragment handling is the bridge's, the miss length the connection's.
		d := h.Dial("d")
		d.Exchange(&openflow.GetConfigRequest{})
		reasm := &openflow.SetConfig{}
		reasm.Flags = openflow.ConfigFragReasm
		d.Exchange(reasm, &openflow.GetConfigRequest{})
	})

	register("basics/barrier-order", func(h *H) {
		c := h.Dial("c")
		// Replies come in the order of the requests; a barrier answers
		// after everything before it.
		r := c.Exchange(&openflow.BarrierRequest{}, flow("table=1,actions=group:1"), &openflow.BarrierRequest{},
			&openflow.EchoRequest{}, &openflow.BarrierRequest{})
		h.Want("replies", r.Summary(), "@0 barrier_reply", "@1 error OFPBAC_BAD_OUT_GROUP", "@2 barrier_reply",
			"@3 echo_reply", "@4 barrier_reply")
	})

	register("basics/unknown-and-unexpected", func(h *H) {
		c := h.Dial("c")
		raw := func(version, typ byte, body ...byte) []byte {
			b := append([]byte{version, typ, 0, 0, 0, 0, 0, 0}, body...)
			binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
			binary.BigEndian.PutUint32(b[4:], c.XID())
			return b
		}
		exp := func(vendor, sub uint32, body ...byte) []byte {
			b := binary.BigEndian.AppendUint32(nil, vendor)
			return raw(4, byte(openflow.TypeExperimenter), append(binary.BigEndian.AppendUint32(b, sub), body...)...)
		}
		mp := func(stat uint16, body ...byte) []byte {
			b := binary.BigEndian.AppendUint16(nil, stat)
			return raw(4, byte(openflow.TypeMultipartRequest), append(append(b, 0, 0, 0, 0, 0, 0), body...)...)
		}
		var got []string
		for _, b := range [][]byte{
			raw(4, 60), // no such type
			raw(4, byte(openflow.TypeBarrierRequest), 0, 0, 0, 0, 0, 0, 0, 0), // a barrier with a body
			raw(4, byte(openflow.TypeFeaturesReply), make([]byte, 24)...),     // a reply
			raw(4, byte(openflow.TypeHello)),                                  // HELLO again
			raw(4, byte(openflow.TypeError), 0, 1, 0, 1),                      // an error
			raw(1, byte(openflow.TypeBarrierRequest)),                         // OpenFlow 1.0 framing
			raw(6, byte(openflow.TypeFlowMod), make([]byte, 48)...),           // OpenFlow 1.5 framing
			raw(1, byte(openflow.TypeEchoRequest), 'x'),                       // an echo of 1.0 is fine
			exp(0x00001234, 1),                    // unknown experimenter
			exp(openflow.ExperimenterNicira, 999), // unknown Nicira subtype
			exp(openflow.ExperimenterONF, 999),    // unknown ONF subtype
			exp(openflow.ExperimenterNicira, openflow.NXTTLVTableRequest, 0, 0, 0, 0, 0, 0, 0, 0), // too long
			mp(99), // unknown multipart type
			mp(openflow.MultipartGroupDesc, 0, 0, 0, 0, 0, 0, 0, 0), // too long
			raw(4, byte(openflow.TypeFlowMod), make([]byte, 20)...), // short flow_mod
			raw(4, byte(openflow.TypeSetConfig)),                    // short set_config
			raw(4, byte(openflow.TypeEchoReply)),                    // an unasked echo reply
		} {
			got = append(got, c.ExchangeRaw(b).Summary()...)
		}
		h.Want("replies", got,
			"@0 error OFPBRC_BAD_TYPE",
			"@0 error OFPBRC_BAD_LEN",
			"@0 error OFPBRC_BAD_TYPE",
			"@0 error OFPBRC_BAD_TYPE",
			"@0 error OFPBRC_BAD_TYPE",
			"@0 error OFPBRC_BAD_VERSION",
			"@0 error OFPBRC_BAD_VERSION",
			"@0 echo_reply",
			"@0 error OFPBRC_BAD_VENDOR",
			"@0 error OFPBRC_BAD_SUBTYPE",
			"@0 error OFPBRC_BAD_SUBTYPE",
			"@0 error OFPBRC_BAD_LEN",
			"@0 error OFPBRC_BAD_STAT",
			"@0 error OFPBRC_BAD_LEN",
			"@0 error OFPBRC_BAD_LEN",
			"@0 error OFPBRC_BAD_LEN")
	})

	register("basics/hello", func(h *H) {
		// A peer with no version in common gets OFPHFC_INCOMPATIBLE and
		// the connection closes; one that says anything but HELLO first
		// is dropped.
		target := strings.TrimPrefix(h.B.Target(), "unix:")
		for _, first := range [][]byte{
			encode(openflow.NewHello(openflow.Version10), 1),
			encode(openflow.NewHello(openflow.Version10, openflow.Version15), 2),
			encode(&openflow.BarrierRequest{}, 3),
		} {
			nc, err := net.Dial("unix", target)
			if err != nil {
				h.Fatal(err)
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(first); err != nil {
				h.Fatal(err)
			}
			for {
				f, err := readAll(nc)
				if err != nil {
					h.Note("closed")
					break
				}
				h.Note("%s", strings.Join(describe(f), "; "))
			}
			nc.Close()
		}
		// A peer offering 1.3 among others gets 1.3.
		nc, _ := net.Dial("unix", target)
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		nc.Write(encode(openflow.NewHello(openflow.Version10, openflow.Version13, openflow.Version15), 4))
		f, _ := readAll(nc)
		h.Note("%s", strings.Join(describe(f), "; "))
		nc.Write(encode(&openflow.BarrierRequest{}, 5))
		f, err := readAll(nc)
		if err != nil {
			h.Fatal(err)
		}
		h.Note("%s v%d", strings.Join(describe(f), "; "), f[0])
	})

	register("basics/connections-share-the-bridge", func(h *H) {
		a, b := h.Dial("a"), h.Dial("b")
		a.Exchange(flow("table=1 actions=drop"), group("group_id=1,type=all"))
		h.Want("b sees", b.Exchange(stats(openflow.TableAll), &openflow.GroupDescRequest{}).Summary(),
			"@0 flows 1", "@1 groups 1")
		h.Want("b", b.Exchange(group("group_id=1,type=all")).Summary(), "@0 error OFPGMFC_GROUP_EXISTS")
	})

	register("oob/ofctl", func(h *H) {
		h.Want("add-flows", []string{h.Ofctl("add-flows",
			"table=1,priority=1 actions=drop",
			"table=2,priority=2 actions=group:7",
			"table=3,priority=3 actions=drop")}, "OFPBAC_BAD_OUT_GROUP")
		h.Want("stopped at the error", h.Flows(), " table=1, priority=1 actions=drop")
		h.Want("add-flow", []string{h.Ofctl("add-flow", "table=4,priority=4,ip,nw_dst=10.0.0.1 actions=output:1")}, "")
		h.Want("mod-flows", []string{h.Ofctl("mod-flows", "table=4,ip actions=output:2")}, "")
		h.Want("add-group", []string{h.Ofctl("add-group", "group_id=7,type=all,bucket=actions=output:7")}, "")
		h.Want("add-flow", []string{h.Ofctl("add-flow", "table=5 actions=group:7")}, "")
		h.Want("add-meter", []string{h.Ofctl("add-meter", "meter=3,pktps,bands=type=drop,rate=10")}, "")
		h.Want("add-flow", []string{h.Ofctl("add-flow", "table=6 actions=meter:3,output:1")}, "")
		h.Want("add-tlv-map", []string{h.Ofctl("add-tlv-map", "{class=0x102,type=0x80,len=4}->tun_metadata0")}, "")
		h.Want("add-flow", []string{h.Ofctl("add-flow", "table=7,tun_metadata0=0x1 actions=drop")}, "")
		h.Flows()
		h.Groups()
		h.Meters()
		h.TLVMap()
		h.Want("del-flows", []string{h.Ofctl("del-flows", "table=4")}, "")
		h.Want("del-groups", []string{h.Ofctl("del-groups")}, "")
		h.Want("del-meters", []string{h.Ofctl("del-meters")}, "")
		h.Want("del-tlv-map", []string{h.Ofctl("del-tlv-map")}, "NXTTMFC_INVALID_TLV_DEL")
		h.Flows()
		h.Want("del-flows", []string{h.Ofctl("del-flows")}, "")
		h.Want("flows", h.Flows())
	})

	register("oob/recreate-bridge", func(h *H) {
		c := h.Dial("c")
		c.Exchange(flow("table=1 actions=drop"), group("group_id=1,type=all"),
			meter("meter=1,kbps,bands=type=drop,rate=5"), tlvAdd(geneve(0)),
			open(1, atomic))
		if err := h.B.RecreateBridge(); err != nil {
			h.Fatal(err)
		}
		// The connection is gone, and so is everything the bridge held.
		if f := c.Read(); f != nil {
			h.Errorf("after the bridge was recreated the connection gave %s", describe(f))
		}
		d := h.Dial("d")
		h.Want("empty", d.Exchange(stats(openflow.TableAll), stats(254), &openflow.GroupDescRequest{},
			&openflow.MeterConfigRequest{MeterID: openflow.MeterAll}, &openflow.TLVTableRequest{}, commit(1, atomic)).Summary(),
			"@0 flows 0", "@1 flows 4", "@2 groups 0", "@3 meters 0", "@4 tlv 0", "@5 error OFPBFC_BAD_ID")
	})
}

// readAll reads one frame from a raw connection.
func readAll(nc net.Conn) ([]byte, error) {
	h := make([]byte, 8)
	if _, err := io.ReadFull(nc, h); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint16(h[2:]))
	copy(b, h)
	if _, err := io.ReadFull(nc, b[8:]); err != nil {
		return nil, err
	}
	return b, nil
}

func init() {
	register("oob/table-defaults", func(h *H) {
		// mod-flows without table= is table 0; del-flows without it is
		// every table, --strict too.
		h.Ofctl("add-flows", "table=0,ip actions=drop", "table=4,ip actions=drop", "table=4,priority=5,ip actions=drop")
		h.Ofctl("mod-flows", "ip actions=output:9")
		h.Flows()
		h.Want("del-flows", []string{h.Ofctl("del-flows-strict", "priority=5,ip")}, "")
		h.Flows()
		h.Want("del-flows", []string{h.Ofctl("del-flows-strict", "ip")}, "")
		h.Want("flows", h.Flows())
	})
}
