package ofbuild

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Action is one action, or the error that building it met; FlowMod,
// GroupMod report the first such error.
type Action struct {
	a   action.Action
	err error
}

// Of wraps any action of package action (action.Learn, action.Controller,
// ...) for the builder.
func Of(a action.Action) Action { return Action{a: a} }

// Standard action types (enum ofp_action_type, OpenFlow 1.3.5 §7.2.5).
const (
	ofpatPushVLAN = 17
	ofpatPopVLAN  = 18
	ofpatSetQueue = 21
	ofpatGroup    = 22
	ofpatDecNwTTL = 24
)

// Output sends the packet to port (OpenFlow 1.1+ numbering; see the
// openflow.Port* constants for reserved ports).
func Output(port uint32) Action { return Action{a: &action.Output{Port: port}} }

// Normal is output:NORMAL, the switch's L2/L3 pipeline.
func Normal() Action { return Output(openflow.PortNormal) }

// InPortOut is output:IN_PORT, back out of the ingress port.
func InPortOut() Action { return Output(openflow.PortInPort) }

// Controller sends the packet to the controller, at most maxLen bytes of
// it (0xffff: all), as output:CONTROLLER:maxLen.
func Controller(maxLen uint16) Action {
	return Action{a: &action.Output{Port: openflow.PortController, MaxLen: maxLen}}
}

// Group sends the packet to group id.
func Group(id uint32) Action { return Action{a: &action.Std{Type: ofpatGroup, Arg: uint64(id)}} }

// SetQueue sets the output queue.
func SetQueue(id uint32) Action { return Action{a: &action.Std{Type: ofpatSetQueue, Arg: uint64(id)}} }

// PushVLAN pushes a VLAN header with ethType (0x8100 or 0x88a8).
func PushVLAN(ethType uint16) Action {
	return Action{a: &action.Std{Type: ofpatPushVLAN, Arg: uint64(ethType)}}
}

// PopVLAN pops the outer VLAN header.
func PopVLAN() Action { return Action{a: &action.Std{Type: ofpatPopVLAN}} }

// DecTTL decrements the IP TTL (dec_ttl).
func DecTTL() Action { return Action{a: &action.Std{Type: ofpatDecNwTTL}} }

// Resubmit looks the packet up again in table (resubmit(,TABLE)).
func Resubmit(table uint8) Action {
	return Action{a: &action.Resubmit{InPort: 0xfff8, Table: table, Sub: 14}}
}

// CTClear clears the conntrack state (ct_clear); Exit stops processing.
func CTClear() Action { return Action{a: action.CTClear} }

// Exit stops the action processing (exit).
func Exit() Action { return Action{a: action.Exit} }

// Note is note:BYTES, opaque data for the controller's own use.
func Note(data []byte) Action { return Action{a: &action.Note{Data: data}} }

// Conjunction makes this flow clause k (1-based, as ovs-ofctl writes it)
// of n of conjunctive match id.
func Conjunction(id uint32, k, n uint8) Action {
	if k == 0 || k > n {
		return Action{err: fmt.Errorf("conjunction(%d,%d/%d): clause must be 1 to %d", id, k, n, n)}
	}
	return Action{a: &action.Conjunction{ID: id, Clause: k - 1, NClauses: n}}
}

// SetField sets a whole field to value (the field's width): set_field.
func SetField(name string, value []byte) Action {
	info := oxm.ByName(name)
	if info == nil {
		return Action{err: fmt.Errorf("set_field: unknown field %q", name)}
	}
	if !info.Writable {
		return Action{err: fmt.Errorf("set_field: %s is read-only", name)}
	}
	if len(value) != info.Bytes {
		return Action{err: fmt.Errorf("set_field: %s: value is %d bytes, want %d", name, len(value), info.Bytes)}
	}
	return Action{a: action.NewSetField(info, openflow.Version13, value, nil)}
}

// SetEthSrc sets the source MAC address; SetEthDst the destination.
func SetEthSrc(mac net.HardwareAddr) Action { return SetField("eth_src", mac) }

// SetEthDst sets the destination MAC address.
func SetEthDst(mac net.HardwareAddr) Action { return SetField("eth_dst", mac) }

// SetIPv4Src sets the IPv4 source address; SetIPv4Dst the destination.
func SetIPv4Src(a netip.Addr) Action { return setAddr("ip_src", a, 4) }

// SetIPv4Dst sets the IPv4 destination address.
func SetIPv4Dst(a netip.Addr) Action { return setAddr("ip_dst", a, 4) }

func setAddr(name string, a netip.Addr, n int) Action {
	if a.BitLen() != n*8 {
		return Action{err: fmt.Errorf("set_field: %s: %v is not a %d-byte address", name, a, n)}
	}
	return SetField(name, a.AsSlice())
}

// SetReg sets 32-bit register n.
func SetReg(n int, v uint32) Action { return SetField(fmt.Sprintf("reg%d", n), u32(v)) }

// SetMetadata sets the whole metadata register (an action; the
// write_metadata instruction is FlowBuilder.WriteMetadata).
func SetMetadata(v uint64) Action { return SetField("metadata", u64(v)) }

// Load writes value into bits [ofs, ofs+bits) of field:
// load:VALUE->FIELD[ofs..ofs+bits-1].
func Load(value uint64, field string, ofs, bits int) Action {
	return viaText(fmt.Sprintf("load:%#x->%s", value, bitRange(field, ofs, bits)))
}

// Move copies bits [srcOfs, srcOfs+bits) of src to [dstOfs, dstOfs+bits)
// of dst: move:SRC[..]->DST[..].
func Move(src string, srcOfs int, dst string, dstOfs, bits int) Action {
	return viaText(fmt.Sprintf("move:%s->%s", bitRange(src, srcOfs, bits), bitRange(dst, dstOfs, bits)))
}

func bitRange(field string, ofs, bits int) string {
	return fmt.Sprintf("%s[%d..%d]", field, ofs, ofs+bits-1)
}

// viaText builds the actions whose subfield encoding (NXM header choice)
// only the action parser knows, from text the builder itself writes; the
// caller's field names are checked first so errors name them.
func viaText(s string) Action {
	l, err := action.ParseList(action.Context{Version: openflow.Version13}, s)
	if err != nil {
		return Action{err: fmt.Errorf("%s: %w", s, err)}
	}
	if len(l) != 1 {
		return Action{err: fmt.Errorf("%s: parsed as %d actions", s, len(l))}
	}
	return Action{a: l[0]}
}

// CTOptions are the arguments of ct(...).
type CTOptions struct {
	Commit, Force bool
	Zone          uint16 // zone=N
	ZoneField     string // zone=FIELD[0..15], e.g. "reg13"; overrides Zone
	// Table recirculates to table=N after conntrack; nil: no recirculation.
	Table *uint8
	NAT   *NATOptions
	// Exec are the actions of exec(...) (set ct_mark, ct_label), applied
	// only with Commit.
	Exec []Action
}

// NATOptions are the arguments of nat(...); a zero NATOptions is "nat",
// which applies the NAT of the connection.
type NATOptions struct {
	Src, Dst           bool
	Min, Max           netip.Addr // zero Max: a single address
	PortMin, PortMax   uint16
	Persistent, Random bool
}

// TableID is a helper for CTOptions.Table.
func TableID(t uint8) *uint8 { return &t }

// CT sends the packet through the connection tracker.
func CT(o CTOptions) Action {
	ct := &action.CT{RecircTable: 255, ZoneImm: o.Zone}
	if o.Commit {
		ct.Flags |= action.CTCommit
	}
	if o.Force {
		ct.Flags |= action.CTForce
	}
	if o.Table != nil {
		ct.RecircTable = *o.Table
	}
	if o.ZoneField != "" {
		info := oxm.ByName(o.ZoneField)
		if info == nil {
			return Action{err: fmt.Errorf("ct: zone: unknown field %q", o.ZoneField)}
		}
		z := viaText(fmt.Sprintf("move:%s->reg0[0..15]", bitRange(o.ZoneField, 0, 16)))
		if z.err != nil {
			return Action{err: fmt.Errorf("ct: zone: %w", z.err)}
		}
		ct.ZoneSrc, ct.ZoneImm = z.a.(*action.Move).Src, 0
	}
	if n := o.NAT; n != nil {
		ct.Actions = append(ct.Actions, natAction(n))
	}
	for i, a := range o.Exec {
		if a.err != nil {
			return Action{err: fmt.Errorf("ct: exec[%d]: %w", i, a.err)}
		}
		ct.Actions = append(ct.Actions, a.a)
	}
	return Action{a: ct}
}

func natAction(n *NATOptions) *action.NAT {
	a := &action.NAT{Min: n.Min, Max: n.Max, ProtoMin: n.PortMin, ProtoMax: n.PortMax}
	for _, f := range []struct {
		on   bool
		flag uint16
	}{{n.Src, action.NATSrc}, {n.Dst, action.NATDst}, {n.Persistent, action.NATPersistent}, {n.Random, action.NATProtoRandom}} {
		if f.on {
			a.Flags |= f.flag
		}
	}
	return a
}

// list turns actions into an action.List, or the first error.
func list(where string, as []Action) (action.List, error) {
	l := make(action.List, 0, len(as))
	for i, a := range as {
		if a.err != nil {
			return nil, fmt.Errorf("%s: action[%d]: %w", where, i, a.err)
		}
		if a.a == nil {
			return nil, fmt.Errorf("%s: action[%d]: empty", where, i)
		}
		l = append(l, a.a)
	}
	return l, nil
}
