package oxm

import (
	"bytes"
	"strconv"
	"strings"
)

// slot is one piece of OVS's struct flow and its wildcard mask: the storage
// several fields may share (tp_src holds tcp_src, udp_src and icmp_type).
type slot struct{ v, m []byte }

// flowView is a match seen as OVS's struct match: fields folded into the
// storage they share, so that it can be written back in nx_put_raw's order.
type flowView map[string]*slot

func (fv flowView) set(name string, v, m, cover []byte) {
	s := fv[name]
	if s == nil {
		s = &slot{v: make([]byte, len(v)), m: make([]byte, len(v))}
		fv[name] = s
	}
	if len(s.v) != len(v) { // tun_metadata of another length: replace
		s.v, s.m = make([]byte, len(v)), make([]byte, len(v))
	}
	for k := range v {
		s.m[k] = s.m[k]&^cover[k] | m[k]&cover[k]
		s.v[k] = (s.v[k]&^cover[k] | v[k]&m[k]&cover[k]) & s.m[k]
	}
	if st := storage[name]; st != nil {
		for k := range st {
			s.m[k] &= st[k]
			s.v[k] &= st[k]
		}
	}
}

// storage are the bits OVS's struct flow keeps of fields it stores
// narrower than their OXM width.
var storage = map[string][]byte{
	"ct_state":  {0, 0, 0, 0xff},
	"tun_flags": {0, 1},
	"ip_frag":   {3},
}

// get returns a slot's value and mask, or nil if it is wildcarded.
func (fv flowView) get(name string) *slot {
	s := fv[name]
	if s == nil || (allZero(s.m) && len(s.m) > 0) {
		return nil
	}
	return s
}

func (fv flowView) u(name string) uint64 {
	if s := fv.get(name); s != nil {
		return beUint(s.v)
	}
	return 0
}

// ones returns n 0xff bytes. Callers only read it: up to len(allFF) it is
// a slice of one shared array, so that building a match does not allocate
// a mask per field.
func ones(n int) []byte {
	if n <= len(allFF) {
		return allFF[:n:n]
	}
	return bytes.Repeat([]byte{0xff}, n)
}

var allFF = bytes.Repeat([]byte{0xff}, 128)

// Field names built from an index, made once rather than per match.
var (
	regNames         [16]string
	tunMetadataNames [64]string
)

// RegNames returns reg0 ... reg15, and TunMetadataNames tun_metadata0 ...
// tun_metadata63: the names of the indexed fields, in index order.
func RegNames() []string { return regNames[:] }

// TunMetadataNames: see RegNames.
func TunMetadataNames() []string { return tunMetadataNames[:] }

func init() {
	for k := range regNames {
		regNames[k] = "reg" + strconv.Itoa(k)
	}
	for k := range tunMetadataNames {
		tunMetadataNames[k] = "tun_metadata" + strconv.Itoa(k)
	}
}

// hasTunMetadata says whether any tun_metadata slot is set: most matches
// have none, and looking up 64 names each time would cost more than the
// rest of the match.
func (fv flowView) hasTunMetadata() bool { return fv.families().tunMetadata }

// slotFamilies says which families of slots a view has any of.
type slotFamilies struct{ tun, tunMetadata, nsh, reg, ct bool }

func (fv flowView) families() slotFamilies {
	var f slotFamilies
	for name := range fv {
		switch {
		case strings.HasPrefix(name, "tun_metadata"):
			f.tunMetadata = true
		case strings.HasPrefix(name, "tun_"):
			f.tun = true
		case strings.HasPrefix(name, "nsh_"):
			f.nsh = true
		case strings.HasPrefix(name, "reg"):
			f.reg = true
		case strings.HasPrefix(name, "ct_"):
			f.ct = true
		}
	}
	return f
}

func u16(x uint16) []byte { return []byte{byte(x >> 8), byte(x)} }

// add folds field i = v/m into the view (mf_set_masked's effect on struct
// match).
func (fv flowView) add(i *Info, v, m []byte) {
	n := len(v)
	switch {
	case i.Name[:3] == "xre" || i.Name[:3] == "xxr":
		base, w := 2, "xreg"
		if i.Name[:3] == "xxr" {
			base, w = 4, "xxreg"
		}
		idx, _ := strconv.Atoi(i.Name[len(w):])
		for k := 0; k < base; k++ {
			fv.set(regNames[(idx*base+k)&15], v[4*k:4*k+4], m[4*k:4*k+4], ones(4))
		}
		return
	}
	switch i.Name {
	case "in_port":
		p := Port16To32(uint16(beUint(v)))
		fv.set("in_port_oxm", []byte{byte(p >> 24), byte(p >> 16), byte(p >> 8), byte(p)}, ones(4), ones(4))
	case "vlan_tci":
		fv.set("tci", v, m, ones(2))
	case "vlan_vid":
		fv.set("tci", v, m, u16(0x1fff))
	case "dl_vlan":
		vid := uint16(beUint(v))
		if vid == 0xffff { // OFP10_VLAN_NONE
			fv.set("tci", u16(0), u16(0x1fff), u16(0x1fff))
		} else {
			fv.set("tci", u16(vid&0xfff|0x1000), ones(2), u16(0x1fff))
		}
	case "vlan_pcp", "dl_vlan_pcp":
		fv.set("tci", u16(uint16(v[0]&7)<<13|0x1000), u16(0xf000), u16(0xf000))
	case "nw_tos":
		fv.set("tos", v, m, []byte{0xfc})
	case "ip_dscp":
		fv.set("tos", []byte{v[0] << 2}, []byte{0xfc}, []byte{0xfc})
	case "nw_ecn":
		fv.set("tos", v, m, []byte{0x03})
	case "arp_op":
		fv.set("nw_proto", v[1:], m[1:], ones(1))
	case "arp_spa":
		fv.set("ip_src", v, m, ones(4))
	case "arp_tpa":
		fv.set("ip_dst", v, m, ones(4))
	case "nd_sll":
		fv.set("arp_sha", v, m, ones(6))
	case "nd_tll":
		fv.set("arp_tha", v, m, ones(6))
	case "tcp_src", "udp_src", "sctp_src":
		fv.set("tp_src", v, m, ones(2))
	case "tcp_dst", "udp_dst", "sctp_dst":
		fv.set("tp_dst", v, m, ones(2))
	case "icmp_type", "icmpv6_type":
		fv.set("tp_src", []byte{0, v[0]}, ones(2), ones(2))
	case "icmp_code", "icmpv6_code":
		fv.set("tp_dst", []byte{0, v[0]}, ones(2), ones(2))
	case "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid", "tun_gtpu_flags", "tun_gtpu_msgtype":
		// OVS 3.1's match_set_tun_{erspan,gtpu}_*_masked store the value
		// as the mask: replicate it, since that is what a switch writes.
		fv.set(i.Name, []byte{v[0] & m[0]}, []byte{v[0] & m[0]}, ones(1))
	default:
		fv.set(i.Name, v, m, ones(n))
	}
}

// Set is one field setting for Build: what "name=value/mask" says in
// ovs-ofctl's syntax. Mask nil means exact.
type Set struct {
	Info        *Info
	Value, Mask []byte
}

// Build makes the canonical match (see Normalize) of a list of settings,
// later ones overriding earlier ones. Settings whose value width is wrong
// for the field are ignored.
func Build(sets []Set) Match {
	fv := flowView{}
	for _, s := range sets {
		fv.addSet(s)
	}
	fv.prune()
	return Match{Fields: fv.emit()}
}

func (fv flowView) addSet(s Set) bool {
	i := s.Info
	if i == nil || (!i.VarLen && len(s.Value) != i.Bytes) || (len(s.Value) == 0 && !i.VarLen) ||
		(s.Mask != nil && len(s.Mask) != len(s.Value)) {
		return false
	}
	mask := s.Mask
	if mask == nil {
		mask = ones(len(s.Value))
	}
	fv.add(i, s.Value, mask)
	return true
}

// Normalize puts m in the form OVS writes for it in OpenFlow 1.3 (lib/nx-match.c
// nx_put_raw): fields folded into the flow storage they share (xreg into
// regs, vlan_tci into vlan_vid/vlan_pcp, nw_tos into ip_dscp, in_port into
// in_port_oxm), later fields overriding earlier ones bit by bit, value bits
// outside the mask cleared, wildcarded fields dropped, exact masks removed,
// fields whose prerequisites are not met dropped (as ovs-ofctl's
// ofputil_normalize_match does), in nx_put_raw's order, each under its
// OpenFlow 1.3 header. Unknown fields follow in their original order.
func (m *Match) Normalize() {
	fv := flowView{}
	var unknown []Field
	for _, f := range m.Fields {
		if !fv.addSet(Set{ByField(&f), f.Value, f.Mask}) {
			unknown = append(unknown, f)
		}
	}
	fv.prune()
	m.Fields = append(fv.emit(), unknown...)
}

// View is a match seen as OVS's struct match (flow plus wildcards): the
// storage that fields share, named after the field that owns it ("tp_src"
// for tcp_src, udp_src and icmp_type; "tci" for the VLAN TCI; "tos" for
// nw_tos and nw_ecn; "ip_src" also for arp_spa; "nw_proto" also for
// arp_op; "arp_sha"/"arp_tha" also for nd_sll/nd_tll; "in_port_oxm" for
// in_port; "regN" for xreg and xxreg). It is for formatters.
type View struct{ fv flowView }

// View returns m's view; fields not known are left out.
func (m *Match) View() View {
	fv := flowView{}
	for _, f := range m.Fields {
		fv.addSet(Set{ByField(&f), f.Value, f.Mask})
	}
	return View{fv}
}

// HasTunMetadata says whether any tun_metadataN is matched.
func (v View) HasTunMetadata() bool { return v.fv.hasTunMetadata() }

// Get returns the value and mask of a storage slot, or nils if it is
// wildcarded.
func (v View) Get(name string) (value, mask []byte) {
	if s := v.fv.get(name); s != nil {
		return s.v, s.m
	}
	return nil, nil
}
