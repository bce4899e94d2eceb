package ofctl

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
)

// GroupLine is one group of a groups file: the group_mod, where its line
// starts and its text without the comment.
type GroupLine struct {
	Mod  *openflow.GroupMod
	Pos  Pos
	Text string
}

// groupCommands are the words a line of `ovs-ofctl add-groups` may start
// with (parse_ofp_group_mod_str with command -2); none means add.
var groupCommands = map[string]uint16{
	"add":    openflow.GroupAdd,
	"modify": openflow.GroupModify,
	"delete": openflow.GroupDelete,
}

// groupTypes are the names of the group types, as dump-groups prints them;
// parsing also takes "fast_failover".
var groupTypes = []string{
	openflow.GroupTypeAll:          "all",
	openflow.GroupTypeSelect:       "select",
	openflow.GroupTypeIndirect:     "indirect",
	openflow.GroupTypeFastFailover: "ff",
}

// ParseGroup parses one group as `ovs-ofctl add-groups` accepts it and as
// `ovs-ofctl -O OpenFlow13 dump-groups` prints it:
// group_id=ID,type=TYPE[,bucket=[weight:W,][watch_port:P,][watch_group:G,]actions=...]...
// A bucket's actions may also be written without "actions=", as in OVS's
// older "bucket=output:1". A line may start with add, modify or delete.
// Errors are *ParseError, their column counted in s.
func ParseGroup(s string, ctx *Context) (*openflow.GroupMod, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	gm := &openflow.GroupMod{Header: openflow.Header{Version: ctx.version()}, GroupID: openflow.GroupAny}
	pos := 0
	if t, ok := nextToken(s, 0); ok && t.delim == 0 {
		if c, ok := groupCommands[t.key]; ok {
			gm.Command, pos = c, t.end
		}
	}
	if _, ok := nextToken(s, pos); !ok && gm.Command == openflow.GroupDelete {
		gm.GroupID = openflow.GroupAll // "delete" alone: every group
		return gm, nil
	}
	hadType := false
	var buckets []*bucketParse
	for {
		t, ok := nextToken(s, pos)
		if !ok {
			break
		}
		pos = t.end
		if t.key == "bucket" && t.delim == '=' {
			if gm.Command == openflow.GroupDelete {
				return nil, errToken(s, t, "a delete takes no buckets")
			}
			b := &bucketParse{off: t.off}
			b.Weight, b.WatchPort, b.WatchGroup = 0, openflow.PortAny, openflow.GroupAny
			if gm.Type == openflow.GroupTypeSelect {
				b.Weight = 1
			}
			buckets = append(buckets, b)
			if in, ok := nextToken(s[:t.end], t.voff); ok {
				if err := b.token(s, in); err != nil {
					return nil, err
				}
			}
			continue
		}
		if len(buckets) > 0 {
			if err := buckets[len(buckets)-1].token(s, t); err != nil {
				return nil, err
			}
			continue
		}
		if err := groupField(gm, s, t, &hadType); err != nil {
			return nil, err
		}
	}
	if gm.GroupID == openflow.GroupAny {
		return nil, errAt(len(strings.TrimRight(s, separators)), "", "missing group_id=ID")
	}
	if !hadType && gm.Command != openflow.GroupDelete {
		return nil, errAt(len(strings.TrimRight(s, separators)), "", "missing type= (expected all, select, indirect or ff)")
	}
	for _, b := range buckets {
		if err := b.finish(gm, s, ctx); err != nil {
			return nil, err
		}
	}
	if gm.Type == openflow.GroupTypeIndirect && len(buckets) > 1 {
		return nil, errAt(buckets[1].off, "bucket", "an indirect group has at most one bucket")
	}
	return gm, nil
}

// groupField sets what a token before the first bucket says.
func groupField(gm *openflow.GroupMod, s string, t token, hadType *bool) error {
	switch t.key {
	case "group_id":
		if t.val == "all" {
			gm.GroupID = openflow.GroupAll
			return nil
		}
		v, err := numValue(s, t, 32)
		if err == nil && v > 0xffffff00 {
			err = errToken(s, t, "group_id must be at most 4294967040 (OFPG_MAX)")
		}
		gm.GroupID = uint32(v)
		return err
	case "type":
		if gm.Command == openflow.GroupDelete {
			return errToken(s, t, "a delete takes no type")
		}
		for i, name := range groupTypes {
			if t.val == name {
				gm.Type, *hadType = uint8(i), true
				return nil
			}
		}
		if t.val == "fast_failover" {
			gm.Type, *hadType = openflow.GroupTypeFastFailover, true
			return nil
		}
		return errToken(s, t, "unknown group type (expected all, select, indirect, ff or fast_failover)")
	}
	return errToken(s, t, "unknown keyword %q (expected group_id=, type= or bucket=)", t.key)
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
func (b *bucketParse) token(s string, t token) error {
	switch strings.ToLower(t.key) {
	case "weight":
		v, err := numValue(s, t, 16)
		b.Weight, b.hadWeight = uint16(v), true
		return err
	case "watch_port":
		p, err := portValue(s, t)
		if err == nil && p >= openflow.PortMax && p != openflow.PortAny {
			err = errToken(s, t, "watch_port must be a port number or ANY")
		}
		b.WatchPort = p
		return err
	case "watch_group":
		v, err := numValue(s, t, 32)
		if err == nil && v > 0xffffff00 && v != uint64(openflow.GroupAny) {
			err = errToken(s, t, "watch_group must be at most 4294967040 (OFPG_MAX)")
		}
		b.WatchGroup = uint32(v)
		return err
	case "bucket_id":
		return errToken(s, t, "bucket_id is OpenFlow 1.5's; not supported")
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
	if gm.Type != openflow.GroupTypeSelect && b.hadWeight && b.Weight != 0 {
		return errAt(b.off, "bucket", "only select groups can have bucket weights")
	}
	l, err := action.ParseList(ctx.actions(0), b.actions.String())
	if err != nil {
		return relocate(err, &b.actions)
	}
	b.Actions = l
	gm.Buckets = append(gm.Buckets, b.Bucket)
	return nil
}

// ParseGroups parses a groups file as `ovs-ofctl add-groups` reads it. It
// reports every bad line (up to a limit), each as file:line:column, and
// then returns no groups.
func ParseGroups(name string, r io.Reader, ctx *Context) ([]GroupLine, error) {
	var out []GroupLine
	err := eachLine(name, r, func(text string, pos Pos) error {
		gm, err := ParseGroup(text, ctx)
		if err == nil {
			out = append(out, GroupLine{Mod: gm, Pos: pos, Text: strings.TrimSpace(text)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendGroup writes gm as `ovs-ofctl -O OpenFlow13 dump-groups` prints a
// group (OVS ofputil_group_format), without leading space or newline. A
// command other than add is written first, so that ParseGroup reads the
// line back as the same group_mod.
func AppendGroup(b []byte, gm *openflow.GroupMod) []byte {
	switch gm.Command {
	case openflow.GroupAdd:
	case openflow.GroupModify:
		b = append(b, "modify "...)
	case openflow.GroupDelete:
		b = append(b, "delete group_id="...)
		return appendGroupID(b, gm.GroupID)
	default:
		b = fmt.Appendf(b, "command=%d ", gm.Command) // does not parse
	}
	return appendGroup(b, gm.GroupID, gm.Type, gm.Buckets)
}

// AppendGroupDesc writes one group of a group description reply as
// `ovs-ofctl -O OpenFlow13 dump-groups` prints it.
func AppendGroupDesc(b []byte, gd *openflow.GroupDesc) []byte {
	return appendGroup(b, gd.GroupID, gd.Type, gd.Buckets)
}

func appendGroup(b []byte, id uint32, typ uint8, buckets []openflow.Bucket) []byte {
	b = appendGroupID(append(b, "group_id="...), id)
	if int(typ) < len(groupTypes) {
		b = append(append(b, ",type="...), groupTypes[typ]...)
	} else {
		b = fmt.Appendf(b, ",type=%d", typ) // does not parse
	}
	for i := range buckets {
		bk := &buckets[i]
		b = append(b, ",bucket="...)
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

// portValue reads a port: a number, a reserved port's name in any case
// (NONE is ANY), or a reserved port in OpenFlow 1.0's 16-bit numbering.
func portValue(s string, t token) (uint32, error) {
	for p, name := range portNames {
		if strings.EqualFold(t.val, name) {
			return p, nil
		}
	}
	if strings.EqualFold(t.val, "NONE") {
		return openflow.PortAny, nil
	}
	v, ok := parseNum(t.val, 32)
	switch {
	case !ok:
		return 0, errToken(s, t, "%s: expected a port number or a name such as LOCAL, CONTROLLER or ANY", t.key)
	case v >= 0xff00 && v <= 0xffff:
		return 0xffff0000 | uint32(v), nil
	case v >= uint64(openflow.PortMax) && v < uint64(openflow.PortInPort):
		return 0, errToken(s, t, "%s: %d is not a valid port", t.key, v)
	}
	return uint32(v), nil
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
