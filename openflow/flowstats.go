package openflow

import (
	"errors"
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

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

// FlowStatsReply is an OFPMP_FLOW reply (OpenFlow 1.3.5 §7.3.5.2): one
// part of it, or, from a Reassembler, all parts' flows. Each entry is a
// struct ofp_flow_stats in OpenFlow 1.3 and 1.4 and a struct
// ofp15_flow_desc with OXS statistics in 1.5 (see FlowStats).
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
	if m.Version < Version13 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	m.Flags, m.Stats = flags, nil
	for off, i := multipartLen, 0; off < len(b); i++ {
		var fs FlowStats
		n, err := fs.unmarshal(m.Version, b[off:], m.Shallow)
		if err != nil {
			return fmt.Errorf("%s: flow[%d]: %w", name, i, err)
		}
		m.Stats = append(m.Stats, fs)
		off += n
	}
	return nil
}

// flowStatsLen is struct ofp_flow_stats before the match; flowDescLen is
// OpenFlow 1.5's struct ofp15_flow_desc.
const (
	flowStatsLen = 48
	flowDescLen  = 24
)

// append writes the entry in version's layout. OpenFlow 1.3 and 1.4 write
// struct ofp_flow_stats (OpenFlow 1.3.5 §7.3.5.2):
//
//	length u16 | table_id u8 | pad | duration_sec u32 | duration_nsec u32 |
//	priority u16 | idle_timeout u16 | hard_timeout u16 | flags u16 |
//	importance u16 (1.3: pad) | pad 2 | cookie u64 | packet_count u64 |
//	byte_count u64 | ofp_match | instructions
//
// OpenFlow 1.5 writes struct ofp15_flow_desc, the statistics as OXS after
// the match (lib/ofp-flow.c, lib/ox-stat.c):
//
//	length u16 | pad 2 | table_id u8 | pad | priority u16 |
//	idle_timeout u16 | hard_timeout u16 | flags u16 | importance u16 |
//	cookie u64 | ofp_match | ofp_oxs_stat | instructions
func (fs *FlowStats) append(b []byte, version uint8) ([]byte, error) {
	start := len(b)
	var err error
	if version >= Version15 {
		b = append(b, 0, 0, 0, 0, fs.TableID, 0)
		b = be.AppendUint16(b, fs.Priority)
		b = be.AppendUint16(b, fs.IdleTimeout)
		b = be.AppendUint16(b, fs.HardTimeout)
		b = be.AppendUint16(b, fs.Flags)
		b = be.AppendUint16(b, fs.Importance)
		b = be.AppendUint64(b, fs.Cookie)
		if b, err = appendMatch(b, &fs.Match); err != nil {
			return b[:start], fmt.Errorf("match: %w", err)
		}
		if b, err = fs.appendOXS(b); err != nil {
			return b[:start], err
		}
	} else {
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
		if b, err = appendMatch(b, &fs.Match); err != nil {
			return b[:start], fmt.Errorf("match: %w", err)
		}
	}
	if b, err = appendInstructions(b, fs.Instructions); err != nil {
		return b[:start], err
	}
	return patchLen16(b, start)
}

// appendOXS writes the entry's statistics as OVS does for a flow:
// duration, idle time, packet and byte count, then OtherStats.
func (fs *FlowStats) appendOXS(b []byte) ([]byte, error) {
	st := OXSStats{
		Duration:    uint64(fs.DurationSec)<<32 | uint64(fs.DurationNsec),
		IdleTime:    uint64(fs.IdleAge) << 32,
		PacketCount: fs.PacketCount,
		ByteCount:   fs.ByteCount,
		Have:        OXSHaveDuration | OXSHaveIdleTime | OXSHavePacketCount | OXSHaveByteCount,
		Other:       fs.OtherStats,
	}
	return st.append(b)
}

// unmarshal decodes the entry at the start of b and returns its length.
func (fs *FlowStats) unmarshal(version uint8, b []byte, shallow bool) (int, error) {
	fixed := flowStatsLen
	if version >= Version15 {
		fixed = flowDescLen
	}
	if len(b) < fixed {
		return 0, errTruncated("ofp_flow_stats", b, 0, fixed)
	}
	n := int(be.Uint16(b))
	if n < fixed || n > len(b) {
		return 0, fmt.Errorf("length %d, %d bytes left", n, len(b))
	}
	b = b[:n]
	*fs = FlowStats{}
	if version >= Version15 {
		fs.TableID = b[4]
		fs.Priority = be.Uint16(b[6:])
		fs.IdleTimeout = be.Uint16(b[8:])
		fs.HardTimeout = be.Uint16(b[10:])
		fs.Flags = be.Uint16(b[12:])
		fs.Importance = be.Uint16(b[14:])
		fs.Cookie = be.Uint64(b[16:])
	} else {
		fs.TableID = b[2]
		fs.DurationSec = be.Uint32(b[4:])
		fs.DurationNsec = be.Uint32(b[8:])
		fs.Priority = be.Uint16(b[12:])
		fs.IdleTimeout = be.Uint16(b[14:])
		fs.HardTimeout = be.Uint16(b[16:])
		fs.Flags = be.Uint16(b[18:])
		if version >= Version14 {
			fs.Importance = be.Uint16(b[20:])
		}
		fs.Cookie = be.Uint64(b[24:])
		fs.PacketCount = be.Uint64(b[32:])
		fs.ByteCount = be.Uint64(b[40:])
	}
	m, err := matchLen(b[fixed:])
	if err != nil {
		return 0, err
	}
	fs.RawMatch = b[fixed : fixed+m : fixed+m]
	ins := fixed + m
	if version >= Version15 {
		var st OXSStats
		k, err := st.unmarshal(b[ins:], OXSHaveDuration|OXSHaveIdleTime|OXSHavePacketCount|OXSHaveByteCount)
		if err != nil {
			return 0, err
		}
		fs.DurationSec, fs.DurationNsec = uint32(st.Duration>>32), uint32(st.Duration)
		fs.IdleAge = uint32(st.IdleTime >> 32)
		fs.PacketCount, fs.ByteCount, fs.OtherStats = st.PacketCount, st.ByteCount, st.Other
		ins += k
	}
	fs.RawInstructions = b[ins:n]
	if shallow {
		return n, nil
	}
	return n, fs.Decode(version)
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
	fs.Instructions = decodeInstructionsOrRaw(version, fs.RawInstructions)
	return nil
}

// decodeInstructionsOrRaw decodes the instructions of a flow the switch
// holds. The switch holds it whatever we think of its actions: those we
// cannot read are kept as bytes, so that a flow the codec does not
// understand is still one it can carry, compare and delete.
func decodeInstructionsOrRaw(version uint8, b []byte) action.Instructions {
	ins, err := decodeInstructions(action.Context{Version: version}, b)
	if err != nil {
		return action.Instructions{&action.RawInstruction{Data: append([]byte(nil), b...)}}
	}
	return ins
}
