package ofactortest

import (
	"encoding/binary"

	"github.com/ofactor/ofactor/openflow"
)

// Handlers of the single-part requests (ofproto.c handle_*).

// header is a reply's header: the request's version and xid.
func (r *request) header() openflow.Header {
	return openflow.Header{Version: r.raw[0], XID: r.xid}
}

func (c *conn) handleEcho(r *request) string {
	m := &openflow.EchoReply{}
	m.Header = r.header()
	m.Data = r.raw[openflow.HeaderLen:]
	r.reply(m)
	return ""
}

func (c *conn) handleBarrier(r *request) string {
	m := &openflow.BarrierReply{}
	m.Header = r.header()
	r.reply(m)
	return ""
}

// Capabilities OVS announces in an OpenFlow 1.3 features reply.
const (
	capFlowStats  = 1 << 0
	capTableStats = 1 << 1
	capPortStats  = 1 << 2
	capGroupStats = 1 << 3
	capQueueStats = 1 << 6
)

func (c *conn) handleFeatures(r *request) string {
	r.reply(&openflow.FeaturesReply{
		Header:       r.header(),
		DatapathID:   c.sw.cfg.datapathID,
		NTables:      nTables - 1, // the visible ones
		Capabilities: capFlowStats | capTableStats | capPortStats | capGroupStats | capQueueStats,
	})
	return ""
}

func (c *conn) handleGetConfig(r *request) string {
	m := &openflow.GetConfigReply{Header: r.header()}
	m.Flags = c.sw.st.fragDrop
	m.MissSendLen = c.missSendLen
	r.reply(m)
	return ""
}

// handleSetConfig is handle_set_config: fragment handling is the bridge's
// (the netdev datapath has normal and drop, not reassembly), the miss
// send length the connection's.
func (c *conn) handleSetConfig(r *request) string {
	flags := binary.BigEndian.Uint16(r.raw[8:])
	if frag := flags & 3; frag == openflow.ConfigFragNormal || frag == openflow.ConfigFragDrop {
		c.sw.st.fragDrop = frag
	}
	c.missSendLen = binary.BigEndian.Uint16(r.raw[10:])
	return ""
}

func (c *conn) handleFlowMod(r *request) string {
	op, e := decodeFlowMod(c.sw.st, r.raw)
	if e != "" {
		return e
	}
	return c.sw.startFlowMod(op, nil)
}

func (c *conn) handleGroupMod(r *request) string {
	op, e := decodeGroupMod(r.raw)
	if e != "" {
		return e
	}
	return c.sw.startGroupMod(op, nil)
}

func (c *conn) handleMeterMod(r *request) string {
	op, e := decodeMeterMod(r.raw)
	if e != "" {
		return e
	}
	return c.sw.meterMod(op)
}

func (c *conn) handleTLVMod(r *request) string {
	op, e := decodeTLVMod(r.raw)
	if e != "" {
		return e
	}
	return c.sw.st.tlvMod(op)
}

func (c *conn) handleTLVRequest(r *request) string {
	r.reply(c.sw.st.tlvReply(r.header()))
	return ""
}
