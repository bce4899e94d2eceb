package reconciler

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

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
// that transaction alone; the flows are then asked for table by table.
type dump struct {
	flowFirst          uint32 // xid of the first flow stats request
	flowN              int    // flow stats requests: 1, or one per table
	groupXID, meterXID uint32
	perTable           bool // asking table by table; the next Sent is theirs
	flows              map[string]string
	groups, meters     map[string]string
	flowsLeft, pending int // flow replies awaited; tables awaited (flows, groups, meters)
}

// tableMax is OFPTT_MAX, the last flow table.
const tableMax = 0xfe

func newDump() *dump {
	return &dump{pending: 3}
}

func (d *dump) requests(version uint8) []openflow.Message {
	return []openflow.Message{
		openflow.NewFlowStatsRequest(version),
		&openflow.GroupDescRequest{Header: openflow.Header{Version: version}},
		&openflow.MeterConfigRequest{Header: openflow.Header{Version: version}, MeterID: openflow.MeterAll},
	}
}

// tableRequests asks for each table's flows (0..254) on its own.
func (d *dump) tableRequests(version uint8) []openflow.Message {
	d.perTable = true
	d.flows = nil
	msgs := make([]openflow.Message, 0, tableMax+1)
	for t := 0; t <= tableMax; t++ {
		req := openflow.NewFlowStatsRequest(version)
		req.TableID = uint8(t)
		msgs = append(msgs, req)
	}
	return msgs
}

func (d *dump) sent(first uint32, n int) {
	if d.perTable {
		d.perTable = false
		d.flowFirst, d.flowN, d.flowsLeft = first, n, n
		return
	}
	d.flowFirst, d.flowN, d.flowsLeft = first, 1, 1
	d.groupXID, d.meterXID = first+1, first+2
}

// isFlow reports whether xid is one of the flow stats requests.
func (d *dump) isFlow(xid uint32) bool { return xid-d.flowFirst < uint32(d.flowN) }

// tooLarge reports whether a failed transaction is the one-request flow
// dump, which then goes table by table.
func (d *dump) tooLarge(xids []uint32) bool {
	if d.flowN != 1 {
		return false
	}
	for _, x := range xids {
		if x == d.flowFirst {
			return true
		}
	}
	return false
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
		if e := flowStatsInto(d.flows, msg.Stats); e != "" {
			return false, e
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
			v, e := GroupVal(g.Type, g.Buckets)
			if e != nil {
				return false, fmt.Sprintf("group %d: %v", g.GroupID, e)
			}
			d.groups[idKey(g.GroupID)] = v
		}
	case *openflow.MeterConfigReply:
		if m.XID != d.meterXID || d.meters != nil {
			return false, ""
		}
		d.meters = make(map[string]string, len(msg.Meters))
		for _, mc := range msg.Meters {
			v, e := MeterVal(mc.Flags, mc.Bands)
			if e != nil {
				return false, fmt.Sprintf("meter %d: %v", mc.MeterID, e)
			}
			d.meters[idKey(mc.MeterID)] = v
		}
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
		default:
			return false, ""
		}
	default:
		return false, ""
	}
	d.pending--
	return d.pending == 0, ""
}

// startDump asks the switch for its tables.
func (a *reconcilerActor) startDump(ctx actor.Context) {
	a.dump = newDump()
	a.become(stDumping)
	a.send(ctx, refDump, a.dump.requests(a.ofVersion))
}

// dumped makes the dump the installed state and starts the first round.
func (a *reconcilerActor) dumped(ctx actor.Context) {
	d := a.dump
	a.dump = nil
	a.st.flows.setInstalled(d.flows)
	a.st.flowsRaw = true
	a.st.groups.setInstalled(d.groups)
	a.st.meters.setInstalled(d.meters)
	a.log.Info("switch tables read", zap.Int("flows", len(d.flows)), zap.Int("groups", len(d.groups)),
		zap.Int("meters", len(d.meters)))
	a.become(stReady)
	a.kick(ctx)
}

// dumpTooLarge goes table by table when the one-request flow dump broke the
// connection's reassembly limits.
func (a *reconcilerActor) dumpTooLarge(ctx actor.Context, m *messages.TransactionsFailed) bool {
	if a.dump == nil || m.Seq != a.seq || !a.dump.tooLarge(m.XIDs) {
		return false
	}
	a.log.Info("flow dump too large for one reply: dumping table by table", zap.String("error", m.Err))
	a.send(ctx, refDump, a.dump.tableRequests(a.ofVersion))
	return true
}

// scheduleDumpRetry tries the dump again later, on the same connection.
func (a *reconcilerActor) scheduleDumpRetry(ctx actor.Context) {
	a.become(stNegotiating)
	a.scheduleRetry(ctx)
}
