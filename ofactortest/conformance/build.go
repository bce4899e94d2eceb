package conformance

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Messages for the cases, from ovs-ofctl text where there is one.

// flow parses a flow_mod ("delete table=3,ip"; add by default).
func flow(text string) *openflow.FlowMod {
	fm, err := ofctl.ParseFlow(text, tunCtx)
	if err != nil {
		panic(fmt.Sprintf("conformance: flow %q: %v", text, err))
	}
	return fm
}

// internalTable moves fm to table 254, which the parser refuses to write
// to (OVS's own table).
func internalTable(fm *openflow.FlowMod) *openflow.FlowMod {
	fm.TableID = 254
	return fm
}

// match parses a match.
func match(text string) oxm.Match {
	m, err := ofctl.ParseMatch(text, &tunCtx.OXM)
	if err != nil {
		panic(fmt.Sprintf("conformance: match %q: %v", text, err))
	}
	return m
}

// tunCtx maps tun_metadata0 and 1 to 4-byte options, as the cases that
// use them map them on the switch.
var tunCtx = func() *ofctl.Context {
	c := &ofctl.Context{OXM: *oxm.NewContext()}
	c.OXM.TunMetadataLen[0], c.OXM.TunMetadataLen[1] = 4, 4
	return c
}()

// flowCmd parses a flow and gives it another command.
func flowCmd(cmd uint8, text string) *openflow.FlowMod {
	switch cmd {
	case openflow.FlowDelete:
		return flow("delete " + text)
	case openflow.FlowDeleteStrict:
		return flow("delete_strict " + text)
	}
	fm := flow(text)
	fm.Command = cmd
	return fm
}

// group parses a group_mod.
func group(text string) *openflow.GroupMod {
	gm, err := ofctl.ParseGroup(text, nil)
	if err != nil {
		panic(fmt.Sprintf("conformance: group %q: %v", text, err))
	}
	return gm
}

// meter parses a meter_mod.
func meter(text string) *openflow.MeterMod {
	mm, err := ofctl.ParseMeter(text, nil)
	if err != nil {
		panic(fmt.Sprintf("conformance: meter %q: %v", text, err))
	}
	return mm
}

// atomic is the flags OVN and ofactor bundle with.
const atomic = openflow.BundleAtomic | openflow.BundleOrdered

func bundleCtl(typ uint16, id uint32, flags uint16) *openflow.BundleControl {
	return &openflow.BundleControl{BundleID: id, Type: typ, Flags: flags}
}

func open(id uint32, flags uint16) *openflow.BundleControl {
	return bundleCtl(openflow.BundleOpenRequest, id, flags)
}

func commit(id uint32, flags uint16) *openflow.BundleControl {
	return bundleCtl(openflow.BundleCommitRequest, id, flags)
}

func closeB(id uint32, flags uint16) *openflow.BundleControl {
	return bundleCtl(openflow.BundleCloseRequest, id, flags)
}

func discard(id uint32, flags uint16) *openflow.BundleControl {
	return bundleCtl(openflow.BundleDiscardRequest, id, flags)
}

// add wraps a message into bundle id (the client gives both one xid).
func add(id uint32, flags uint16, m openflow.Message) *openflow.BundleAdd {
	return &openflow.BundleAdd{BundleID: id, Flags: flags, Message: m}
}

func stats(table uint8) *openflow.FlowStatsRequest {
	r := openflow.NewFlowStatsRequest(0)
	r.TableID = table
	return r
}

func tlvAdd(maps ...openflow.TLVMap) *openflow.TLVTableMod {
	return &openflow.TLVTableMod{Command: openflow.TLVTableAdd, Mappings: maps}
}

func tlvDel(maps ...openflow.TLVMap) *openflow.TLVTableMod {
	return &openflow.TLVTableMod{Command: openflow.TLVTableDelete, Mappings: maps}
}

// geneve is OVN's option at index i.
func geneve(i uint16) openflow.TLVMap {
	return openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: i}
}

// encode is a message's bytes, for the cases that break them.
func encode(m openflow.Message, xid uint32) []byte {
	m.Hdr().XID = xid
	if m.Hdr().Version == 0 {
		m.Hdr().Version = openflow.Version13
	}
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}
