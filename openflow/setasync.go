package openflow

import "fmt"

// SetAsync is OFPT_SET_ASYNC (OpenFlow 1.3.5 §7.3.10, struct
// ofp_async_config; OpenFlow 1.4 §7.3.10, ofp_async_config_prop_reasons):
// which asynchronous messages the switch sends on this connection, by
// reason bit, for the master/equal role ([0]) and the slave role ([1]).
// In 1.3 the body is the six masks; from 1.4 it is properties, and only
// the three kinds here are written (OVS keeps the others as they were:
// role status, table status and request forward).
type SetAsync struct {
	Header
	PacketIn, PortStatus, FlowRemoved [2]uint32
}

// Async config property types of OpenFlow 1.4 (enum ofp_async_config_prop_type):
// the slave mask of each kind, then the master's.
const (
	asyncPropPacketInSlave    = 0
	asyncPropPacketInMaster   = 1
	asyncPropPortStatusSlave  = 2
	asyncPropPortStatusMaster = 3
	asyncPropFlowRemovedSlave = 4
	asyncPropFlowRemovedMstr  = 5
)

const setAsync13Len = HeaderLen + 24

func (m *SetAsync) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeSetAsync)
	if b[start] < Version14 {
		for _, masks := range [][2]uint32{m.PacketIn, m.PortStatus, m.FlowRemoved} {
			b = be.AppendUint32(be.AppendUint32(b, masks[0]), masks[1])
		}
		return finish(b, start)
	}
	for _, p := range m.props() {
		b = be.AppendUint16(b, p.typ)
		b = be.AppendUint16(b, 8)
		b = be.AppendUint32(b, p.mask)
	}
	return finish(b, start)
}

type asyncProp struct {
	typ  uint16
	mask uint32
}

func (m *SetAsync) props() []asyncProp {
	return []asyncProp{
		{asyncPropPacketInSlave, m.PacketIn[1]}, {asyncPropPacketInMaster, m.PacketIn[0]},
		{asyncPropPortStatusSlave, m.PortStatus[1]}, {asyncPropPortStatusMaster, m.PortStatus[0]},
		{asyncPropFlowRemovedSlave, m.FlowRemoved[1]}, {asyncPropFlowRemovedMstr, m.FlowRemoved[0]},
	}
}

// UnmarshalBinary reads either form. From 1.4 a property of another kind
// is an error, as OVS's strict decoding makes it (OFPACFC_INVALID), and
// each of the six must come once at most; those missing read as 0.
func (m *SetAsync) UnmarshalBinary(b []byte) error {
	if err := checkHeader(&m.Header, b, TypeSetAsync, "set_async"); err != nil {
		return err
	}
	m.PacketIn, m.PortStatus, m.FlowRemoved = [2]uint32{}, [2]uint32{}, [2]uint32{}
	if m.Version < Version14 {
		if len(b) != setAsync13Len {
			return fmt.Errorf("set_async: %d bytes, want %d", len(b), setAsync13Len)
		}
		for i, masks := range []*[2]uint32{&m.PacketIn, &m.PortStatus, &m.FlowRemoved} {
			masks[0], masks[1] = be.Uint32(b[HeaderLen+8*i:]), be.Uint32(b[HeaderLen+8*i+4:])
		}
		return nil
	}
	seen := 0
	for off, i := HeaderLen, 0; off < len(b); i++ {
		if len(b)-off < 4 {
			return fmt.Errorf("set_async: property[%d]: truncated", i)
		}
		typ, n := be.Uint16(b[off:]), int(be.Uint16(b[off+2:]))
		if n != 8 || off+n > len(b) {
			return fmt.Errorf("set_async: property[%d]: length %d, want 8 within the message", i, n)
		}
		if typ > asyncPropFlowRemovedMstr {
			return fmt.Errorf("set_async: property[%d]: type %d not a packet-in, port status or flow removed mask", i, typ)
		}
		if seen&(1<<typ) != 0 {
			return fmt.Errorf("set_async: property[%d]: type %d given twice", i, typ)
		}
		seen |= 1 << typ
		masks := []*[2]uint32{&m.PacketIn, &m.PortStatus, &m.FlowRemoved}[typ/2]
		masks[1-typ%2] = be.Uint32(b[off+4:])
		off += n
	}
	return nil
}
