package ofctl

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// GroupLine is one group of a groups file: the group_mod, where its line
// starts, its text without the comment, and the port names it used (as
// Line.PortNames).
type GroupLine struct {
	Mod       *openflow.GroupMod
	Pos       Pos
	Text      string
	PortNames []string
}

// groupCommands are the words a line of `ovs-ofctl add-groups` may start
// with (parse_ofp_group_mod_str with command -2), in the order OVS tries
// them; none means add. OVS takes any prefix of a word ("mod" is modify).
var groupCommands = []struct {
	name string
	cmd  uint16
}{
	{"add", openflow.GroupAdd},
	{"delete", openflow.GroupDelete},
	{"modify", openflow.GroupModify},
	{"add_or_mod", groupAddOrMod},
	{"insert_bucket", openflow.GroupInsertBucket},
	{"remove_bucket", openflow.GroupRemoveBucket},
}

// OVS's group_mod command that adds a group or modifies the one there
// (OFPGC11_ADD_OR_MOD, in every version), and OpenFlow 1.5's special
// bucket ids (enum ofp15_group_bucket).
const (
	groupAddOrMod uint16 = 0x8000
	bucketMax     uint32 = 0xffffff00
	bucketFirst   uint32 = 0xfffffffd
	bucketLast    uint32 = 0xfffffffe
	bucketAll     uint32 = 0xffffffff
)

// groupTypes are the names of the group types, as dump-groups prints them;
// parsing also takes "fast_failover".
var groupTypes = []string{
	openflow.GroupTypeAll:          "all",
	openflow.GroupTypeSelect:       "select",
	openflow.GroupTypeIndirect:     "indirect",
	openflow.GroupTypeFastFailover: "ff",
}

// ParseGroup parses one group as `ovs-ofctl add-groups` accepts it and as
// `ovs-ofctl dump-groups` prints it (parse_ofp_group_mod_str):
//
//	group_id=ID,type=TYPE[,selection_method=M[,selection_method_param=P]
//	[,fields(F[=MASK],...)]][,bucket=[bucket_id:B,][weight:W,][watch_port:P,]
//	[watch_group:G,]actions=...]...
//
// A bucket's actions may also be written without "actions=", as in OVS's
// older "bucket=output:1". A line may start with add, modify, add_or_mod,
// delete, insert_bucket or remove_bucket (the last two, with
// command_bucket_id=first|last|all|ID, need OpenFlow 1.5). Before OpenFlow
// 1.5, bucket ids and the selection method are parsed (into Bucket.BucketID
// and GroupMod.Selection) but not on the wire, as ovs-ofctl drops them.
// Errors are *ParseError, their column counted in s.
func ParseGroup(s string, ctx *Context) (*openflow.GroupMod, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	gm := &openflow.GroupMod{Header: openflow.Header{Version: ctx.version()}, GroupID: openflow.GroupAny}
	pos := 0
	for pos < len(s) && asciiSpace[s[pos]] {
		pos++
	}
	word := pos
	for word < len(s) && !sepSet[s[word]] {
		word++
	}
	cmdFields := fGroupType | fBuckets
	cmdAt := pos
	for _, c := range groupCommands {
		if word > pos && strings.HasPrefix(c.name, s[pos:word]) {
			gm.Command, pos = c.cmd, word
			break
		}
	}
	switch gm.Command {
	case openflow.GroupDelete:
		cmdFields = 0
	case openflow.GroupInsertBucket:
		cmdFields = fBuckets | fCommandBucketID
	case openflow.GroupRemoveBucket:
		cmdFields = fCommandBucketID | fCommandBucketIDAll
	}
	if (gm.Command == openflow.GroupInsertBucket || gm.Command == openflow.GroupRemoveBucket) &&
		ctx.version() < openflow.Version15 {
		return nil, errAt(cmdAt, s[cmdAt:word], "%s needs OpenFlow 1.5 (ovs-ofctl cannot send it in an earlier version)",
			groupCommandName(gm.Command))
	}
	if gm.Command == openflow.GroupRemoveBucket {
		gm.CommandBucketID = bucketAll
	}
	if _, ok := nextToken(s, pos); !ok && gm.Command == openflow.GroupDelete {
		gm.GroupID = openflow.GroupAll // "delete" alone: every group
		return gm, nil
	}
	// The buckets start at the first "bucket=" (strstr), and each runs to
	// the next; they are parsed last, as the type sets their defaults.
	end := len(s)
	if i := strings.Index(s[pos:], "bucket="); i >= 0 {
		if cmdFields&fBuckets == 0 {
			return nil, errAt(pos+i, "bucket", "bucket is not needed for a %s", groupCommandName(gm.Command))
		}
		end = pos + i
	}
	g := groupParse{gm: gm, ctx: ctx, fields: cmdFields}
	for {
		t, ok := nextToken(s[:end], pos)
		if !ok {
			break
		}
		pos = t.end
		if err := g.field(s, t); err != nil {
			return nil, err
		}
	}
	if err := g.finishHead(s, end); err != nil {
		return nil, err
	}
	second := -1 // where the second bucket starts
	for start := end; start < len(s); {
		if len(gm.Buckets) == 1 && second < 0 {
			second = start
		}
		next := strings.Index(s[start+len("bucket="):], "bucket=")
		stop := len(s)
		if next >= 0 {
			stop = start + len("bucket=") + next
		}
		b := &bucketParse{off: start}
		b.Weight, b.WatchPort, b.WatchGroup, b.BucketID = 0, openflow.PortAny, openflow.GroupAny, bucketAll
		if gm.Type == openflow.GroupTypeSelect {
			b.Weight = 1
		}
		for p := start + len("bucket="); ; {
			t, ok := nextToken(s[:stop], p)
			if !ok {
				break
			}
			p = t.end
			if err := b.token(s, t, ctx); err != nil {
				return nil, err
			}
		}
		if err := b.finish(gm, s, ctx); err != nil {
			return nil, err
		}
		start = stop
	}
	if gm.Type == openflow.GroupTypeIndirect && len(gm.Buckets) > 1 {
		return nil, errAt(second, "bucket", "indirect groups can have at most one bucket")
	}
	return gm, nil
}

// ParseGroupLine is ParseGroup that also returns the port names the group
// used. Pos and Text are left to the caller.
func ParseGroupLine(s string, ctx *Context) (GroupLine, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	pctx, rec := recording(ctx)
	gm, err := ParseGroup(s, pctx)
	if err != nil {
		return GroupLine{}, err
	}
	l := GroupLine{Mod: gm}
	if rec != nil {
		l.PortNames = rec.names
	}
	return l, nil
}

// What a group command takes (parse_ofp_group_mod_str__'s F_* sets).
const (
	fGroupType = 1 << iota
	fBuckets
	fCommandBucketID
	fCommandBucketIDAll
)

func groupCommandName(c uint16) string {
	for _, gc := range groupCommands {
		if gc.cmd == c {
			return gc.name
		}
	}
	return fmt.Sprintf("command %d", c)
}

// groupParse is a group being read, before its buckets.
type groupParse struct {
	gm                    *openflow.GroupMod
	ctx                   *Context
	fields                int
	hadType, hadCommandID bool
	selection             openflow.GroupSelection
	hadMethod, hadFields  bool
}

// field sets what a token before the first bucket says.
func (g *groupParse) field(s string, t token) error {
	gm := g.gm
	switch t.key {
	case "command_bucket_id":
		if g.fields&fCommandBucketID == 0 {
			return errToken(s, t, "command bucket id is not needed for a %s", groupCommandName(gm.Command))
		}
		switch t.val {
		case "all":
			gm.CommandBucketID = bucketAll
		case "first":
			gm.CommandBucketID = bucketFirst
		case "last":
			gm.CommandBucketID = bucketLast
		default:
			v, err := numValue(s, t, 32)
			if err != nil {
				return err
			}
			if v > uint64(bucketMax) && v != uint64(bucketFirst) && v != uint64(bucketLast) && v != uint64(bucketAll) {
				return errToken(s, t, "invalid command bucket id %d", v)
			}
			gm.CommandBucketID = uint32(v)
		}
		if gm.CommandBucketID == bucketAll && g.fields&fCommandBucketIDAll == 0 {
			return errToken(s, t, "command_bucket_id=all is not permitted")
		}
		g.hadCommandID = true
		return nil
	case "group_id":
		if t.val == "all" {
			gm.GroupID = openflow.GroupAll
			return nil
		}
		v, err := numValue(s, t, 32)
		if err == nil && v > 0xffffff00 {
			err = errToken(s, t, "invalid group id %d (at most 4294967040, OFPG_MAX)", v)
		}
		gm.GroupID = uint32(v)
		return err
	case "type":
		if g.fields&fGroupType == 0 {
			return errToken(s, t, "type is not needed for a %s", groupCommandName(gm.Command))
		}
		for i, name := range groupTypes {
			if t.val == name {
				gm.Type, g.hadType = uint8(i), true
				return nil
			}
		}
		if t.val == "fast_failover" {
			gm.Type, g.hadType = openflow.GroupTypeFastFailover, true
			return nil
		}
		return errToken(s, t, "invalid group type %s (expected all, select, indirect, ff or fast_failover)", t.val)
	case "selection_method":
		if g.fields&fGroupType == 0 {
			return errToken(s, t, "selection method is not needed for a %s", groupCommandName(gm.Command))
		}
		if len(t.val) >= 16 {
			return errToken(s, t, "selection method is longer than 15 bytes long")
		}
		g.selection.Method, g.hadMethod = t.val, true
		return nil
	case "selection_method_param":
		if g.fields&fGroupType == 0 {
			return errToken(s, t, "selection method param is not needed for a %s", groupCommandName(gm.Command))
		}
		v, err := numValue(s, t, 64)
		g.selection.Param = v
		return err
	case "fields":
		if g.fields&fGroupType == 0 {
			return errToken(s, t, "fields are not needed for a %s", groupCommandName(gm.Command))
		}
		fs, err := parseSelectionFields(t.val, &g.ctx.OXM, g.ctx.version())
		if err != nil {
			return errAt(t.voff, t.val, "%v", err)
		}
		g.selection.Fields, g.hadFields = fs, true
		return nil
	}
	return errToken(s, t, "unknown keyword %s (expected group_id=, type=, selection_method=, fields(...) or bucket=)", t.key)
}

// finishHead checks what the tokens before the buckets said.
func (g *groupParse) finishHead(s string, end int) error {
	gm := g.gm
	at := len(strings.TrimRight(s[:end], separators))
	switch {
	case gm.GroupID == openflow.GroupAny:
		return errAt(at, "", "must specify a group_id")
	case g.fields&fGroupType != 0 && !g.hadType:
		return errAt(at, "", "must specify a type (expected all, select, indirect or ff)")
	case g.hadFields && g.selection.Method != "hash":
		return errAt(at, "", "fields may only be specified with \"selection_method=hash\"")
	case !g.hadMethod && g.selection.Param != 0:
		return errAt(at, "", "selection_method_param is only allowed with \"selection_method\"")
	case g.fields&fCommandBucketID != 0 && g.fields&fCommandBucketIDAll == 0 && !g.hadCommandID:
		return errAt(at, "", "must specify a command bucket id")
	}
	if g.hadMethod {
		sel := g.selection
		gm.Selection = &sel
	}
	return nil
}

// parseSelectionFields reads a select group's hashed fields
// (parse_select_group_field): NAME or NAME=MASK, each field once; a mask
// is in the field's syntax, not all zeros, and one the field can take. Each
// is an OXM TLV for version whose value is the mask (all ones without
// one), in the order of OVS's field ids, as OVS writes them.
func parseSelectionFields(s string, ctx *oxm.Context, version uint8) ([]oxm.Field, error) {
	var out []oxm.Field
	var infos []*oxm.Info
	for pos := 0; ; {
		t, ok := nextToken(s, pos)
		if !ok {
			break
		}
		pos = t.end
		i := ctx.ByFieldName(t.key)
		if i == nil {
			return nil, fmt.Errorf("%s: unknown field %s", s, t.key)
		}
		if slices.Contains(infos, i) {
			return nil, fmt.Errorf("%s: duplicate field", t.key)
		}
		var v []byte
		if t.val != "" {
			val, m, err := i.ParseValueCtx(t.val, ctx)
			if err != nil {
				return nil, err
			}
			if m != nil {
				return nil, fmt.Errorf("%s: a mask's value cannot itself be masked", t.val)
			}
			if !i.VarLen && allZeroBytes(val) {
				return nil, fmt.Errorf("%s: values are wildcards here and must not be all-zeros", s)
			}
			if !i.Maskable && !allOnesBytes(val) {
				return nil, fmt.Errorf("%s: invalid mask for field %s", t.val, i.Name)
			}
			v = val
		} else {
			v = make([]byte, i.Bytes)
			for k := range v {
				v[k] = 0xff
			}
		}
		h, exp := i.HeaderFor(version)
		n := len(v)
		if h.Class() == 0xffff {
			n += 4
		}
		infos = append(infos, i)
		out = append(out, oxm.Field{Header: h&^0xff | oxm.Header(n), Experimenter: exp, Value: v})
	}
	// BITMAP_FOR_EACH_1 over the field ids.
	idx := make([]int, len(out))
	for k := range idx {
		idx[k] = k
	}
	slices.SortStableFunc(idx, func(a, b int) int { return infos[a].ID() - infos[b].ID() })
	sorted := make([]oxm.Field, len(out))
	for k, j := range idx {
		sorted[k] = out[j]
	}
	return sorted, nil
}

func allZeroBytes(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func allOnesBytes(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// bucketParse is a bucket being read: its fields, and its actions as the
// pieces of the line that make them up.
type bucketParse struct {
	openflow.Bucket
	off       int // of "bucket="
	hadWeight bool
	actions   pieces
}

// token takes one token of the bucket (parse_bucket_str): a bucket field,
// actions=ACTIONS, or, as OVS allows, an action standing on its own.
func (b *bucketParse) token(s string, t token, ctx *Context) error {
	switch strings.ToLower(t.key) {
	case "weight":
		v, err := numValue(s, t, 16)
		b.Weight, b.hadWeight = uint16(v), true
		return err
	case "watch_port":
		p, err := ctx.OXM.ParsePort(t.val)
		if err != nil || p >= 0xff00 && p != 0xffff && p != 0xfffd {
			return errToken(s, t, "%s: invalid watch_port (expected a port, ANY or CONTROLLER)", t.val)
		}
		b.WatchPort = oxm.Port16To32(p)
		return nil
	case "watch_group":
		v, err := numValue(s, t, 32)
		if err == nil && v > 0xffffff00 {
			err = errToken(s, t, "invalid watch_group id %d (at most 4294967040, OFPG_MAX)", v)
		}
		b.WatchGroup = uint32(v)
		return err
	case "bucket_id":
		v, err := numValue(s, t, 32)
		if err == nil && v > uint64(bucketMax) {
			err = errToken(s, t, "invalid bucket_id id %d", v)
		}
		b.BucketID = uint32(v)
		return err
	case "actions", "action":
		if t.delim == '=' || t.delim == ':' {
			b.actions.add(t.val, t.voff)
			return nil
		}
	}
	b.actions.add(t.text(s), t.off)
	return nil
}

// finish parses the bucket's actions and checks it against its group.
func (b *bucketParse) finish(gm *openflow.GroupMod, s string, ctx *Context) error {
	if len(b.actions.spans) == 0 {
		return errAt(b.off, "bucket", "bucket must specify actions (e.g. actions=drop)")
	}
	if gm.Type == openflow.GroupTypeFastFailover && b.WatchPort == openflow.PortAny && b.WatchGroup == openflow.GroupAny {
		return errAt(b.off, "bucket", "fast failover bucket requires watch_port or watch_group")
	}
	l, err := action.ParseList(ctx.actions(0), b.actions.String())
	if err != nil {
		return relocate(err, &b.actions)
	}
	b.Actions = l
	if gm.Command != openflow.GroupInsertBucket && gm.Type != openflow.GroupTypeSelect && b.Weight != 0 {
		return errAt(b.off, "bucket", "only select groups can have bucket weights")
	}
	gm.Buckets = append(gm.Buckets, b.Bucket)
	return nil
}

// ParseGroups parses a groups file as `ovs-ofctl add-groups` reads it. It
// reports every bad line (up to a limit), each as file:line:column, and
// then returns no groups.
func ParseGroups(name string, r io.Reader, ctx *Context) ([]GroupLine, error) {
	var out []GroupLine
	err := eachLine(name, r, func(text string, pos Pos) error {
		l, err := ParseGroupLine(text, ctx)
		if err == nil {
			l.Pos, l.Text = pos, strings.TrimSpace(text)
			out = append(out, l)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendGroup writes gm as `ovs-ofctl dump-groups` prints a group in
// gm's version (OVS ofp_print_group), without leading space or newline:
// in OpenFlow 1.5 with its selection method and bucket ids. A command
// other than add is written first, so that ParseGroup reads the line back
// as the same group_mod.
func AppendGroup(b []byte, gm *openflow.GroupMod) []byte {
	v15 := gm.Version >= openflow.Version15
	bucketCmd := false
	switch gm.Command {
	case openflow.GroupAdd:
	case openflow.GroupModify:
		b = append(b, "modify "...)
	case groupAddOrMod:
		b = append(b, "add_or_mod "...)
	case openflow.GroupDelete:
		b = append(b, "delete group_id="...)
		return appendGroupID(b, gm.GroupID)
	case openflow.GroupInsertBucket, openflow.GroupRemoveBucket:
		b = append(b, groupCommandName(gm.Command)...)
		b = append(b, ' ')
		bucketCmd = true
		if v15 {
			b = append(appendBucketID(append(b, "command_bucket_id:"...), gm.CommandBucketID), ',')
		}
	default:
		b = fmt.Appendf(b, "command=%d ", gm.Command) // does not parse
	}
	var sel *openflow.GroupSelection
	if v15 {
		sel = gm.Selection
	}
	return appendGroup(b, gm.GroupID, gm.Type, !bucketCmd, sel, gm.Buckets, v15)
}

// AppendGroupDesc writes one group of a group description reply as
// `ovs-ofctl -O OpenFlow13 dump-groups` prints it.
func AppendGroupDesc(b []byte, gd *openflow.GroupDesc) []byte {
	return appendGroup(b, gd.GroupID, gd.Type, true, nil, gd.Buckets, false)
}

// AppendGroupDescVersion is AppendGroupDesc for a reply of protocol
// version: in OpenFlow 1.5 with the selection method and bucket ids, as
// `ovs-ofctl -O OpenFlow15 dump-groups` prints them.
func AppendGroupDescVersion(b []byte, gd *openflow.GroupDesc, version uint8) []byte {
	v15 := version >= openflow.Version15
	var sel *openflow.GroupSelection
	if v15 {
		sel = gd.Selection
	}
	return appendGroup(b, gd.GroupID, gd.Type, true, sel, gd.Buckets, v15)
}

// appendBucketID writes a bucket id as ofp_print_bucket_id does.
func appendBucketID(b []byte, id uint32) []byte {
	switch id {
	case bucketFirst:
		return append(b, "first"...)
	case bucketLast:
		return append(b, "last"...)
	case bucketAll:
		return append(b, "all"...)
	}
	return strconv.AppendUint(b, uint64(id), 10)
}

// appendGroup is ofp_print_group: withType false for a bucket command,
// which OVS prints without the group's type; v15 prints bucket ids.
func appendGroup(b []byte, id uint32, typ uint8, withType bool, sel *openflow.GroupSelection, buckets []openflow.Bucket, v15 bool) []byte {
	b = appendGroupID(append(b, "group_id="...), id)
	switch {
	case !withType:
	case int(typ) < len(groupTypes):
		b = append(append(b, ",type="...), groupTypes[typ]...)
	default:
		b = fmt.Appendf(b, ",type=%d", typ) // does not parse
	}
	if sel != nil && sel.Method != "" {
		b = append(append(b, ",selection_method="...), sel.Method...)
		if sel.Param != 0 {
			b = strconv.AppendUint(append(b, ",selection_method_param="...), sel.Param, 10)
		}
		switch len(sel.Fields) {
		case 0:
		case 1:
			b = appendHashFields(append(b, ",fields="...), sel.Fields)
		default:
			b = append(appendHashFields(append(b, ",fields("...), sel.Fields), ')')
		}
	}
	for i := range buckets {
		bk := &buckets[i]
		b = append(b, ",bucket="...)
		if v15 {
			b = append(appendBucketID(append(b, "bucket_id:"...), bk.BucketID), ',')
		}
		if typ == openflow.GroupTypeSelect && bk.Weight != 1 || typ != openflow.GroupTypeSelect && bk.Weight != 0 {
			b = fmt.Appendf(b, "weight:%d,", bk.Weight)
		}
		if bk.WatchPort != openflow.PortAny {
			b = append(appendPort(append(b, "watch_port:"...), bk.WatchPort), ',')
		}
		if bk.WatchGroup != openflow.GroupAny {
			b = fmt.Appendf(b, "watch_group:%d,", bk.WatchGroup)
		}
		b = append(b, "actions="...)
		if len(bk.Actions) == 0 {
			b = append(b, "drop"...)
		} else if out, err := bk.Actions.AppendText(b); err != nil {
			b = fmt.Appendf(b, "<%v>", err)
		} else {
			b = out
		}
	}
	return b
}

// appendHashFields writes a selection method's fields as
// oxm_format_field_array: each by name, with its mask unless all ones.
func appendHashFields(b []byte, fs []oxm.Field) []byte {
	for k := range fs {
		f := &fs[k]
		info := oxm.ByField(f)
		if k > 0 {
			b = append(b, ',')
		}
		if info == nil {
			b = fmt.Appendf(b, "0x%08x", uint32(f.Header))
			continue
		}
		b = append(b, info.Name...)
		// The field's value is the mask (OVS writes the TLV without the
		// mask bit).
		if m := f.Value; !allFF(m) {
			b = info.AppendValue(append(b, '='), m, nil)
		}
	}
	return b
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// portNames are the reserved ports as ovs-ofctl names them
// (OFPUTIL_NAMED_PORTS), in their OpenFlow 1.1+ 32-bit numbers.
var portNames = map[uint32]string{
	openflow.PortInPort:     "IN_PORT",
	openflow.PortTable:      "TABLE",
	openflow.PortNormal:     "NORMAL",
	openflow.PortFlood:      "FLOOD",
	openflow.PortAll:        "ALL",
	openflow.PortController: "CONTROLLER",
	openflow.PortLocal:      "LOCAL",
	openflow.PortAny:        "ANY",
}

// appendPort writes a port as ofputil_format_port does: a reserved port by
// name, any other by number.
func appendPort(b []byte, p uint32) []byte {
	if name, ok := portNames[p]; ok {
		return append(b, name...)
	}
	return strconv.AppendUint(b, uint64(p), 10)
}

// groupValue reads a group number, or all or any.
func groupValue(s string, t token) (uint32, error) {
	switch strings.ToLower(t.val) {
	case "all":
		return openflow.GroupAll, nil
	case "any":
		return openflow.GroupAny, nil
	}
	v, ok := parseNum(t.val, 32)
	if !ok || v > 0xffffff00 {
		return 0, errToken(s, t, "%s: expected a group number up to 4294967040, all or any", t.key)
	}
	return uint32(v), nil
}

// appendGroupID writes a group number; the reserved ones by name, as
// groupValue reads them.
func appendGroupID(b []byte, id uint32) []byte {
	switch id {
	case openflow.GroupAll:
		return append(b, "all"...)
	case openflow.GroupAny:
		return append(b, "any"...)
	}
	return strconv.AppendUint(b, uint64(id), 10)
}
