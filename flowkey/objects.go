package flowkey

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
)

// Groups and meters are kept as a key, their id in 4 bytes, and a value,
// the canonical bytes of the rest of what defines them, in the encoding of
// one OpenFlow version:
//
//	group:      type | 0 | buckets...          (as a group_mod carries them)
//	group, 1.5: type | 1 | buckets length u16 | buckets... | properties...
//	meter:      flags | bands...               (as a meter_mod carries them)
//
// The bytes come from the codec's own encoders, so that a group dumped from
// the switch and one parsed from a file compare byte for byte.

// IDKey returns the key of the group or meter id.
func IDKey(id uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], id)
	return string(b[:])
}

// KeyID returns the id of a group or meter key.
func KeyID(key string) uint32 { return binary.BigEndian.Uint32([]byte(key)) }

// GroupValue returns the canonical value of a group in version's
// encoding. The selection method and other properties are OpenFlow 1.5's
// (before 1.5 OVS drops them, and so are they here).
func GroupValue(version uint8, typ uint8, buckets []openflow.Bucket, sel *openflow.GroupSelection, props []byte) (string, error) {
	var b []byte
	var err error
	if version >= openflow.Version15 {
		b = []byte{typ, 1, 0, 0}
		if b, err = openflow.AppendGroupBuckets(b, version, typ, buckets); err == nil {
			binary.BigEndian.PutUint16(b[2:], uint16(len(b)-4))
			b, err = openflow.AppendGroupProperties(b, sel, props)
		}
	} else {
		b, err = openflow.AppendGroupBuckets([]byte{typ, 0}, version, typ, buckets)
	}
	if err != nil {
		return "", err
	}
	if n := 24 + len(b); n > MaxInner {
		return "", fmt.Errorf("group_mod of %d bytes: %w", n, openflow.ErrTooLong)
	}
	return string(b), nil
}

// groupParts splits a group's value into its type, buckets and (1.5)
// properties.
func groupParts(val string) (typ uint8, buckets, props string) {
	if len(val) < 2 {
		return 0, "", ""
	}
	if val[1] == 1 && len(val) >= 4 {
		n := int(binary.BigEndian.Uint16([]byte(val[2:4])))
		if 4+n <= len(val) {
			return val[0], val[4 : 4+n], val[4+n:]
		}
	}
	return val[0], val[2:], ""
}

// GroupMessage returns the group_mod of a group's key and value (a DELETE
// carries no buckets).
func GroupMessage(version uint8, command uint16, key, val string) openflow.Message {
	m := &openflow.RawGroupMod{Header: openflow.Header{Version: version}, Command: command, GroupID: KeyID(key),
		CommandBucketID: openflow.BucketAll}
	typ, buckets, props := groupParts(val)
	m.Type = typ
	if command != openflow.GroupDelete {
		m.Buckets, m.Properties = buckets, props
	}
	return m
}

// DecodeGroup turns a group's key and value back into a GroupMod (an ADD),
// for messages to people.
func DecodeGroup(version uint8, key, val string) (*openflow.GroupMod, error) {
	b, err := GroupMessage(version, openflow.GroupAdd, key, val).AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	gm := &openflow.GroupMod{}
	return gm, gm.UnmarshalBinary(b)
}

// MeterValue returns the canonical value of a meter. A meter without
// OFPMF_BURST has no burst size: OVS reports each band's rate there
// (burst_size = rate), a file or a builder says 0; both are 0 here, so
// that a switch holding the meter compares equal.
func MeterValue(flags uint16, bands []openflow.MeterBand) (string, error) {
	if flags&openflow.MeterBurst == 0 {
		nb := make([]openflow.MeterBand, len(bands))
		for i, band := range bands {
			band.BurstSize = 0
			nb[i] = band
		}
		bands = nb
	}
	b, err := openflow.AppendMeterBands(binary.BigEndian.AppendUint16(nil, flags), bands)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// MeterMessage returns the meter_mod of a meter's key and value (a DELETE
// carries no bands).
func MeterMessage(version uint8, command uint16, key, val string) openflow.Message {
	m := &openflow.RawMeterMod{Header: openflow.Header{Version: version}, Command: command, MeterID: KeyID(key)}
	if len(val) >= 2 && command != openflow.MeterDelete {
		m.Flags = binary.BigEndian.Uint16([]byte(val))
		m.Bands = val[2:]
	}
	return m
}

// DecodeMeter turns a meter's key and value back into a MeterMod (an ADD),
// for messages to people.
func DecodeMeter(version uint8, key, val string) (*openflow.MeterMod, error) {
	b, err := MeterMessage(version, openflow.MeterAdd, key, val).AppendBinary(nil)
	if err != nil {
		return nil, err
	}
	mm := &openflow.MeterMod{}
	return mm, mm.UnmarshalBinary(b)
}

// Group is a group in canonical form: its id and the value GroupValue
// makes.
type Group struct {
	ID  uint32
	val string
}

// GroupOf makes a Group of a key and a value as GroupValue returns it.
func GroupOf(key, val string) Group { return Group{KeyID(key), val} }

// Value returns the group's canonical value.
func (g Group) Value() string { return g.val }

// GroupMod returns the group as a group_mod ADD of version.
func (g Group) GroupMod(version uint8) (*openflow.GroupMod, error) {
	return DecodeGroup(version, IDKey(g.ID), g.val)
}

// Meter is a meter in canonical form: its id and the value MeterValue
// makes.
type Meter struct {
	ID  uint32
	val string
}

// MeterOf makes a Meter of a key and a value as MeterValue returns it.
func MeterOf(key, val string) Meter { return Meter{KeyID(key), val} }

// Value returns the meter's canonical value.
func (m Meter) Value() string { return m.val }

// MeterMod returns the meter as a meter_mod ADD of version.
func (m Meter) MeterMod(version uint8) (*openflow.MeterMod, error) {
	return DecodeMeter(version, IDKey(m.ID), m.val)
}
