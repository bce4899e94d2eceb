package ofctl

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// DefaultPriority is OFP_DEFAULT_PRIORITY, the priority of a flow that
// names none; dump-flows leaves it out.
const DefaultPriority = 0x8000

// tableInternal is TBL_INTERNAL, where Open vSwitch keeps its own hidden
// flows; a dump that names it shows them, but no flow_mod may touch it.
const tableInternal = 254

// Context is what parsing depends on.
type Context struct {
	Version uint8 // of the messages built; 0 means OpenFlow 1.3
	OXM     oxm.Context
}

var defaultContext Context

func (c *Context) version() uint8 {
	if c.Version == 0 {
		return openflow.Version13
	}
	return c.Version
}

func (c *Context) actions(table uint8) action.Context {
	return action.Context{Version: c.version(), Table: table, OXM: &c.OXM}
}

// Line is one flow of a flows file: the flow_mod, where its line starts,
// its text without the comment, and what ParseFlowLine found out about it.
type Line struct {
	Mod  *openflow.FlowMod
	Pos  Pos
	Text string
	// notes are the warnings and port names, nil if none (most lines):
	// a file of a million lines holds a million Lines.
	notes *lineNotes
}

type lineNotes struct {
	warnings  []Warning
	portNames []string
}

// Warnings are what the line does that ovs-ofctl does silently: a match
// field it leaves out for want of its prerequisite ("tcp_dst=80" without
// tcp), as ovs-ofctl does.
func (l *Line) Warnings() []Warning {
	if l.notes == nil {
		return nil
	}
	return l.notes.warnings
}

// PortNames are the port names the line uses (in_port=vm1, output:vm1),
// each once, in the order first used; nil if none. The flow's bytes depend
// on the switch's port numbering: parse it again when that changes.
func (l *Line) PortNames() []string {
	if l.notes == nil {
		return nil
	}
	return l.notes.portNames
}

// Warning is something a line does that ovs-ofctl does without a word.
type Warning struct {
	Pos Pos
	Msg string
}

func (w Warning) String() string { return fmt.Sprintf("%v: %s", w.Pos, w.Msg) }

// flowCommands are the words a line of `ovs-ofctl add-flows` may start
// with (parse_ofp_str with command -2); none means add.
var flowCommands = []string{
	openflow.FlowAdd:          "add",
	openflow.FlowModify:       "modify",
	openflow.FlowModifyStrict: "modify_strict",
	openflow.FlowDelete:       "delete",
	openflow.FlowDeleteStrict: "delete_strict",
}

// What each command takes besides the match (parse_ofp_str's F_* sets).
const (
	fOutPort = 1 << iota
	fActions
	fImportance
	fTimeout
	fPriority
	fFlags
)

var flowFields = []int{
	openflow.FlowAdd:          fActions | fTimeout | fPriority | fFlags | fImportance,
	openflow.FlowModify:       fActions | fTimeout | fPriority | fFlags,
	openflow.FlowModifyStrict: fActions | fTimeout | fPriority | fFlags,
	openflow.FlowDelete:       fOutPort,
	openflow.FlowDeleteStrict: fOutPort | fPriority,
}

// flowFlags are the flag keywords, in the order dump-flows prints them
// (ofp_print_flow_flags).
var flowFlags = []struct {
	name string
	bit  uint16
}{
	{"send_flow_rem", openflow.FlowSendFlowRem},
	{"check_overlap", openflow.FlowCheckOverlap},
	{"reset_counts", openflow.FlowResetCounts},
	{"no_packet_counts", openflow.FlowNoPktCounts},
	{"no_byte_counts", openflow.FlowNoBytCounts},
}

// ParseFlow parses one flow as `ovs-ofctl add-flows` accepts it and as
// `ovs-ofctl --no-stats dump-flows` prints it. A line may start with
// add, modify, modify_strict, delete or delete_strict; the default is add.
// The flow_mod has table 0 (delete: all tables), priority DefaultPriority,
// no buffer and out_port/out_group any unless the text says otherwise.
// Errors are *ParseError, their column counted in s.
func ParseFlow(s string, ctx *Context) (*openflow.FlowMod, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	// Its port names are not wanted: no recorder on a copy of the context
	// (two allocations a line, a tenth of what a file's load allocates).
	return parseFlow(s, ctx, nil)
}

// ParseFlowLine is ParseFlow that also returns what it found out about
// the flow: its warnings (their column counted in s) and the port names
// it used. Pos and Text are left to the caller.
func ParseFlowLine(s string, ctx *Context) (Line, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	var warnings []Warning
	pctx, rec := recording(ctx)
	fm, err := parseFlow(s, pctx, &warnings)
	if err != nil {
		return Line{}, err
	}
	l := Line{Mod: fm}
	if len(warnings) > 0 || rec != nil && len(rec.names) > 0 {
		l.notes = &lineNotes{warnings: warnings}
		if rec != nil {
			l.notes.portNames = rec.names
		}
	}
	return l, nil
}

// ParseFlowWarnings is ParseFlow that appends the line's warnings (their
// column counted in s) to warnings: ParseFlowLine without the port names,
// for a caller that parses many lines and wants nothing allocated for a
// line without warnings.
func ParseFlowWarnings(s string, ctx *Context, warnings *[]Warning) (*openflow.FlowMod, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	return parseFlow(s, ctx, warnings)
}

// recording returns ctx, or, when it has a port map, a copy of it whose
// map notes the names looked up (rec; nil without a map).
func recording(ctx *Context) (pctx *Context, rec *portRecorder) {
	if ctx.OXM.Ports == nil {
		return ctx, nil
	}
	rec = &portRecorder{m: ctx.OXM.Ports}
	c := *ctx
	c.OXM.Ports = rec
	return &c, rec
}

// portRecorder is a port map that notes the names looked up in it.
type portRecorder struct {
	m     oxm.PortMap
	names []string
}

func (r *portRecorder) PortNumber(name string) (uint32, bool) {
	p, ok := r.m.PortNumber(name)
	if ok && !slices.Contains(r.names, name) {
		r.names = append(r.names, name)
	}
	return p, ok
}

func (r *portRecorder) PortName(port uint32) (string, bool) { return r.m.PortName(port) }

// parseFlow is ParseFlow that appends its warnings to warnings (nil: none
// wanted).
func parseFlow(s string, ctx *Context, warnings *[]Warning) (*openflow.FlowMod, error) {
	pos := 0
	cmd := openflow.FlowAdd
	if t, ok := nextKey(s, 0); ok && t.delim == 0 { // a bare word: its end is known
		for c, name := range flowCommands {
			if t.key == name {
				cmd, pos = uint8(c), t.end
			}
		}
	}
	fm := openflow.NewFlowMod(ctx.version(), cmd)
	fm.Priority = DefaultPriority
	if cmd == openflow.FlowDelete || cmd == openflow.FlowDeleteStrict {
		fm.TableID = openflow.TableAll
	}
	fields := flowFields[cmd]
	var buf [16]token // the match's tokens; most flows have fewer
	toks := buf[:0]
	actions := -1
	for {
		t, ok := nextKey(s, pos)
		if !ok {
			break
		}
		if (t.key == "actions" || t.key == "action") && t.delim == '=' {
			if fields&fActions == 0 {
				tokenValue(s, &t)
				return nil, errToken(s, t, "a %s takes no actions", flowCommands[cmd])
			}
			actions = t.voff
			break
		}
		tokenValue(s, &t)
		pos = t.end
		isField, err := flowField(fm, fields, s, t, &ctx.OXM)
		if err != nil {
			return nil, err
		}
		if !isField {
			toks = append(toks, t)
		}
	}
	var facts oxm.Facts
	if len(toks) > 0 {
		var notes []matchNote
		text := matchString(s, toks)
		m, err := parseMatch(text, &ctx.OXM, ctx.version(), &notes, &facts)
		var at pieces // where each piece of text came from, wanted only now
		if err != nil || len(notes) > 0 {
			matchText(&at, s, toks)
		}
		if err != nil {
			return nil, matchError(s, relocate(err, &at))
		}
		for _, n := range notes {
			col := at.at(n.off) + 1
			need := n.Info.Prereq.Describe()
			if n.key == "tp_src" || n.key == "tp_dst" {
				need = "tcp, udp or sctp"
			}
			msg := fmt.Sprintf("%s needs %s", n.key, need)
			if !n.Dropped {
				return nil, &ParseError{Pos: Pos{Column: col}, Token: n.key,
					Msg: msg + ": Open vSwitch refuses the flow (OFPBMC_BAD_PREREQ)"}
			}
			if warnings != nil {
				*warnings = append(*warnings, Warning{Pos: Pos{Column: col}, Msg: msg + ": dropped, as ovs-ofctl does"})
			}
		}
		fm.Match = m
	} else {
		facts = oxm.Facts{}
	}
	if fields&fActions == 0 {
		return fm, nil
	}
	if actions < 0 {
		end := len(strings.TrimRight(s, separators))
		return nil, errAt(end, "", "missing actions= (expected actions=ACTION,... as the last field, e.g. actions=drop)")
	}
	text := strings.TrimRight(s[actions:], separators)
	actx := ctx.actions(fm.TableID)
	actx.FlowHasVLAN = matchHasVLAN(&fm.Match)
	actx.Flow, actx.Check = facts, true
	is, err := action.ParseInstructions(actx, text)
	if err != nil {
		acts := pieces{spans: []span{{0, actions}}}
		return nil, relocate(err, &acts)
	}
	fm.Instructions = is
	return fm, nil
}

// matchString is the text ParseMatch reads for the match tokens toks of
// s: usually ("ip,reg14=0x1,metadata=0x5") a part of s as it stands.
func matchString(s string, toks []token) string {
	first, last := toks[0], toks[len(toks)-1]
	asIs := true
	for k, t := range toks {
		if t.delim == ':' || k > 0 && (t.off != toks[k-1].end+1 || s[t.off-1] != ',') {
			asIs = false
			break
		}
	}
	if asIs {
		return s[first.off:last.end]
	}
	match := pieces{noSpans: true}
	matchText(&match, s, toks)
	return match.String()
}

// matchText assembles the match's tokens toks of s into match: the text
// ParseMatch reads, with (unless match.noSpans) where each piece came from.
func matchText(match *pieces, s string, toks []token) {
	n := len(toks)
	for _, t := range toks {
		n += t.end - t.off
	}
	match.b.Grow(n)
	for _, t := range toks {
		// OVS reads "field:value" as "field=value" too.
		eq := -1
		if t.delim == ':' {
			eq = t.voff - 1 - t.off
		}
		match.addEq(t.text(s), t.off, eq)
	}
}

// matchHasVLAN says whether m requires an 802.1Q header: its TCI value
// has the CFI bit (check_SET_VLAN_VID reads flow->vlans[0].tci).
func matchHasVLAN(m *oxm.Match) bool {
	// ParseMatch's match is canonical: the TCI is in vlan_vid, its value
	// already masked.
	f := m.Lookup(vlanVID)
	return f != nil && len(f.Value) == 2 && f.Value[0]&0x10 != 0
}

var vlanVID = oxm.ByName("vlan_vid")

// matchError makes the match parser's error about a field name name the
// whole token and what a flow may hold there.
func matchError(s string, err error) error {
	pe, ok := err.(*ParseError)
	if !ok {
		return err
	}
	t, ok := nextToken(s, pe.Pos.Column-1)
	if !ok || t.off != pe.Pos.Column-1 || t.key != pe.Token {
		return err
	}
	pe.Token = t.text(s)
	if strings.Contains(pe.Msg, "unknown field") {
		pe.Msg = fmt.Sprintf("unknown field %q (expected a match field, e.g. in_port, ip, "+
			"reg0, metadata or nw_dst, or a flow keyword, e.g. priority, table, cookie or actions)", t.key)
	}
	return pe
}

// flowField sets what token t says about the flow_mod itself, when it says
// anything; false means t belongs to the match.
func flowField(fm *openflow.FlowMod, fields int, s string, t token, oxmCtx *oxm.Context) (bool, error) {
	var err error
	var v uint64
	switch t.key {
	case "table":
		if v, err = numValue(s, t, 8); err == nil {
			switch {
			case v == uint64(openflow.TableAll) && fields&fOutPort == 0:
				err = errToken(s, t, "table 255 (all tables) is for deletes: for a flow to add or modify, OVS chooses the table (table 0); give it (0 to 253)")
			case v == tableInternal:
				err = errToken(s, t, "table 254 is Open vSwitch's internal table: it refuses any change to it (OFPBRC_EPERM)")
			}
			fm.TableID = uint8(v)
		}
	case "cookie":
		err = flowCookie(fm, fields, s, t)
	case "priority", "idle_timeout", "hard_timeout", "importance":
		err = flowU16(fm, fields, s, t)
	case "out_port", "out_group":
		if fields&fOutPort == 0 {
			return true, errToken(s, t, "%s applies only to a delete", t.key)
		}
		if t.key == "out_port" {
			fm.OutPort, err = portValue(s, t, oxmCtx)
		} else {
			fm.OutGroup, err = groupValue(s, t)
		}
	case "duration", "n_packets", "n_bytes", "idle_age", "hard_age",
		"no_readonly_table", "allow_hidden_fields":
		// What dump-flows prints about a flow's life, and flags of
		// ovs-ofctl itself: OVS skips them so that a dump reads back.
	default:
		for _, f := range flowFlags {
			if t.key == f.name {
				if fields&fFlags == 0 {
					return true, errToken(s, t, "%s does not apply to a %s", t.key, flowCommands[fm.Command])
				}
				fm.Flags |= f.bit
				return true, nil
			}
		}
		return false, nil
	}
	return true, err
}

// flowU16 sets the priority, a timeout or the importance.
func flowU16(fm *openflow.FlowMod, fields int, s string, t token) error {
	need, dst := fPriority, &fm.Priority
	switch t.key {
	case "idle_timeout":
		need, dst = fTimeout, &fm.IdleTimeout
	case "hard_timeout":
		need, dst = fTimeout, &fm.HardTimeout
	case "importance":
		need, dst = fImportance, &fm.Importance
	}
	if fields&need == 0 {
		return errToken(s, t, "%s does not apply to a %s", t.key, flowCommands[fm.Command])
	}
	v, err := numValue(s, t, 16)
	*dst = uint16(v)
	return err
}

// flowCookie reads cookie=V (the flow's cookie) or cookie=V/M (the
// cookies a modify or delete applies to).
func flowCookie(fm *openflow.FlowMod, fields int, s string, t token) error {
	val, mask, masked := strings.Cut(t.val, "/")
	v, ok := parseNum(val, 64)
	m, okm := parseNum(mask, 64)
	switch {
	case t.val == "":
		return errToken(s, t, "cookie needs a value")
	case !ok || masked && !okm:
		return errToken(s, t, "expected cookie=NUMBER or cookie=NUMBER/MASK")
	case masked && fm.Command == openflow.FlowAdd:
		return errToken(s, t, "flow additions cannot use a cookie mask")
	case !masked && fields&fActions == 0:
		return errToken(s, t, "a delete cannot set a cookie (expected cookie=VALUE/MASK)")
	}
	fm.Cookie, fm.CookieMask = v, m
	return nil
}

// ParseFlows parses a flows file as `ovs-ofctl add-flows` reads it. It
// reports every bad line (up to a limit), each as file:line:column, and
// then returns no flows. Each Line carries its warnings (placed in the
// file) and the port names it used.
func ParseFlows(name string, r io.Reader, ctx *Context) ([]Line, error) {
	// Lines go to chunks of growing size, copied once at the end: a
	// slice grown by append would copy and discard far more.
	var (
		chunks [][]Line
		cur    []Line
		n      int
	)
	err := eachLine(name, r, func(text string, pos Pos) error {
		l, err := ParseFlowLine(text, ctx)
		if err == nil {
			if len(cur) == cap(cur) {
				if len(cur) > 0 {
					chunks = append(chunks, cur)
				}
				cur = make([]Line, 0, min(max(64, 2*cap(cur)), 8192))
			}
			l.Pos, l.Text = pos, strings.TrimSpace(text)
			for k, w := range l.Warnings() {
				w.Pos.File, w.Pos.Line = pos.File, pos.Line
				l.notes.warnings[k] = w
			}
			cur = append(cur, l)
			n++
		}
		return err
	})
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]Line, 0, n)
	for _, c := range append(chunks, cur) {
		out = append(out, c...)
	}
	return out, nil
}

// AppendFlow writes fm as one line of `ovs-ofctl -O OpenFlow13 --no-stats
// dump-flows` (OVS ofputil_flow_stats_format), leading space included,
// without a newline. A command other than add is written first, so that
// ParseFlow reads the line back as the same flow_mod.
func AppendFlow(b []byte, fm *openflow.FlowMod) []byte {
	b = append(b, ' ')
	del := fm.Command == openflow.FlowDelete || fm.Command == openflow.FlowDeleteStrict
	if fm.Command != openflow.FlowAdd && int(fm.Command) < len(flowCommands) {
		b = append(b, flowCommands[fm.Command]...)
		b = append(b, ' ')
	}
	switch {
	case fm.CookieMask != 0:
		b = fmt.Appendf(b, "cookie=%#x/%#x, ", fm.Cookie, fm.CookieMask)
	case fm.Cookie != 0:
		b = fmt.Appendf(b, "cookie=%#x, ", fm.Cookie)
	}
	if del && fm.TableID != openflow.TableAll || !del && fm.TableID != 0 {
		b = fmt.Appendf(b, "table=%d, ", fm.TableID)
	}
	if del && fm.OutPort != openflow.PortAny {
		b = append(b, "out_port="...)
		b = append(appendPort(b, fm.OutPort), ", "...)
	}
	if del && fm.OutGroup != openflow.GroupAny {
		b = append(appendGroupID(append(b, "out_group="...), fm.OutGroup), ", "...)
	}
	b = appendFlowBody(b, fm.IdleTimeout, fm.HardTimeout, fm.Flags, fm.Importance, fm.Priority, &fm.Match)
	if del { // no actions: drop the separator before them
		return bytes.TrimRight(b, ", ")
	}
	return appendInstructions(b, fm.Instructions)
}

// AppendFlowStats writes one flow of a flow stats reply as `ovs-ofctl
// --no-stats dump-flows` prints it: as AppendFlow, without the counters.
func AppendFlowStats(b []byte, fs *openflow.FlowStats) []byte {
	b = append(b, ' ')
	if fs.Cookie != 0 {
		b = fmt.Appendf(b, "cookie=%#x, ", fs.Cookie)
	}
	if fs.TableID != 0 {
		b = fmt.Appendf(b, "table=%d, ", fs.TableID)
	}
	b = appendFlowBody(b, fs.IdleTimeout, fs.HardTimeout, fs.Flags, fs.Importance, fs.Priority, &fs.Match)
	return appendInstructions(b, fs.Instructions)
}

// appendFlowBody writes what follows table= in ofputil_flow_stats_format:
// timeouts, flags (space separated), importance, then priority and match
// joined by commas and followed by a space, unless both are empty.
func appendFlowBody(b []byte, idle, hard, flags, importance, priority uint16, m *oxm.Match) []byte {
	if idle != 0 {
		b = fmt.Appendf(b, "idle_timeout=%d, ", idle)
	}
	if hard != 0 {
		b = fmt.Appendf(b, "hard_timeout=%d, ", hard)
	}
	for _, f := range flowFlags {
		if flags&f.bit != 0 {
			b = append(b, f.name...)
			b = append(b, ' ')
		}
	}
	if importance != 0 {
		b = fmt.Appendf(b, "importance=%d, ", importance)
	}
	start := len(b)
	if priority != DefaultPriority {
		b = fmt.Appendf(b, "priority=%d,", priority)
	}
	b = AppendMatch(b, m)
	if len(b) > start && b[len(b)-1] == ',' {
		b = b[:len(b)-1]
	}
	if len(b) > start {
		b = append(b, ' ')
	}
	return b
}

// appendInstructions writes "actions=" and the instructions; an
// instruction that cannot be printed leaves a mark that does not parse.
func appendInstructions(b []byte, is action.Instructions) []byte {
	b = append(b, "actions="...)
	if len(is) == 0 {
		return append(b, "drop"...)
	}
	out, err := is.AppendText(b)
	if err != nil {
		return fmt.Appendf(b, "<%v>", err)
	}
	return out
}
