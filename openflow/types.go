package openflow

import (
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Flow mod commands (enum ofp_flow_mod_command).
const (
	FlowAdd          uint8 = 0
	FlowModify       uint8 = 1
	FlowModifyStrict uint8 = 2
	FlowDelete       uint8 = 3
	FlowDeleteStrict uint8 = 4
)

// Flow mod flags (enum ofp_flow_mod_flags).
const (
	FlowSendFlowRem  uint16 = 1 << 0
	FlowCheckOverlap uint16 = 1 << 1
	FlowResetCounts  uint16 = 1 << 2
	FlowNoPktCounts  uint16 = 1 << 3
	FlowNoBytCounts  uint16 = 1 << 4
)

// Reserved port, group, table and buffer numbers.
const (
	PortMax        uint32 = 0xffffff00
	PortInPort     uint32 = 0xfffffff8
	PortTable      uint32 = 0xfffffff9
	PortNormal     uint32 = 0xfffffffa
	PortFlood      uint32 = 0xfffffffb
	PortAll        uint32 = 0xfffffffc
	PortController uint32 = 0xfffffffd
	PortLocal      uint32 = 0xfffffffe
	PortAny        uint32 = 0xffffffff
	GroupAll       uint32 = 0xfffffffc
	GroupAny       uint32 = 0xffffffff
	TableAll       uint8  = 0xff
	NoBuffer       uint32 = 0xffffffff
)

// FlowMod is OFPT_FLOW_MOD (OpenFlow 1.3.5 §7.3.4.1, struct ofp_flow_mod).
// Importance is OpenFlow 1.4's, for an ADD (see AppendBinary); in 1.3 those
// two bytes are padding.
// The encoder writes what the struct holds: NewFlowMod sets BufferID,
// OutPort and OutGroup to their "none/any" values, a zero FlowMod has 0s.
// The match is written as it stands (oxm.Match.Normalize gives OVS's
// canonical order).
type FlowMod struct {
	Header
	Cookie       uint64
	CookieMask   uint64
	TableID      uint8
	Command      uint8
	IdleTimeout  uint16
	HardTimeout  uint16
	Priority     uint16
	BufferID     uint32
	OutPort      uint32
	OutGroup     uint32
	Flags        uint16
	Importance   uint16
	Match        oxm.Match
	Instructions action.Instructions
}

// Group mod commands and group types (OpenFlow 1.3.5 §7.3.4.2).
const (
	GroupAdd          uint16 = 0
	GroupModify       uint16 = 1
	GroupDelete       uint16 = 2
	GroupInsertBucket uint16 = 3 // OpenFlow 1.5
	GroupRemoveBucket uint16 = 5 // OpenFlow 1.5

	GroupTypeAll          uint8 = 0
	GroupTypeSelect       uint8 = 1
	GroupTypeIndirect     uint8 = 2
	GroupTypeFastFailover uint8 = 3
)

// Bucket is one bucket of a group: struct ofp_bucket in OpenFlow 1.1-1.4,
// struct ofp15_bucket with properties in 1.5.
//
// BucketID is OpenFlow 1.5's. Decoding an earlier version leaves it 0. The
// 1.5 encoder writes it as it stands, but for two cases OVS's own
// encoder has: a bucket with an id above BucketMax gets the lowest free
// one, and a group whose buckets all have id 0 (as the 1.1-1.4 syntax and
// wire make them) is numbered 0, 1, 2....
type Bucket struct {
	Weight     uint16
	WatchPort  uint32
	WatchGroup uint32
	BucketID   uint32
	Actions    action.List
	// Properties are a 1.5 bucket's properties other than weight and
	// watch port/group (struct ofp_prop_header each, padding included),
	// raw.
	Properties []byte
}

// GroupMod is OFPT_GROUP_MOD (struct ofp_group_mod; ofp15_group_mod in
// OpenFlow 1.5).
type GroupMod struct {
	Header
	Command uint16
	Type    uint8
	GroupID uint32
	Buckets []Bucket
	// CommandBucketID is OpenFlow 1.5's command_bucket_id: the bucket an
	// INSERT_BUCKET or REMOVE_BUCKET applies to (an id, or BucketFirst,
	// BucketLast, BucketAll). Other commands carry OFPG15_BUCKET_ALL on
	// the wire and 0 here. Not on the wire before 1.5.
	CommandBucketID uint32
	// Selection is OVS's select-group selection method (a group property
	// in OpenFlow 1.5; ovs-ofctl accepts and drops it before 1.5). Nil
	// means none (OVS's default hash).
	Selection *GroupSelection
	// Properties are OpenFlow 1.5 group properties other than the
	// selection method, raw.
	Properties []byte
}

// GroupSelection is OVS's selection method of a select group
// (struct ntr_group_prop_selection_method): Method "hash" or "dp_hash",
// its parameter, and the fields hashed, each an OXM TLV without mask
// whose value is the mask applied to the field before hashing (all ones:
// the whole field).
type GroupSelection struct {
	Method string
	Param  uint64
	Fields []oxm.Field
}

// Meter mod commands, flags and band types (OpenFlow 1.3.5 §7.3.4.4).
const (
	MeterAdd    uint16 = 0
	MeterModify uint16 = 1
	MeterDelete uint16 = 2

	MeterKBPS  uint16 = 1 << 0
	MeterPKTPS uint16 = 1 << 1
	MeterBurst uint16 = 1 << 2
	MeterStats uint16 = 1 << 3

	MeterBandDrop         uint16 = 1
	MeterBandDSCPRemark   uint16 = 2
	MeterBandExperimenter uint16 = 0xffff

	MeterAll uint32 = 0xffffffff
)

// MeterBand is one of struct ofp_meter_band_drop / _dscp_remark /
// _experimenter.
type MeterBand struct {
	Type         uint16
	Rate         uint32
	BurstSize    uint32
	PrecLevel    uint8  // dscp_remark
	Experimenter uint32 // experimenter
	// Data is what follows the type's fixed 16 bytes (for an unknown type,
	// what follows rate and burst_size), kept so that it round-trips.
	Data []byte
}

// MeterMod is OFPT_METER_MOD (struct ofp_meter_mod).
type MeterMod struct {
	Header
	Command uint16
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}

// FlowStats is one entry of a flow multipart reply: struct ofp_flow_stats
// (OpenFlow 1.3, 1.4), struct ofp15_flow_desc and OXS statistics (1.5).
type FlowStats struct {
	TableID      uint8
	DurationSec  uint32
	DurationNsec uint32
	Priority     uint16
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Importance   uint16
	Cookie       uint64
	PacketCount  uint64
	ByteCount    uint64
	Match        oxm.Match
	Instructions action.Instructions

	// IdleAge (seconds since the flow last matched) and OtherStats (OXS
	// statistics other than duration, idle time and counts, raw) are
	// OpenFlow 1.5's; OVS sends the idle time with every flow.
	IdleAge    uint32
	OtherStats []byte

	// RawMatch and RawInstructions are the entry's ofp_match (padding
	// included) and instructions as received, when it was decoded from
	// the wire; they alias the message. A reader that compares flows by
	// their bytes need not encode them again.
	RawMatch, RawInstructions []byte
}

// GroupDesc is one struct ofp_group_desc of a group description reply
// (ofp15_group_desc_stats in OpenFlow 1.5).
type GroupDesc struct {
	Type       uint8
	GroupID    uint32
	Buckets    []Bucket
	Selection  *GroupSelection // OpenFlow 1.5's selection method property
	Properties []byte          // OpenFlow 1.5's other group properties, raw
}

// MeterConfig is one struct ofp_meter_config of a meter config reply.
type MeterConfig struct {
	Flags   uint16
	MeterID uint32
	Bands   []MeterBand
}
