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
type dump struct {
	flowXID, groupXID, meterXID uint32
	flows, groups, meters       map[string]string
	pending                     int
}

func newDump() *dump { return &dump{pending: 3} }

func (d *dump) requests(version uint8) []openflow.Message {
	return []openflow.Message{
		openflow.NewFlowStatsRequest(version),
		&openflow.GroupDescRequest{Header: openflow.Header{Version: version}},
		&openflow.MeterConfigRequest{Header: openflow.Header{Version: version}, MeterID: openflow.MeterAll},
	}
}

func (d *dump) sent(first uint32) {
	d.flowXID, d.groupXID, d.meterXID = first, first+1, first+2
}

// reply takes one (reassembled) reply. It returns done when all three
// tables are read, or a reason when the dump cannot go on.
func (d *dump) reply(m *messages.Reply) (done bool, err string) {
	switch msg := m.Msg.(type) {
	case *openflow.FlowStatsReply:
		if m.XID != d.flowXID || d.flows != nil {
			return false, ""
		}
		d.flows = make(map[string]string, len(msg.Stats))
		for i := range msg.Stats {
			k, v, e := FlowStatsKey(&msg.Stats[i])
			if e != nil {
				return false, fmt.Sprintf("flow %d: %v", i, e)
			}
			d.flows[k] = v
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
		switch m.XID {
		case d.flowXID, d.groupXID:
			return false, msg.Err().Name
		case d.meterXID:
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
	a.st.groups.setInstalled(d.groups)
	a.st.meters.setInstalled(d.meters)
	a.log.Info("switch tables read", zap.Int("flows", len(d.flows)), zap.Int("groups", len(d.groups)),
		zap.Int("meters", len(d.meters)))
	a.become(stReady)
	a.kick(ctx)
}

// scheduleDumpRetry tries the dump again later, on the same connection.
func (a *reconcilerActor) scheduleDumpRetry(ctx actor.Context) {
	a.become(stNegotiating)
	a.scheduleRetry(ctx)
}
