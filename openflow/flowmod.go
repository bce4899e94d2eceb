package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// flowModLen is the fixed part of struct ofp_flow_mod before the match.
const flowModLen = 48

// NewFlowMod returns a FLOW_MOD with the fields OpenFlow leaves "any" set
// to their wildcards: BufferID NoBuffer, OutPort PortAny, OutGroup GroupAny.
// The encoder itself writes what the struct holds, so a FlowMod built
// without NewFlowMod carries buffer 0, port 0 and group 0, which OVS takes
// literally (a DELETE then matches only flows that output to port 0).
func NewFlowMod(version uint8, command uint8) *FlowMod {
	return &FlowMod{
		Header:   Header{Version: version},
		Command:  command,
		BufferID: NoBuffer,
		OutPort:  PortAny,
		OutGroup: GroupAny,
	}
}

// AppendBinary writes the flow_mod (struct ofp11_flow_mod: the same layout
// in OpenFlow 1.1-1.5, but for importance, where 1.3 has padding):
//
//	header | cookie u64 | cookie_mask u64 | table_id u8 | command u8 |
//	idle_timeout u16 | hard_timeout u16 | priority u16 | buffer_id u32 |
//	out_port u32 | out_group u32 | flags u16 | importance u16 (1.3: pad) |
//	ofp_match (padded to 8) | instructions
//
// Importance is written in OpenFlow 1.4+ for an ADD only: OVS reads it
// only there (lib/ofp-flow.c) and writes 0 for other commands, since only
// a new flow has an importance to set; the decoder reads it the same way.
func (m *FlowMod) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version < Version12 {
		return b, fmt.Errorf("flow_mod: version %#x not supported", m.Version)
	}
	b, start := appendHeader(b, &m.Header, TypeFlowMod)
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, m.CookieMask)
	b = append(b, m.TableID, m.Command)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint16(b, m.Priority)
	b = be.AppendUint32(b, m.BufferID)
	b = be.AppendUint32(b, m.OutPort)
	b = be.AppendUint32(b, m.OutGroup)
	b = be.AppendUint16(b, m.Flags)
	imp := m.Importance
	if b[start] < Version14 || m.Command != FlowAdd {
		imp = 0
	}
	b = be.AppendUint16(b, imp)
	var err error
	if b, err = appendMatch(b, &m.Match); err != nil {
		return b[:start], fmt.Errorf("flow_mod: match: %w", err)
	}
	if b, err = appendInstructions(b, m.Instructions); err != nil {
		return b[:start], fmt.Errorf("flow_mod: %w", err)
	}
	return finish(b, start)
}

// UnmarshalBinary decodes one whole flow_mod of OpenFlow 1.2 or later.
func (m *FlowMod) UnmarshalBinary(b []byte) error {
	const name = "flow_mod"
	if err := checkHeader(&m.Header, b, TypeFlowMod, name); err != nil {
		return err
	}
	if m.Version < Version12 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	if len(b) < flowModLen {
		return errTruncated(name, b, HeaderLen, flowModLen-HeaderLen)
	}
	m.Cookie = be.Uint64(b[8:])
	m.CookieMask = be.Uint64(b[16:])
	m.TableID, m.Command = b[24], b[25]
	m.IdleTimeout = be.Uint16(b[26:])
	m.HardTimeout = be.Uint16(b[28:])
	m.Priority = be.Uint16(b[30:])
	m.BufferID = be.Uint32(b[32:])
	m.OutPort = be.Uint32(b[36:])
	m.OutGroup = be.Uint32(b[40:])
	m.Flags = be.Uint16(b[44:])
	m.Importance = 0
	if m.Version >= Version14 && m.Command == FlowAdd {
		m.Importance = be.Uint16(b[46:])
	}
	n, err := unmarshalMatch(&m.Match, b[flowModLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	ctx := action.Context{Version: m.Version}
	if m.Instructions, err = decodeInstructions(ctx, b[flowModLen+n:]); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// The match, actions and instructions are the oxm and action packages'
// business; these name the calls this package makes.

func appendMatch(b []byte, m *oxm.Match) ([]byte, error) { return m.AppendOXM(b) }

func unmarshalMatch(m *oxm.Match, b []byte) (int, error) { return m.UnmarshalOXM(b) }

func appendInstructions(b []byte, is action.Instructions) ([]byte, error) {
	return is.AppendBinary(b)
}

func appendActions(b []byte, l action.List) ([]byte, error) { return l.AppendBinary(b) }

func unmarshalFields(b []byte) ([]oxm.Field, error) { return oxm.UnmarshalFields(b) }

func decodeInstructions(ctx action.Context, b []byte) (action.Instructions, error) {
	return action.DecodeInstructions(ctx, b)
}

func decodeActions(ctx action.Context, b []byte) (action.List, error) {
	return action.DecodeList(ctx, b)
}
