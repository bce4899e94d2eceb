package reconciler

import (
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// The flow monitor: with the first dump on a connection the machine asks
// OVS to report every flow change in every table, with instructions
// (ADD|DELETE|MODIFY|ACTIONS, no INITIAL: the dump is the initial state).
// The machine's own changes come back abbreviated and are ignored; the
// full updates are other parties' (drift.go). Under pressure OVS pauses
// the monitor and drops updates; once it resumes, the switch's tables are
// read again.

// monitorState is where the flow monitor is on the current connection.
type monitorState uint8

const (
	monOff      monitorState = iota // not asked for (or refused: the audits read the flows)
	monStarting                     // asked for, not answered yet
	monActive
	monPaused // updates dropped: a dump follows the resume
)

var monitorNames = [...]string{"off", "starting", "active", "paused"}

// The reasons of a flow removal (OFPRR_*) drift looks at.
const (
	reasonIdleTimeout = 0
	reasonHardTimeout = 1
	reasonGroupDelete = 3
	reasonMeterDelete = 4
)

// monitorID is the id of ofactor's one monitor on a connection.
const monitorID = 1

// monitorRequest is the request of the monitor.
func monitorRequest(version uint8) openflow.Message {
	flags := openflow.MonitorAdd | openflow.MonitorDelete | openflow.MonitorModify | openflow.MonitorActions
	return &openflow.FlowMonitorRequest{Header: openflow.Header{Version: version},
		Monitors: []openflow.FlowMonitor{openflow.NewFlowMonitor(monitorID, flags)}}
}

// startMonitor asks for the monitor, before the first dump of a
// connection: changes after it are reported, changes before it are in the
// dump.
func (m *Machine) startMonitor() {
	if m.cfg.NoFlowMonitor || m.cfg.Mode != ModeApply || m.monitor != monOff || m.monitorRefused {
		return
	}
	m.monitor = monStarting
	m.monitorRef = m.newRef()
	m.sendAs(m.monitorRef, []openflow.Message{monitorRequest(m.ofVersion)}, nil)
}

// monitorReply takes the reply to the monitor request; it reports whether
// it was that.
func (m *Machine) monitorReply(ev *messages.Reply) bool {
	if m.monitor != monStarting || ev.XID != m.monitorXID || m.monitorXID == 0 {
		return false
	}
	switch msg := ev.Msg.(type) {
	case *openflow.FlowMonitorReply:
		m.monitor = monActive
		m.log.Debug("flow monitor active")
	case *openflow.Error:
		m.monitor, m.monitorRefused = monOff, true
		m.log.Warn("the switch refused the flow monitor: drift is found by audits of the flows",
			zap.String("error", msg.Err().Name))
	default:
		return false
	}
	return true
}

// unsolicited takes what the switch sent on its own: flow monitor updates
// and their pause and resume, and port status (ports.go).
func (m *Machine) unsolicited(ev *messages.Unsolicited) {
	if ps, ok := ev.Msg.(*openflow.PortStatus); ok && ev.Seq == m.seq {
		m.portStatus(ps)
		return
	}
	if ev.Seq != m.seq || m.monitor == monOff {
		return
	}
	switch msg := ev.Msg.(type) {
	case *openflow.FlowMonitorReply:
		for i := range msg.Updates {
			m.flowUpdate(&msg.Updates[i])
		}
	case *openflow.FlowMonitorPaused:
		m.monitorPaused()
	case *openflow.FlowMonitorResumed:
		m.monitorResumed()
	}
}

// flowUpdate takes one update of the monitor.
func (m *Machine) flowUpdate(u *openflow.FlowUpdate) {
	switch u.Event {
	case openflow.FlowUpdatePaused:
		m.monitorPaused()
		return
	case openflow.FlowUpdateResumed:
		m.monitorResumed()
		return
	case openflow.FlowUpdateAdded, openflow.FlowUpdateRemoved, openflow.FlowUpdateModified:
	default:
		return // abbreviated: our own change; or initial: not asked for
	}
	f, err := flowkey.FromUpdate(u)
	if err != nil {
		m.log.Warn("flow monitor update not understood", zap.Error(err))
		return
	}
	fu := flowUpdate{flow: f, reason: -1}
	switch u.Event {
	case openflow.FlowUpdateAdded:
		fu.event = driftAdded
	case openflow.FlowUpdateModified:
		fu.event = driftModified
	default:
		fu.event, fu.reason = driftRemoved, int(u.Reason)
	}
	m.flowDrift(fu)
}

// monitorPaused: OVS dropped updates. Until it resumes, what the switch
// holds is not known: not in sync.
func (m *Machine) monitorPaused() {
	if m.monitor == monPaused {
		return
	}
	m.monitor = monPaused
	m.outOfSync("resync")
	// The dump after the resume puts everything right: no heal before it.
	m.cancelTimer(TimerHeal)
	m.log.Warn("flow monitor paused by the switch: reading its flows again once it resumes")
}

// monitorResumed: the updates flow again; what was dropped is read back
// with a dump, at once in PhaseIdle, after the round otherwise.
func (m *Machine) monitorResumed() {
	if m.monitor != monPaused {
		return
	}
	m.monitor = monActive
	m.reportDrift("monitor")
	if m.phase == PhaseIdle {
		m.startDump()
		return
	}
	m.resyncDue = true
}
