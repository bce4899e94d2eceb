package ofactortest

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Match checks, as OVS makes them when it decodes a flow_mod's match
// (lib/nx-match.c oxm_pull_match, strict): a bad match is refused with
// the error OVS gives, found in the order OVS looks.

// flowSoFar is what of OVS's struct flow the prerequisite checks read, as
// the fields decoded so far set it (values under their masks).
type flowSoFar struct {
	dlType  uint16
	nwProto uint8
	tci     uint16
	tpSrc   uint16
	tpDst   uint16
	nwFrag  uint8
	ctState uint32
	ctMask  uint32
	// covered is, per storage, the mask bits set so far (DUP_FIELD).
	covered map[string]uint64
}

// checkMatch validates the ofp_match at the start of b (a flow_mod's or a
// flow stats request's) and returns its length with padding. tlv is the
// bridge's TLV map: a tun_metadata field it does not map is
// NXFMFC_INVALID_TLV_FIELD.
func checkMatch(b []byte, tlv *[64]tlvEntry) (int, string) {
	if len(b) < 4 {
		return 0, "OFPBMC_BAD_LEN"
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < 4 {
		return 0, "OFPBMC_BAD_LEN"
	}
	if binary.BigEndian.Uint16(b) != 1 { // OFPMT_OXM
		return 0, "OFPBMC_BAD_TYPE"
	}
	padded := (n + 7) / 8 * 8
	if padded > len(b) {
		return 0, "OFPBMC_BAD_LEN"
	}
	f := flowSoFar{covered: map[string]uint64{}}
	for p := b[4:n]; len(p) > 0; {
		used, err := f.entry(p, tlv)
		if err != "" {
			return 0, err
		}
		p = p[used:]
	}
	return padded, ""
}

// entry checks one OXM entry at the start of p (nx_pull_match_entry and
// the loop body of nx_pull_raw) and returns its length.
func (f *flowSoFar) entry(p []byte, tlv *[64]tlvEntry) (int, string) {
	if len(p) < 4 {
		return 0, "OFPBMC_BAD_LEN"
	}
	h := oxm.Header(binary.BigEndian.Uint32(p))
	hdrLen, expLen := 4, 0
	var exp uint32
	if h.Class() == 0xffff {
		if len(p) < 8 {
			return 0, "OFPBMC_BAD_LEN"
		}
		hdrLen, expLen = 8, 4
		exp = binary.BigEndian.Uint32(p[4:])
	}
	if int(h.Length()) < expLen {
		return 0, "OFPBMC_BAD_LEN"
	}
	info, headerErr := lookupField(h, exp, tlv)
	if headerErr != "" && headerErr != "OFPBMC_BAD_FIELD" {
		return 0, headerErr
	}
	payload := int(h.Length()) - expLen
	if len(p)-hdrLen < payload {
		return 0, "OFPBMC_BAD_LEN"
	}
	width := payload
	if h.HasMask() {
		width = payload / 2
	}
	value := p[hdrLen : hdrLen+width]
	var mask []byte
	if h.HasMask() {
		mask = p[hdrLen+width : hdrLen+2*width]
		for i := range value {
			if value[i]&^mask[i] != 0 {
				return 0, "OFPBMC_BAD_WILDCARDS"
			}
		}
	}
	if headerErr != "" {
		return 0, headerErr
	}
	if mask != nil && !info.Maskable && !allBytes(mask, 0) && !allBytes(mask, 0xff) {
		return 0, "OFPBMC_BAD_MASK"
	}
	if !valueValid(info, value) {
		return 0, "OFPBMC_BAD_VALUE"
	}
	if !f.prereqsOK(info.Prereq) {
		return 0, "OFPBMC_BAD_PREREQ"
	}
	store, cover := storageOf(info)
	if f.covered[store]&cover != 0 {
		return 0, "OFPBMC_DUP_FIELD"
	}
	f.set(info, value, mask, store, cover)
	return hdrLen + payload, ""
}

// lookupField finds the field of header h (mf_from_oxm_header): an
// unknown header, or a known one of the wrong length, is BAD_FIELD; a
// tun_metadata field the TLV map does not map INVALID_TLV_FIELD.
func lookupField(h oxm.Header, exp uint32, tlv *[64]tlvEntry) (*oxm.Info, string) {
	exact := h
	if h.HasMask() {
		exact = oxm.MakeHeader(h.Class(), h.Field(), false, h.Length()/2)
		if h.Class() == 0xffff {
			exact = oxm.MakeHeader(h.Class(), h.Field(), false, (h.Length()-4)/2+4)
		}
	}
	f := oxm.Field{Header: exact, Experimenter: exp}
	info := oxm.ByField(&f)
	if info == nil {
		return nil, "OFPBMC_BAD_FIELD"
	}
	if n := info.TunMetadata(); n >= 0 {
		if !tlv[n].valid {
			return nil, "NXFMFC_INVALID_TLV_FIELD"
		}
		if int(exact.Length()) != int(tlv[n].len) {
			return nil, "OFPBMC_BAD_FIELD"
		}
	}
	return info, ""
}

// indexed parses names like reg7: the prefix, then a decimal index.
func indexed(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

func allBytes(b []byte, v byte) bool {
	for _, x := range b {
		if x != v {
			return false
		}
	}
	return true
}

func beUint(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return v
}

// valueValid is mf_is_value_valid for the fields whose values have
// reserved bits.
func valueValid(i *oxm.Info, value []byte) bool {
	v := beUint(value)
	switch i.Name {
	case "in_port_oxm", "actset_output":
		return v < 0xff00 || v >= 0xffffff00
	case "ip_dscp":
		return v <= 0x3f
	case "nw_tos":
		return v&0x03 == 0
	case "nw_ecn", "ip_frag":
		return v <= 3
	case "tcp_flags":
		return v < 0x1000
	case "arp_op":
		return v < 0x100
	case "vlan_vid":
		return v&0xe000 == 0
	case "vlan_pcp", "mpls_tc":
		return v < 8
	case "ipv6_label", "mpls_label":
		return v < 1<<20
	case "mpls_bos":
		return v < 2
	case "tun_flags":
		return v&^1 == 0
	case "ct_state":
		return v&^0xff == 0
	case "nsh_ttl":
		return v <= 63
	case "nsh_mdtype":
		return v == 1 || v == 2
	case "nsh_spi":
		return v < 1<<24
	}
	return true
}

// prereqsOK is mf_are_match_prereqs_ok on the fields seen so far.
func (f *flowSoFar) prereqsOK(p oxm.Prereq) bool {
	ipAny := f.dlType == 0x0800 || f.dlType == 0x86dd
	l4 := func(proto uint8) bool { return ipAny && f.nwProto == proto && f.nwFrag&2 == 0 }
	icmp6 := f.dlType == 0x86dd && f.nwProto == 58
	nd := icmp6 && f.tpDst == 0 && (f.tpSrc == 135 || f.tpSrc == 136)
	switch p {
	case oxm.PrereqARP:
		return f.dlType == 0x0806 || f.dlType == 0x8035
	case oxm.PrereqVLANVID:
		return f.tci&0x1000 != 0
	case oxm.PrereqIPv4:
		return f.dlType == 0x0800
	case oxm.PrereqIPv6:
		return f.dlType == 0x86dd
	case oxm.PrereqIPAny:
		return ipAny
	case oxm.PrereqMPLS:
		return f.dlType == 0x8847 || f.dlType == 0x8848
	case oxm.PrereqTCP:
		return l4(6)
	case oxm.PrereqUDP:
		return l4(17)
	case oxm.PrereqSCTP:
		return l4(132)
	case oxm.PrereqICMPv4:
		return f.dlType == 0x0800 && f.nwProto == 1
	case oxm.PrereqICMPv6:
		return icmp6
	case oxm.PrereqND:
		return nd
	case oxm.PrereqNDSolicit:
		return nd && f.tpSrc == 135
	case oxm.PrereqNDAdvert:
		return nd && f.tpSrc == 136
	case oxm.PrereqNSH:
		return f.dlType == 0x894f
	case oxm.PrereqCT:
		// Some bit that implies a valid connection, or an explicit -inv
		// with +trk (is_ct_valid with a mask).
		const valid = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80 // new est rel rpl snat dnat
		return f.ctState&valid != 0 || f.ctState&0x20 != 0 && f.ctMask&0x10 != 0 && f.ctState&0x10 == 0
	}
	return true
}

// storageOf names the piece of struct flow a field is stored in and the
// bits of it the field covers, for DUP_FIELD: fields that share storage
// (tcp_src and icmp_type; vlan_tci and vlan_vid; reg0 and xreg0) may not
// both be matched where they overlap.
func storageOf(i *oxm.Info) (string, uint64) {
	all := ^uint64(0)
	switch i.Name {
	case "in_port", "in_port_oxm":
		return "in_port", all
	case "vlan_tci":
		return "tci", 0xffff
	case "vlan_vid":
		return "tci", 0x1fff
	case "vlan_pcp":
		return "tci", 0xe000
	case "tcp_src", "udp_src", "sctp_src", "icmp_type", "icmpv6_type":
		return "tp_src", all
	case "tcp_dst", "udp_dst", "sctp_dst", "icmp_code", "icmpv6_code":
		return "tp_dst", all
	case "ip_src", "arp_spa":
		return "nw_src", all
	case "ip_dst", "arp_tpa":
		return "nw_dst", all
	case "nw_proto", "arp_op":
		return "nw_proto", all
	case "nw_tos", "ip_dscp":
		return "tos", 0xfc
	case "nw_ecn":
		return "tos", 0x03
	case "arp_sha", "nd_sll":
		return "arp_sha", all
	case "arp_tha", "nd_tll":
		return "arp_tha", all
	}
	if n, ok := indexed(i.Name, "reg"); ok {
		if n%2 == 1 {
			return "xreg" + strconv.Itoa(n/2), 0xffffffff
		}
		return "xreg" + strconv.Itoa(n/2), 0xffffffff << 32
	}
	if n, ok := indexed(i.Name, "xreg"); ok {
		return "xreg" + strconv.Itoa(n), all
	}
	return i.Name, all
}

// set records a field's value under its mask (mf_set) for the checks of
// the fields after it.
func (f *flowSoFar) set(i *oxm.Info, value, mask []byte, store string, cover uint64) {
	v := append([]byte(nil), value...)
	if mask != nil {
		for k := range v {
			v[k] &= mask[k]
		}
	}
	x := beUint(v)
	bits := cover
	if mask != nil {
		if allBytes(mask, 0) {
			return // a wildcarded field sets nothing
		}
		bits = beUint(mask)
		if i.Name == "vlan_vid" {
			bits &= 0x1fff
		}
		if bits == 0 || len(mask) > 8 {
			bits = cover // a wide field: any bit of it covers it
		}
	}
	if mask != nil && cover == 0xffffffff<<32 {
		bits <<= 32 // an even register is the high half of its xreg
	}
	f.covered[store] |= bits
	switch i.Name {
	case "eth_type":
		f.dlType = uint16(x)
	case "nw_proto":
		f.nwProto = uint8(x)
	case "vlan_vid":
		f.tci = f.tci&^0x1fff | uint16(x)&0x1fff
	case "vlan_tci":
		f.tci = uint16(x)
	case "tcp_src", "udp_src", "sctp_src", "icmp_type", "icmpv6_type":
		f.tpSrc = uint16(x)
	case "tcp_dst", "udp_dst", "sctp_dst", "icmp_code", "icmpv6_code":
		f.tpDst = uint16(x)
	case "ip_frag":
		f.nwFrag = uint8(x)
	case "ct_state":
		f.ctState = uint32(x)
		f.ctMask = 0xffffffff
		if mask != nil {
			f.ctMask = uint32(beUint(mask))
		}
	}
}

// fieldKey identifies a match field for comparisons: class, field number
// and experimenter, not mask bit or length.
type fieldKey struct {
	class uint16
	field uint8
	exp   uint32
}

func keyOf(f *oxm.Field) fieldKey {
	return fieldKey{f.Header.Class(), f.Header.Field(), f.Experimenter}
}

// maskOf is a field's mask, all ones when it is exact.
func maskOf(f *oxm.Field) []byte {
	if f.Mask != nil {
		return f.Mask
	}
	return bytes.Repeat([]byte{0xff}, len(f.Value))
}

// looseMatch reports whether rule match r is at least as specific as
// criteria c (cls_rule_is_loose_match): every bit c matches, r matches
// the same way. Both are canonical.
func looseMatch(r, c *oxm.Match) bool {
	rf := map[fieldKey]*oxm.Field{}
	for i := range r.Fields {
		rf[keyOf(&r.Fields[i])] = &r.Fields[i]
	}
	for i := range c.Fields {
		cf := &c.Fields[i]
		x, ok := rf[keyOf(cf)]
		if !ok || len(x.Value) != len(cf.Value) {
			return false
		}
		cm, xm := maskOf(cf), maskOf(x)
		for k := range cf.Value {
			if cm[k]&^xm[k] != 0 || (x.Value[k]^cf.Value[k])&cm[k] != 0 {
				return false
			}
		}
	}
	return true
}

// overlaps reports whether some packet could match both a and b: where
// both match a field, they agree on the bits both match.
func overlaps(a, b *oxm.Match) bool {
	af := map[fieldKey]*oxm.Field{}
	for i := range a.Fields {
		af[keyOf(&a.Fields[i])] = &a.Fields[i]
	}
	for i := range b.Fields {
		bf := &b.Fields[i]
		x, ok := af[keyOf(bf)]
		if !ok {
			continue
		}
		if len(x.Value) != len(bf.Value) {
			return false
		}
		bm, xm := maskOf(bf), maskOf(x)
		for k := range bf.Value {
			if (x.Value[k]^bf.Value[k])&bm[k]&xm[k] != 0 {
				return false
			}
		}
	}
	return true
}

// tunMetadataUsed is the bitmap of the tun_metadata fields a match uses.
func tunMetadataUsed(m *oxm.Match) uint64 {
	var bits uint64
	for i := range m.Fields {
		if info := oxm.ByHeaderAnyLen(m.Fields[i].Header); info != nil {
			if n := info.TunMetadata(); n >= 0 {
				bits |= 1 << n
			}
		}
	}
	return bits
}
