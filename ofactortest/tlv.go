package ofactortest

import (
	"encoding/binary"

	"github.com/ofactor/ofactor/openflow"
)

// The Geneve TLV map (lib/tun-metadata.c, lib/meta-flow.c
// mf_vl_mff_map_mod_from_tun_metadata): 64 tun_metadata fields sharing 256
// bytes of option space.

const (
	tlvMaxOptionSpace = 256 // TUN_METADATA_TOT_OPT_SIZE
	tlvMaxFields      = 64  // TUN_METADATA_NUM_OPTS
	tlvMaxOptLen      = 124 // TLV_MAX_OPT_SIZE
)

// tlvOp is a decoded NXT_TLV_TABLE_MOD.
type tlvOp struct {
	cmd  uint16
	maps []openflow.TLVMap
}

// decodeTLVMod is ofputil_decode_tlv_table_mod.
func decodeTLVMod(raw []byte) (*tlvOp, string) {
	be := binary.BigEndian
	op := &tlvOp{cmd: be.Uint16(raw[16:])}
	if op.cmd > openflow.TLVTableClear {
		return nil, "NXTTMFC_BAD_COMMAND"
	}
	for b := raw[24:]; len(b) >= 8; b = b[8:] {
		m := openflow.TLVMap{OptionClass: be.Uint16(b), OptionType: b[2], OptionLen: b[3], Index: be.Uint16(b[4:])}
		if m.OptionLen%4 != 0 || m.OptionLen > tlvMaxOptLen {
			return nil, "NXTTMFC_BAD_OPT_LEN"
		}
		if m.Index >= tlvMaxFields {
			return nil, "NXTTMFC_BAD_FIELD_IDX"
		}
		op.maps = append(op.maps, m)
	}
	return op, ""
}

// tlvMod is tun_metadata_table_mod and the check that no flow uses a
// field that goes away. It changes nothing unless it succeeds.
func (st *state) tlvMod(op *tlvOp) string {
	next := st.tlv
	switch op.cmd {
	case openflow.TLVTableAdd:
		used := 0
		for _, e := range next {
			if e.valid {
				used += int(e.len)
			}
		}
		for _, m := range op.maps {
			if next[m.Index].valid {
				return "NXTTMFC_ALREADY_MAPPED"
			}
			for _, e := range next {
				if e.valid && e.class == m.OptionClass && e.typ == m.OptionType {
					return "NXTTMFC_DUP_ENTRY"
				}
			}
			if used+int(m.OptionLen) > tlvMaxOptionSpace {
				return "NXTTMFC_TABLE_FULL"
			}
			used += int(m.OptionLen)
			next[m.Index] = tlvEntry{valid: true, class: m.OptionClass, typ: m.OptionType, len: m.OptionLen}
		}
	case openflow.TLVTableDelete:
		for _, m := range op.maps {
			if next[m.Index].valid && st.tlvRefs[m.Index] > 0 {
				return "NXTTMFC_INVALID_TLV_DEL"
			}
		}
		for _, m := range op.maps {
			next[m.Index] = tlvEntry{}
		}
	case openflow.TLVTableClear:
		for i := range next {
			if next[i].valid && st.tlvRefs[i] > 0 {
				return "NXTTMFC_INVALID_TLV_DEL"
			}
		}
		next = [64]tlvEntry{}
	}
	st.tlv, st.tunCtx = next, nil
	return ""
}

// tlvReply is the NXT_TLV_TABLE_REPLY of the map.
func (st *state) tlvReply(h openflow.Header) *openflow.TLVTableReply {
	r := &openflow.TLVTableReply{Header: h, MaxOptionSpace: tlvMaxOptionSpace, MaxFields: tlvMaxFields}
	r.Mappings = st.tlvMaps()
	return r
}

// tlvMaps lists the valid mappings in index order.
func (st *state) tlvMaps() []openflow.TLVMap {
	var maps []openflow.TLVMap
	for i, e := range st.tlv {
		if e.valid {
			maps = append(maps, openflow.TLVMap{OptionClass: e.class, OptionType: e.typ, OptionLen: e.len, Index: uint16(i)})
		}
	}
	return maps
}
