package reconciler

import (
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// The machine's handlers, one per input that moves it, each above the
// phases it acts in. A desired state is always taken, whatever the phase;
// what it starts depends on the phase (kick).

// connected: in any phase. A new connection Seq starts over: a round or a
// dump of an older one is given up (Disconnected normally came first).
// Sends nothing. If the negotiator already announced this connection's
// Geneve field (the reconciler restarted after it did: it will not say it
// again), or no negotiator runs (GeneveOff), reads the switch's tables at
// once: PhaseDumping. Otherwise waits for it: PhaseNegotiating.
func (m *Machine) connected(ev *messages.Connected) {
	if ev.Seq == m.seq && m.phase != PhaseDisconnected {
		return // told twice: configured subscriber and Subscribe
	}
	m.giveUp()
	m.read = false
	m.monitor, m.monitorXID, m.monitorRefused, m.resyncDue = monOff, 0, false, false
	m.ports, m.portsRef, m.portsFirst, m.portsXID = portsUnread, 0, 0, 0
	m.seq, m.ofVersion = ev.Seq, ev.Version
	if m.st.encoding == 0 {
		m.st.encoding = ev.Version // puts to come are encoded for it
	} else if m.st.encoding != ev.Version {
		m.st.transcode(ev.Version, m.log) // a put in parts under way too
	}
	m.become(PhaseNegotiating)
	if m.cfg.GeneveOff {
		m.st.setGeneve(messages.GeneveFieldAssigned{Seq: ev.Seq, Index: -1}, m.log)
	}
	if m.st.geneve.Seq == ev.Seq {
		m.startDump()
	}
}

// disconnected: in any connected phase. The round in flight is given up
// (what it sent is planned again: the dump after the next connect says what
// the switch really holds), a dump or a retry pending is dropped.
// PhaseDisconnected.
func (m *Machine) disconnected(ev *messages.Disconnected) {
	m.giveUp()
	m.monitor = monOff
	m.outOfSync("disconnected")
	m.fail("disconnected: " + ev.Err)
	m.become(PhaseDisconnected)
}

// giveUp drops what the machine does on the current connection.
func (m *Machine) giveUp() {
	if m.round != nil {
		m.round.abort(m.st)
		m.round = nil
	}
	m.dump, m.auditing = nil, false
	m.drift.buffered = nil
	m.cancelTimer(TimerRetry)
	m.cancelTimer(TimerKeepalive)
	m.cancelTimer(TimerAudit)
}

// geneveAssigned: PhaseNegotiating ends; the flows that name the Geneve
// field can be rendered and the switch's tables read: PhaseDumping. In
// PhaseDumpRetry the retry will read them. In a later phase (the field
// changed on this connection) the changed flows go in the next round.
// errInvalidTLVField is OVS's refusal of a flow using an unmapped
// tun_metadata field.
const errInvalidTLVField = "NXFMFC_INVALID_TLV_FIELD"

func (m *Machine) geneveAssigned(ev *messages.GeneveFieldAssigned) {
	m.st.setGeneve(*ev, m.log)
	switch m.phase {
	case PhaseNegotiating:
		m.startDump()
	case PhaseDumping, PhaseDumpRetry:
	default:
		// Negotiated again on this connection (the TLV map changed): what
		// the switch refused for want of the mapping may be taken now.
		m.st.requeueRejected(func(kind, err string) bool { return kind == "flow" && err == errInvalidTLVField })
		m.kick()
	}
}

// startDump asks the switch for its flows, groups and meters:
// PhaseDumping.
func (m *Machine) startDump() {
	m.outOfSync("resync")
	m.resyncDue = false
	m.startMonitor()
	m.readTables(newDump(true, false))
}

// readTables sends the requests of a dump: PhaseDumping.
func (m *Machine) readTables(d *dump) {
	m.dump = d
	m.become(PhaseDumping)
	fr, or := m.newRef(), m.newRef()
	flows, others := d.requests(m.ofVersion, fr, or)
	if len(flows) > 0 {
		m.sendAs(fr, flows, []messages.Routing{messages.RouteParts})
	}
	m.sendAs(or, others, nil)
}

// sent: the connection gave a Send of ours its xids. In PhaseDumping they
// are the dump's; in PhaseRound and PhaseStreaming a window's.
func (m *Machine) sent(ev *messages.Sent) {
	switch {
	case ev.Ref == m.monitorRef && m.monitorRef != 0:
		m.monitorXID = ev.FirstXID
	case m.portsSent(ev):
	case m.dump != nil && m.dump.sent(ev.Ref, ev.FirstXID, ev.N):
	case m.round != nil:
		m.round.sentWindow(ev.Ref, ev.FirstXID)
	}
}

// reply: a reply from the switch to one of our transactions.
//
// PhaseDumping: a flow, group or meter table. Once all three are read they
// are what the switch holds: PhaseIdle, and a round if anything differs
// (kick). A dump that cannot be read (an error, bytes that do not decode)
// is tried again later: PhaseDumpRetry.
//
// PhaseRound and PhaseStreaming: an error is attributed by xid to its
// item (left out of the bundle, reported when the round ends) or to the
// bundle itself; a barrier reply confirms a window (windowDone).
func (m *Machine) reply(ev *messages.Reply) {
	switch m.phase {
	case PhaseDumping:
		done, err := m.dump.reply(ev)
		switch {
		case err != "":
			m.dumpFailed("dump: " + err)
		case done:
			m.dumped()
		}
	case PhaseRound, PhaseStreaming:
		r := m.round
		switch msg := ev.Msg.(type) {
		case *openflow.Error:
			name := msg.Err().Name
			if it := r.onError(ev.XID, name); it != nil {
				m.log.Debug("refused", zap.Stringer("kind", it.kind), zap.Uint32("xid", ev.XID), zap.String("error", name))
			} else {
				m.fail(r.failed)
			}
		case *openflow.BarrierReply:
			if r.onBarrier(ev.XID) {
				m.windowDone()
			}
		}
	}
}

// transactionsFailed: PhaseDumping only (anything else means Disconnected
// follows, and the round is given up there). A request of the dump that
// will get no reply: PhaseDumpRetry.
func (m *Machine) transactionsFailed(ev *messages.TransactionsFailed) {
	if m.phase != PhaseDumping {
		return
	}
	if err := m.dump.failed(ev.XIDs, ev.Err); err != "" {
		m.dumpFailed("dump: " + err)
	}
}

// dumpFailed: PhaseDumping ends without the tables: PhaseDumpRetry, the
// dump asked for again after a backoff.
func (m *Machine) dumpFailed(why string) {
	m.fail(why)
	m.dump = nil
	m.become(PhaseDumpRetry)
	m.scheduleRetry()
}

// dumped makes the dump the installed state: PhaseIdle, and a round if
// anything differs.
func (m *Machine) dumped() {
	d := m.dump
	m.dump = nil
	audit := m.auditing
	m.auditing = false
	var drift messages.Drift
	if audit {
		drift = m.auditDrift(d)
	}
	if d.flows != nil {
		m.st.flows.setInstalled(d.flows)
		m.st.flowsRaw = true
	}
	m.st.groups.setInstalled(d.groups)
	m.st.meters.setInstalled(d.meters)
	m.read = true
	m.replayDrift()
	if audit {
		m.audited(d, drift)
	} else {
		m.log.Info("switch tables read", zap.Int("flows", len(d.flows)), zap.Int("groups", len(d.groups)),
			zap.Int("meters", len(d.meters)))
		m.armAudit()
	}
	m.become(PhaseIdle)
	m.kick()
}

// timerDue: a timer fell due.
func (m *Machine) timerDue(k TimerKind) {
	switch k {
	case TimerRetry:
		m.retryDue()
	case TimerAudit:
		m.auditDue()
	case TimerHeal:
		m.healDue()
	case TimerConflict:
		m.conflictDue()
	case TimerKeepalive:
		m.keepaliveDue()
	}
}

// retryDue: PhaseDumpRetry reads the tables again (PhaseDumping);
// PhaseRoundRetry plans a round again (PhaseIdle, kick).
func (m *Machine) retryDue() {
	switch m.phase {
	case PhaseDumpRetry:
		m.startDump()
	case PhaseRoundRetry:
		m.become(PhaseIdle)
		m.kick()
	}
}

// putDesired takes a desired state, whole or a part, in any phase, and
// answers it.
//
// A part (More, or Continue): applied at once. In PhaseIdle and
// PhaseStreaming it is streamed: the flows it changes go straight into the
// open round's bundle (PhaseStreaming). Elsewhere it waits, dirty, for the
// round that follows. The last part makes the put whole: a streaming
// round is sealed with what still differs and commits (PhaseRound).
//
// A put that does not Continue supersedes an unfinished put in parts
// (abortPut first).
func (m *Machine) putDesired(ev *messages.PutDesired) {
	if !ev.Continue && m.st.pending != nil {
		m.log.Warn("an unfinished put in parts is superseded by a new put: given up")
		m.abortPut()
	}
	switch {
	case ev.Continue && m.st.pending == nil:
		m.ready.Answer = &messages.DesiredAccepted{Version: m.st.version,
			Errors: []string{"a part continues no put in parts (none is under way): nothing taken"}}
	case ev.More:
		m.putPart(ev)
	case ev.Continue:
		m.ready.Answer = m.st.completePut(ev, m.cfg.GeneveLen, m.log)
		if m.phase == PhaseStreaming {
			m.seal()
		} else {
			m.kick()
		}
	default:
		m.ready.Answer = m.st.put(ev, m.cfg.GeneveLen, m.log)
		m.kick()
	}
}

// putPart applies a part, streaming it when a round can.
func (m *Machine) putPart(ev *messages.PutDesired) {
	if m.phase != PhaseIdle && m.phase != PhaseStreaming || m.cfg.Mode != ModeApply {
		m.ready.Answer, _ = m.st.putPart(ev, false)
		return
	}
	acc, carried := m.st.putPart(ev, true)
	m.ready.Answer = acc
	if m.phase == PhaseIdle {
		// The part's groups and meters, and whatever else differs, open
		// the round; its flows follow them. A dump's flows are put in
		// canonical form at the seal, once the desired table is whole:
		// only those that then differ from it need it.
		m.startStream()
	}
	m.round.extend(carried)
	m.fill()
}

// startStream opens the round that streams the put in parts under way:
// PhaseStreaming. Onto a switch that holds no flow (a first install) every
// flow of the put will be in it: its index is made as large as the put
// says it is (PutDesired.SizeHint).
func (m *Machine) startStream() {
	m.round = newRound(m.ofVersion, 0, planAll(m.st, false), true)
	if h := m.st.pending.hint; h > 0 && m.st.flows.installedLen() == 0 {
		h = min(h, 1<<26)
		m.round.carried = make(map[string]int32, h)
		m.round.all = slices.Grow(m.round.all, h)
	}
	m.started, m.lastProgress = m.now, m.now
	m.become(PhaseStreaming)
}

// seal: PhaseStreaming ends when the put it streams is whole: the round
// takes what still differs and its bundle commits after its last window
// (PhaseRound).
func (m *Machine) seal() {
	r := m.round
	m.cancelTimer(TimerKeepalive)
	m.st.canonicalizeFlows(m.ofVersion)
	giveBack := r.seal(m.st.version, planAll(m.st, true), m.st.flows)
	m.st.meters.retry(giveBack)
	if len(r.all) == 0 && !r.opened {
		// The switch held the put already: nothing was sent.
		m.round = nil
		m.become(PhaseIdle)
		m.installed(r.version)
		m.kick()
		return
	}
	m.become(PhaseRound)
	m.fill()
}

// abortPut gives up the put in parts under way: the desired state is put
// back as it was before it. In PhaseStreaming the round's bundle is
// discarded: PhaseRound until it is.
func (m *Machine) abortPut() {
	aborted := m.st.abortPut()
	if _, answered := m.ready.Answer.(*messages.DesiredAccepted); !answered {
		m.ready.Answer = &messages.DesiredAccepted{Version: m.st.version}
	}
	if aborted && m.phase == PhaseStreaming {
		m.cancelTimer(TimerKeepalive)
		m.round.open, m.round.discard = false, true
		m.round.discardWhy = "discarded: the put in parts was given up"
		m.become(PhaseRound)
		m.fill()
	}
}

// kick: the desired state or the view of the switch changed. In PhaseIdle
// a round starts when anything differs (PhaseRound; a put in parts under
// way is streamed instead, PhaseStreaming), or, when nothing does, the
// version is installed. Nothing is sent before the first desired state
// (an embedder or the daemon spawns the bridge before its first put: an
// empty desired table would delete everything the switch holds). In the
// other phases changes wait, dirty, for the round after the one in flight
// or the retry: they coalesce.
//
// kick itself only asks for a Kick input (Ready.Kick), which the shell
// puts behind the inputs already waiting; plan does the work. A round
// that ends and the updates queued behind its last reply are thus one
// round, not two.
func (m *Machine) kick() {
	if m.phase != PhaseIdle || m.draining || m.kickDue {
		return
	}
	m.kickDue, m.ready.Kick = true, true
}

// plan is kick's work, once the Kick input comes.
func (m *Machine) plan() {
	if m.phase != PhaseIdle || m.draining {
		return
	}
	if m.portsWanted() {
		m.askPorts() // the flows naming ports are rendered first: kick again then
		return
	}
	if m.st.pending != nil {
		if m.cfg.Mode == ModeApply {
			m.startStream()
			m.fill()
		}
		return
	}
	m.st.canonicalizeFlows(m.ofVersion)
	if m.st.version == 0 {
		return
	}
	if m.cfg.Mode != ModeApply {
		m.look()
		return
	}
	r := newRound(m.ofVersion, m.st.version, planAll(m.st, true), false)
	if r == nil {
		m.st.trim() // a put that matched a large dump leaves the differences' room behind
		m.installed(m.st.version)
		return
	}
	m.round = r
	r.retryOnly = m.st.onlyRetries(r)
	m.started, m.lastProgress = m.now, m.now
	m.log.Debug("round", zap.Uint64("version", r.version), zap.Int("pre", r.nPre),
		zap.Int("bundle", r.nBundle), zap.Int("post", len(r.all)-r.nPre-r.nBundle))
	m.become(PhaseRound)
	m.fill()
}

// fill sends windows of the add phase while fewer than maxWindows are
// unconfirmed; once every window is confirmed it sends the commit (or the
// discard).
func (m *Machine) fill() {
	r := m.round
	for r.moreAdds() && r.inFlight() < maxWindows {
		ref := m.newRef()
		o := r.nextWindow(ref)
		m.sendAs(ref, o.msgs, o.routing)
		m.lastAdd = m.now
	}
	if r.open && r.opened && m.timers[TimerKeepalive] == 0 {
		m.setTimer(TimerKeepalive, bundleKeepalive)
	}
	if r.addsDone() {
		m.commitAt = m.now
		ref := m.newRef()
		o := r.endPhase(ref)
		m.sendAs(ref, o.msgs, o.routing)
	}
}

// bundleKeepalive is how long a streamed round's open bundle may go
// without a message before keepaliveDue sends one: well under OVS's
// default bundle idle timeout of 10 s.
const bundleKeepalive = 4 * time.Second

// keepaliveDue: TimerKeepalive fell due. A streamed round that has sent
// nothing into its open bundle for bundleKeepalive sends it a message
// that changes nothing (keepaliveWindow), so that the switch does not
// expire it while the put's next part is awaited; it is armed again while
// the round streams.
func (m *Machine) keepaliveDue() {
	r := m.round
	if r == nil || !r.open || !r.opened || r.failed != "" || r.discard {
		return
	}
	if idle := m.now.Sub(m.lastAdd); idle < bundleKeepalive {
		m.setTimer(TimerKeepalive, bundleKeepalive-idle)
		return
	}
	ref := m.newRef()
	o := r.keepaliveWindow(ref)
	m.sendAs(ref, o.msgs, o.routing)
	m.lastAdd = m.now
	m.setTimer(TimerKeepalive, bundleKeepalive)
}

// windowDone takes the barrier reply that closed a window: more windows,
// the commit, or, after the commit's, the end of the round.
func (m *Machine) windowDone() {
	r := m.round
	if r.phase == phaseCommit {
		if r.inFlight() == 0 {
			m.endRound()
		}
		return
	}
	if m.now.Sub(m.lastProgress) >= progressEvery {
		m.lastProgress = m.now
		m.publish(&messages.Progress{Version: r.version, Sent: r.sent, Confirmed: r.confirmed, Total: len(r.all)})
	}
	m.fill()
}

// endRound applies the outcome of the round in flight. A discarded round
// (its put was given up) goes back to PhaseIdle; so does one that found our
// view stale (GROUP_EXISTS: it did not install its version, the next round
// will) and one that failed at a culprit it now leaves out, at once; one
// that failed as a whole waits first (PhaseRoundRetry). One that deleted a group or meter reads
// the flows again (PhaseDumping: OVS deletes the flows that use them).
// Otherwise the version is installed: PhaseIdle, and the next round if the
// desired state moved on.
func (m *Machine) endRound() {
	r := m.round
	m.round = nil
	if r.failed == "" && !r.discard && !r.check && r.changedGroupsOrMeters() {
		// A flow refused earlier for naming a group or meter that did not
		// exist may be taken now (this round's refusals come after).
		m.st.requeueRejected(usesGroupOrMeter)
	}
	refused, stale := r.finish(m.st)
	for _, it := range refused {
		m.reject(r.version, it)
		if _, rendered := m.st.rendered[it.c.Key]; rendered && it.err == errInvalidTLVField && !r.check {
			// The switch lost the Geneve mapping the flow needs: map it
			// again, then the flow is tried again (geneveAssigned).
			m.ready.Renegotiate = true
		}
	}
	m.finished(r, refused)
	if m.draining {
		m.ready.Drained = true
	}
	if m.resyncDue && !r.check {
		// The monitor resumed while the round ran: read the flows again.
		if r.failed == "" && !r.discard {
			m.retryIn = 0
			m.installed(r.version)
		}
		m.startDump()
		return
	}
	switch {
	case r.check:
		m.publish(&messages.Checked{Version: r.version, Rejected: r.refusedBefore + len(refused)})
		m.become(PhaseIdle)
	case r.discard, r.failed == "" && stale:
		m.become(PhaseIdle)
		m.kick()
	case r.failed != "" && r.culprit():
		m.become(PhaseIdle)
		m.kick()
	case r.failed != "":
		m.become(PhaseRoundRetry)
		m.scheduleRetry()
	case r.deletedGroupsOrMeters():
		m.retryIn = 0
		m.startDump()
	default:
		m.retryIn = 0
		m.installed(r.version)
		m.become(PhaseIdle)
		m.kick()
	}
}

// installed publishes VersionInstalled when version is newer than the last.
func (m *Machine) installed(version uint64) {
	if version <= m.st.installedVersion && m.st.installedVersion != 0 {
		return
	}
	m.st.installedVersion = version
	m.newSince = true
	ev := &messages.VersionInstalled{
		Version:  version,
		Flows:    m.st.flows.installedLen(),
		Groups:   m.st.groups.installedLen(),
		Meters:   m.st.meters.installedLen(),
		Rejected: m.st.rejectedLen(),

		MissingPorts: m.st.MissingPorts(),
	}
	m.log.Info("version installed", zap.Uint64("version", version), zap.Int("flows", ev.Flows),
		zap.Int("groups", ev.Groups), zap.Int("meters", ev.Meters), zap.Int("rejected", ev.Rejected))
	m.publish(ev)
}

// reject publishes what the switch refused.
func (m *Machine) reject(version uint64, it *item) {
	ev := &messages.Rejected{Version: version, Kind: it.kind.String(), Text: describe(m.ofVersion, it.kind, it.c), Error: it.err}
	m.lastError = it.err + ": " + ev.Text
	m.log.Warn("switch refused "+ev.Kind, zap.String("error", it.err), zap.String(ev.Kind, ev.Text))
	m.publish(ev)
}

// finished publishes Progress and RoundFinished for a round that reached
// its last barrier reply.
func (m *Machine) finished(r *round, refused []*item) {
	ev := r.stats
	ev.Duration = m.now.Sub(m.started)
	if r.committed {
		ev.CommitLatency = m.now.Sub(m.commitAt)
	}
	ev.Refused = len(refused)
	ev.Failed = r.failed
	if r.discard && ev.Failed == "" {
		ev.Failed = r.discardWhy
	}
	for _, it := range refused {
		ev.ErrorNames = append(ev.ErrorNames, it.err)
	}
	m.publish(&messages.Progress{Version: r.version, Sent: r.sent, Confirmed: r.confirmed, Total: len(r.all)})
	m.publish(&ev)
}

func (m *Machine) newRef() uint64 { m.refs++; return m.refs }

func (m *Machine) sendAs(ref uint64, msgs []openflow.Message, routing []messages.Routing) {
	m.ready.Sends = append(m.ready.Sends, Send{Ref: ref, Seq: m.seq, Msgs: msgs, Routing: routing})
}

// drain: in PhaseRound or PhaseStreaming, a bundle not committed yet is
// discarded (the round ends as a discarded one, its changes planned again
// by whoever runs next); a commit under way finishes. In any other phase
// it is drained at once. No round starts after it.
func (m *Machine) drain() {
	m.draining = true
	r := m.round
	if r == nil {
		m.ready.Drained = true
		return
	}
	if r.phase == phaseAdd && !r.discard {
		m.cancelTimer(TimerKeepalive)
		r.open, r.discard = false, true
		r.discardWhy = "discarded: the bridge is stopping"
		if m.phase == PhaseStreaming {
			m.become(PhaseRound)
		}
		m.fill()
	}
}
