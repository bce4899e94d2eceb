package oxm

import (
	"strconv"
	"strings"
)

// slotID numbers a storage slot of the flowView (a piece of OVS's struct
// flow). Names are resolved to ids once, at init, so that building a match
// looks nothing up by name. 0 is no slot.
type slotID uint16

// maxSlots bounds the slot ids, for flowView's bitmap of them.
const maxSlots = 256

// slotMeta is what the flowView needs to know of a slot.
type slotMeta struct {
	name    string
	family  slotFamilies
	storage []byte // the bits struct flow keeps, or nil for all
}

var (
	slotByName = map[string]slotID{}
	slotMetas  = []slotMeta{{}} // indexed by slotID; 0 unused
)

// storage are the bits OVS's struct flow keeps of fields it stores
// narrower than their OXM width.
var storage = map[string][]byte{
	"ct_state":  {0, 0, 0, 0xff},
	"tun_flags": {0, 1},
	"ip_frag":   {3},
}

// sid returns the id of slot name, making one if it has none. Only init
// code calls it (it writes shared tables).
func sid(name string) slotID {
	if id, ok := slotByName[name]; ok {
		return id
	}
	id := slotID(len(slotMetas))
	if id >= maxSlots {
		panic("oxm: more than maxSlots slots") // init only: the registry grew
	}
	slotByName[name] = id
	slotMetas = append(slotMetas, slotMeta{name: name, family: familyOf(name), storage: storage[name]})
	return id
}

// slotFamilies says which families of slots a view has any of: most
// matches have none of them, and emit skips their lists whole.
type slotFamilies struct{ tun, tunMetadata, nsh, reg, ct bool }

func (f *slotFamilies) or(g slotFamilies) {
	f.tun = f.tun || g.tun
	f.tunMetadata = f.tunMetadata || g.tunMetadata
	f.nsh = f.nsh || g.nsh
	f.reg = f.reg || g.reg
	f.ct = f.ct || g.ct
}

func familyOf(name string) slotFamilies {
	var f slotFamilies
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
	return f
}

// Field names built from an index, made once rather than per match.
var (
	regNames         [16]string
	tunMetadataNames [64]string
	regSlots         [16]slotID
)

// RegNames returns reg0 ... reg15, and TunMetadataNames tun_metadata0 ...
// tun_metadata63: the names of the indexed fields, in index order.
func RegNames() []string { return regNames[:] }

// TunMetadataNames: see RegNames.
func TunMetadataNames() []string { return tunMetadataNames[:] }

// initNames fills the indexed names; initSlots calls it first, as fields.go's
// init runs before an init of this file would.
func initNames() {
	for k := range regNames {
		regNames[k] = "reg" + strconv.Itoa(k)
		regSlots[k] = sid(regNames[k])
	}
	for k := range tunMetadataNames {
		tunMetadataNames[k] = "tun_metadata" + strconv.Itoa(k)
	}
}

// Slots that add and emit name, besides each field's own.
var (
	slotTCI        = sid("tci")
	slotTOS        = sid("tos")
	slotInPortOXM  = sid("in_port_oxm")
	slotNwProto    = sid("nw_proto")
	slotIPSrc      = sid("ip_src")
	slotIPDst      = sid("ip_dst")
	slotARPSHA     = sid("arp_sha")
	slotARPTHA     = sid("arp_tha")
	slotTpSrc      = sid("tp_src")
	slotTpDst      = sid("tp_dst")
	slotEthType    = sid("eth_type")
	slotCTNwProto  = sid("ct_nw_proto")
	slotPacketType = sid("packet_type")
	slotCTState    = sid("ct_state")
	slotIPFrag     = sid("ip_frag")
)

// fieldKind is how add folds a field into the view: the cases of
// mf_set_masked that do more than store the field under its own name.
type fieldKind uint8

const (
	kindPlain fieldKind = iota
	kindXReg
	kindXXReg
	kindInPort
	kindVLANTCI
	kindVLANVID
	kindDlVLAN
	kindVLANPCP
	kindNwTOS
	kindIPDSCP
	kindNwECN
	kindARPOp
	kindARPSPA
	kindARPTPA
	kindNDSLL
	kindNDTLL
	kindTpSrc
	kindTpDst
	kindICMPType
	kindICMPCode
	kindValueAsMask
)

var fieldKinds = map[string]fieldKind{
	"in_port": kindInPort, "vlan_tci": kindVLANTCI, "vlan_vid": kindVLANVID,
	"dl_vlan": kindDlVLAN, "vlan_pcp": kindVLANPCP, "dl_vlan_pcp": kindVLANPCP,
	"nw_tos": kindNwTOS, "ip_dscp": kindIPDSCP, "nw_ecn": kindNwECN,
	"arp_op": kindARPOp, "arp_spa": kindARPSPA, "arp_tpa": kindARPTPA,
	"nd_sll": kindNDSLL, "nd_tll": kindNDTLL,
	"tcp_src": kindTpSrc, "udp_src": kindTpSrc, "sctp_src": kindTpSrc,
	"tcp_dst": kindTpDst, "udp_dst": kindTpDst, "sctp_dst": kindTpDst,
	"icmp_type": kindICMPType, "icmpv6_type": kindICMPType,
	"icmp_code": kindICMPCode, "icmpv6_code": kindICMPCode,
	"tun_erspan_ver": kindValueAsMask, "tun_erspan_dir": kindValueAsMask,
	"tun_erspan_hwid": kindValueAsMask, "tun_gtpu_flags": kindValueAsMask,
	"tun_gtpu_msgtype": kindValueAsMask,
}

// initSlots gives every registered field its slot and kind; fields.go's
// init calls it once the registry is filled.
func initSlots(all []Info) {
	initNames()
	for k := range all {
		i := &all[k]
		i.slot = sid(i.Name)
		i.kind = fieldKinds[i.Name]
		switch {
		case strings.HasPrefix(i.Name, "xxreg"):
			i.kind = kindXXReg
			i.index, _ = strconv.Atoi(i.Name[len("xxreg"):])
		case strings.HasPrefix(i.Name, "xreg"):
			i.kind = kindXReg
			i.index, _ = strconv.Atoi(i.Name[len("xreg"):])
		}
	}
	initEmit()
}
