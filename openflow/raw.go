package openflow

import "fmt"

// The Raw messages are flow, group and meter mods whose variable parts
// (match, instructions, buckets, bands) are already wire bytes, held as
// strings: a caller that keeps objects as their bytes (the reconciler keeps
// a million flows so) builds the message without decoding them, and the
// encoder copies the bytes once, into the message. The layouts are the
// codec's; what the parts contain is the caller's to get right (the
// encoder only checks lengths).

// RawFlowMod is OFPT_FLOW_MOD with its match (ofp_match, padding included)
// and instructions as bytes. BufferID, OutPort and OutGroup are always
// NoBuffer, PortAny and GroupAny, and cookie_mask 0: what a strict command
// on one flow needs. Importance is written and read as FlowMod does: in
// OpenFlow 1.4+, for an ADD.
type RawFlowMod struct {
	Header
	Command      uint8
	TableID      uint8
	Priority     uint16
	Cookie       uint64
	IdleTimeout  uint16
	HardTimeout  uint16
	Flags        uint16
	Importance   uint16 // OpenFlow 1.4+; padding before
	Match        string
	Instructions string
}

// AppendBinary writes the flow_mod in FlowMod's layout.
func (m *RawFlowMod) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeFlowMod)
	b = be.AppendUint64(b, m.Cookie)
	b = be.AppendUint64(b, 0)
	b = append(b, m.TableID, m.Command)
	b = be.AppendUint16(b, m.IdleTimeout)
	b = be.AppendUint16(b, m.HardTimeout)
	b = be.AppendUint16(b, m.Priority)
	b = be.AppendUint32(b, NoBuffer)
	b = be.AppendUint32(b, PortAny)
	b = be.AppendUint32(b, GroupAny)
	b = be.AppendUint16(b, m.Flags)
	imp := m.Importance
	if b[start] < Version14 || m.Command != FlowAdd {
		imp = 0
	}
	b = be.AppendUint16(b, imp)
	if len(m.Match) < 4 || len(m.Match)%8 != 0 {
		return b[:start], fmt.Errorf("raw flow_mod: match of %d bytes: want an ofp_match padded to 8", len(m.Match))
	}
	b = append(b, m.Match...)
	b = append(b, m.Instructions...)
	return finish(b, start)
}

// UnmarshalBinary is FlowMod's decoder, keeping the parts as bytes.
func (m *RawFlowMod) UnmarshalBinary(b []byte) error {
	const name = "flow_mod"
	if err := checkHeader(&m.Header, b, TypeFlowMod, name); err != nil {
		return err
	}
	if len(b) < flowModLen {
		return errTruncated(name, b, HeaderLen, flowModLen-HeaderLen)
	}
	m.Cookie = be.Uint64(b[8:])
	m.TableID, m.Command = b[24], b[25]
	m.IdleTimeout, m.HardTimeout = be.Uint16(b[26:]), be.Uint16(b[28:])
	m.Priority = be.Uint16(b[30:])
	m.Flags = be.Uint16(b[44:])
	m.Importance = 0
	if m.Version >= Version14 && m.Command == FlowAdd {
		m.Importance = be.Uint16(b[46:])
	}
	n, err := matchLen(b[flowModLen:])
	if err != nil {
		return fmt.Errorf("%s: match: %w", name, err)
	}
	m.Match = string(b[flowModLen : flowModLen+n])
	m.Instructions = string(b[flowModLen+n:])
	return nil
}

// RawGroupMod is OFPT_GROUP_MOD with its buckets as bytes, in the layout
// of Header.Version (AppendGroupBuckets writes them): GroupMod's layout.
// CommandBucketID and Properties (the group properties, raw: the selection
// method AppendGroupProperties writes, say) are OpenFlow 1.5's and, as in
// GroupMod, not on the wire before; CommandBucketID is written for
// INSERT_BUCKET and REMOVE_BUCKET, OFPG15_BUCKET_ALL for every other
// command.
type RawGroupMod struct {
	Header
	Command         uint16
	Type            uint8
	GroupID         uint32
	Buckets         string
	CommandBucketID uint32
	Properties      string
}

// AppendBinary writes the group_mod in GroupMod's layout.
func (m *RawGroupMod) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version < Version11 {
		return b, fmt.Errorf("raw group_mod: version %#x not supported", m.Version)
	}
	b, start := appendHeader(b, &m.Header, TypeGroupMod)
	b = be.AppendUint16(b, m.Command)
	b = append(b, m.Type, 0)
	b = be.AppendUint32(b, m.GroupID)
	if b[start] >= Version15 {
		if len(m.Buckets) > 0xffff {
			return b[:start], fmt.Errorf("raw group_mod: buckets: %w", ErrTooLong)
		}
		cbid := BucketAll
		if m.Command == GroupInsertBucket || m.Command == GroupRemoveBucket {
			cbid = m.CommandBucketID
		}
		b = be.AppendUint16(b, uint16(len(m.Buckets)))
		b = append(b, 0, 0)
		b = be.AppendUint32(b, cbid)
		b = append(b, m.Buckets...)
		b = append(b, m.Properties...)
		return finish(b, start)
	}
	b = append(b, m.Buckets...)
	return finish(b, start)
}

// UnmarshalBinary is GroupMod's decoder, keeping the buckets (and in 1.5
// the properties) as bytes.
func (m *RawGroupMod) UnmarshalBinary(b []byte) error {
	const name = "group_mod"
	if err := groupModFixed(&m.Header, b); err != nil {
		return err
	}
	m.Command, m.Type, m.GroupID = be.Uint16(b[8:]), b[10], be.Uint32(b[12:])
	m.CommandBucketID, m.Properties = 0, ""
	if m.Version < Version15 {
		m.Buckets = string(b[groupModLen:])
		return nil
	}
	if m.Command == GroupInsertBucket || m.Command == GroupRemoveBucket {
		m.CommandBucketID = be.Uint32(b[20:])
	} else if cbid := be.Uint32(b[20:]); cbid != BucketAll {
		return fmt.Errorf("%s: command %d with command_bucket_id %#x (OVS takes only OFPG15_BUCKET_ALL)", name, m.Command, cbid)
	}
	n := int(be.Uint16(b[16:]))
	if n > len(b)-groupMod15Len {
		return fmt.Errorf("%s: bucket_array_len %d, %d bytes left", name, n, len(b)-groupMod15Len)
	}
	m.Buckets = string(b[groupMod15Len : groupMod15Len+n])
	m.Properties = string(b[groupMod15Len+n:])
	return nil
}

// AppendBuckets writes buckets as a group_mod of version carries them,
// for OpenFlow 1.1-1.4, whose buckets do not depend on the group's type.
// AppendGroupBuckets writes them for every version.
func AppendBuckets(b []byte, version uint8, bs []Bucket) ([]byte, error) {
	if version >= Version15 {
		return b, fmt.Errorf("buckets: OpenFlow 1.5's depend on the group type: use AppendGroupBuckets")
	}
	return appendBuckets(b, bs)
}

// AppendGroupBuckets writes the buckets of a group of type typ as a
// group_mod of version carries them: ofp_bucket before 1.5, ofp15_bucket
// with bucket ids and properties in 1.5 (see GroupMod; a select group's
// buckets carry their weight whatever it is).
func AppendGroupBuckets(b []byte, version, typ uint8, bs []Bucket) ([]byte, error) {
	if version >= Version15 {
		return appendBuckets15(b, typ, bs)
	}
	return appendBuckets(b, bs)
}

// AppendGroupProperties writes OpenFlow 1.5 group properties: OVS's
// selection method, when sel is not nil, then raw.
func AppendGroupProperties(b []byte, sel *GroupSelection, raw []byte) ([]byte, error) {
	return appendGroupProps(b, sel, raw)
}

// RawMeterMod is OFPT_METER_MOD with its bands as bytes (AppendMeterBands
// writes them).
type RawMeterMod struct {
	Header
	Command uint16
	Flags   uint16
	MeterID uint32
	Bands   string
}

// AppendBinary writes the meter_mod in MeterMod's layout.
func (m *RawMeterMod) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendHeader(b, &m.Header, TypeMeterMod)
	b = be.AppendUint16(b, m.Command)
	b = be.AppendUint16(b, m.Flags)
	b = be.AppendUint32(b, m.MeterID)
	b = append(b, m.Bands...)
	return finish(b, start)
}

// UnmarshalBinary is MeterMod's decoder, keeping the bands as bytes.
func (m *RawMeterMod) UnmarshalBinary(b []byte) error {
	const name = "meter_mod"
	if err := checkHeader(&m.Header, b, TypeMeterMod, name); err != nil {
		return err
	}
	if len(b) < 16 {
		return errTruncated(name, b, HeaderLen, 16-HeaderLen)
	}
	m.Command, m.Flags, m.MeterID = be.Uint16(b[8:]), be.Uint16(b[10:]), be.Uint32(b[12:])
	m.Bands = string(b[16:])
	return nil
}

// AppendMeterBands writes bands as a meter_mod carries them.
func AppendMeterBands(b []byte, bands []MeterBand) ([]byte, error) {
	return appendBands(b, bands)
}
