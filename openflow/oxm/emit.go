package oxm

import (
	"bytes"
)

// exactMask is, for fields OVS stores narrower than their width, the mask
// it writes as an exact match (nxm_put_frag, the VLAN VID with CFI).
var exactMask = map[string][]byte{"ip_frag": {3}, "vlan_vid": {0x1f, 0xff}}

// l3 summarises what the match's eth_type and ip_proto allow, as
// ofputil_normalize_match (lib/ofp-match.c) reads them.
type l3 struct {
	ip4, ip6, arp, mpls, nsh bool
	proto                    int // -1 if wildcarded
	l4, nd                   bool
	icmpType                 uint64
}

func (fv flowView) layers() l3 {
	var x l3
	x.proto = -1
	if s := fv.get("eth_type"); s != nil && allOnes(s.m) {
		switch beUint(s.v) {
		case 0x0800:
			x.ip4 = true
		case 0x86dd:
			x.ip6 = true
		case 0x0806, 0x8035:
			x.arp = true
		case 0x8847, 0x8848:
			x.mpls = true
		case 0x894f:
			x.nsh = true
		}
	}
	if s := fv.get("nw_proto"); s != nil && (x.ip4 || x.ip6 || x.arp) {
		x.proto = int(s.v[0])
	}
	switch {
	case (x.ip4 || x.ip6) && (x.proto == 6 || x.proto == 17 || x.proto == 132):
		x.l4 = true
	case x.ip4 && x.proto == 1:
		x.l4 = true
	case x.ip6 && x.proto == 58:
		x.l4 = true
		x.icmpType = fv.u("tp_src")
		x.nd = (x.icmpType == 135 || x.icmpType == 136) && fv.u("tp_dst") == 0
	}
	return x
}

// prune drops what ofputil_normalize_match would: fields whose layer the
// match's eth_type and ip_proto do not select.
func (fv flowView) prune() {
	x := fv.layers()
	ip := x.ip4 || x.ip6
	drop := func(ok bool, names ...string) {
		if !ok {
			for _, n := range names {
				delete(fv, n)
			}
		}
	}
	drop(ip || x.arp, "nw_proto")
	drop(x.ip4 || x.arp, "ip_src", "ip_dst")
	drop(x.ip6, "ipv6_src", "ipv6_dst", "ipv6_label")
	drop(ip, "tos", "nw_ttl", "ip_frag")
	drop(x.l4, "tp_src", "tp_dst")
	drop(ip && x.proto == 6, "tcp_flags")
	drop(x.arp || (x.nd && x.icmpType == 135), "arp_sha")
	drop(x.arp || (x.nd && x.icmpType == 136), "arp_tha")
	drop(x.nd, "nd_target", "nd_reserved", "nd_options_type")
	drop(x.mpls, "mpls_label", "mpls_tc", "mpls_bos", "mpls_ttl")
	drop(x.nsh, "nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi", "nsh_si",
		"nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")
}

type emitter struct {
	fv  flowView
	out []Field
}

// put writes slot name under field as's OpenFlow 1.3 header.
func (e *emitter) put(as, name string) {
	if s := e.fv.get(name); s != nil {
		e.putVM(as, s.v, s.m)
	}
}

func (e *emitter) putVM(as string, v, m []byte) {
	i := byName[as]
	f := Field{Header: i.Header, Experimenter: i.Experimenter,
		Value: append([]byte(nil), v...)}
	if i.VarLen {
		f.Header = MakeHeader(i.Header.Class(), i.Header.Field(), false, uint8(len(v)))
	}
	if full := exactMask[as]; !allOnes(m) && (full == nil || !bytes.Equal(m, full)) {
		f.Mask = append([]byte(nil), m...)
	}
	e.out = append(e.out, f)
}

func (e *emitter) list(names ...string) {
	for _, n := range names {
		e.put(n, n)
	}
}

// emit writes the view in nx_put_raw's order for OpenFlow 1.3.
func (fv flowView) emit() []Field {
	e := &emitter{fv: fv}
	x := fv.layers()
	e.list("packet_type", "dp_hash", "recirc_id", "conj_id", "in_port_oxm",
		"actset_output", "eth_src", "eth_dst", "eth_type")
	if s := fv.get("tci"); s != nil {
		v, m := beUint(s.v), beUint(s.m)
		if m&0x1fff != 0 {
			e.putVM("vlan_vid", u16(uint16(v&0x1fff)), u16(uint16(m&0x1fff)))
		}
		// OVS writes the PCP whenever the VID is nonzero, even without the
		// CFI bit, and then rejects its own match (vlan_pcp needs a VLAN):
		// drop it then, as for any unmet prerequisite.
		if v&0x1000 != 0 && m&0x1000 != 0 && m&0xe000 != 0 {
			e.putVM("vlan_pcp", []byte{byte(v>>13) & 7}, ones(1))
		}
	}
	if x.mpls {
		e.list("mpls_tc", "mpls_bos", "mpls_ttl", "mpls_label")
	}
	switch {
	case x.ip4 || x.ip6:
		e.putIP(x)
	case x.arp:
		if s := fv.get("nw_proto"); s != nil {
			e.putVM("arp_op", []byte{0, s.v[0]}, ones(2))
		}
		e.put("arp_spa", "ip_src")
		e.put("arp_tpa", "ip_dst")
		e.list("arp_sha", "arp_tha")
	}
	// Most matches have no tunnel, NSH or conntrack field: skip those
	// lists whole rather than look up each of their names.
	has := fv.families()
	if has.tun {
		e.list("tun_id", "tun_flags", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst",
			"tun_gbp_id", "tun_gbp_flags")
	}
	if has.tunMetadata {
		e.list(tunMetadataNames[:]...)
	}
	if has.tun || has.nsh {
		e.list("tun_erspan_idx", "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid",
			"tun_gtpu_flags", "tun_gtpu_msgtype", "nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np",
			"nsh_spi", "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")
	}
	if has.reg {
		e.list(regNames[:]...)
	}
	e.list("pkt_mark")
	if has.ct {
		e.list("ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_src",
			"ct_ipv6_src", "ct_nw_dst", "ct_ipv6_dst")
		if fv.u("ct_nw_proto") != 0 {
			e.list("ct_nw_proto", "ct_tp_src", "ct_tp_dst")
		}
	}
	e.list("metadata")
	return e.out
}

// putIP is nxm_put_ip.
func (e *emitter) putIP(x l3) {
	fv := e.fv
	if x.ip4 {
		e.list("ip_src", "ip_dst")
	} else {
		e.list("ipv6_src", "ipv6_dst")
	}
	e.list("ip_frag")
	if s := fv.get("tos"); s != nil {
		if s.m[0]&0xfc != 0 {
			e.putVM("ip_dscp", []byte{s.v[0] >> 2}, ones(1))
		}
		if s.m[0]&3 != 0 {
			e.putVM("nw_ecn", []byte{s.v[0] & 3}, ones(1))
		}
	}
	e.list("nw_ttl", "ipv6_label")
	if x.proto < 0 {
		return
	}
	e.list("nw_proto")
	tp := func(src, dst string) { e.put(src, "tp_src"); e.put(dst, "tp_dst") }
	byte1 := func(as, name string) {
		if s := fv.get(name); s != nil {
			e.putVM(as, s.v[1:], ones(1))
		}
	}
	switch {
	case x.proto == 6:
		tp("tcp_src", "tcp_dst")
		e.list("tcp_flags")
	case x.proto == 17:
		tp("udp_src", "udp_dst")
	case x.proto == 132:
		tp("sctp_src", "sctp_dst")
	case x.ip4 && x.proto == 1:
		byte1("icmp_type", "tp_src")
		byte1("icmp_code", "tp_dst")
	case x.ip6 && x.proto == 58:
		byte1("icmpv6_type", "tp_src")
		byte1("icmpv6_code", "tp_dst")
		if x.nd {
			e.list("nd_reserved", "nd_target")
			e.put("nd_sll", "arp_sha")
			e.put("nd_tll", "arp_tha")
			e.list("nd_options_type")
		}
	}
}
