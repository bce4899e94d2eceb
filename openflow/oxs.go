package openflow

import "fmt"

// OXS flow statistics fields of class OFPXSC_OPENFLOW_BASIC (enum
// oxs_ofb_stat_fields, OpenFlow 1.5.1 §7.2.4); OXSHave's bits are
// 1<<field.
const (
	oxsClassBasic        = 0x8002
	oxsClassExperimenter = 0xffff

	OXSDuration    = 0 // u64: seconds << 32 | nanoseconds
	OXSIdleTime    = 1 // u64: seconds << 32 | nanoseconds
	OXSFlowCount   = 3 // u32
	OXSPacketCount = 4 // u64
	OXSByteCount   = 5 // u64

	OXSHaveDuration    uint8 = 1 << OXSDuration
	OXSHaveIdleTime    uint8 = 1 << OXSIdleTime
	OXSHaveFlowCount   uint8 = 1 << OXSFlowCount
	OXSHavePacketCount uint8 = 1 << OXSPacketCount
	OXSHaveByteCount   uint8 = 1 << OXSByteCount
)

// OXSStats is OpenFlow 1.5's struct ofp_oxs_stat and the OXS TLVs in it
// (OVS lib/ox-stat.c), the statistics of a flow stats or flow removed
// entry:
//
//	reserved u16 | length u16 | OXS TLVs | zero padding to 8
//	OXS TLV: class u16 | field u7 | reserved u1 | length u8 | value
//
// Have says which known fields the TLVs hold; the encoder writes those in
// OVS's order (duration, idle time, packet count, byte count, flow count),
// then Other: the TLVs of other classes or fields, or of fields the
// message's reader does not take, raw, in their order.
type OXSStats struct {
	Duration    uint64
	IdleTime    uint64
	FlowCount   uint32
	PacketCount uint64
	ByteCount   uint64
	Have        uint8
	Other       []byte
}

const oxsStatLen = 4

func (st *OXSStats) append(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	put := func(field int, v uint64, n int) {
		if st.Have&(1<<field) == 0 {
			return
		}
		b = be.AppendUint32(b, oxsClassBasic<<16|uint32(field)<<9|uint32(n))
		if n == 4 {
			b = be.AppendUint32(b, uint32(v))
		} else {
			b = be.AppendUint64(b, v)
		}
	}
	put(OXSDuration, st.Duration, 8)
	put(OXSIdleTime, st.IdleTime, 8)
	put(OXSPacketCount, st.PacketCount, 8)
	put(OXSByteCount, st.ByteCount, 8)
	put(OXSFlowCount, uint64(st.FlowCount), 4)
	b = append(b, st.Other...)
	n := len(b) - start
	if n > 0xffff {
		return b[:start], fmt.Errorf("oxs: %w", ErrTooLong)
	}
	be.PutUint16(b[start+2:], uint16(n))
	return append(b, make([]byte, pad8(n))...), nil
}

// oxsLen is the payload length of each known field.
var oxsLen = [...]int{OXSDuration: 8, OXSIdleTime: 8, 2: -1, OXSFlowCount: 4, OXSPacketCount: 8, OXSByteCount: 8}

// unmarshal decodes the ofp_oxs_stat at the start of b, taking the known
// fields in want and keeping every other TLV in Other, and returns the
// bytes it takes, padding included.
func (st *OXSStats) unmarshal(b []byte, want uint8) (int, error) {
	if len(b) < oxsStatLen {
		return 0, errTruncated("oxs", b, 0, oxsStatLen)
	}
	n := int(be.Uint16(b[2:]))
	padded := n + pad8(n)
	if n < oxsStatLen || padded > len(b) {
		return 0, fmt.Errorf("oxs: length %d, %d bytes", n, len(b))
	}
	*st = OXSStats{}
	for off, i := oxsStatLen, 0; off < n; i++ {
		if n-off < 4 {
			return 0, fmt.Errorf("oxs[%d]: truncated", i)
		}
		h := be.Uint32(b[off:])
		class, field, vlen := h>>16, int(h>>9)&0x7f, int(h&0xff)
		tlv := 4 + vlen
		if class == oxsClassExperimenter && vlen < 4 {
			return 0, fmt.Errorf("oxs[%d]: experimenter field of length %d", i, vlen)
		}
		if n-off < tlv {
			return 0, fmt.Errorf("oxs[%d]: length %d, %d bytes left", i, vlen, n-off-4)
		}
		v := b[off+4 : off+tlv]
		switch {
		case class == oxsClassBasic && field < len(oxsLen) && oxsLen[field] == vlen && want&(1<<field) != 0:
			st.Have |= 1 << field
			switch field {
			case OXSDuration:
				st.Duration = be.Uint64(v)
			case OXSIdleTime:
				st.IdleTime = be.Uint64(v)
			case OXSFlowCount:
				st.FlowCount = be.Uint32(v)
			case OXSPacketCount:
				st.PacketCount = be.Uint64(v)
			case OXSByteCount:
				st.ByteCount = be.Uint64(v)
			}
		default:
			st.Other = append(st.Other, b[off:off+tlv]...)
		}
		off += tlv
	}
	return padded, nil
}
