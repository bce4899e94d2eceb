package ofactortest

import (
	"encoding/binary"
	"time"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Multipart replies. Like OVS (lib/ofp-msgs.c ofpmp_postappend), a reply
// is split into parts of at most 65535 bytes, every part but the last
// flagged OFPMPF_REPLY_MORE, an entry never split.

const mpHeaderLen = 16

// parts packs entries into the parts of a reply of multipart type mp.
func parts(h openflow.Header, mp uint16, entries [][]byte) [][]byte {
	be := binary.BigEndian
	start := func() []byte {
		b := make([]byte, mpHeaderLen, 1024)
		b[0], b[1] = h.Version, byte(openflow.TypeMultipartReply)
		be.PutUint32(b[4:], h.XID)
		be.PutUint16(b[8:], mp)
		return b
	}
	var out [][]byte
	cur := start()
	for _, e := range entries {
		if len(cur)+len(e) > openflow.MaxMessageLen {
			be.PutUint16(cur[10:], openflow.MultipartMore)
			out = append(out, cur)
			cur = start()
		}
		cur = append(cur, e...)
	}
	out = append(out, cur)
	for _, p := range out {
		be.PutUint16(p[2:], uint16(len(p)))
	}
	return out
}

// flowEntry is a rule's struct ofp_flow_stats (OpenFlow 1.3).
func flowEntry(r *rule, now time.Time) []byte {
	be := binary.BigEndian
	b := make([]byte, 48, 48+len(r.matchBytes)+len(r.insBytes))
	be.PutUint16(b, uint16(48+len(r.matchBytes)+len(r.insBytes)))
	b[2] = r.table
	d := now.Sub(r.created)
	if d < 0 {
		d = 0
	}
	be.PutUint32(b[4:], uint32(d/time.Second))
	be.PutUint32(b[8:], uint32(d%time.Second))
	be.PutUint16(b[12:], r.priority)
	be.PutUint16(b[14:], r.idle)
	be.PutUint16(b[16:], r.hard)
	be.PutUint16(b[18:], r.flags)
	be.PutUint64(b[24:], r.cookie)
	be.PutUint64(b[32:], r.packets)
	be.PutUint64(b[40:], r.bytes)
	b = append(b, r.matchBytes...)
	return append(b, r.insBytes...)
}

// flowRequest decodes the body of a flow or aggregate stats request
// (struct ofp11_flow_stats_request) into criteria.
func (c *conn) flowRequest(raw []byte) (criteria, string) {
	be := binary.BigEndian
	cr := criteria{
		table:      raw[16],
		outPort:    be.Uint32(raw[20:]),
		outGroup:   be.Uint32(raw[24:]),
		cookie:     be.Uint64(raw[32:]),
		cookieMask: be.Uint64(raw[40:]),
	}
	if !portValid(cr.outPort) {
		return cr, "OFPBAC_BAD_OUT_PORT"
	}
	n, e := checkMatch(raw[48:], &c.sw.st.tlv)
	if e != "" {
		return cr, e
	}
	cr.match = &oxm.Match{}
	if _, err := cr.match.UnmarshalOXM(raw[48 : 48+n]); err != nil {
		return cr, "OFPBMC_BAD_LEN"
	}
	cr.match.Normalize()
	return cr, ""
}

func (c *conn) handleFlowStats(r *request) string {
	cr, e := c.flowRequest(r.raw)
	if e != "" {
		return e
	}
	rules, e := c.sw.st.collect(cr, false)
	if e != "" {
		return e
	}
	now := c.sw.cfg.now()
	entries := make([][]byte, len(rules))
	for i, rl := range rules {
		entries[i] = flowEntry(rl, now)
	}
	for _, p := range parts(r.header(), openflow.MultipartFlow, entries) {
		r.replyRaw(p)
	}
	return ""
}

// handleAggregate answers an aggregate stats request: struct
// ofp_aggregate_stats_reply (packet_count, byte_count, flow_count, pad).
func (c *conn) handleAggregate(r *request) string {
	cr, e := c.flowRequest(r.raw)
	if e != "" {
		return e
	}
	rules, e := c.sw.st.collect(cr, false)
	if e != "" {
		return e
	}
	body := make([]byte, 24)
	var pk, by uint64
	for _, rl := range rules {
		pk += rl.packets
		by += rl.bytes
	}
	be := binary.BigEndian
	be.PutUint64(body, pk)
	be.PutUint64(body[8:], by)
	be.PutUint32(body[16:], uint32(len(rules)))
	r.replyRaw(parts(r.header(), openflow.MultipartAggregate, [][]byte{body})[0])
	return ""
}

func (c *conn) handleGroupDesc(r *request) string {
	st := c.sw.st
	var entries [][]byte
	for _, id := range sortedIDs(st.groups) {
		g := st.groups[id]
		m := openflow.GroupDescReply{Header: r.header(), Groups: []openflow.GroupDesc{{Type: g.typ, GroupID: g.id, Buckets: g.buckets}}}
		b, err := m.AppendBinary(nil)
		if err != nil {
			continue // a group too large to describe: OVS cannot either
		}
		entries = append(entries, b[mpHeaderLen:])
	}
	for _, p := range parts(r.header(), openflow.MultipartGroupDesc, entries) {
		r.replyRaw(p)
	}
	return ""
}

func (c *conn) handleMeterConfig(r *request) string {
	st := c.sw.st
	id := binary.BigEndian.Uint32(r.raw[16:])
	ids := sortedIDs(st.meters)
	if id != openflow.MeterAll {
		if _, ok := st.meters[id]; !ok {
			return "OFPMMFC_UNKNOWN_METER"
		}
		ids = []uint32{id}
	}
	var entries [][]byte
	for _, id := range ids {
		m := st.meters[id]
		msg := openflow.MeterConfigReply{Header: r.header(), Meters: []openflow.MeterConfig{{Flags: m.flags, MeterID: m.id, Bands: m.bands}}}
		b, _ := msg.AppendBinary(nil)
		entries = append(entries, b[mpHeaderLen:])
	}
	for _, p := range parts(r.header(), openflow.MultipartMeterConfig, entries) {
		r.replyRaw(p)
	}
	return ""
}

// handleMeterFeatures answers with the netdev datapath's meter features
// (struct ofp13_meter_features).
func (c *conn) handleMeterFeatures(r *request) string {
	be := binary.BigEndian
	body := make([]byte, 16)
	be.PutUint32(body, maxMeters)
	be.PutUint32(body[4:], 1<<openflow.MeterBandDrop)
	be.PutUint32(body[8:], uint32(meterFlagsMask))
	body[12] = maxMeterBands
	r.replyRaw(parts(r.header(), openflow.MultipartMeterFeatures, [][]byte{body})[0])
	return ""
}

// handlePortDesc describes the bridge's one port, LOCAL, as an OpenFlow
// 1.3 struct ofp_port: up, live, no speed (the dummy datapath's).
func (c *conn) handlePortDesc(r *request) string {
	be := binary.BigEndian
	p := make([]byte, 64)
	be.PutUint32(p, openflow.PortLocal)
	copy(p[8:14], c.sw.cfg.hwAddr)
	copy(p[16:31], c.sw.cfg.bridge)
	be.PutUint32(p[36:], 4) // OFPPS_LIVE
	r.replyRaw(parts(r.header(), openflow.MultipartPortDesc, [][]byte{p})[0])
	return ""
}

// Desc texts (struct ofp_desc): what OVS says, but the datapath
// description, which says what the switch is.
const (
	descMfr    = "Nicira, Inc."
	descHW     = "Open vSwitch"
	descSW     = "3.1.0"
	descSerial = "None"
	descDP     = "ofactortest in-memory switch"
)

func (c *conn) handleDesc(r *request) string {
	body := make([]byte, 256*4+32)
	copy(body[0:255], descMfr)
	copy(body[256:511], descHW)
	copy(body[512:767], descSW)
	copy(body[768:799], descSerial)
	copy(body[800:1055], descDP)
	r.replyRaw(parts(r.header(), openflow.MultipartDesc, [][]byte{body})[0])
	return ""
}
