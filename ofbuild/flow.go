package ofbuild

import (
	"errors"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// FlowBuilder builds one flow (an OFPFC_ADD flow_mod, OpenFlow 1.3.5
// §7.3.4.1). Its methods return it, so a flow is one expression; FlowMod
// returns the result or the first error met.
type FlowBuilder struct {
	fm      *openflow.FlowMod
	matches []Match
	meter   *uint32
	apply   []Action
	applied bool
	clear   bool
	write   []Action
	written bool
	md      *action.WriteMetadata
	gotoT   *uint8
}

// Flow starts a flow in table with priority.
func Flow(table uint8, priority uint16) *FlowBuilder {
	fm := openflow.NewFlowMod(openflow.Version13, openflow.FlowAdd)
	fm.TableID, fm.Priority = table, priority
	return &FlowBuilder{fm: fm}
}

// Cookie sets the flow's cookie.
func (f *FlowBuilder) Cookie(c uint64) *FlowBuilder { f.fm.Cookie = c; return f }

// IdleTimeout and HardTimeout set the timeouts in seconds (0: none).
func (f *FlowBuilder) IdleTimeout(s uint16) *FlowBuilder { f.fm.IdleTimeout = s; return f }

// HardTimeout sets the hard timeout in seconds.
func (f *FlowBuilder) HardTimeout(s uint16) *FlowBuilder { f.fm.HardTimeout = s; return f }

// Flags sets flow_mod flags (openflow.FlowSendFlowRem, ...).
func (f *FlowBuilder) Flags(fl uint16) *FlowBuilder { f.fm.Flags = fl; return f }

// Match adds match fields; a later setting of a field overrides an
// earlier one, as in ovs-ofctl.
func (f *FlowBuilder) Match(ms ...Match) *FlowBuilder {
	f.matches = append(f.matches, ms...)
	return f
}

// Apply adds actions to the apply_actions instruction (ovs-ofctl's plain
// actions=). A flow with no instructions drops the packet.
func (f *FlowBuilder) Apply(as ...Action) *FlowBuilder {
	f.apply, f.applied = append(f.apply, as...), true
	return f
}

// Write adds actions to the write_actions instruction.
func (f *FlowBuilder) Write(as ...Action) *FlowBuilder {
	f.write, f.written = append(f.write, as...), true
	return f
}

// ClearActions adds the clear_actions instruction.
func (f *FlowBuilder) ClearActions() *FlowBuilder { f.clear = true; return f }

// WriteMetadata adds the write_metadata instruction.
func (f *FlowBuilder) WriteMetadata(v, mask uint64) *FlowBuilder {
	f.md = &action.WriteMetadata{Metadata: v, Mask: mask}
	return f
}

// Meter adds the meter instruction.
func (f *FlowBuilder) Meter(id uint32) *FlowBuilder { f.meter = &id; return f }

// Goto adds the goto_table instruction; the table must be later than the
// flow's.
func (f *FlowBuilder) Goto(table uint8) *FlowBuilder { f.gotoT = &table; return f }

// FlowMod returns the flow_mod, its match canonical (the order OVS writes
// fields in) and its instructions in the order OpenFlow requires them:
// meter, apply_actions, clear_actions, write_actions, write_metadata,
// goto_table.
func (f *FlowBuilder) FlowMod() (*openflow.FlowMod, error) {
	where := fmt.Sprintf("flow table=%d,priority=%d", f.fm.TableID, f.fm.Priority)
	if f.fm.TableID == 254 {
		return nil, fmt.Errorf("%s: table 254 is Open vSwitch's internal table: it refuses any change to it (OFPBRC_EPERM)", where)
	}
	var b oxm.Builder
	b.Keep()
	var from []int // the Match each setting came from
	for i, m := range f.matches {
		if m.err != nil {
			b.Release()
			return nil, fmt.Errorf("%s: match[%d]: %w", where, i, m.err)
		}
		for _, s := range m.sets {
			b.Add(s)
			from = append(from, i)
		}
	}
	fm := *f.fm
	var problems []oxm.Problem
	fm.Match = b.Finish(fm.Version, &problems)
	for _, p := range problems {
		// Unlike ovs-ofctl, which drops the field and installs a flow
		// that matches more than was asked, the builder refuses.
		msg := fmt.Sprintf("%s: match[%d]: %s needs %s", where, from[p.Index], p.Info.Name, p.Info.Prereq.Describe())
		if !p.Dropped {
			msg += " (the switch refuses the flow: OFPBMC_BAD_PREREQ)"
		}
		return nil, errors.New(msg)
	}
	fm.Instructions = nil
	if f.meter != nil {
		fm.Instructions = append(fm.Instructions, &action.Meter{ID: *f.meter})
	}
	if f.applied {
		l, err := list(where+": apply_actions", f.apply)
		if err != nil {
			return nil, err
		}
		fm.Instructions = append(fm.Instructions, &action.ApplyActions{Actions: l})
	}
	if f.clear {
		fm.Instructions = append(fm.Instructions, &action.ClearActions{})
	}
	if f.written {
		l, err := list(where+": write_actions", f.write)
		if err != nil {
			return nil, err
		}
		fm.Instructions = append(fm.Instructions, &action.WriteActions{Actions: l})
	}
	if f.md != nil {
		md := *f.md
		fm.Instructions = append(fm.Instructions, &md)
	}
	if f.gotoT != nil {
		if *f.gotoT <= fm.TableID {
			return nil, fmt.Errorf("%s: goto_table:%d: must go to a later table", where, *f.gotoT)
		}
		fm.Instructions = append(fm.Instructions, &action.GotoTable{Table: *f.gotoT})
	}
	if err := action.ValidateInstructions(action.Context{Version: fm.Version, Table: fm.TableID}, fm.Instructions); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &fm, nil
}

// GroupBuilder builds one group (OFPGC_ADD group_mod, OpenFlow 1.3.5
// §7.3.4.2).
type GroupBuilder struct {
	gm  *openflow.GroupMod
	err error
}

// NewGroup starts group id of type typ (openflow.GroupTypeAll, Select,
// Indirect, FastFailover).
func NewGroup(id uint32, typ uint8) *GroupBuilder {
	return &GroupBuilder{gm: &openflow.GroupMod{Header: openflow.Header{Version: openflow.Version13},
		Command: openflow.GroupAdd, Type: typ, GroupID: id}}
}

// Bucket adds a bucket with these actions, weight 1 in a select group (as
// ovs-ofctl gives it) and 0 otherwise.
func (g *GroupBuilder) Bucket(as ...Action) *GroupBuilder {
	var w uint16
	if g.gm.Type == openflow.GroupTypeSelect {
		w = 1
	}
	return g.WeightedBucket(w, as...)
}

// WeightedBucket adds a bucket of a select group with weight w.
func (g *GroupBuilder) WeightedBucket(w uint16, as ...Action) *GroupBuilder {
	if g.err != nil {
		return g
	}
	l, err := list(fmt.Sprintf("group %d: bucket[%d]", g.gm.GroupID, len(g.gm.Buckets)), as)
	if err != nil {
		g.err = err
		return g
	}
	g.gm.Buckets = append(g.gm.Buckets, openflow.Bucket{Weight: w, WatchPort: openflow.PortAny,
		WatchGroup: openflow.GroupAny, Actions: l})
	return g
}

// GroupMod returns the group_mod or the first error met.
func (g *GroupBuilder) GroupMod() (*openflow.GroupMod, error) {
	if g.err != nil {
		return nil, g.err
	}
	gm := *g.gm
	return &gm, nil
}

// MeterBuilder builds one meter (OFPMC_ADD meter_mod, OpenFlow 1.3.5
// §7.3.4.4).
type MeterBuilder struct{ mm *openflow.MeterMod }

// NewMeter starts meter id, rates in kbps unless PacketsPerSecond is
// called.
func NewMeter(id uint32) *MeterBuilder {
	return &MeterBuilder{mm: &openflow.MeterMod{Header: openflow.Header{Version: openflow.Version13},
		Command: openflow.MeterAdd, Flags: openflow.MeterKBPS, MeterID: id}}
}

// PacketsPerSecond makes the rates packets per second (pktps).
func (m *MeterBuilder) PacketsPerSecond() *MeterBuilder {
	m.mm.Flags = m.mm.Flags&^openflow.MeterKBPS | openflow.MeterPKTPS
	return m
}

// Stats asks the switch to collect statistics (stats).
func (m *MeterBuilder) Stats() *MeterBuilder { m.mm.Flags |= openflow.MeterStats; return m }

// Drop adds a drop band: above rate, drop. A non-zero burst sets the
// meter's burst flag, as ovs-ofctl's burst_size does with "burst".
func (m *MeterBuilder) Drop(rate, burst uint32) *MeterBuilder {
	return m.band(openflow.MeterBand{Type: openflow.MeterBandDrop, Rate: rate, BurstSize: burst})
}

// DSCPRemark adds a dscp_remark band raising the drop precedence by prec.
func (m *MeterBuilder) DSCPRemark(rate, burst uint32, prec uint8) *MeterBuilder {
	return m.band(openflow.MeterBand{Type: openflow.MeterBandDSCPRemark, Rate: rate, BurstSize: burst, PrecLevel: prec})
}

func (m *MeterBuilder) band(b openflow.MeterBand) *MeterBuilder {
	if b.BurstSize != 0 {
		m.mm.Flags |= openflow.MeterBurst
	}
	m.mm.Bands = append(m.mm.Bands, b)
	return m
}

// MeterMod returns the meter_mod.
func (m *MeterBuilder) MeterMod() *openflow.MeterMod {
	mm := *m.mm
	mm.Bands = append([]openflow.MeterBand(nil), m.mm.Bands...)
	return &mm
}
