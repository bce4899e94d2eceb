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
// Flows are asked for in one request. A reply too large for the
// connection's reassembly limits (a million flows is over 64 MiB) fails
// that transaction alone; the flows are then asked for table by table,
// tables 0 to 253: table 254 is Open vSwitch's own (its hidden internal
// rules), never ofactor's to read or write, and a dump of all tables leaves
// it out too. It is pure data: the machine sends what it asks for.
//
// An audit is a dump too: of the groups and meters (which no monitor
// reports) and the TLV map, the flows only every so often.
type dump struct {
	flowRef, otherRef  uint64 // the Sends of the flow requests, and of the group and meter ones
	flowFirst          uint32 // xid of the first flow stats request
	flowN              int    // flow stats requests: 1, or one per table
	groupXID, meterXID uint32
	tlvXID             uint32 // audit: the TLV table request
	withFlows, withTLV bool
	flows              map[string]string // nil: not read (an audit without flows)
	groups, meters     map[string]string
	tlv                *openflow.TLVTableReply
	flowsLeft, pending int // flow replies awaited; replies awaited (flows, groups, meters, TLV)
}

// lastFlowTable is the last table ofactor reads or writes: 254 is OVS's.
const lastFlowTable = 253

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
// own Send (ref), the rest in another (ref2).
func (d *dump) requests(version uint8, ref, ref2 uint64) (flows, others []openflow.Message) {
	d.flowRef, d.otherRef = ref, ref2
	if d.withFlows {
		flows = []openflow.Message{openflow.NewFlowStatsRequest(version)}
	}
	others = []openflow.Message{
		&openflow.GroupDescRequest{Header: openflow.Header{Version: version}},
		&openflow.MeterConfigRequest{Header: openflow.Header{Version: version}, MeterID: openflow.MeterAll},
	}
	if d.withTLV {
		others = append(others, &openflow.TLVTableRequest{Header: openflow.Header{Version: version, Type: openflow.TypeExperimenter}})
	}
	return flows, others
}

// tableRequests asks for each table's flows on its own.
func (d *dump) tableRequests(version uint8, ref uint64) []openflow.Message {
	d.flowRef, d.flowN, d.flows = ref, 0, nil
	msgs := make([]openflow.Message, 0, lastFlowTable+1)
	for t := 0; t <= lastFlowTable; t++ {
		req := openflow.NewFlowStatsRequest(version)
		req.TableID = uint8(t)
		msgs = append(msgs, req)
	}
	return msgs
}

// sent takes the xids of one of the dump's Sends; it reports whether ref
// was the dump's.
func (d *dump) sent(ref uint64, first uint32, n int) bool {
	switch ref {
	case d.flowRef:
		d.flowFirst, d.flowN, d.flowsLeft = first, n, n
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

// isFlow reports whether xid is one of the flow stats requests.
func (d *dump) isFlow(xid uint32) bool { return d.flowN > 0 && xid-d.flowFirst < uint32(d.flowN) }

// failed takes a TransactionsFailed: the one-request flow dump over the
// reassembly limits (then go table by table: tables is true), or, for a
// table's own request, a dump that cannot be read (err).
func (d *dump) failed(xids []uint32, why string) (tables bool, err string) {
	for _, x := range xids {
		switch {
		case d.isFlow(x) && d.flowN == 1:
			return true, ""
		case d.isFlow(x):
			return false, fmt.Sprintf("flow table %d: %s", x-d.flowFirst, why)
		case x == d.groupXID || x == d.meterXID || x == d.tlvXID && d.withTLV:
			return false, why
		}
	}
	return false, ""
}

// reply takes one (reassembled) reply. It returns done when all three
// tables are read, or a reason when the dump cannot go on.
func (d *dump) reply(m *messages.Reply) (done bool, err string) {
	switch msg := m.Msg.(type) {
	case *openflow.FlowStatsReply:
		if !d.isFlow(m.XID) || d.flowsLeft == 0 {
			return false, ""
		}
		if d.flows == nil {
			d.flows = make(map[string]string, len(msg.Stats))
		}
		for i := range msg.Stats {
			f, e := flowkey.FromStats(&msg.Stats[i])
			if e != nil {
				return false, fmt.Sprintf("flow %d: %v", i, e)
			}
			d.flows[f.Key()] = f.Value()
		}
		if d.flowsLeft--; d.flowsLeft > 0 {
			return false, ""
		}
	case *openflow.GroupDescReply:
		if m.XID != d.groupXID || d.groups != nil {
			return false, ""
		}
		d.groups = make(map[string]string, len(msg.Groups))
		for _, g := range msg.Groups {
			v, e := flowkey.GroupValue(msg.Version, g.Type, g.Buckets)
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
		case d.isFlow(m.XID) && d.flowN > 1:
			// A table the switch does not have: nothing in it.
			if d.flowsLeft--; d.flowsLeft > 0 {
				return false, ""
			}
			if d.flows == nil {
				d.flows = map[string]string{}
			}
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
