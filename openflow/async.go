package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// PacketIn is OFPT_PACKET_IN of OpenFlow 1.3+ (OpenFlow 1.3.5 §7.4.1,
// struct ofp_packet_in):
//
//	header | buffer_id u32 | total_len u16 | reason u8 | table_id u8 |
//	cookie u64 | ofp_match (padded to 8) | pad 2 | data
type PacketIn struct {
	Header
	BufferID uint32
	TotalLen uint16
	Reason   uint8
	TableID  uint8
	Cookie   uint64
	Match    oxm.Match
	Data     []byte // the packet (or its first miss_send_len bytes)
}

const packetInLen = 24

func (m *PacketIn) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypePacketIn)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint16(b, m.TotalLen)
	b = append(b, m.Reason, m.TableID)
	b = be.AppendUint64(b, m.Cookie)
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("packet_in: match: %w", err)
	}
	b = append(b, 0, 0)
	b = append(b, m.Data...)
	return finish(b, start)
}

func (m *PacketIn) UnmarshalBinary(b []byte) error {
	const name = "packet_in"
	if err := checkHeader(&m.Header, b, TypePacketIn, name); err != nil {
		return err
	}
	if m.Version < Version13 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	if len(b) < packetInLen {
		return errTruncated(name, b, HeaderLen, packetInLen-HeaderLen)
	}
	m.BufferID = be.Uint32(b[8:])
	m.TotalLen = be.Uint16(b[12:])
	m.Reason, m.TableID = b[14], b[15]
	m.Cookie = be.Uint64(b[16:])
	n, err := unmarshalMatch(&m.Match, b[packetInLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	off := packetInLen + n
	if len(b)-off < 2 {
		return errTruncated(name+": pad", b, off, 2)
	}
	m.Data = append([]byte(nil), b[off+2:]...)
	return nil
}

// FlowRemoved is OFPT_FLOW_REMOVED of OpenFlow 1.3+. In OpenFlow 1.3 and
// 1.4 (OpenFlow 1.3.5 §7.4.2, struct ofp_flow_removed):
//
//	header | cookie u64 | priority u16 | reason u8 | table_id u8 |
//	duration_sec u32 | duration_nsec u32 | idle_timeout u16 |
//	hard_timeout u16 | packet_count u64 | byte_count u64 | ofp_match
//
// In OpenFlow 1.5 (struct ofp15_flow_removed), with the duration and
// counts as OXS statistics (OXSStats) and other OXS entries kept raw in
// OtherStats:
//
//	header | table_id u8 | reason u8 | priority u16 | idle_timeout u16 |
//	hard_timeout u16 | cookie u64 | ofp_match | ofp_oxs_stat
type FlowRemoved struct {
	Header
	Cookie       uint64
	Priority     uint16
	Reason       uint8
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	IdleTimeout  uint16
	HardTimeout  uint16
	PacketCount  uint64
	ByteCount    uint64
	Match        oxm.Match
	OtherStats   []byte
}

const (
	flowRemovedLen   = 48
	flowRemoved15Len = 24
	flowRemovedStats = OXSHaveDuration | OXSHavePacketCount | OXSHaveByteCount
)

func (m *FlowRemoved) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeFlowRemoved)
	v15 := b[start] >= Version15
	if v15 {
		b = append(b, m.TableID, m.Reason)
		b = be.AppendUint16(b, m.Priority)
		b = be.AppendUint16(b, m.IdleTimeout)
		b = be.AppendUint16(b, m.HardTimeout)
		b = be.AppendUint64(b, m.Cookie)
	} else {
		b = be.AppendUint64(b, m.Cookie)
		b = be.AppendUint16(b, m.Priority)
		b = append(b, m.Reason, m.TableID)
		b = be.AppendUint32(b, m.DurationSec)
		b = be.AppendUint32(b, m.DurationNsec)
		b = be.AppendUint16(b, m.IdleTimeout)
		b = be.AppendUint16(b, m.HardTimeout)
		b = be.AppendUint64(b, m.PacketCount)
		b = be.AppendUint64(b, m.ByteCount)
	}
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("flow_removed: match: %w", err)
	}
	if v15 {
		st := OXSStats{
			Duration:    uint64(m.DurationSec)<<32 | uint64(m.DurationNsec),
			PacketCount: m.PacketCount, ByteCount: m.ByteCount,
			Have: flowRemovedStats, Other: m.OtherStats,
		}
		if b, err = st.append(b); err != nil {
			return b[:start], fmt.Errorf("flow_removed: %w", err)
		}
	}
	return finish(b, start)
}

func (m *FlowRemoved) UnmarshalBinary(b []byte) error {
	const name = "flow_removed"
	if err := checkHeader(&m.Header, b, TypeFlowRemoved, name); err != nil {
		return err
	}
	if m.Version < Version13 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	fixed := flowRemovedLen
	if m.Version >= Version15 {
		fixed = flowRemoved15Len
	}
	if len(b) < fixed {
		return errTruncated(name, b, HeaderLen, fixed-HeaderLen)
	}
	m.OtherStats = nil
	if m.Version >= Version15 {
		m.TableID, m.Reason = b[8], b[9]
		m.Priority = be.Uint16(b[10:])
		m.IdleTimeout = be.Uint16(b[12:])
		m.HardTimeout = be.Uint16(b[14:])
		m.Cookie = be.Uint64(b[16:])
	} else {
		m.Cookie = be.Uint64(b[8:])
		m.Priority = be.Uint16(b[16:])
		m.Reason, m.TableID = b[18], b[19]
		m.DurationSec = be.Uint32(b[20:])
		m.DurationNsec = be.Uint32(b[24:])
		m.IdleTimeout = be.Uint16(b[28:])
		m.HardTimeout = be.Uint16(b[30:])
		m.PacketCount = be.Uint64(b[32:])
		m.ByteCount = be.Uint64(b[40:])
	}
	n, err := unmarshalMatch(&m.Match, b[fixed:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	off := fixed + n
	if m.Version >= Version15 {
		var st OXSStats
		k, err := st.unmarshal(b[off:], flowRemovedStats)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		m.DurationSec, m.DurationNsec = uint32(st.Duration>>32), uint32(st.Duration)
		m.PacketCount, m.ByteCount, m.OtherStats = st.PacketCount, st.ByteCount, st.Other
		off += k
	}
	if off != len(b) {
		return fmt.Errorf("%s: %d bytes after the match", name, len(b)-off)
	}
	return nil
}
