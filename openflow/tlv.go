package openflow

import (
	"encoding/binary"
	"fmt"
)

// Nicira experimenter message subtypes used for Geneve option mapping
// (include/openflow/nicira-ext.h; once NXT_GENEVE_TABLE_*, same numbers).
const (
	NXTTLVTableMod     uint32 = 24
	NXTTLVTableRequest uint32 = 25
	NXTTLVTableReply   uint32 = 26
)

// TLV table mod commands (enum nx_tlv_table_mod_command).
const (
	TLVTableAdd    uint16 = 0
	TLVTableDelete uint16 = 1
	TLVTableClear  uint16 = 2
)

// experimenterHeaderLen is ofp_header + experimenter u32 + subtype u32.
const experimenterHeaderLen = 16

func appendExperimenterHeader(b []byte, h *Header, exp, subtype uint32) ([]byte, int) {
	b, start := appendHeader(b, h, TypeExperimenter)
	b = binary.BigEndian.AppendUint32(b, exp)
	b = binary.BigEndian.AppendUint32(b, subtype)
	return b, start
}

func checkExperimenter(h *Header, b []byte, exp, subtype uint32, name string) error {
	if err := checkHeader(h, b, TypeExperimenter, name); err != nil {
		return err
	}
	if len(b) < experimenterHeaderLen {
		return fmt.Errorf("%s: truncated: %d bytes, need %d", name, len(b), experimenterHeaderLen)
	}
	if e, s := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint32(b[12:]); e != exp || s != subtype {
		return fmt.Errorf("%s: experimenter %#x subtype %d, want %#x %d", name, e, s, exp, subtype)
	}
	return nil
}

// TLVMap is struct nx_tlv_map: one Geneve option mapped to tun_metadata<Index>.
//
//	+---------------+-------+-------+---------------+---------------+
//	| option_class  | type  |  len  |     index     |      pad      |
//	+---------------+-------+-------+---------------+---------------+
type TLVMap struct {
	OptionClass uint16
	OptionType  uint8
	OptionLen   uint8 // data bytes: a multiple of 4, at most 124
	Index       uint16
}

const tlvMapLen = 8

func appendTLVMaps(b []byte, maps []TLVMap) []byte {
	for _, m := range maps {
		b = binary.BigEndian.AppendUint16(b, m.OptionClass)
		b = append(b, m.OptionType, m.OptionLen)
		b = binary.BigEndian.AppendUint16(b, m.Index)
		b = append(b, 0, 0)
	}
	return b
}

func parseTLVMaps(b []byte, name string) ([]TLVMap, error) {
	if len(b)%tlvMapLen != 0 {
		return nil, fmt.Errorf("%s: %d bytes of maps, not a multiple of %d", name, len(b), tlvMapLen)
	}
	maps := make([]TLVMap, 0, len(b)/tlvMapLen)
	for i := 0; i < len(b); i += tlvMapLen {
		maps = append(maps, TLVMap{
			OptionClass: binary.BigEndian.Uint16(b[i:]),
			OptionType:  b[i+2],
			OptionLen:   b[i+3],
			Index:       binary.BigEndian.Uint16(b[i+4:]),
		})
	}
	return maps, nil
}

// TLVTableRequest is NXT_TLV_TABLE_REQUEST: an empty body, 16 bytes in all.
type TLVTableRequest struct{ Header }

func (m *TLVTableRequest) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendExperimenterHeader(b, &m.Header, ExperimenterNicira, NXTTLVTableRequest)
	return finish(b, start)
}

func (m *TLVTableRequest) UnmarshalBinary(b []byte) error {
	const name = "tlv_table_request"
	if err := checkExperimenter(&m.Header, b, ExperimenterNicira, NXTTLVTableRequest, name); err != nil {
		return err
	}
	if len(b) != experimenterHeaderLen {
		return fmt.Errorf("%s: %d bytes, want %d", name, len(b), experimenterHeaderLen)
	}
	return nil
}

// TLVTableReply is NXT_TLV_TABLE_REPLY: struct nx_tlv_table_reply
// (max_option_space u32, max_fields u16, reserved 10) and the mappings.
type TLVTableReply struct {
	Header
	MaxOptionSpace uint32
	MaxFields      uint16
	Mappings       []TLVMap
}

const tlvTableReplyLen = experimenterHeaderLen + 16

func (m *TLVTableReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendExperimenterHeader(b, &m.Header, ExperimenterNicira, NXTTLVTableReply)
	b = binary.BigEndian.AppendUint32(b, m.MaxOptionSpace)
	b = binary.BigEndian.AppendUint16(b, m.MaxFields)
	b = append(b, make([]byte, 10)...)
	b = appendTLVMaps(b, m.Mappings)
	return finish(b, start)
}

func (m *TLVTableReply) UnmarshalBinary(b []byte) error {
	const name = "tlv_table_reply"
	if err := checkExperimenter(&m.Header, b, ExperimenterNicira, NXTTLVTableReply, name); err != nil {
		return err
	}
	if len(b) < tlvTableReplyLen {
		return fmt.Errorf("%s: truncated: %d bytes, need %d", name, len(b), tlvTableReplyLen)
	}
	m.MaxOptionSpace = binary.BigEndian.Uint32(b[16:])
	m.MaxFields = binary.BigEndian.Uint16(b[20:])
	maps, err := parseTLVMaps(b[tlvTableReplyLen:], name)
	m.Mappings = maps
	return err
}

// TLVTableMod is NXT_TLV_TABLE_MOD: struct nx_tlv_table_mod (command u16,
// pad 6) and the mappings to add or delete.
type TLVTableMod struct {
	Header
	Command  uint16
	Mappings []TLVMap
}

const tlvTableModLen = experimenterHeaderLen + 8

func (m *TLVTableMod) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendExperimenterHeader(b, &m.Header, ExperimenterNicira, NXTTLVTableMod)
	b = binary.BigEndian.AppendUint16(b, m.Command)
	b = append(b, make([]byte, 6)...)
	b = appendTLVMaps(b, m.Mappings)
	return finish(b, start)
}

func (m *TLVTableMod) UnmarshalBinary(b []byte) error {
	const name = "tlv_table_mod"
	if err := checkExperimenter(&m.Header, b, ExperimenterNicira, NXTTLVTableMod, name); err != nil {
		return err
	}
	if len(b) < tlvTableModLen {
		return fmt.Errorf("%s: truncated: %d bytes, need %d", name, len(b), tlvTableModLen)
	}
	m.Command = binary.BigEndian.Uint16(b[16:])
	maps, err := parseTLVMaps(b[tlvTableModLen:], name)
	m.Mappings = maps
	return err
}
