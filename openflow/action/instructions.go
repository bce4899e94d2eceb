package action

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Instruction types (OpenFlow 1.3.5 §7.2.4, enum ofp_instruction_type).
const (
	instGotoTable     = 1
	instWriteMetadata = 2
	instWriteActions  = 3
	instApplyActions  = 4
	instClearActions  = 5
	instMeter         = 6
)

// ApplyActions is OFPIT_APPLY_ACTIONS (struct ofp_instruction_actions:
// type=4 | len | pad 4 | actions).
type ApplyActions struct{ Actions List }

// WriteActions is OFPIT_WRITE_ACTIONS (type=3, same layout).
type WriteActions struct {
	Actions List
	offs    []int // parsing only: where each action came from
}

// ClearActions is OFPIT_CLEAR_ACTIONS (type=5 | len=8 | pad 4).
type ClearActions struct{}

// WriteMetadata is OFPIT_WRITE_METADATA (struct
// ofp_instruction_write_metadata: type=2 | len=24 | pad 4 | metadata u64 |
// metadata_mask u64).
type WriteMetadata struct{ Metadata, Mask uint64 }

// GotoTable is OFPIT_GOTO_TABLE (struct ofp_instruction_goto_table: type=1
// | len=8 | table_id u8 | pad 3).
type GotoTable struct{ Table uint8 }

// Meter is OFPIT_METER (struct ofp_instruction_meter: type=6 | len=8 |
// meter_id u32).
type Meter struct{ ID uint32 }

// RawInstruction is an instruction this package does not decode, kept
// byte for byte.
type RawInstruction struct{ Data []byte }

func appendInstActions(b []byte, t uint16, l List) ([]byte, error) {
	start := len(b)
	b = append(be.AppendUint16(b, t), 0, 0, 0, 0, 0, 0)
	b, err := l.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	if len(b)-start > 0xffff {
		return nil, fmt.Errorf("instruction longer than 65535 bytes")
	}
	be.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

func (i *ApplyActions) AppendBinary(b []byte) ([]byte, error) {
	return appendInstActions(b, instApplyActions, i.Actions)
}

// AppendText writes the actions inline, as a flow's actions= does.
func (i *ApplyActions) AppendText(b []byte) ([]byte, error) { return i.Actions.AppendText(b) }

func (i *WriteActions) AppendBinary(b []byte) ([]byte, error) {
	return appendInstActions(b, instWriteActions, i.Actions)
}

func (i *WriteActions) AppendText(b []byte) ([]byte, error) {
	b, err := i.Actions.AppendText(append(b, "write_actions("...))
	return append(b, ')'), err
}

func (i *ClearActions) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 0, instClearActions, 0, 8, 0, 0, 0, 0), nil
}

func (i *ClearActions) AppendText(b []byte) ([]byte, error) {
	return append(b, "clear_actions"...), nil
}

func (i *WriteMetadata) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, 0, instWriteMetadata, 0, 24, 0, 0, 0, 0)
	return be.AppendUint64(be.AppendUint64(b, i.Metadata), i.Mask), nil
}

func (i *WriteMetadata) AppendText(b []byte) ([]byte, error) {
	b = appendHex64(append(b, "write_metadata:"...), i.Metadata)
	if i.Mask != ^uint64(0) {
		b = appendHex64(append(b, '/'), i.Mask)
	}
	return b, nil
}

func (i *GotoTable) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 0, instGotoTable, 0, 8, i.Table, 0, 0, 0), nil
}

func (i *GotoTable) AppendText(b []byte) ([]byte, error) {
	return fmt.Appendf(b, "goto_table:%d", i.Table), nil
}

func (i *Meter) AppendBinary(b []byte) ([]byte, error) {
	return be.AppendUint32(append(b, 0, instMeter, 0, 8), i.ID), nil
}

func (i *Meter) AppendText(b []byte) ([]byte, error) { return fmt.Appendf(b, "meter:%d", i.ID), nil }

func (i *RawInstruction) AppendBinary(b []byte) ([]byte, error) { return append(b, i.Data...), nil }

func (i *RawInstruction) AppendText(b []byte) ([]byte, error) {
	return fmt.Appendf(b, "raw_instruction(%s)", hex.EncodeToString(i.Data)), nil
}

// instOrder is where OVS prints (and writes) each instruction.
func instOrder(i Instruction) int {
	switch i.(type) {
	case *Meter:
		return 0
	case *ApplyActions:
		return 1
	case *ClearActions:
		return 2
	case *WriteActions:
		return 3
	case *WriteMetadata:
		return 4
	case *GotoTable:
		return 5
	}
	return 6
}

// AppendBinary writes the instructions in order.
func (is Instructions) AppendBinary(b []byte) ([]byte, error) {
	for n, i := range is {
		var err error
		if b, err = i.AppendBinary(b); err != nil {
			return nil, fmt.Errorf("instruction[%d]: %w", n, err)
		}
	}
	return b, nil
}

// AppendText writes the instructions as a flow's actions= text, in OVS's
// order (meter, apply, clear, write, write_metadata, goto_table), "drop"
// when there are none (or only empty ones).
func (is Instructions) AppendText(b []byte) ([]byte, error) {
	sorted := append(Instructions(nil), is...)
	sort.SliceStable(sorted, func(x, y int) bool { return instOrder(sorted[x]) < instOrder(sorted[y]) })
	start := len(b)
	for n, i := range sorted {
		if a, ok := i.(*ApplyActions); ok && len(a.Actions) == 0 {
			continue
		}
		if len(b) > start {
			b = append(b, ',')
		}
		var err error
		if b, err = i.AppendText(b); err != nil {
			return nil, fmt.Errorf("instruction[%d]: %w", n, err)
		}
	}
	if len(b) == start {
		b = append(b, "drop"...)
	}
	return b, nil
}

// String is the instructions' text.
func (is Instructions) String() string {
	b, err := is.AppendText(nil)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// instLen is the exact length of each fixed-size instruction.
var instLen = map[uint16]int{instGotoTable: 8, instWriteMetadata: 24, instClearActions: 8, instMeter: 8}

// DecodeInstructions decodes a flow's instructions. Unknown instruction
// types are kept as *RawInstruction (ValidateInstructions rejects them);
// a bad length is OFPBIC_BAD_LEN and a repeated instruction
// OFPBIC_DUP_INST, found before any action is decoded, as OVS does.
func DecodeInstructions(ctx Context, b []byte) (Instructions, error) {
	if err := checkInstructionList(b); err != nil {
		return nil, err
	}
	var is Instructions
	for n := 0; len(b) > 0; n++ {
		t, l := be.Uint16(b), int(be.Uint16(b[2:])) // checked above
		i, err := decodeInstruction(ctx, t, b[:l])
		if err != nil {
			return nil, fmt.Errorf("instruction[%d]: %w", n, err)
		}
		is = append(is, i)
		b = b[l:]
	}
	return is, nil
}

// checkInstructionList checks the instructions' lengths and that no type
// repeats, all before any action list is decoded, as OVS does.
func checkInstructionList(b []byte) error {
	seen := map[uint16]bool{}
	for n := 0; len(b) > 0; n++ {
		if len(b) < 8 {
			return fmt.Errorf("instruction[%d]: truncated: %w", n, ofpErr("OFPBIC_BAD_LEN"))
		}
		t, l := be.Uint16(b), int(be.Uint16(b[2:]))
		if l < 8 || l%8 != 0 || l > len(b) {
			return fmt.Errorf("instruction[%d]: length %d of %d: %w", n, l, len(b), ofpErr("OFPBIC_BAD_LEN"))
		}
		if want, ok := instLen[t]; ok && l != want {
			return fmt.Errorf("instruction[%d]: length %d, want %d: %w", n, l, want, ofpErr("OFPBIC_BAD_LEN"))
		}
		if t >= instGotoTable && t <= instMeter {
			if seen[t] {
				return fmt.Errorf("instruction[%d]: %w", n, ofpErr("OFPBIC_DUP_INST"))
			}
			seen[t] = true
		}
		b = b[l:]
	}
	return nil
}

func decodeInstruction(ctx Context, t uint16, b []byte) (Instruction, error) {
	switch t {
	case instGotoTable:
		return &GotoTable{Table: b[4]}, nil
	case instWriteMetadata:
		return &WriteMetadata{Metadata: be.Uint64(b[8:]), Mask: be.Uint64(b[16:])}, nil
	case instClearActions:
		return &ClearActions{}, nil
	case instMeter:
		if ctx.Version >= 4 {
			return &Meter{ID: be.Uint32(b[4:])}, nil
		}
	case instApplyActions, instWriteActions:
		l, err := DecodeList(ctx, b[8:])
		if err != nil {
			return nil, err
		}
		if t == instApplyActions {
			return &ApplyActions{Actions: l}, nil
		}
		return &WriteActions{Actions: l}, nil
	}
	return &RawInstruction{Data: append([]byte(nil), b...)}, nil
}

// ValidateInstructions checks instructions as OVS does: known types, each
// at most once, goto_table forward of ctx.Table, and their action lists.
func ValidateInstructions(ctx Context, is Instructions) error {
	seen := map[int]bool{}
	for n, i := range is {
		var err error
		switch i := i.(type) {
		case *RawInstruction:
			if be.Uint16(i.Data) == 0xffff {
				err = ofpErr("OFPBIC_BAD_EXPERIMENTER")
			} else {
				err = ofpErr("OFPBIC_UNKNOWN_INST")
			}
		case *GotoTable:
			if i.Table <= ctx.Table {
				err = ofpErr("OFPBIC_BAD_TABLE_ID")
			}
		case *Meter:
			if i.ID == 0 || i.ID > 0xffff0000 {
				err = ofpErr("OFPMMFC_INVALID_METER")
			}
		case *ApplyActions:
			err = Validate(ctx, i.Actions)
		case *WriteActions:
			err = validateNested(ctx, i.Actions, outerWriteActions)
		}
		if k := instOrder(i); err == nil && k < 6 && seen[k] {
			err = ofpErr("OFPBIC_DUP_INST")
		} else {
			seen[k] = true
		}
		if err != nil {
			return fmt.Errorf("instruction[%d]: %w", n, err)
		}
	}
	return nil
}

// instNames are the instructions' names in their order (ovs_instruction
// names), by instOrder.
var instNames = []string{"meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"}

// ParseInstructions parses a flow's actions= text: meter:N, clear_actions,
// write_actions(...), write_metadata:V[/M], goto_table:N; every other item
// is an action applied in order. As ovs-ofctl, it refuses instructions out
// of OpenFlow's order (meter, actions, clear_actions, write_actions,
// write_metadata, goto_table) or given twice, and "apply_actions(...)".
// With ctx.Check, the actions are checked against the flow as ovs-ofctl
// checks them (ofpacts_check), and what OVS refuses for OpenFlow 1.1 and
// later is refused.
func ParseInstructions(ctx Context, s string) (Instructions, error) {
	scratch := applyScratch.Get().(*List)
	var (
		apply = (*scratch)[:0] // copied out below, so that it is used again
		out   Instructions
		drop  bool
		last  = -1 // instOrder of the instruction before
		// Where each action of apply (and of each write_actions) came
		// from, for the errors of the nesting rule and the check.
		offsBuf   [16]int
		applyOffs = offsBuf[:0]
		writeOffs []int
	)
	for it, k, ok := nextItem(s, 0); ok; it, k, ok = nextItem(s, k) {
		kw := strings.ToLower(it.key)
		var i Instruction
		var err error
		order := 1 // an action
		switch {
		case kw == "drop":
			drop = true
			continue
		case kw == "apply_actions":
			return nil, &SyntaxError{Offset: it.off, Token: it.key, Msg: "apply_actions is the default instruction"}
		case kw == "meter" && ctx.Version < 6:
			order = 0
			var v uint64
			if v, err = parseNum(it.val, 32); err == nil {
				i = &Meter{ID: uint32(v)}
			}
		case kw == "clear_actions":
			order = 2
			i = &ClearActions{}
		case kw == "write_actions":
			order = 3
			var l List
			var offs *[]int
			if ctx.Check {
				writeOffs = writeOffs[:0]
				offs = &writeOffs
			}
			wctx := ctx
			wctx.nest = outerWriteActions
			if l, err = parseListOffs(wctx, it.val, it.valOff, offs); err != nil {
				return nil, shiftErr(err, it.valOff, it.val)
			}
			i = &WriteActions{Actions: l} // resolved below, after apply
		case kw == "write_metadata":
			order = 4
			i, err = parseWriteMetadata(it.val)
		case kw == "goto_table":
			order = 5
			var v uint64
			if v, err = parseNum(it.val, 8); err == nil {
				i = &GotoTable{Table: uint8(v)}
			}
		}
		if last >= 0 && (last == 1 && order < last || last != 1 && order <= last) {
			msg := fmt.Sprintf("invalid instruction ordering: %s must appear before %s, for OpenFlow 1.1+ compatibility",
				instNames[order], instNames[last])
			if order == last {
				msg = fmt.Sprintf("duplicate %s instruction not allowed, for OpenFlow 1.1+ compatibility", instNames[order])
			}
			return nil, &SyntaxError{Offset: it.off, Token: it.key, Msg: msg}
		}
		last = order
		if order == 1 {
			a, err := parseItem(ctx, it)
			if err != nil {
				return nil, err
			}
			if seq, ok := a.(actionSeq); ok {
				apply = append(apply, seq...)
			} else {
				apply = append(apply, a)
			}
			for len(applyOffs) < len(apply) {
				applyOffs = append(applyOffs, it.off)
			}
			continue
		}
		if err != nil {
			return nil, shiftErr(err, it.valOff, it.val)
		}
		if w, ok := i.(*WriteActions); ok && ctx.Check {
			// Checked once the applied actions are: keep where its
			// actions came from.
			w.offs = append([]int(nil), writeOffs...)
		}
		out = append(out, i)
	}
	if drop && (len(apply) > 0 || len(out) > 0) {
		return nil, &SyntaxError{Token: "drop", Msg: "drop must not be combined with other actions"}
	}
	if e := nestingRule(apply, outerNone); e != nil {
		keepApply(scratch, apply)
		return nil, &SyntaxError{Offset: applyOffs[e.index], Msg: e.msg}
	}
	apply = keepApply(scratch, apply)
	if err := checkInstructions(ctx, apply, applyOffs, out); err != nil {
		return nil, err
	}
	// OVS checks write_actions with the packet as apply_actions leave it.
	var has bool
	apply, has = resolveVLANPushesFrom(ctx, ctx.FlowHasVLAN, apply)
	for _, i := range out {
		if w, ok := i.(*WriteActions); ok {
			w.Actions, _ = resolveVLANPushesFrom(ctx, has, w.Actions)
			w.offs = nil
		}
	}
	switch {
	case len(apply) > 0 && len(out) == 0:
		// The usual flow: allocate its one instruction with the list.
		p := &applyOnly{a: ApplyActions{Actions: apply}}
		p.is[0] = &p.a
		out = p.is[:]
	case len(apply) > 0:
		out = append(out, &ApplyActions{Actions: apply})
	}
	slices.SortStableFunc(out, func(x, y Instruction) int { return cmp.Compare(instOrder(x), instOrder(y)) })
	return out, nil
}

// checkInstructions runs the check over the applied actions and then each
// write_actions (with the packet as the applied actions leave it; only a
// hard error counts there, as for OVS's check of an action set), or, with
// no flow to check against, settles the placeholders alone.
func checkInstructions(ctx Context, apply List, applyOffs []int, out Instructions) error {
	if !ctx.Check {
		resolveL4Ports(ctx, apply)
		for _, i := range out {
			if w, ok := i.(*WriteActions); ok {
				resolveL4Ports(ctx, w.Actions)
			}
		}
		return nil
	}
	f := ctx.Flow
	c := &checker{ctx: ctx, f: &f}
	if ctx.FlowHasVLAN {
		f.TCI |= 0x1000
	}
	if err := c.checkList(apply); err != nil {
		return checkSyntaxError(err, applyOffs)
	}
	for _, i := range out {
		w, ok := i.(*WriteActions)
		if !ok {
			continue
		}
		saved := f
		err := c.checkList(w.Actions)
		f = saved
		if ce, ok := err.(*checkError); ok && !ce.Soft {
			return checkSyntaxError(err, w.offs)
		}
	}
	return nil
}

// checkSyntaxError places a check's finding at its action's item.
func checkSyntaxError(err error, offs []int) error {
	ce := err.(*checkError)
	off := 0
	if ce.Index < len(offs) {
		off = offs[ce.Index]
	}
	return &SyntaxError{Offset: off, Msg: ce.Err.Error()}
}

// applyOnly is the Instructions of a flow with only apply_actions and its
// one instruction, made in one allocation.
type applyOnly struct {
	is [1]Instruction
	a  ApplyActions
}

// applyScratch holds the list ParseInstructions gathers apply_actions in
// before it knows their number.
var applyScratch = sync.Pool{New: func() any { l := make(List, 0, 32); return &l }}

// keepApply returns a copy of apply of its own length (nil if empty) and
// gives apply's array back to applyScratch.
func keepApply(scratch *List, apply List) List {
	var l List
	if len(apply) > 0 {
		l = make(List, len(apply))
		copy(l, apply)
	}
	if cap(apply) <= 1024 {
		clear(apply) // let the actions go
		*scratch = apply[:0]
		applyScratch.Put(scratch)
	}
	return l
}

func parseWriteMetadata(s string) (Instruction, error) {
	v, m, masked := strings.Cut(s, "/")
	i := &WriteMetadata{Mask: ^uint64(0)}
	var err error
	if i.Metadata, err = parseNum(v, 64); err != nil {
		return nil, err
	}
	if masked {
		if i.Mask, err = parseNum(m, 64); err != nil {
			return nil, err
		}
	}
	return i, nil
}
