package reconciler

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/openflow"
)

// Groups and meters are keyed by their id; the value is the canonical bytes
// of the rest of their mod message body:
//
//	group: type | pad | buckets...        (from ofp_group_mod after group_id)
//	meter: flags | bands...               (from ofp_meter_mod)
//
// Encoding goes through the codec's own encoders, so a group dumped from the
// switch and one parsed from a file compare byte for byte.

const (
	groupModFixed = 16 // header, command, type, pad, group_id
	meterModFixed = 16 // header, command, flags, meter_id
)

// GroupVal returns the canonical value of a group.
func GroupVal(typ uint8, buckets []openflow.Bucket) (string, error) {
	gm := openflow.GroupMod{Type: typ, Buckets: buckets}
	b, err := gm.AppendBinary(nil)
	if err != nil {
		return "", err
	}
	if len(b) < groupModFixed {
		return "", fmt.Errorf("group_mod: encoder wrote %d bytes", len(b))
	}
	v := make([]byte, 0, 2+len(b)-groupModFixed)
	v = append(v, typ, 0)
	return string(append(v, b[groupModFixed:]...)), nil
}

// GroupMessage builds a group_mod from canonical bytes.
func GroupMessage(version uint8, command uint16, id uint32, val string) openflow.Message {
	body := make([]byte, 8, 8+len(val))
	binary.BigEndian.PutUint16(body, command)
	binary.BigEndian.PutUint32(body[4:], id)
	if val != "" {
		body[2] = val[0]
		if command != openflow.GroupDelete {
			body = append(body, val[2:]...)
		}
	}
	return &openflow.Unknown{
		Header: openflow.Header{Version: version, Type: openflow.TypeGroupMod},
		Data:   body,
	}
}

// MeterVal returns the canonical value of a meter.
func MeterVal(flags uint16, bands []openflow.MeterBand) (string, error) {
	mm := openflow.MeterMod{Flags: flags, Bands: bands}
	b, err := mm.AppendBinary(nil)
	if err != nil {
		return "", err
	}
	if len(b) < meterModFixed {
		return "", fmt.Errorf("meter_mod: encoder wrote %d bytes", len(b))
	}
	v := make([]byte, 2, 2+len(b)-meterModFixed)
	binary.BigEndian.PutUint16(v, flags)
	return string(append(v, b[meterModFixed:]...)), nil
}

// MeterMessage builds a meter_mod from canonical bytes.
func MeterMessage(version uint8, command uint16, id uint32, val string) openflow.Message {
	body := make([]byte, 8, 8+len(val))
	binary.BigEndian.PutUint16(body, command)
	binary.BigEndian.PutUint32(body[4:], id)
	if val != "" && command != openflow.MeterDelete {
		copy(body[2:4], val[:2])
		body = append(body, val[2:]...)
	}
	return &openflow.Unknown{
		Header: openflow.Header{Version: version, Type: openflow.TypeMeterMod},
		Data:   body,
	}
}
