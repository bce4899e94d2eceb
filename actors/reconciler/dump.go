package reconciler

import (
	"fmt"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// dump reads what the switch holds after a connect: every flow, group and
// meter. This replaces the seed's "clear the switch on connect": a switch
// that already holds the desired state is left alone, and one that holds
// part of it loses no traffic while the rest is put right.
//
// Flows are asked for in one request, and its reply is taken part by part
// as it arrives (the connection does not reassemble it: RouteParts), so a
// dump of any size costs one part at a time (a million flows is some
// 100 MiB of reply). A dump of all tables leaves table 254 out: it is
// Open vSwitch's own (its hidden internal rules), never ofactor's to read
// or write. It is pure data: the machine sends what it asks for.
//
// An audit is a dump too: of the groups and meters (which no monitor
// reports) and the TLV map, the flows only every so often.
type dump struct {
	flowRef, otherRef  uint64 // the Sends of the flow request, and of the group and meter ones
	flowXID            uint32
	groupXID, meterXID uint32
	tlvXID             uint32 // audit: the TLV table request
	withFlows, withTLV bool
	flows              map[string]string // nil: not read (an audit without flows)
	groups, meters     map[string]string
	tlv                *openflow.TLVTableReply
	flowsDone          bool
	pending            int // replies awaited (flows, groups, meters, TLV)
}

// newDump makes a dump of groups and meters, and of the flows (withFlows)
// and the TLV map (withTLV) as asked.
func newDump(withFlows, withTLV bool) *dump {
	d := &dump{withFlows: withFlows, withTLV: withTLV, pending: 2}
	if withFlows {
		d.pending++
	}
	if withTLV {
		d.pending++
	}
	return d
}

// requests asks for what the dump reads; the flows in one request of their
// own Send (ref, routed RouteParts), the rest in another (ref2).
func (d *dump) requests(version uint8, ref, ref2 uint64) (flows, others []openflow.Message) {
	d.flowRef, d.otherRef = ref, ref2
	if d.withFlows {
		flows = []openflow.Message{openflow.NewFlowStatsRequest(version)}
	}
	others = []openflow.Message{
		openflow.NewGroupDescRequest(version),
		&openflow.MeterConfigRequest{Header: openflow.Header{Version: version}, MeterID: openflow.MeterAll},
	}
	if d.withTLV {
		others = append(others, &openflow.TLVTableRequest{Header: openflow.Header{Version: version, Type: openflow.TypeExperimenter}})
	}
	return flows, others
}

// sent takes the xids of one of the dump's Sends; it reports whether ref
// was the dump's.
func (d *dump) sent(ref uint64, first uint32, n int) bool {
	switch ref {
	case d.flowRef:
		d.flowXID = first
	case d.otherRef:
		d.groupXID, d.meterXID = first, first+1
		if d.withTLV {
			d.tlvXID = first + 2
		}
	default:
		return false
	}
	return true
}

// isFlow reports whether xid is the flow stats request's.
func (d *dump) isFlow(xid uint32) bool { return d.withFlows && d.flowXID != 0 && xid == d.flowXID }

// failed takes a TransactionsFailed for one of the dump's requests: the
// dump cannot be read.
func (d *dump) failed(xids []uint32, why string) string {
	for _, x := range xids {
		if d.isFlow(x) || x == d.groupXID || x == d.meterXID || x == d.tlvXID && d.withTLV {
			return why
		}
	}
	return ""
}

// reply takes one reply (for the flows, one part of it). It returns done
// when everything asked for is read, or a reason when the dump cannot go
// on.
func (d *dump) reply(m *messages.Reply) (done bool, err string) {
	switch msg := m.Msg.(type) {
	case *openflow.FlowStatsReply:
		if !d.isFlow(m.XID) || d.flowsDone {
			return false, ""
		}
		if d.flows == nil {
			d.flows = make(map[string]string, len(msg.Stats))
		}
		for i := range msg.Stats {
			f, e := flowkey.FromStats(&msg.Stats[i])
			if e != nil {
				return false, fmt.Sprintf("flow %d: %v", len(d.flows), e)
			}
			d.flows[f.Key()] = f.Value()
		}
		if m.More {
			return false, ""
		}
		d.flowsDone = true
	case *openflow.GroupDescReply:
		if m.XID != d.groupXID || d.groups != nil {
			return false, ""
		}
		d.groups = make(map[string]string, len(msg.Groups))
		for _, g := range msg.Groups {
			v, e := flowkey.GroupValue(msg.Version, g.Type, g.Buckets, g.Selection, g.Properties)
			if e != nil {
				return false, fmt.Sprintf("group %d: %v", g.GroupID, e)
			}
			d.groups[flowkey.IDKey(g.GroupID)] = v
		}
	case *openflow.MeterConfigReply:
		if m.XID != d.meterXID || d.meters != nil {
			return false, ""
		}
		d.meters = make(map[string]string, len(msg.Meters))
		for _, mc := range msg.Meters {
			v, e := flowkey.MeterValue(mc.Flags, mc.Bands)
			if e != nil {
				return false, fmt.Sprintf("meter %d: %v", mc.MeterID, e)
			}
			d.meters[flowkey.IDKey(mc.MeterID)] = v
		}
	case *openflow.TLVTableReply:
		if !d.withTLV || m.XID != d.tlvXID || d.tlv != nil {
			return false, ""
		}
		d.tlv = msg
	case *openflow.Error:
		switch {
		case d.isFlow(m.XID), m.XID == d.groupXID:
			return false, msg.Err().Name
		case m.XID == d.meterXID:
			// A switch without meters: nothing installed.
			d.meters = map[string]string{}
		case d.withTLV && m.XID == d.tlvXID:
			// A switch without a TLV table: nothing mapped.
			d.tlv = &openflow.TLVTableReply{}
		default:
			return false, ""
		}
	default:
		return false, ""
	}
	d.pending--
	return d.pending == 0, ""
}
