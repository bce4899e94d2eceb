package openflow

import (
	"errors"
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
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

// FlowStatsRequest is an OFPMP_FLOW request (OpenFlow 1.3.5 §7.3.5.2,
// struct ofp_flow_stats_request):
//
//	multipart header | table_id u8 | pad 3 | out_port u32 | out_group u32 |
//	pad 4 | cookie u64 | cookie_mask u64 | ofp_match
type FlowStatsRequest struct {
	Header
	Flags      uint16
	TableID    uint8
	OutPort    uint32
	OutGroup   uint32
	Cookie     uint64
	CookieMask uint64
	Match      oxm.Match
}

// NewFlowStatsRequest asks for every flow of every table.
func NewFlowStatsRequest(version uint8) *FlowStatsRequest {
	return &FlowStatsRequest{Header: Header{Version: version}, TableID: TableAll, OutPort: PortAny, OutGroup: GroupAny}
}

const flowStatsRequestLen = multipartLen + 32

func (m *FlowStatsRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartRequest, MultipartFlow, m.Flags)
	b = append(b, m.TableID, 0, 0, 0)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("flow_stats_request: match: %w", err)
	}
	return finish(b, start)
}

func (m *FlowStatsRequest) UnmarshalBinary(b []byte) error {
	const name = "flow_stats_request"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartRequest, name)
	if err != nil {
		return err
	}
	if mp != MultipartFlow {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	if len(b) < flowStatsRequestLen {
		return errTruncated(name, b, multipartLen, flowStatsRequestLen-multipartLen)
	}
	m.Flags = flags
	m.TableID = b[16]
	m.OutPort = be.Uint32(b[20:])
	m.OutGroup = be.Uint32(b[24:])
	m.Cookie = be.Uint64(b[32:])
	m.CookieMask = be.Uint64(b[40:])
	n, err := unmarshalMatch(&m.Match, b[flowStatsRequestLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	if flowStatsRequestLen+n != len(b) {
		return fmt.Errorf("%s: %d bytes after the match", name, len(b)-flowStatsRequestLen-n)
	}
	return nil
}

// GroupDescRequest is an OFPMP_GROUP_DESC request of OpenFlow 1.1-1.4
// (OpenFlow 1.3.5 §7.3.5.10): an empty body.
type GroupDescRequest struct {
	Header
	Flags uint16
}

func (m *GroupDescRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartRequest, MultipartGroupDesc, m.Flags)
	return finish(b, start)
}

func (m *GroupDescRequest) UnmarshalBinary(b []byte) error {
	const name = "group_desc_request"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartRequest, name)
	if err != nil {
		return err
	}
	if mp != MultipartGroupDesc || len(b) != multipartLen {
		return fmt.Errorf("%s: multipart type %d, %d bytes", name, mp, len(b))
	}
	m.Flags = flags
	return nil
}

// MeterConfigRequest is an OFPMP_METER_CONFIG request (OpenFlow 1.3.5
// §7.3.5.13, struct ofp_meter_multipart_request): meter_id u32 | pad 4. MeterAll asks for
// every meter.
type MeterConfigRequest struct {
	Header
	Flags   uint16
	MeterID uint32
}

func (m *MeterConfigRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartRequest, MultipartMeterConfig, m.Flags)
	b = be.AppendUint32(b, m.MeterID)
	return finish(append(b, 0, 0, 0, 0), start)
}

func (m *MeterConfigRequest) UnmarshalBinary(b []byte) error {
	const name = "meter_config_request"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartRequest, name)
	if err != nil {
		return err
	}
	if mp != MultipartMeterConfig || len(b) != multipartLen+8 {
		return fmt.Errorf("%s: multipart type %d, %d bytes", name, mp, len(b))
	}
	m.Flags = flags
	m.MeterID = be.Uint32(b[16:])
	return nil
}

// FlowStatsReply is an OFPMP_FLOW reply of OpenFlow 1.3 or 1.4 (OpenFlow
// 1.3.5 §7.3.5.2, struct ofp_flow_stats each): one part
// of it, or, from a Reassembler, all parts' flows.
//
// Shallow, set before decoding, leaves each entry's Match and Instructions
// undecoded: a reader that compares flows by their bytes (RawMatch,
// RawInstructions) need not pay for a million decodes. FlowStats.Decode
// decodes one entry later.
type FlowStatsReply struct {
	Header
	Flags   uint16
	Stats   []FlowStats
	Shallow bool
}

func (m *FlowStatsReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartFlow, m.Flags)
	ver := b[start]
	for i := range m.Stats {
		var err error
		if b, err = m.Stats[i].append(b, ver); err != nil {
			return b[:start], fmt.Errorf("flow_stats_reply: flow[%d]: %w", i, err)
		}
	}
	return finish(b, start)
}

func (m *FlowStatsReply) UnmarshalBinary(b []byte) error {
	const name = "flow_stats_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartFlow {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	m.Flags, m.Stats = flags, nil
	ctx := action.Context{Version: m.Version}
	for off, i := multipartLen, 0; off < len(b); i++ {
		var fs FlowStats
		n, err := fs.unmarshal(ctx, b[off:], m.Shallow)
		if err != nil {
			return fmt.Errorf("%s: flow[%d]: %w", name, i, err)
		}
		m.Stats = append(m.Stats, fs)
		off += n
	}
	return nil
}

// flowStatsLen is struct ofp_flow_stats before the match.
const flowStatsLen = 48

// append writes struct ofp_flow_stats (OpenFlow 1.3.5 §7.3.5.2):
//
//	length u16 | table_id u8 | pad | duration_sec u32 | duration_nsec u32 |
//	priority u16 | idle_timeout u16 | hard_timeout u16 | flags u16 |
//	importance u16 (1.3: pad) | pad 2 | cookie u64 | packet_count u64 |
//	byte_count u64 | ofp_match | instructions
func (fs *FlowStats) append(b []byte, version uint8) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, fs.TableID, 0)
	b = be.AppendUint32(b, fs.DurationSec)
	b = be.AppendUint32(b, fs.DurationNsec)
	b = be.AppendUint16(b, fs.Priority)
	b = be.AppendUint16(b, fs.IdleTimeout)
	b = be.AppendUint16(b, fs.HardTimeout)
	b = be.AppendUint16(b, fs.Flags)
	imp := fs.Importance
	if version < Version14 {
		imp = 0
	}
	b = be.AppendUint16(b, imp)
	b = append(b, 0, 0)
	b = be.AppendUint64(b, fs.Cookie)
	b = be.AppendUint64(b, fs.PacketCount)
	b = be.AppendUint64(b, fs.ByteCount)
	var err error
	if b, err = appendMatch(b, &fs.Match); err != nil {
		return b[:start], fmt.Errorf("match: %w", err)
	}
	if b, err = appendInstructions(b, fs.Instructions); err != nil {
		return b[:start], err
	}
	n := len(b) - start
	if n > 0xffff {
		return b[:start], ErrTooLong
	}
	be.PutUint16(b[start:], uint16(n))
	return b, nil
}

// unmarshal decodes the ofp_flow_stats at the start of b and returns its
// length.
func (fs *FlowStats) unmarshal(ctx action.Context, b []byte, shallow bool) (int, error) {
	if len(b) < flowStatsLen {
		return 0, errTruncated("ofp_flow_stats", b, 0, flowStatsLen)
	}
	n := int(be.Uint16(b))
	if n < flowStatsLen || n > len(b) {
		return 0, fmt.Errorf("length %d, %d bytes left", n, len(b))
	}
	b = b[:n]
	fs.TableID = b[2]
	fs.DurationSec = be.Uint32(b[4:])
	fs.DurationNsec = be.Uint32(b[8:])
	fs.Priority = be.Uint16(b[12:])
	fs.IdleTimeout = be.Uint16(b[14:])
	fs.HardTimeout = be.Uint16(b[16:])
	fs.Flags = be.Uint16(b[18:])
	fs.Importance = 0
	if ctx.Version >= Version14 {
		fs.Importance = be.Uint16(b[20:])
	}
	fs.Cookie = be.Uint64(b[24:])
	fs.PacketCount = be.Uint64(b[32:])
	fs.ByteCount = be.Uint64(b[40:])
	m, err := matchLen(b[flowStatsLen:])
	if err != nil {
		return 0, err
	}
	fs.RawMatch = b[flowStatsLen : flowStatsLen+m : flowStatsLen+m]
	fs.RawInstructions = b[flowStatsLen+m : n]
	if shallow {
		return n, nil
	}
	return n, fs.Decode(ctx.Version)
}

// matchLen returns the length of the ofp_match at the start of b, padding
// included, after checking that it is an OXM match that fits b.
func matchLen(b []byte) (int, error) {
	if len(b) < 4 {
		return 0, errors.New("match: truncated")
	}
	if t := be.Uint16(b); t != 1 { // OFPMT_OXM
		return 0, fmt.Errorf("match: type %d is not OFPMT_OXM", t)
	}
	length := int(be.Uint16(b[2:]))
	padded := (length + 7) / 8 * 8
	if length < 4 || padded > len(b) {
		return 0, fmt.Errorf("match: length %d, %d bytes", length, len(b))
	}
	return padded, nil
}

// Decode fills the entry's Match and Instructions from RawMatch and
// RawInstructions, as a reply decoded without Shallow has them.
// Instructions the codec cannot read are kept as raw bytes.
func (fs *FlowStats) Decode(version uint8) error {
	if _, err := unmarshalMatch(&fs.Match, fs.RawMatch); err != nil {
		return fmt.Errorf("match: %w", err)
	}
	ins, err := decodeInstructions(action.Context{Version: version}, fs.RawInstructions)
	if err != nil {
		// The switch holds this flow whatever we think of its actions:
		// keep them as bytes, so that a flow the codec does not
		// understand is still one it can carry, compare and delete.
		ins = action.Instructions{&action.RawInstruction{Data: append([]byte(nil), fs.RawInstructions...)}}
	}
	fs.Instructions = ins
	return nil
}

// GroupDescReply is an OFPMP_GROUP_DESC reply of OpenFlow 1.1-1.4 (OpenFlow
// 1.3.5 §7.3.5.10): one part, or, from a Reassembler, all parts' groups. Each struct
// ofp_group_desc is
//
//	length u16 | type u8 | pad | group_id u32 | ofp_bucket...
type GroupDescReply struct {
	Header
	Flags  uint16
	Groups []GroupDesc
}

func (m *GroupDescReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartGroupDesc, m.Flags)
	for i, g := range m.Groups {
		gs := len(b)
		b = append(b, 0, 0, g.Type, 0)
		b = be.AppendUint32(b, g.GroupID)
		var err error
		if b, err = appendBuckets(b, g.Buckets); err != nil {
			return b[:start], fmt.Errorf("group_desc_reply: group[%d]: %w", i, err)
		}
		if len(b)-gs > 0xffff {
			return b[:start], fmt.Errorf("group_desc_reply: group[%d]: %w", i, ErrTooLong)
		}
		be.PutUint16(b[gs:], uint16(len(b)-gs))
	}
	return finish(b, start)
}

func (m *GroupDescReply) UnmarshalBinary(b []byte) error {
	const name = "group_desc_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartGroupDesc {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	m.Flags, m.Groups = flags, nil
	ctx := action.Context{Version: m.Version}
	for off, i := multipartLen, 0; off < len(b); i++ {
		if len(b)-off < 8 {
			return fmt.Errorf("%s: group[%d]: %w", name, i, errTruncated("ofp_group_desc", b, off, 8))
		}
		n := int(be.Uint16(b[off:]))
		if n < 8 || n > len(b)-off {
			return fmt.Errorf("%s: group[%d]: length %d, %d bytes left", name, i, n, len(b)-off)
		}
		g := GroupDesc{Type: b[off+2], GroupID: be.Uint32(b[off+4:])}
		if g.Buckets, err = parseBuckets(ctx, b[off+8:off+n]); err != nil {
			return fmt.Errorf("%s: group[%d]: %w", name, i, err)
		}
		m.Groups = append(m.Groups, g)
		off += n
	}
	return nil
}

// MeterConfigReply is an OFPMP_METER_CONFIG reply (OpenFlow 1.3.5
// §7.3.5.13): one part, or, from a
// Reassembler, all parts' meters. Each struct ofp_meter_config is
//
//	length u16 | flags u16 | meter_id u32 | ofp_meter_band...
type MeterConfigReply struct {
	Header
	Flags  uint16
	Meters []MeterConfig
}

func (m *MeterConfigReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartMeterConfig, m.Flags)
	for i, mc := range m.Meters {
		ms := len(b)
		b = append(b, 0, 0)
		b = be.AppendUint16(b, mc.Flags)
		b = be.AppendUint32(b, mc.MeterID)
		var err error
		if b, err = appendBands(b, mc.Bands); err != nil {
			return b[:start], fmt.Errorf("meter_config_reply: meter[%d]: %w", i, err)
		}
		if len(b)-ms > 0xffff {
			return b[:start], fmt.Errorf("meter_config_reply: meter[%d]: %w", i, ErrTooLong)
		}
		be.PutUint16(b[ms:], uint16(len(b)-ms))
	}
	return finish(b, start)
}

func (m *MeterConfigReply) UnmarshalBinary(b []byte) error {
	const name = "meter_config_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartMeterConfig {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	m.Flags, m.Meters = flags, nil
	for off, i := multipartLen, 0; off < len(b); i++ {
		if len(b)-off < 8 {
			return fmt.Errorf("%s: meter[%d]: %w", name, i, errTruncated("ofp_meter_config", b, off, 8))
		}
		n := int(be.Uint16(b[off:]))
		if n < 8 || n > len(b)-off {
			return fmt.Errorf("%s: meter[%d]: length %d, %d bytes left", name, i, n, len(b)-off)
		}
		mc := MeterConfig{Flags: be.Uint16(b[off+2:]), MeterID: be.Uint32(b[off+4:])}
		if mc.Bands, err = parseBands(b[off+8 : off+n]); err != nil {
			return fmt.Errorf("%s: meter[%d]: %w", name, i, err)
		}
		m.Meters = append(m.Meters, mc)
		off += n
	}
	return nil
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
// *MeterConfigReply or *MultipartReply. It returns nil while more parts
// are due, and the whole reply once the last part arrives: the first
// part's message with every later part's entries (or body) appended and
// the last part's flags. A reply in one part comes back at once.
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
	case *MultipartReply:
		if p, ok := part.(*MultipartReply); ok && p.MPType == w.MPType {
			w.Body, w.Flags = append(w.Body, p.Body...), flags
			return nil
		}
	}
	return fmt.Errorf("%T after %T", part, whole)
}
