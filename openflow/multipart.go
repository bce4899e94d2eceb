package openflow

import (
	"errors"
	"fmt"
)

// Multipart types (enum ofp_multipart_type, OpenFlow 1.3.5 §7.3.5).
const (
	MultipartDesc          uint16 = 0
	MultipartFlow          uint16 = 1
	MultipartAggregate     uint16 = 2
	MultipartTable         uint16 = 3
	MultipartPortStats     uint16 = 4
	MultipartQueue         uint16 = 5
	MultipartGroup         uint16 = 6
	MultipartGroupDesc     uint16 = 7
	MultipartGroupFeatures uint16 = 8
	MultipartMeter         uint16 = 9
	MultipartMeterConfig   uint16 = 10
	MultipartMeterFeatures uint16 = 11
	MultipartTableFeatures uint16 = 12
	MultipartPortDesc      uint16 = 13
	MultipartTableDesc     uint16 = 14 // OpenFlow 1.4+
	MultipartQueueDesc     uint16 = 15 // OpenFlow 1.4+
	MultipartFlowMonitor   uint16 = 16 // OpenFlow 1.4+
	MultipartExperimenter  uint16 = 0xffff

	// MultipartMore is OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE: more parts follow.
	MultipartMore uint16 = 1
)

// multipartLen is ofp_header + struct ofp_multipart_request/reply's
// type u16 | flags u16 | pad 4.
const multipartLen = 16

func appendMultipartHeader(b []byte, h *Header, t Type, mp, flags uint16) ([]byte, int) {
	b, start := appendHeader(b, h, t)
	b = be.AppendUint16(b, mp)
	b = be.AppendUint16(b, flags)
	return append(b, 0, 0, 0, 0), start
}

// checkMultipart checks a whole multipart message of type t and returns
// its multipart type and flags.
func checkMultipart(h *Header, b []byte, t Type, name string) (mp, flags uint16, err error) {
	if err := checkHeader(h, b, t, name); err != nil {
		return 0, 0, err
	}
	if len(b) < multipartLen {
		return 0, 0, errTruncated(name, b, HeaderLen, multipartLen-HeaderLen)
	}
	return be.Uint16(b[8:]), be.Uint16(b[10:]), nil
}

// ONFSTFlowMonitor is the exp_type of the ONF experimenter multipart
// request and reply that carry the flow monitor in OpenFlow 1.3.
const ONFSTFlowMonitor uint32 = 1870

// onfMultipartLen is a multipart header followed by an experimenter id and
// an exp_type (struct ofp11_stats_msg, then experimenter and subtype: the
// OFPMP_EXPERIMENTER framing OVS's ofp-msgs.c gives ONFST messages).
const onfMultipartLen = multipartLen + 8

// appendMPHeader starts a multipart message that OpenFlow 1.3 carries as an
// ONF experimenter multipart of exp_type onfst (when onfst is nonzero) and
// 1.4+ as its own multipart type mp.
func appendMPHeader(b []byte, h *Header, t Type, mp uint16, onfst uint32, flags uint16) ([]byte, int) {
	if onfst == 0 || (h.Version != 0 && h.Version >= Version14) {
		return appendMultipartHeader(b, h, t, mp, flags)
	}
	b, start := appendMultipartHeader(b, h, t, MultipartExperimenter, flags)
	b = be.AppendUint32(b, ExperimenterONF)
	return be.AppendUint32(b, onfst), start
}

// checkMP checks a whole multipart message that appendMPHeader writes and
// returns its flags and the offset of its body.
func checkMP(h *Header, b []byte, t Type, mp uint16, onfst uint32, name string) (flags uint16, off int, err error) {
	got, flags, err := checkMultipart(h, b, t, name)
	if err != nil {
		return 0, 0, err
	}
	if onfst == 0 || h.Version >= Version14 {
		if got != mp {
			return 0, 0, fmt.Errorf("%s: multipart type %d, want %d", name, got, mp)
		}
		return flags, multipartLen, nil
	}
	if h.Version != Version13 {
		return 0, 0, fmt.Errorf("%s: version %#x not supported", name, h.Version)
	}
	if got != MultipartExperimenter {
		return 0, 0, fmt.Errorf("%s: multipart type %d, want %d", name, got, MultipartExperimenter)
	}
	if len(b) < onfMultipartLen {
		return 0, 0, errTruncated(name, b, multipartLen, onfMultipartLen-multipartLen)
	}
	if e, s := be.Uint32(b[16:]), be.Uint32(b[20:]); e != ExperimenterONF || s != onfst {
		return 0, 0, fmt.Errorf("%s: experimenter %#x exp_type %d, want %#x %d", name, e, s, ExperimenterONF, onfst)
	}
	return flags, onfMultipartLen, nil
}

// MultipartRequest is OFPT_MULTIPART_REQUEST (OpenFlow 1.3.5 §7.3.5, struct
// ofp_multipart_request)
// of a type this package does not decode, its body raw.
type MultipartRequest struct {
	Header
	MPType uint16
	Flags  uint16
	Body   []byte
}

func (m *MultipartRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartRequest, m.MPType, m.Flags)
	return finish(append(b, m.Body...), start)
}

func (m *MultipartRequest) UnmarshalBinary(b []byte) error {
	var err error
	m.MPType, m.Flags, err = checkMultipart(&m.Header, b, TypeMultipartRequest, "multipart_request")
	m.Body = append([]byte(nil), b[min(len(b), multipartLen):]...)
	return err
}

// MultipartReply is OFPT_MULTIPART_REPLY (OpenFlow 1.3.5 §7.3.5, struct
// ofp_multipart_reply) of a type this package does not decode, its body raw.
type MultipartReply struct {
	Header
	MPType uint16
	Flags  uint16
	Body   []byte
}

func (m *MultipartReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, m.MPType, m.Flags)
	return finish(append(b, m.Body...), start)
}

func (m *MultipartReply) UnmarshalBinary(b []byte) error {
	var err error
	m.MPType, m.Flags, err = checkMultipart(&m.Header, b, TypeMultipartReply, "multipart_reply")
	m.Body = append([]byte(nil), b[min(len(b), multipartLen):]...)
	return err
}

// Reassembler limits, per xid, when the Reassembler's own are zero.
const (
	DefaultMaxParts   = 4096
	DefaultMaxBytes   = 64 << 20
	DefaultMaxPending = 64
)

// ErrReassemblyLimit is wrapped by Reassembler.Add when a reply grows past
// a limit; the parts collected so far for that xid are dropped.
var ErrReassemblyLimit = errors.New("multipart reassembly limit exceeded")

// Reassembler joins the parts of multipart replies (OpenFlow 1.3.5 §7.3.5:
// every part but the last has OFPMPF_REPLY_MORE) by xid. It is not safe for
// concurrent use; the connection owns one.
type Reassembler struct {
	MaxParts   int // parts of one reply
	MaxBytes   int // bytes (the parts' length fields, summed) of one reply
	MaxPending int // replies under way at once

	pending map[uint32]*reassembly
}

type reassembly struct {
	msg          Message
	parts, bytes int
}

// Add takes one decoded part: a *FlowStatsReply, *GroupDescReply,
// *MeterConfigReply, *PortDescReply, *FlowMonitorReply or *MultipartReply.
// It returns nil while more parts are due, and the whole reply once the
// last part arrives: the first part's message with every later part's
// entries (or body) appended and the last part's flags. A reply in one
// part comes back at once.
func (r *Reassembler) Add(m Message) (Message, error) {
	flags, err := replyFlags(m)
	if err != nil {
		return nil, err
	}
	xid, size := m.Hdr().XID, max(int(m.Hdr().Length), HeaderLen)
	cur, ok := r.pending[xid]
	if !ok {
		if flags&MultipartMore == 0 {
			return m, nil
		}
		if len(r.pending) >= limit(r.MaxPending, DefaultMaxPending) {
			return nil, fmt.Errorf("multipart xid %#x: %w: %d replies pending", xid, ErrReassemblyLimit, len(r.pending))
		}
		if r.pending == nil {
			r.pending = map[uint32]*reassembly{}
		}
		r.pending[xid] = &reassembly{msg: m, parts: 1, bytes: size}
		return nil, nil
	}
	cur.parts++
	cur.bytes += size
	if cur.parts > limit(r.MaxParts, DefaultMaxParts) || cur.bytes > limit(r.MaxBytes, DefaultMaxBytes) {
		delete(r.pending, xid)
		return nil, fmt.Errorf("multipart xid %#x: %w: %d parts, %d bytes", xid, ErrReassemblyLimit, cur.parts, cur.bytes)
	}
	if err := mergeReply(cur.msg, m, flags); err != nil {
		delete(r.pending, xid)
		return nil, fmt.Errorf("multipart xid %#x: part %d: %w", xid, cur.parts, err)
	}
	if flags&MultipartMore != 0 {
		return nil, nil
	}
	delete(r.pending, xid)
	return cur.msg, nil
}

// Forget drops the parts collected for xid, as when an error answers the
// request instead.
func (r *Reassembler) Forget(xid uint32) { delete(r.pending, xid) }

// Pending is the number of replies under way.
func (r *Reassembler) Pending() int { return len(r.pending) }

func limit(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func replyFlags(m Message) (uint16, error) {
	switch m := m.(type) {
	case *FlowStatsReply:
		return m.Flags, nil
	case *GroupDescReply:
		return m.Flags, nil
	case *MeterConfigReply:
		return m.Flags, nil
	case *PortDescReply:
		return m.Flags, nil
	case *FlowMonitorReply:
		return m.Flags, nil
	case *MultipartReply:
		return m.Flags, nil
	}
	return 0, fmt.Errorf("multipart: %T is not a multipart reply", m)
}

// mergeReply appends part's entries to whole, which must be of the same
// kind, and gives whole the part's flags.
func mergeReply(whole, part Message, flags uint16) error {
	switch w := whole.(type) {
	case *FlowStatsReply:
		if p, ok := part.(*FlowStatsReply); ok {
			w.Stats, w.Flags = append(w.Stats, p.Stats...), flags
			return nil
		}
	case *GroupDescReply:
		if p, ok := part.(*GroupDescReply); ok {
			w.Groups, w.Flags = append(w.Groups, p.Groups...), flags
			return nil
		}
	case *MeterConfigReply:
		if p, ok := part.(*MeterConfigReply); ok {
			w.Meters, w.Flags = append(w.Meters, p.Meters...), flags
			return nil
		}
	case *PortDescReply:
		if p, ok := part.(*PortDescReply); ok {
			w.Ports, w.Flags = append(w.Ports, p.Ports...), flags
			return nil
		}
	case *FlowMonitorReply:
		if p, ok := part.(*FlowMonitorReply); ok {
			w.Updates, w.Flags = append(w.Updates, p.Updates...), flags
			return nil
		}
	case *MultipartReply:
		if p, ok := part.(*MultipartReply); ok && p.MPType == w.MPType {
			w.Body, w.Flags = append(w.Body, p.Body...), flags
			return nil
		}
	}
	return fmt.Errorf("%T after %T", part, whole)
}
