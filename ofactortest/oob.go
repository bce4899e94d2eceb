package ofactortest

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Out-of-band changes: what an operator running ovs-ofctl against the
// bridge does behind the controller's back. Each goes through the same
// checks as the OpenFlow message ovs-ofctl would send, and fails with the
// error OVS would give (errors.Is(err, ofperr.Named("OFPGMFC_GROUP_EXISTS"))
// tells which); no message is counted in Received.

// oobError wraps an OVS error name for the command that got it.
func oobError(cmd, arg, name string) error {
	if name == "" {
		return nil
	}
	e := ofperr.Named(name)
	if e == nil {
		e = &ofperr.Error{Name: name}
	}
	return fmt.Errorf("ofactortest: %s %q: %w", cmd, arg, e)
}

// parseCtx is the text context of the current TLV map. Call with s.mu held.
func (s *Switch) parseCtx() *ofctl.Context {
	s.st.expire(s.cfg.now())
	return &ofctl.Context{Version: openflow.Version13, OXM: *s.st.tunContext()}
}

// flowText applies one flow_mod given as ovs-ofctl text, its command
// forced to cmd unless cmd is 0xff (then the line says, add by default).
func (s *Switch) flowText(cmdName, text string, cmd uint8, strict bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := text
	switch {
	case cmd == openflow.FlowDelete && strict:
		line = "delete_strict " + text
	case cmd == openflow.FlowDelete:
		line = "delete " + text
	}
	fm, err := ofctl.ParseFlow(line, s.parseCtx())
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	switch {
	case cmd == 0xff:
	case cmd == openflow.FlowModify && strict:
		fm.Command = openflow.FlowModifyStrict
	case cmd == openflow.FlowDelete && strict:
		fm.Command = openflow.FlowDeleteStrict
	default:
		fm.Command = cmd
	}
	if fm.Command == openflow.FlowDelete || fm.Command == openflow.FlowDeleteStrict {
		fm.Instructions = nil
	}
	fm.Version = openflow.Version13
	raw, err := fm.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	op, e := decodeFlowMod(s.st, raw)
	if e == "" {
		e = s.startFlowMod(op, nil)
	}
	return oobError(cmdName, text, e)
}

// AddFlow adds a flow as `ovs-ofctl add-flow BRIDGE TEXT` does.
func (s *Switch) AddFlow(text string) error {
	return s.flowText("add-flow", text, openflow.FlowAdd, false)
}

// AddFlows applies lines as `ovs-ofctl add-flows` does with a file: one
// flow_mod a line (add unless the line starts with modify, delete, ...),
// each confirmed before the next, stopping at the first refused.
func (s *Switch) AddFlows(lines ...string) error {
	for _, l := range lines {
		if err := s.flowText("add-flows", l, 0xff, false); err != nil {
			return err
		}
	}
	return nil
}

// ModFlows is `ovs-ofctl mod-flows BRIDGE TEXT`: the actions of every flow
// the match selects (loosely) are replaced.
func (s *Switch) ModFlows(text string) error {
	return s.flowText("mod-flows", text, openflow.FlowModify, false)
}

// ModFlowsStrict is `ovs-ofctl --strict mod-flows`.
func (s *Switch) ModFlowsStrict(text string) error {
	return s.flowText("mod-flows", text, openflow.FlowModify, true)
}

// DelFlows is `ovs-ofctl del-flows BRIDGE [TEXT]`: "" deletes every flow
// of every table (but 254's).
func (s *Switch) DelFlows(text string) error {
	return s.flowText("del-flows", text, openflow.FlowDelete, false)
}

// DelFlowsStrict is `ovs-ofctl --strict del-flows`: the one flow of that
// table, priority and match.
func (s *Switch) DelFlowsStrict(text string) error {
	return s.flowText("del-flows", text, openflow.FlowDelete, true)
}

// groupText applies one group_mod given as ovs-ofctl text.
func (s *Switch) groupText(cmdName, text string, cmd uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gm, err := ofctl.ParseGroup(text, s.parseCtx())
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	gm.Command = cmd
	return s.groupMod(cmdName, text, gm)
}

func (s *Switch) groupMod(cmdName, text string, gm *openflow.GroupMod) error {
	gm.Version = openflow.Version13
	raw, err := gm.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	op, e := decodeGroupMod(raw)
	if e == "" {
		e = s.startGroupMod(op, nil)
	}
	return oobError(cmdName, text, e)
}

// AddGroups adds groups as `ovs-ofctl add-groups` does with a file, one a
// line, stopping at the first refused.
func (s *Switch) AddGroups(lines ...string) error {
	for _, l := range lines {
		if err := s.groupText("add-groups", l, openflow.GroupAdd); err != nil {
			return err
		}
	}
	return nil
}

// AddGroup is `ovs-ofctl add-group BRIDGE TEXT`.
func (s *Switch) AddGroup(text string) error {
	return s.groupText("add-group", text, openflow.GroupAdd)
}

// ModGroup is `ovs-ofctl mod-group BRIDGE TEXT`.
func (s *Switch) ModGroup(text string) error {
	return s.groupText("mod-group", text, openflow.GroupModify)
}

// DelGroups is `ovs-ofctl del-groups BRIDGE [group_id=ID]...`: the groups
// named, or all of them, and every flow that outputs to one of them.
func (s *Switch) DelGroups(ids ...uint32) error {
	if len(ids) == 0 {
		ids = []uint32{openflow.GroupAll}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		gm := &openflow.GroupMod{Command: openflow.GroupDelete, GroupID: id}
		if err := s.groupMod("del-groups", fmt.Sprintf("group_id=%d", id), gm); err != nil {
			return err
		}
	}
	return nil
}

// meterText applies one meter_mod given as ovs-ofctl text.
func (s *Switch) meterText(cmdName, text string, cmd uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm, err := ofctl.ParseMeter(text, s.parseCtx())
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	mm.Command = cmd
	return s.meterMod1(cmdName, text, mm)
}

func (s *Switch) meterMod1(cmdName, text string, mm *openflow.MeterMod) error {
	mm.Version = openflow.Version13
	raw, err := mm.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("ofactortest: %s %q: %w", cmdName, text, err)
	}
	op, e := decodeMeterMod(raw)
	if e == "" {
		e = s.meterMod(op)
	}
	return oobError(cmdName, text, e)
}

// AddMeter is `ovs-ofctl add-meter BRIDGE TEXT`.
func (s *Switch) AddMeter(text string) error {
	return s.meterText("add-meter", text, openflow.MeterAdd)
}

// ModMeter is `ovs-ofctl mod-meter BRIDGE TEXT`.
func (s *Switch) ModMeter(text string) error {
	return s.meterText("mod-meter", text, openflow.MeterModify)
}

// DelMeters is `ovs-ofctl del-meters BRIDGE [meter=ID]`: the meters named,
// or all, and every flow that uses one of them.
func (s *Switch) DelMeters(ids ...uint32) error {
	if len(ids) == 0 {
		ids = []uint32{openflow.MeterAll}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		mm := &openflow.MeterMod{Command: openflow.MeterDelete, MeterID: id}
		if err := s.meterMod1("del-meters", fmt.Sprintf("meter=%d", id), mm); err != nil {
			return err
		}
	}
	return nil
}

// AddTLVMap is `ovs-ofctl add-tlv-map BRIDGE {class=,type=,len=}->tun_metadataN,...`.
func (s *Switch) AddTLVMap(maps ...openflow.TLVMap) error {
	return s.tlvText("add-tlv-map", openflow.TLVTableAdd, maps)
}

// DelTLVMap is `ovs-ofctl del-tlv-map BRIDGE [MAPPINGS]`: the mappings
// given, or with none all of them (NXTTMC_CLEAR). A mapping a flow uses
// is not deleted (NXTTMFC_INVALID_TLV_DEL).
func (s *Switch) DelTLVMap(maps ...openflow.TLVMap) error {
	if len(maps) == 0 {
		return s.tlvText("del-tlv-map", openflow.TLVTableClear, nil)
	}
	return s.tlvText("del-tlv-map", openflow.TLVTableDelete, maps)
}

func (s *Switch) tlvText(cmdName string, cmd uint16, maps []openflow.TLVMap) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &openflow.TLVTableMod{Header: openflow.Header{Version: openflow.Version13}, Command: cmd, Mappings: maps}
	raw, err := m.AppendBinary(nil)
	if err != nil {
		return fmt.Errorf("ofactortest: %s: %w", cmdName, err)
	}
	var text string
	for i, x := range maps {
		if i > 0 {
			text += ","
		}
		text += TLVMapString(x)
	}
	op, e := decodeTLVMod(raw)
	if e == "" {
		e = s.st.tlvMod(op)
	}
	return oobError(cmdName, text, e)
}
