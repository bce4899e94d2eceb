package fleet

import (
	"fmt"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/proto/fleetpb"
)

// The messages that cross processes are protobuf (package fleetpb);
// flows, groups and meters inside them are OpenFlow messages in wire form.
// These convert between them and package messages' Go types.

// ToProtoPut encodes a put for the wire. Canonical flows and puts in parts
// stay in-process: a client sends whole puts of FlowMods.
func ToProtoPut(m *messages.PutDesired) (*fleetpb.PutDesired, error) {
	if len(m.Canonical) > 0 || m.More || m.Continue {
		return nil, fmt.Errorf("put: canonical flows and puts in parts do not cross processes")
	}
	out := &fleetpb.PutDesired{GeneveFlows: m.GeneveFlows, SwitchFlows: m.SwitchFlows}
	var err error
	if m.Flows != nil {
		if out.Flows, err = encodeAll("flow", m.Flows); err != nil {
			return nil, err
		}
	}
	if m.Groups != nil {
		if out.Groups, err = encodeAll("group", m.Groups); err != nil {
			return nil, err
		}
	}
	if m.Meters != nil {
		if out.Meters, err = encodeAll("meter", m.Meters); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func encodeAll[T openflow.Message](kind string, ms []T) (*fleetpb.Objects, error) {
	o := &fleetpb.Objects{Msgs: make([][]byte, 0, len(ms))}
	for i, m := range ms {
		b, err := m.AppendBinary(nil)
		if err != nil {
			return nil, fmt.Errorf("put: %s[%d]: %w", kind, i, err)
		}
		o.Msgs = append(o.Msgs, b)
	}
	return o, nil
}

// FromProtoPut decodes a put from the wire.
func FromProtoPut(m *fleetpb.PutDesired) (*messages.PutDesired, error) {
	out := &messages.PutDesired{GeneveFlows: m.GeneveFlows, SwitchFlows: m.SwitchFlows}
	var err error
	if m.Flows != nil {
		if out.Flows, err = decodeAll[*openflow.FlowMod]("flow", m.Flows.Msgs); err != nil {
			return nil, err
		}
	}
	if m.Groups != nil {
		if out.Groups, err = decodeAll[*openflow.GroupMod]("group", m.Groups.Msgs); err != nil {
			return nil, err
		}
	}
	if m.Meters != nil {
		if out.Meters, err = decodeAll[*openflow.MeterMod]("meter", m.Meters.Msgs); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func decodeAll[T openflow.Message](kind string, bs [][]byte) ([]T, error) {
	out := make([]T, 0, len(bs))
	for i, b := range bs {
		m, err := openflow.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("put: %s[%d]: %w", kind, i, err)
		}
		t, ok := m.(T)
		if !ok {
			return nil, fmt.Errorf("put: %s[%d]: %T, not a %s mod", kind, i, m, kind)
		}
		out = append(out, t)
	}
	return out, nil
}

// ToProtoUpdate encodes a delta of flows for the wire.
func ToProtoUpdate(m *messages.UpdateFlows) (*fleetpb.UpdateFlows, error) {
	if len(m.AddCanonical) > 0 || len(m.RemoveCanonical) > 0 {
		return nil, fmt.Errorf("update: canonical flows do not cross processes")
	}
	add, err := encodeAll("add", m.Add)
	if err != nil {
		return nil, err
	}
	rm, err := encodeAll("remove", m.Remove)
	if err != nil {
		return nil, err
	}
	return &fleetpb.UpdateFlows{Add: add.Msgs, Remove: rm.Msgs}, nil
}

// FromProtoUpdate decodes a delta of flows from the wire.
func FromProtoUpdate(m *fleetpb.UpdateFlows) (*messages.UpdateFlows, error) {
	add, err := decodeAll[*openflow.FlowMod]("add", m.Add)
	if err != nil {
		return nil, err
	}
	rm, err := decodeAll[*openflow.FlowMod]("remove", m.Remove)
	if err != nil {
		return nil, err
	}
	return &messages.UpdateFlows{Add: add, Remove: rm}, nil
}
