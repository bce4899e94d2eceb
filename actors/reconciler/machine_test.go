package reconciler

import (
	"encoding/binary"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// TestMachine runs the transcripts of testdata/*.txt: each is one scenario,
// the inputs as commands and what the machine then does as their output.
// The runner plays the connection (it acknowledges every Send at once with
// consecutive xids, as the connection actor does before any reply can
// come) and, on command, the switch. Commands:
//
//	connect [seq=N] [version=N]   Connected (a new connection, or seq=N the same)
//	restart                       a new machine on the same State (the actor restarted)
//	mode apply|diff|check         start over with a machine in that mode
//	disconnect                    Disconnected
//	geneve [index=N [unmapped]|off]   GeneveFieldAssigned for the connection
//	put [more] [continue] [keep=groups,meters,flows]
//	                              PutDesired of the input lines: group_id=...
//	                              lines are groups, meter=... meters, lines
//	                              naming geneve GeneveFlows, others flows
//	update                        UpdateFlows: +flow adds, -flow removes
//	monitor                       flow monitor updates: +flow, ~flow, -flow [reason=idle|hard|group],
//	                              abbrev, paused, resumed
//	abort                         AbortPut
//	drain                         Drain (a graceful stop)
//	installed                     UpdateInstalled: +flow added, -flow removed
//	dump [parts=N]                the switch answers the dump requests with
//	                              the input lines as its tables (tlv C,T,L->I
//	                              lines: its TLV map)
//	barrier [all]                 the switch answers the oldest barrier (or all)
//	error NAME (flow|group|meter|commit|open) [TEXT]
//	                              the switch refuses a message: the last sent
//	                              for that object, or the bundle's COMMIT/OPEN
//	retry|heal|audit|conflict     that timer falls due (the clock moves on by its delay)
//	status                        print the status
//	advance D                     the clock moves on by D
//
// After every command the machine's invariants are checked (Machine.Check).
func TestMachine(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		h := newHarness(t)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return h.run(t, d)
		})
	})
}

// The pure machine's files import no actor runtime and read no clock.
func TestMachineIsPure(t *testing.T) {
	pure := []string{"machine.go", "phases.go", "round.go", "windows.go", "dump.go", "state.go",
		"pending.go", "geneve.go", "keyspace.go", "fullput.go", "stale.go", "modes.go", "views.go", "audit.go", "drift.go", "monitor.go", "transcode.go", "ports.go",
		"table.go"}
	fset := token.NewFileSet()
	for _, name := range pure {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "protoactor") || p == "net" || p == "sync" {
				t.Errorf("%s imports %s", name, p)
			}
		}
		for _, banned := range []string{"time.Now", "time.AfterFunc", "time.Sleep", "time.After(", "go func"} {
			if strings.Contains(string(src), banned) {
				t.Errorf("%s uses %s", name, banned)
			}
		}
	}
	all, _ := filepath.Glob("*.go")
	for _, name := range all {
		if !strings.HasSuffix(name, "_test.go") && name != "actor.go" && !slices.Contains(pure, name) {
			t.Errorf("%s: neither the actor shell nor a file of the pure machine: add it to one list", name)
		}
	}
}

type sentMsg struct {
	xid  uint32
	msg  openflow.Message
	kind string // "flow", "group", "meter", "commit", "open", "barrier", ...
	text string // the object in ovs-ofctl syntax
}

type harness struct {
	m       *Machine
	logs    *observer.ObservedLogs
	now     time.Time
	seq     uint64
	version uint8
	xid     uint32
	sent    []sentMsg
	timers  map[TimerKind]Timer
	// outstanding requests, in order
	barriers []uint32
	dumpReqs []sentMsg
	portReqs []sentMsg // the port map's requests not answered yet
}

func newHarness(t *testing.T) *harness {
	core, logs := observer.New(zap.DebugLevel)
	m := NewMachine(MachineConfig{Logger: zap.New(core)}, nil)
	return &harness{m: m, logs: logs, now: time.Unix(1e9, 0), version: openflow.Version13, xid: 100, timers: map[TimerKind]Timer{}}
}

func (h *harness) ctx() *ofctl.Context {
	c := &ofctl.Context{Version: h.version}
	c.OXM.Geneve = -1
	for i := range c.OXM.TunMetadataLen {
		c.OXM.TunMetadataLen[i] = 4 // the switch's TLV map: every option 4 bytes
	}
	return c
}

func (h *harness) run(t *testing.T, d *datadriven.TestData) string {
	var out strings.Builder
	h.now = h.now.Add(time.Millisecond)
	var in any
	switch d.Cmd {
	case "connect":
		h.seq++
		if d.HasArg("seq") {
			d.ScanArgs(t, "seq", &h.seq)
		}
		if d.HasArg("version") {
			var v int
			d.ScanArgs(t, "version", &v)
			h.version = uint8(v)
		}
		h.barriers, h.dumpReqs, h.portReqs = nil, nil, nil
		in = &messages.Connected{Seq: h.seq, Version: h.version}
	case "disconnect":
		in = &messages.Disconnected{Seq: h.seq, Err: "connection reset"}
		h.barriers, h.dumpReqs = nil, nil
	case "geneve":
		g := &messages.GeneveFieldAssigned{Seq: h.seq, Index: -1, Class: 0x0102, Type: 0x80, Len: 4}
		if d.HasArg("index") {
			d.ScanArgs(t, "index", &g.Index)
			g.Enabled = true
		}
		g.Unmapped = d.HasArg("unmapped")
		in = g
	case "put":
		in = h.put(t, d)
	case "update", "installed":
		var add, rem []*openflow.FlowMod
		for _, l := range lines(d.Input) {
			fm := h.flow(t, l[1:])
			if l[0] == '+' {
				add = append(add, fm)
			} else {
				rem = append(rem, fm)
			}
		}
		if d.Cmd == "update" {
			in = &messages.UpdateFlows{Add: add, Remove: rem}
		} else {
			in = &messages.UpdateInstalled{Added: add, Removed: rem}
		}
	case "monitor":
		// What the flow monitor reports (xid 0): +flow added, ~flow
		// modified, -flow removed (reason=idle|hard|delete|group after
		// it), abbrev (our own change), paused, resumed.
		var ups []openflow.FlowUpdate
		for _, l := range lines(d.Input) {
			switch l {
			case "paused", "resumed":
				if h.version < openflow.Version14 {
					var msg openflow.Message = &openflow.FlowMonitorPaused{Header: openflow.Header{Version: h.version}}
					if l == "resumed" {
						msg = &openflow.FlowMonitorResumed{Header: openflow.Header{Version: h.version}}
					}
					h.unsolicited(t, &out, msg)
					continue
				}
				ev := openflow.FlowUpdatePaused
				if l == "resumed" {
					ev = openflow.FlowUpdateResumed
				}
				ups = append(ups, openflow.FlowUpdate{Event: ev})
				continue
			case "abbrev":
				ups = append(ups, openflow.FlowUpdate{Event: openflow.FlowUpdateAbbrev, XID: 1})
				continue
			}
			reason := uint16(2) // OFPRR_DELETE
			text := l[1:]
			if i := strings.Index(text, " reason="); i >= 0 {
				reason = map[string]uint16{"idle": 0, "hard": 1, "delete": 2, "group": 3, "meter": 4}[text[i+8:]]
				text = text[:i]
			}
			fm := h.flow(t, text)
			u := openflow.FlowUpdate{TableID: fm.TableID, Priority: fm.Priority, IdleTimeout: fm.IdleTimeout,
				HardTimeout: fm.HardTimeout, Cookie: fm.Cookie, Match: fm.Match, Instructions: fm.Instructions}
			switch l[0] {
			case '+':
				u.Event = openflow.FlowUpdateAdded
			case '~':
				u.Event = openflow.FlowUpdateModified
			default:
				u.Event, u.Reason, u.Instructions = openflow.FlowUpdateRemoved, reason, nil
			}
			ups = append(ups, u)
		}
		if len(ups) > 0 {
			h.unsolicited(t, &out, &openflow.FlowMonitorReply{Header: openflow.Header{Version: h.version}, Updates: ups})
		}
		return h.finish(t, &out)
	case "config", "portdesc":
		// The switch answers the oldest request of the port map's: its
		// config (flags=N miss=N) or its ports (input: NAME=NUMBER lines).
		if len(h.portReqs) == 0 {
			t.Fatalf("%s: no port map request pending", d.Pos)
		}
		r := h.portReqs[0]
		h.portReqs = h.portReqs[1:]
		var msg openflow.Message
		if d.Cmd == "config" {
			var flags, miss int
			d.ScanArgs(t, "flags", &flags)
			d.ScanArgs(t, "miss", &miss)
			msg = &openflow.GetConfigReply{SwitchConfig: openflow.SwitchConfig{Flags: uint16(flags), MissSendLen: uint16(miss)}}
		} else {
			pd := &openflow.PortDescReply{}
			for _, l := range lines(d.Input) {
				name, num, _ := strings.Cut(l, "=")
				n, _ := strconv.ParseUint(num, 0, 32)
				pd.Ports = append(pd.Ports, openflow.Port{PortNo: uint32(n), Name: name})
			}
			msg = pd
		}
		b, err := msg.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		b[0] = h.version
		binary.BigEndian.PutUint32(b[4:], r.xid)
		dec, err := openflow.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		h.step(t, &out, &messages.Reply{Seq: h.seq, XID: r.xid, Msg: dec})
		return h.finish(t, &out)
	case "portstatus":
		// portstatus add|delete|modify NAME=NUMBER
		reason := map[string]uint8{"add": openflow.PortReasonAdd, "delete": openflow.PortReasonDelete,
			"modify": openflow.PortReasonModify}[d.CmdArgs[0].Key]
		name, num := d.CmdArgs[1].Key, "" // NAME=NUMBER, as datadriven splits it
		if len(d.CmdArgs[1].Vals) > 0 {
			num = d.CmdArgs[1].Vals[0]
		}
		n, err := strconv.ParseUint(num, 0, 32)
		if err != nil {
			t.Fatalf("%s: portstatus REASON NAME=NUMBER: %v", d.Pos, err)
		}
		h.unsolicited(t, &out, &openflow.PortStatus{Header: openflow.Header{Version: h.version}, Reason: reason,
			Port: openflow.Port{PortNo: uint32(n), Name: name}})
		return h.finish(t, &out)
	case "abort":
		in = &messages.AbortPut{}
	case "drain":
		in = &Drain{}
	case "dump":
		parts := 1
		if d.HasArg("parts") {
			d.ScanArgs(t, "parts", &parts)
		}
		h.answerDump(t, &out, d.Input, parts)
		return h.finish(t, &out)
	case "barrier":
		n := 1
		if d.HasArg("all") {
			n = len(h.barriers)
		}
		for i := 0; i < n && len(h.barriers) > 0; i++ {
			x := h.barriers[0]
			h.barriers = h.barriers[1:]
			br := &openflow.BarrierReply{}
			br.Version, br.XID = h.version, x
			h.step(t, &out, &messages.Reply{Seq: h.seq, XID: x, Msg: br})
		}
		return h.finish(t, &out)
	case "error":
		in = h.errorFor(t, d)
	case "retry", "heal", "audit", "conflict", "keepalive":
		k := map[string]TimerKind{"retry": TimerRetry, "heal": TimerHeal, "audit": TimerAudit, "conflict": TimerConflict,
			"keepalive": TimerKeepalive}[d.Cmd]
		tm, ok := h.timers[k]
		if !ok {
			t.Fatalf("%s: no %s timer pending", d.Pos, k)
		}
		delete(h.timers, k)
		h.now = h.now.Add(tm.Delay)
		in = &TimerDue{Kind: k, Gen: tm.Gen}
	case "status":
		s := h.m.Status()
		fmt.Fprintf(&out, "phase=%s in_sync=%v desired=v%d installed=v%d flows=%d/%d groups=%d/%d meters=%d/%d rejected=%d\n",
			s.Phase, s.InSync, s.DesiredVersion, s.InstalledVersion, s.InstalledFlows, s.DesiredFlows,
			s.InstalledGroups, s.DesiredGroups, s.InstalledMeters, s.DesiredMeters, s.Rejected)
		if !s.InstalledKnown {
			out.WriteString("installed: not known\n")
		}
		if s.LastError != "" {
			fmt.Fprintf(&out, "last_error: %s\n", s.LastError)
		}
		if len(s.MissingPorts) > 0 {
			fmt.Fprintf(&out, "missing_ports: %s\n", strings.Join(s.MissingPorts, ","))
		}
		return out.String()
	case "mode":
		// A machine that only looks: before anything else.
		mode := map[string]Mode{"apply": ModeApply, "diff": ModeDiff, "check": ModeCheck}[d.CmdArgs[0].Key]
		core, logs := observer.New(zap.DebugLevel)
		h.m, h.logs = NewMachine(MachineConfig{Mode: mode, Logger: zap.New(core)}, nil), logs
		return "ok\n"
	case "restart":
		// The actor restarted (a panic): a new machine on the same State.
		core, logs := observer.New(zap.DebugLevel)
		h.m, h.logs = NewMachine(MachineConfig{Logger: zap.New(core)}, h.m.st), logs
		h.barriers, h.dumpReqs, h.timers = nil, nil, map[TimerKind]Timer{}
		return "ok\n"
	case "advance":
		var s string
		d.ScanArgs(t, "d", &s)
		dur, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		h.now = h.now.Add(dur)
		return ""
	default:
		t.Fatalf("%s: unknown command %q", d.Pos, d.Cmd)
	}
	h.step(t, &out, in)
	return h.finish(t, &out)
}

func (h *harness) finish(t *testing.T, out *strings.Builder) string {
	if err := h.m.Check(); err != nil {
		fmt.Fprintf(out, "INVARIANT BROKEN: %v\n", err)
	}
	if out.Len() == 0 {
		return "ok\n"
	}
	return out.String()
}

// step gives the machine one input and prints what it does.
func (h *harness) step(t *testing.T, out *strings.Builder, in any) {
	before := h.logs.Len()
	if err := h.m.Step(h.now, in); err != nil {
		t.Fatal(err)
	}
	for _, e := range h.logs.All()[before:] {
		if e.Message == "state" {
			f := e.ContextMap()
			fmt.Fprintf(out, "state: %s -> %s\n", f["old"], f["new"])
		}
	}
	if !h.m.HasReady() {
		return
	}
	rd := h.m.Ready()
	h.m.Advance()
	if rd.Answer != nil {
		fmt.Fprintf(out, "answer: %s\n", describeEvent(rd.Answer))
	}
	if rd.Renegotiate {
		fmt.Fprintf(out, "renegotiate\n")
	}
	if rd.Drained {
		fmt.Fprintf(out, "drained\n")
	}
	for _, k := range rd.Cancel {
		delete(h.timers, k)
		fmt.Fprintf(out, "%s timer cancelled\n", k)
	}
	for _, tm := range rd.Timers {
		h.timers[tm.Kind] = tm
		fmt.Fprintf(out, "%s in %v\n", tm.Kind, tm.Delay)
	}
	var acks []*messages.Sent
	for _, s := range rd.Sends {
		if len(s.Routing) != 0 && len(s.Routing) != len(s.Msgs) {
			t.Fatalf("send %d: %d routings for %d messages", s.Ref, len(s.Routing), len(s.Msgs))
		}
		first := h.xid
		fmt.Fprintf(out, "send:\n")
		var texts []string
		for i, msg := range s.Msgs {
			sm := h.record(t, h.xid, msg)
			route := ""
			if len(s.Routing) > 0 && s.Routing[i] != messages.RouteDefault {
				route = [...]string{"", " [kept until released]", " [releases]", " [in parts]"}[s.Routing[i]]
			}
			texts = append(texts, sm.text+route)
			h.xid++
		}
		for _, text := range texts {
			fmt.Fprintf(out, "  %s\n", text)
		}
		acks = append(acks, &messages.Sent{Ref: s.Ref, Seq: s.Seq, FirstXID: first, N: len(s.Msgs)})
	}
	for _, ev := range rd.Events {
		fmt.Fprintf(out, "event: %s\n", describeEvent(ev))
	}
	for _, a := range acks {
		h.step(t, out, a)
	}
	if rd.Kick {
		h.step(t, out, &Kick{})
	}
}

// record remembers a sent message and describes it.
func (h *harness) record(t *testing.T, xid uint32, msg openflow.Message) sentMsg {
	b, err := msg.AppendBinary(nil)
	if err != nil {
		t.Fatalf("encode %T: %v", msg, err)
	}
	dec, err := openflow.Decode(b)
	if err != nil {
		t.Fatalf("decode %T: %v", msg, err)
	}
	sm := sentMsg{xid: xid, msg: dec}
	inner := dec
	prefix := ""
	if ba, ok := dec.(*openflow.BundleAdd); ok {
		inner, prefix = ba.Message, "bundle_add "
	}
	switch m := inner.(type) {
	case *openflow.FlowMod:
		sm.kind = "flow"
		sm.text = prefix + "flow " + addWord(m.Command == openflow.FlowAdd) + strings.TrimSpace(string(ofctl.AppendFlow(nil, m)))
	case *openflow.GroupMod:
		sm.kind = "group"
		sm.text = prefix + "group " + addWord(m.Command == openflow.GroupAdd) + string(ofctl.AppendGroup(nil, m))
	case *openflow.MeterMod:
		sm.kind = "meter"
		sm.text = prefix + "meter " + addWord(m.Command == openflow.MeterAdd) + string(ofctl.AppendMeter(nil, m))
	case *openflow.BundleControl:
		sm.kind = map[uint16]string{openflow.BundleOpenRequest: "open", openflow.BundleCommitRequest: "commit",
			openflow.BundleDiscardRequest: "discard"}[m.Type]
		sm.text = "bundle_" + sm.kind
	case *openflow.BarrierRequest:
		sm.kind, sm.text = "barrier", "barrier"
		h.barriers = append(h.barriers, xid)
	case *openflow.FlowStatsRequest:
		sm.kind, sm.text = "flow_stats", "flow_stats_request"
		if m.TableID != openflow.TableAll {
			sm.text += fmt.Sprintf(" table=%d", m.TableID)
		}
		h.dumpReqs = append(h.dumpReqs, sm)
	case *openflow.GroupDescRequest:
		sm.kind, sm.text = "group_desc", "group_desc_request"
		h.dumpReqs = append(h.dumpReqs, sm)
	case *openflow.MeterConfigRequest:
		sm.kind, sm.text = "meter_config", "meter_config_request"
		h.dumpReqs = append(h.dumpReqs, sm)
	case *openflow.TLVTableRequest:
		sm.kind, sm.text = "tlv", "tlv_table_request"
		h.dumpReqs = append(h.dumpReqs, sm)
	case *openflow.FlowMonitorRequest:
		fm := m.Monitors[0]
		sm.kind = "monitor"
		sm.text = fmt.Sprintf("flow_monitor_request id=%d flags=%#x table=%#x", fm.ID, fm.Flags, fm.TableID)
		h.dumpReqs = append(h.dumpReqs, sm)
	case *openflow.GetConfigRequest:
		sm.kind, sm.text = "get_config", "get_config_request"
		h.portReqs = append(h.portReqs, sm)
	case *openflow.SetConfig:
		sm.kind, sm.text = "set_config", fmt.Sprintf("set_config flags=%d miss_send_len=%d", m.Flags, m.MissSendLen)
	case *openflow.SetAsync:
		sm.kind = "set_async"
		sm.text = fmt.Sprintf("set_async packet_in=%#x/%#x port_status=%#x/%#x flow_removed=%#x/%#x",
			m.PacketIn[0], m.PacketIn[1], m.PortStatus[0], m.PortStatus[1], m.FlowRemoved[0], m.FlowRemoved[1])
	case *openflow.PortDescRequest:
		sm.kind, sm.text = "port_desc", "port_desc_request"
		h.portReqs = append(h.portReqs, sm)
	default:
		sm.kind, sm.text = "other", fmt.Sprintf("%T", inner)
	}
	if i := len(h.dumpReqs) - 1; i >= 0 && h.dumpReqs[i].xid == xid {
		// A request asked for again supersedes the one not answered.
		h.dumpReqs = append(slices.DeleteFunc(h.dumpReqs[:i], func(o sentMsg) bool { return o.kind == sm.kind }), sm)
	}
	h.sent = append(h.sent, sm)
	return sm
}

// addWord spells out an add, which ovs-ofctl's syntax leaves unsaid.
func addWord(add bool) string {
	if add {
		return "add "
	}
	return ""
}

// answerDump answers the outstanding dump requests with the switch's
// tables: the input's lines (flows, group_id=..., meter=...).
func (h *harness) answerDump(t *testing.T, out *strings.Builder, input string, parts int) {
	var stats []openflow.FlowStats
	var groups []openflow.GroupDesc
	var meters []openflow.MeterConfig
	var tlv []openflow.TLVMap
	for _, l := range lines(input) {
		switch {
		case strings.HasPrefix(l, "tlv "):
			// tlv CLASS,TYPE,LEN->INDEX
			var m openflow.TLVMap
			var class, typ, ln, idx int
			if _, err := fmt.Sscanf(l, "tlv %v,%v,%v->%v", &class, &typ, &ln, &idx); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			m.OptionClass, m.OptionType, m.OptionLen, m.Index = uint16(class), uint8(typ), uint8(ln), uint16(idx)
			tlv = append(tlv, m)
		case strings.HasPrefix(l, "group_id="):
			gm, err := ofctl.ParseGroup(l, h.ctx())
			if err != nil {
				t.Fatal(err)
			}
			groups = append(groups, openflow.GroupDesc{Type: gm.Type, GroupID: gm.GroupID, Buckets: gm.Buckets})
		case strings.HasPrefix(l, "meter="):
			mm, err := ofctl.ParseMeter(l, h.ctx())
			if err != nil {
				t.Fatal(err)
			}
			meters = append(meters, openflow.MeterConfig{Flags: mm.Flags, MeterID: mm.MeterID, Bands: mm.Bands})
		default:
			fm := h.flow(t, l)
			stats = append(stats, openflow.FlowStats{TableID: fm.TableID, Priority: fm.Priority, Match: fm.Match,
				Cookie: fm.Cookie, IdleTimeout: fm.IdleTimeout, HardTimeout: fm.HardTimeout, Flags: fm.Flags,
				Instructions: fm.Instructions})
		}
	}
	reqs := h.dumpReqs
	h.dumpReqs = nil
	for _, r := range reqs {
		var msg openflow.Message
		switch r.kind {
		case "flow_stats":
			// Part by part, as the connection hands over a RouteParts
			// reply; the last part without More.
			n := (len(stats) + parts - 1) / max(parts, 1)
			for p := 0; p < parts-1 && n > 0; p++ {
				h.flowPart(t, out, r.xid, stats[:min(n, len(stats))], true)
				stats = stats[min(n, len(stats)):]
			}
			h.flowPart(t, out, r.xid, stats, false)
			continue
		case "group_desc":
			msg = &openflow.GroupDescReply{Header: openflow.Header{Version: h.version}, Groups: groups}
		case "meter_config":
			msg = &openflow.MeterConfigReply{Header: openflow.Header{Version: h.version}, Meters: meters}
		case "tlv":
			msg = &openflow.TLVTableReply{Header: openflow.Header{Type: openflow.TypeExperimenter}, MaxOptionSpace: 256, MaxFields: 64, Mappings: tlv}
		case "monitor":
			msg = &openflow.FlowMonitorReply{Header: openflow.Header{Version: h.version}} // no INITIAL: empty
		}
		// As the connection hands it on: decoded from the wire, shallow.
		b, err := msg.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		b[0] = h.version
		binary.BigEndian.PutUint32(b[4:], r.xid)
		dec, err := openflow.DecodeShallow(b)
		if err != nil {
			t.Fatal(err)
		}
		h.step(t, out, &messages.Reply{Seq: h.seq, XID: r.xid, Msg: dec})
	}
}

// unsolicited hands the machine msg as the connection does what the switch
// sends on its own: decoded from the wire, shallow.
func (h *harness) unsolicited(t *testing.T, out *strings.Builder, msg openflow.Message) {
	b, err := msg.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := openflow.DecodeShallow(b)
	if err != nil {
		t.Fatal(err)
	}
	h.step(t, out, &messages.Unsolicited{Seq: h.seq, Msg: dec})
}

// flowPart hands the machine one part of a flow stats reply.
func (h *harness) flowPart(t *testing.T, out *strings.Builder, xid uint32, stats []openflow.FlowStats, more bool) {
	msg := &openflow.FlowStatsReply{Header: openflow.Header{Version: h.version}, Stats: stats}
	b, err := msg.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = h.version
	binary.BigEndian.PutUint32(b[4:], xid)
	dec, err := openflow.DecodeShallow(b)
	if err != nil {
		t.Fatal(err)
	}
	h.step(t, out, &messages.Reply{Seq: h.seq, XID: xid, Msg: dec, More: more})
}

// errorFor makes the switch's error for the last message sent for an
// object of the kind (and text, when given), or for the bundle's COMMIT or
// OPEN.
func (h *harness) errorFor(t *testing.T, d *datadriven.TestData) any {
	if len(d.CmdArgs) < 2 {
		t.Fatalf("%s: error NAME KIND [TEXT]", d.Pos)
	}
	name, kind := d.CmdArgs[0].Key, d.CmdArgs[1].Key
	text := strings.TrimSpace(d.Input)
	for i := len(h.sent) - 1; i >= 0; i-- {
		s := h.sent[i]
		if s.kind == kind && strings.Contains(s.text, text) {
			e := ofperr.NamedFor(h.version, name)
			if e == nil {
				t.Fatalf("%s: no error %s", d.Pos, name)
			}
			return &messages.Reply{Seq: h.seq, XID: s.xid, Msg: openflow.NewError(openflow.Header{Version: h.version, XID: s.xid}, e, nil)}
		}
	}
	t.Fatalf("%s: no %s message sent with %q", d.Pos, kind, text)
	return nil
}

func (h *harness) flow(t *testing.T, text string) *openflow.FlowMod {
	fm, err := ofctl.ParseFlow(text, h.ctx())
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	return fm
}

// put builds a PutDesired of the input lines.
func (h *harness) put(t *testing.T, d *datadriven.TestData) *messages.PutDesired {
	p := &messages.PutDesired{More: d.HasArg("more"), Continue: d.HasArg("continue"),
		Flows: []*openflow.FlowMod{}, Groups: []*openflow.GroupMod{}, Meters: []*openflow.MeterMod{}}
	if p.More || p.Continue {
		p.Groups, p.Meters = nil, nil
		if d.HasArg("groups") {
			p.Groups, p.Meters = []*openflow.GroupMod{}, []*openflow.MeterMod{}
		}
	}
	if d.HasArg("keep") {
		var keep string
		d.ScanArgs(t, "keep", &keep)
		for _, k := range strings.Split(keep, ",") {
			switch k {
			case "groups":
				p.Groups = nil
			case "meters":
				p.Meters = nil
			case "flows":
				p.Flows = nil
			}
		}
	}
	for _, l := range lines(d.Input) {
		switch {
		case strings.HasPrefix(l, "group_id="):
			gm, err := ofctl.ParseGroup(l, h.ctx())
			if err != nil {
				t.Fatal(err)
			}
			p.Groups = append(p.Groups, gm)
		case strings.HasPrefix(l, "meter="):
			mm, err := ofctl.ParseMeter(l, h.ctx())
			if err != nil {
				t.Fatal(err)
			}
			p.Meters = append(p.Meters, mm)
		case strings.HasPrefix(l, "ports: "):
			p.SwitchFlows = append(p.SwitchFlows, strings.TrimPrefix(l, "ports: "))
		case strings.Contains(l, "geneve"):
			p.GeneveFlows = append(p.GeneveFlows, l)
		default:
			p.Flows = append(p.Flows, h.flow(t, l))
		}
	}
	return p
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// describeEvent prints an event or answer on one line.
func describeEvent(ev any) string {
	switch e := ev.(type) {
	case *messages.DesiredAccepted:
		s := fmt.Sprintf("accepted version=%d", e.Version)
		for _, err := range e.Errors {
			s += "; error: " + err
		}
		return s
	case *messages.VersionInstalled:
		return fmt.Sprintf("VersionInstalled version=%d flows=%d groups=%d meters=%d rejected=%d",
			e.Version, e.Flows, e.Groups, e.Meters, e.Rejected)
	case *messages.Rejected:
		return fmt.Sprintf("Rejected version=%d %s %s: %s", e.Version, e.Kind, e.Error, e.Text)
	case *messages.Progress:
		return fmt.Sprintf("Progress version=%d sent=%d confirmed=%d total=%d", e.Version, e.Sent, e.Confirmed, e.Total)
	case *messages.Planned:
		s := fmt.Sprintf("Planned version=%d changes=%d", e.Version, len(e.Changes))
		for _, c := range e.Changes {
			s += fmt.Sprintf("\n  %s %s", c.Op, c.Kind)
			if c.Old != "" {
				s += "\n    - " + c.Old
			}
			if c.New != "" {
				s += "\n    + " + c.New
			}
		}
		for _, u := range e.Unchecked {
			s += "\n  unchecked: " + u
		}
		return s
	case *messages.InSync:
		return fmt.Sprintf("InSync version=%d cause=%s", e.Version, e.Cause)
	case *messages.OutOfSync:
		return "OutOfSync reason=" + e.Reason
	case *messages.Drift:
		return fmt.Sprintf("Drift by=%s flows=%+v groups=%+v meters=%+v", e.By, e.Flows, e.Groups, e.Meters)
	case *messages.Conflict:
		return fmt.Sprintf("Conflict %s count=%d backoff=%v: %s", e.Kind, e.Count, e.Backoff, e.Text)
	case *messages.Audited:
		return fmt.Sprintf("Audited flows=%v differences=%d", e.Flows, e.Differences)
	case *messages.Checked:
		return fmt.Sprintf("Checked version=%d rejected=%d", e.Version, e.Rejected)
	case *messages.RoundFinished:
		s := fmt.Sprintf("RoundFinished version=%d flow_adds=%d flow_modifies=%d flow_deletes=%d group_mods=%d meter_mods=%d refused=%d",
			e.Version, e.FlowAdds, e.FlowModifies, e.FlowDeletes, e.GroupMods, e.MeterMods, e.Refused)
		if e.Failed != "" {
			s += fmt.Sprintf(" failed=%q", e.Failed)
		}
		return s
	}
	return fmt.Sprintf("%T %+v", ev, ev)
}
