package ofctl

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// format follows lib/match.c match_format field by field.
func (f *matchFormatter) format() {
	v := f.v
	f.hexMasked("pkt_mark", "pkt_mark")
	f.hexMasked("recirc_id", "recirc_id")
	f.hexMasked("dp_hash", "dp_hash")
	if x, _ := v.Get("conj_id"); x != nil {
		f.b = fmt.Appendf(f.b, "conj_id=%d,", be(x))
	}
	f.value("actset_output", "actset_output", "actset_output")
	f.value("ct_state", "ct_state", "ct_state")
	f.decMasked("ct_zone", "ct_zone")
	f.hexMasked("ct_mark", "ct_mark")
	f.value("ct_label", "ct_label", "ct_label")
	f.value("ct_nw_src", "ct_nw_src", "ct_nw_src")
	f.value("ct_ipv6_src", "ct_ipv6_src", "ct_ipv6_src")
	f.value("ct_nw_dst", "ct_nw_dst", "ct_nw_dst")
	f.value("ct_ipv6_dst", "ct_ipv6_dst", "ct_ipv6_dst")
	if x, _ := v.Get("ct_nw_proto"); x != nil {
		f.b = fmt.Appendf(f.b, "ct_nw_proto=%d,", x[0])
		f.decMasked("ct_tp_src", "ct_tp_src")
		f.decMasked("ct_tp_dst", "ct_tp_dst")
	}
	if x, m := v.Get("packet_type"); x != nil && be(x) != 0 {
		f.b = append(oxm.AppendPacketType(append(f.b, "packet_type="...), uint32(be(x)), uint32(be(m))), ',')
	} else if f.megaflowEth() {
		f.b = append(f.b, "eth,"...)
	}
	dlType := -1
	if dl, ok := v.DLType(); ok {
		dlType = int(dl)
	}
	proto := -1
	if x, _ := v.Get("nw_proto"); x != nil {
		proto = int(x[0])
	}
	skipType, skipProto := false, false
	if x, _ := v.Get("eth_type"); x != nil {
		// A packet_type (1,TYPE) says the type; only an eth_type is
		// printed as one.
		skipType, skipProto = f.shorthand(dlType, proto)
	}
	for _, r := range oxm.RegNames() {
		f.hexMasked(r, r)
	}
	f.tunnel()
	f.hexMasked("metadata", "metadata")
	f.value("in_port", "in_port_oxm", "in_port_oxm")
	f.vlan()
	f.value("dl_src", "eth_src", "eth_src")
	f.value("dl_dst", "eth_dst", "eth_dst")
	if x, _ := v.Get("eth_type"); !skipType && x != nil {
		f.b = fmt.Appendf(f.b, "dl_type=0x%04x,", dlType)
	}
	f.l3(dlType, proto, skipProto)
}

// shorthand prints "ip", "tcp6", "arp"... and reports whether dl_type and
// nw_proto are thereby printed.
func (f *matchFormatter) shorthand(dlType, proto int) (skipType, skipProto bool) {
	var name string
	switch dlType {
	case 0x0800:
		name = map[int]string{1: "icmp", 6: "tcp", 17: "udp", 132: "sctp"}[proto]
		if name == "" {
			name = "ip"
		}
	case 0x86dd:
		name = map[int]string{58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6"}[proto]
		if name == "" {
			name = "ipv6"
		}
	case 0x0806:
		name = "arp"
	case 0x8035:
		name = "rarp"
	case 0x8847:
		name = "mpls"
	case 0x8848:
		name = "mplsm"
	default:
		return false, false
	}
	f.b = append(append(f.b, name...), ',')
	return true, name != "ip" && name != "ipv6" && name != "arp" && name != "rarp" &&
		name != "mpls" && name != "mplsm"
}

func (f *matchFormatter) tunnel() {
	f.hexMasked("tun_id", "tun_id")
	f.value("tun_src", "tun_src", "tun_src")
	f.value("tun_dst", "tun_dst", "tun_dst")
	f.value("tun_ipv6_src", "tun_ipv6_src", "tun_ipv6_src")
	f.value("tun_ipv6_dst", "tun_ipv6_dst", "tun_ipv6_dst")
	f.decMasked("tun_gbp_id", "tun_gbp_id")
	if x, _ := f.v.Get("tun_gbp_flags"); x != nil {
		f.b = append(cHex(append(f.b, "tun_gbp_flags="...), uint64(x[0])), ',')
	}
	var ver byte
	if x, _ := f.v.Get("tun_erspan_ver"); x != nil {
		ver = x[0]
		f.b = fmt.Appendf(f.b, "tun_erspan_ver=%d,", ver)
	}
	if x, _ := f.v.Get("tun_erspan_idx"); x != nil && ver == 1 {
		f.b = append(cHex(append(f.b, "tun_erspan_idx="...), be(x)), ',')
	}
	if x, _ := f.v.Get("tun_erspan_dir"); x != nil && ver == 2 {
		f.b = fmt.Appendf(f.b, "tun_erspan_dir=%d,", x[0])
	}
	if x, _ := f.v.Get("tun_erspan_hwid"); x != nil && ver == 2 {
		f.b = append(cHex(append(f.b, "tun_erspan_hwid="...), uint64(x[0])), ',')
	}
	// OVS 3.1 prints these two without the "tun_" its parser wants.
	if x, _ := f.v.Get("tun_gtpu_flags"); x != nil {
		f.b = append(cHex(append(f.b, "gtpu_flags="...), uint64(x[0])), ',')
	}
	if x, _ := f.v.Get("tun_gtpu_msgtype"); x != nil {
		f.b = fmt.Appendf(f.b, "gtpu_msgtype=%d,", x[0])
	}
	f.value("tun_flags", "tun_flags", "tun_flags")
	if !f.v.HasTunMetadata() {
		return
	}
	for _, n := range oxm.TunMetadataNames() {
		x, m := f.v.Get(n)
		if x == nil {
			continue
		}
		// tun_metadata_match_format: a masked field with an all-zero
		// mask matches only the option's presence, and prints bare.
		if f.v.VarMasked(n) && allZeroB(m) {
			f.b = append(append(f.b, n...), ',')
			continue
		}
		f.key(n)
		f.b = oxm.AppendHex(f.b, x)
		if !isOnes(m) {
			f.b = oxm.AppendHex(append(f.b, '/'), m)
		}
		f.b = append(f.b, ',')
	}
}

func (f *matchFormatter) vlan() {
	x, mb := f.v.Get("tci")
	if x == nil {
		return
	}
	tci, m := uint16(be(x)), uint16(be(mb))
	vidM, pcpM, cfi := m&0x0fff, m&0xe000, m&0x1000
	switch {
	case cfi != 0 && tci&0x1000 != 0 && (vidM == 0 || vidM == 0x0fff) &&
		(pcpM == 0 || pcpM == 0xe000) && (vidM != 0 || pcpM != 0):
		if vidM != 0 {
			f.b = fmt.Appendf(f.b, "dl_vlan=%d,", tci&0xfff)
		}
		if pcpM != 0 {
			f.b = fmt.Appendf(f.b, "dl_vlan_pcp=%d,", tci>>13)
		}
	case m == 0xffff:
		f.b = fmt.Appendf(f.b, "vlan_tci=0x%04x,", tci)
	default:
		f.b = fmt.Appendf(f.b, "vlan_tci=0x%04x/0x%04x,", tci, m)
	}
}

func (f *matchFormatter) l3(dlType, proto int, skipProto bool) {
	v := f.v
	arp := dlType == 0x0806 || dlType == 0x8035
	switch {
	case dlType == 0x86dd:
		f.value("ipv6_src", "ipv6_src", "ipv6_src")
		f.value("ipv6_dst", "ipv6_dst", "ipv6_dst")
		if x, m := v.Get("ipv6_label"); x != nil {
			if isOnes(m) {
				f.b = fmt.Appendf(f.b, "ipv6_label=0x%05x,", be(x))
			} else {
				f.b = fmt.Appendf(f.b, "ipv6_label=0x%05x/0x%05x,", be(x), be(m))
			}
		}
	case arp:
		f.value("arp_spa", "ip_src", "ip_src")
		f.value("arp_tpa", "ip_dst", "ip_dst")
	case dlType == 0x894f:
		for _, n := range []string{"nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi",
			"nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4"} {
			f.value(n, n, n)
		}
	default:
		f.value("nw_src", "ip_src", "ip_src")
		f.value("nw_dst", "ip_dst", "ip_dst")
	}
	if !skipProto && proto >= 0 {
		if arp {
			f.b = fmt.Appendf(f.b, "arp_op=%d,", proto)
		} else {
			f.b = fmt.Appendf(f.b, "nw_proto=%d,", proto)
		}
	}
	if arp {
		f.value("arp_sha", "arp_sha", "arp_sha")
		f.value("arp_tha", "arp_tha", "arp_tha")
	}
	if x, m := v.Get("tos"); x != nil {
		if m[0]&0xfc != 0 {
			f.b = fmt.Appendf(f.b, "nw_tos=%d,", x[0]&0xfc)
		}
		if m[0]&3 != 0 {
			f.b = fmt.Appendf(f.b, "nw_ecn=%d,", x[0]&3)
		}
	}
	if x, _ := v.Get("nw_ttl"); x != nil {
		f.b = fmt.Appendf(f.b, "nw_ttl=%d,", x[0])
	}
	for _, n := range []string{"mpls_label", "mpls_tc", "mpls_ttl", "mpls_bos"} {
		if x, _ := v.Get(n); x != nil {
			f.b = fmt.Appendf(f.b, "%s=%d,", n, be(x))
		}
	}
	if x, m := v.Get("ip_frag"); x != nil {
		f.b = fmt.Appendf(f.b, "nw_frag=%s,", oxm.FragName(x[0], m[0]))
	}
	f.l4(dlType, proto)
}

func (f *matchFormatter) l4(dlType, proto int) {
	switch {
	case dlType == 0x0800 && proto == 1:
		f.decMasked("icmp_type", "tp_src")
		f.decMasked("icmp_code", "tp_dst")
	case dlType == 0x86dd && proto == 58:
		f.decMasked("icmp_type", "tp_src")
		f.decMasked("icmp_code", "tp_dst")
		f.value("nd_target", "nd_target", "nd_target")
		f.value("nd_sll", "arp_sha", "arp_sha")
		f.value("nd_tll", "arp_tha", "arp_tha")
		if x, _ := f.v.Get("nd_reserved"); x != nil {
			f.b = fmt.Appendf(f.b, "nd_reserved=%d,", be(x))
		}
		if x, _ := f.v.Get("nd_options_type"); x != nil {
			f.b = fmt.Appendf(f.b, "nd_options_type=%d,", x[0])
		}
	default:
		f.decMasked("tp_src", "tp_src")
		f.decMasked("tp_dst", "tp_dst")
	}
	if (dlType == 0x0800 || dlType == 0x86dd) && proto == 6 {
		f.value("tcp_flags", "tcp_flags", "tcp_flags")
	}
}

// megaflowEth reports whether match_format would print the default packet
// type "eth": it does so for a match on recirc_id (a megaflow) whose
// decoding set the packet type, i.e. one with an Ethernet-layer field.
func (f *matchFormatter) megaflowEth() bool {
	if x, _ := f.v.Get("recirc_id"); x == nil {
		return false
	}
	for _, n := range []string{"eth_src", "eth_dst", "eth_type", "tci"} {
		if x, _ := f.v.Get(n); x != nil {
			return true
		}
	}
	return false
}

func allZeroB(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
