// Package reconciler keeps a switch's flow, group and meter tables equal to
// a desired state, the job of ofctrl_put in OVN's ofctrl.c.
//
// Machine is the reconciler as a pure state machine, in the shape of etcd's
// raft RawNode: every input is one Step (a connection coming or going, the
// negotiated Geneve field, a desired state, a reply from the switch, a
// retry falling due), and what to do comes back from Ready — the messages to
// send, with how long their replies stay routed; the events to publish; the
// retry to schedule — and is acknowledged with Advance. It knows neither
// actors, nor sockets, nor clocks (time comes in with each Step). The actor
// in actor.go only moves messages between it and the world.
package reconciler

import (
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// Phase is where the reconciler is with the current connection.
type Phase uint8

// The phases; each is one state of the machine, with its handler in
// phases.go.
const (
	PhaseDisconnected Phase = iota // no connection
	PhaseNegotiating               // connected; waiting for the negotiator's Geneve result
	PhaseDumping                   // reading what the switch holds
	PhaseDumpRetry                 // a dump failed; waiting to read again
	PhaseIdle                      // tables known; no round in flight
	PhaseStreaming                 // a round streams a put still arriving in parts
	PhaseRound                     // a round in flight
	PhaseRoundRetry                // a round failed as a whole; waiting to try again
)

var phaseNames = [...]string{"disconnected", "negotiating", "dumping", "dump_retry", "idle",
	"streaming", "round", "round_retry"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", p)
}

// Mode is what a machine does with what it plans.
type Mode uint8

const (
	// ModeApply installs the desired state and keeps it installed.
	ModeApply Mode = iota
	// ModeDiff plans the round that would install a desired version,
	// publishes it (messages.Planned) and sends nothing.
	ModeDiff
	// ModeCheck publishes the plan as ModeDiff does, then has the switch
	// judge it in a bundle that is opened, filled and discarded (never
	// committed): each refusal is a messages.Rejected, then
	// messages.Checked. Meters, which OVS cannot bundle, are not sent.
	ModeCheck
)

// MachineConfig configures a Machine.
type MachineConfig struct {
	// Mode is ModeApply unless a caller only looks (diff, check).
	Mode Mode
	// RetryAfter is the delay before a round that failed as a whole (a
	// refused bundle), or a dump that failed, is tried again; it doubles
	// up to 32 times itself. Default 500ms.
	RetryAfter time.Duration
	// GeneveLen is the Geneve option's length in bytes: flows naming the
	// field symbolically are parsed with it. Default 4 (OVN's).
	GeneveLen uint8
	// GeneveOff says no negotiator runs: each connection has Geneve
	// disabled from the start, and its tables are read at once.
	GeneveOff bool
	// AuditInterval is how often the switch is audited (audit.go): 0 means
	// DefaultAuditInterval, a negative value no audits.
	AuditInterval time.Duration
	// AuditFlowsEvery: every how many audits the flows are read too
	// (default DefaultAuditFlowsEvery; always when the monitor is off).
	AuditFlowsEvery int
	// NoFlowMonitor turns the flow monitor off: drift between connects is
	// then found by the audits alone (which read the flows every time).
	NoFlowMonitor bool
	Logger        *zap.Logger
}

// progressEvery bounds how often Progress is published during a round.
const progressEvery = 200 * time.Millisecond

// TimerKind names one of the machine's timers: each kind has at most one
// pending.
type TimerKind uint8

const (
	TimerRetry     TimerKind = iota // a failed dump or round is tried again
	TimerHeal                       // drift seen: the heal round starts once it is quiet
	TimerAudit                      // the periodic audit of what no monitor reports
	TimerConflict                   // an object held back from another controller is due again
	TimerKeepalive                  // a streamed round's open bundle has had no message for a while
	numTimers
)

var timerNames = [...]string{"retry", "heal", "audit", "conflict", "keepalive"}

func (k TimerKind) String() string { return timerNames[k] }

// TimerDue is the input that a timer Ready asked for has fallen due. Gen
// is the Ready's: a timer superseded or cancelled since is ignored.
type TimerDue struct {
	Kind TimerKind
	Gen  uint64
}

// AbortPut is re-exported for the machine's inputs.
type AbortPut = messages.AbortPut

// Kick is the input Ready.Kick asks for: plan what is to do now.
type Kick struct{}

// Ready is what the machine has to hand over.
type Ready struct {
	// Sends go to the connection, in order, each with the connection Seq
	// and the reconciler as ReplyTo.
	Sends []Send
	// Events go to the subscribers, in order.
	Events []any
	// Answer answers the input just stepped (a desired state, a status
	// request), when it wants one.
	Answer any
	// Timers asks for TimerDue{Kind, Gen} after each Delay, replacing the
	// timer of that kind asked for before; Cancel cancels timers by kind.
	Timers []Timer
	Cancel []TimerKind
	// Drained says a Drain asked for has come about: no round is in flight
	// and none will start.
	Drained bool
	// Renegotiate asks the negotiator to negotiate the Geneve option again
	// on this connection (an audit found the switch's TLV map lost it).
	Renegotiate bool
	// Kick asks for a Kick input after the inputs already waiting: the
	// shell sends it to the back of its own mailbox. Work to plan waits
	// for it, so that the updates that came while a round was in flight
	// go into the next round together, not one round later.
	Kick bool
}

// Drain asks the machine to stop working: a round in flight whose bundle
// is not committed yet is discarded, one that is committing finishes, and
// no round starts after it (Ready.Drained says when). For a graceful stop.
type Drain struct{}

// Send is one messages.Send without the addressing.
type Send struct {
	Ref     uint64
	Seq     uint64
	Msgs    []openflow.Message
	Routing []messages.Routing
}

// Timer is a timer to set.
type Timer struct {
	Kind  TimerKind
	Gen   uint64
	Delay time.Duration
}

// Machine is the reconciler's state machine. It is not safe for concurrent
// use; its actor owns it.
type Machine struct {
	cfg MachineConfig
	log *zap.Logger
	st  *State

	phase     Phase
	seq       uint64 // current connection, 0 before the first
	ofVersion uint8
	round     *round
	dump      *dump
	refs      uint64 // the last Send ref

	timers  [numTimers]uint64 // gen of each kind's timer pending, 0 if none
	kickDue bool              // a Kick was asked for (Ready.Kick) and has not come
	gens    uint64            // the last timer gen handed out
	retryIn time.Duration     // the last retry delay; 0 after a success

	started, commitAt, lastProgress time.Time // of the round in flight
	lastAdd                         time.Time // the last window into the round's bundle
	now                             time.Time // of the Step under way

	lastError string
	planned   uint64 // ModeDiff, ModeCheck: the last version planned
	draining  bool   // Drain: no new round
	read      bool   // the switch's tables were read on this connection
	audits    int    // audits so far
	auditing  bool   // the dump under way is an audit

	// inSync is what the last InSync/OutOfSync said; outWhy why it left
	// sync; sinceSync what happened since (installed a new version,
	// repaired drift), for the next InSync's cause.
	inSync            bool
	outWhy            string
	newSince, healing bool

	drift     drifting
	conflicts map[string]*conflict // by kind and key
	auditSoon bool                 // drift said a group or meter was deleted: audit before healing

	monitor        monitorState
	monitorRef     uint64 // the Send of the monitor request
	monitorXID     uint32
	monitorRefused bool // the switch refused it: the audits read the flows
	resyncDue      bool // the monitor resumed during a round: dump after it

	ports                portsStep // the port map on this connection (ports.go)
	portsRef             uint64
	portsFirst, portsXID uint32 // the xids of the ports' last Send

	ready Ready
}

// NewMachine returns a machine, disconnected, keeping its desired state in
// st (a new one when nil).
func NewMachine(cfg MachineConfig, st *State) *Machine {
	if cfg.RetryAfter == 0 {
		cfg.RetryAfter = 500 * time.Millisecond
	}
	if cfg.GeneveLen == 0 {
		cfg.GeneveLen = 4
	}
	if cfg.AuditInterval == 0 {
		cfg.AuditInterval = DefaultAuditInterval
	}
	if cfg.AuditFlowsEvery == 0 {
		cfg.AuditFlowsEvery = DefaultAuditFlowsEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if st == nil {
		st = NewState()
	}
	return &Machine{cfg: cfg, log: cfg.Logger, st: st, conflicts: map[string]*conflict{}}
}

// Phase returns the current phase.
func (m *Machine) Phase() Phase { return m.phase }

// HasReady says whether Ready holds anything.
func (m *Machine) HasReady() bool {
	r := &m.ready
	return len(r.Sends) > 0 || len(r.Events) > 0 || r.Answer != nil || len(r.Timers) > 0 || len(r.Cancel) > 0 ||
		r.Drained || r.Renegotiate || r.Kick
}

// Ready returns what to do. It stays the same until Advance.
func (m *Machine) Ready() Ready { return m.ready }

// Advance tells the machine that the last Ready has been dealt with.
func (m *Machine) Advance() { m.ready = Ready{} }

// Step takes one input at time now: *messages.Connected, Disconnected,
// GeneveFieldAssigned, PutDesired, AbortPut, UpdateFlows,
// UpdateInstalled, GetStatus, GetInstalled, GetTables, Sent, SendFailed,
// Reply, TransactionsFailed, TimerDue or Drain. Inputs of other connections than the current one are
// ignored. It returns an error for an input it does not know.
func (m *Machine) Step(now time.Time, in any) error {
	m.now = now
	switch ev := in.(type) {
	case *messages.Connected:
		m.connected(ev)
	case *messages.Disconnected:
		if ev.Seq == m.seq && m.phase != PhaseDisconnected {
			m.disconnected(ev)
		}
	case *messages.GeneveFieldAssigned:
		if ev.Seq == m.seq && m.phase != PhaseDisconnected {
			m.geneveAssigned(ev)
		}
	case *messages.PutDesired:
		m.putDesired(ev)
	case *messages.AbortPut:
		m.abortPut()
	case *messages.UpdateFlows:
		m.ready.Answer = m.st.update(ev)
		m.kick()
	case *messages.UpdateInstalled:
		m.ready.Answer = m.st.updateInstalled(ev)
		m.kick()
	case *messages.GetStatus:
		m.ready.Answer = m.Status()
	case *messages.GetInstalled:
		m.ready.Answer = m.installedInfo()
	case *messages.GetTables:
		m.ready.Answer = m.tables(ev.Installed)
	case *messages.Sent:
		if ev.Seq == m.seq {
			m.sent(ev)
		}
	case *messages.SendFailed:
		// The connection is gone or going: Disconnected follows and a new
		// connection starts over with a dump.
		m.fail("send failed: " + ev.Err)
	case *messages.Reply:
		if ev.Seq == m.seq && !m.monitorReply(ev) && !m.portsReply(ev) {
			m.reply(ev)
		}
	case *messages.Unsolicited:
		m.unsolicited(ev)
	case *messages.TransactionsFailed:
		if ev.Seq == m.seq {
			m.transactionsFailed(ev)
		}
	case *Drain:
		m.drain()
	case *Kick:
		m.kickDue = false
		m.plan()
	case *TimerDue:
		if ev.Kind < numTimers && ev.Gen == m.timers[ev.Kind] && ev.Gen != 0 {
			m.timers[ev.Kind] = 0
			m.timerDue(ev.Kind)
		}
	default:
		return fmt.Errorf("reconciler: unknown input %T", in)
	}
	m.syncCheck()
	return nil
}

// inSyncNow says whether the switch is known to hold the desired state:
// its tables read on this connection, nothing to send, no repair waiting.
func (m *Machine) inSyncNow() bool {
	// An audit reads, it changes nothing; a round that only tries refused
	// objects again changes nothing the status counts.
	idle := m.phase == PhaseIdle || m.phase == PhaseDumping && m.auditing ||
		m.phase == PhaseRound && m.round.retryOnly
	return idle && m.read && !m.portsWanted() && m.monitor != monPaused && m.drift.first.IsZero() && m.st.version > 0 && m.st.inSync() && m.cfg.Mode == ModeApply
}

// syncCheck publishes InSync or OutOfSync when the answer of inSyncNow
// changed. While a Kick is due the answer waits for it: the plan may find
// nothing to send (a put equal to what is installed is no OutOfSync) or
// install the version (an InSync of cause install).
func (m *Machine) syncCheck() {
	if m.kickDue {
		return
	}
	now := m.inSyncNow()
	switch {
	case now && !m.inSync:
		cause := "restore"
		switch {
		case m.newSince:
			cause = "install"
		case m.healing:
			cause = "heal"
		}
		m.newSince, m.healing = false, false
		m.publish(&messages.InSync{Version: m.st.version, Cause: cause})
	case !now && m.inSync:
		why := m.outWhy
		if why == "" {
			why = "desired"
		}
		m.publish(&messages.OutOfSync{Reason: why})
	}
	m.inSync, m.outWhy = now, ""
}

// outOfSync notes why the switch may no longer hold the desired state,
// for the OutOfSync that follows (the first reason wins).
func (m *Machine) outOfSync(why string) {
	if m.outWhy == "" {
		m.outWhy = why
	}
}

// become moves to phase p, logging the change.
func (m *Machine) become(p Phase) {
	if p != m.phase {
		m.log.Info("state", zap.Stringer("old", m.phase), zap.Stringer("new", p), zap.Uint64("seq", m.seq))
		m.phase = p
	}
}

func (m *Machine) publish(ev any) { m.ready.Events = append(m.ready.Events, ev) }

// setTimer asks for TimerDue{k} after d, replacing k's timer pending.
func (m *Machine) setTimer(k TimerKind, d time.Duration) {
	m.gens++
	m.timers[k] = m.gens
	m.ready.Timers = slices.DeleteFunc(m.ready.Timers, func(t Timer) bool { return t.Kind == k })
	m.ready.Timers = append(m.ready.Timers, Timer{Kind: k, Gen: m.gens, Delay: d})
}

// cancelTimer drops k's timer pending, if any.
func (m *Machine) cancelTimer(k TimerKind) {
	if m.timers[k] == 0 {
		return
	}
	m.timers[k] = 0
	m.ready.Timers = slices.DeleteFunc(m.ready.Timers, func(t Timer) bool { return t.Kind == k })
	m.ready.Cancel = append(m.ready.Cancel, k)
}

// scheduleRetry asks for TimerRetry after a backoff that doubles from
// RetryAfter up to 32 times it.
func (m *Machine) scheduleRetry() {
	if m.retryIn == 0 {
		m.retryIn = m.cfg.RetryAfter
	} else if m.retryIn < 32*m.cfg.RetryAfter {
		m.retryIn *= 2
	}
	m.setTimer(TimerRetry, m.retryIn)
}

func (m *Machine) fail(why string) {
	if why == "" {
		return
	}
	m.lastError = why
	m.log.Warn("reconciler error", zap.String("error", why))
}

// Status returns a snapshot of the machine.
func (m *Machine) Status() *messages.Status {
	st := m.st
	return &messages.Status{
		Connected:        m.phase != PhaseDisconnected,
		Seq:              m.seq,
		Phase:            m.phase.String(),
		InSync:           m.inSyncNow(),
		InstalledKnown:   m.read && m.phase != PhaseDisconnected,
		Monitor:          monitorNames[m.monitor],
		Conflicts:        m.held(),
		Geneve:           st.geneve,
		DesiredVersion:   st.version,
		InstalledVersion: st.installedVersion,
		DesiredFlows:     st.flows.desired.Len(),
		InstalledFlows:   st.flows.installedLen(),
		DesiredGroups:    st.groups.desired.Len(),
		InstalledGroups:  st.groups.installedLen(),
		DesiredMeters:    st.meters.desired.Len(),
		InstalledMeters:  st.meters.installedLen(),
		Rejected:         st.rejectedLen(),
		LastError:        m.lastError,
		MissingPorts:     st.MissingPorts(),
	}
}

// Check verifies the machine's invariants, for tests: each keyspace's own
// (every difference between the desired and the installed side is planned
// or carried by the round in flight), and the phase's: a round exactly in
// the round phases, a dump exactly while dumping.
func (m *Machine) Check() error {
	inRound := func(k kind) func(string) bool {
		return func(key string) bool { return m.round != nil && m.round.carries(k, key) }
	}
	for _, k := range kinds {
		if err := m.st.keyspace(k).check(inRound(k)); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	switch wantRound := m.phase == PhaseRound || m.phase == PhaseStreaming; {
	case wantRound != (m.round != nil):
		return fmt.Errorf("phase %s with round %v", m.phase, m.round != nil)
	case (m.phase == PhaseDumping) != (m.dump != nil):
		return fmt.Errorf("phase %s with dump %v", m.phase, m.dump != nil)
	case m.phase == PhaseStreaming && (m.round == nil || !m.round.open):
		return fmt.Errorf("streaming without an open round")
	case (m.phase == PhaseRoundRetry || m.phase == PhaseDumpRetry) && m.timers[TimerRetry] == 0:
		return fmt.Errorf("phase %s with no retry pending", m.phase)
	}
	return nil
}
