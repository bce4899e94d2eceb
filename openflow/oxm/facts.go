package oxm

// Facts is what OVS's checks of a flow (mf_are_match_prereqs_ok, and
// ofpacts_check on its actions) read of the flow's match: the values of
// struct flow they test and the masks they need. Actions that change the
// packet (push_mpls, decap, push_vlan) change the Facts their successors
// are checked against.
type Facts struct {
	PacketType uint32 // 0: Ethernet
	DLType     uint16 // flow->dl_type, the Ethernet type of an Ethernet packet
	NwProto    uint8
	NwFrag     uint8
	TpSrc      uint16
	TpDst      uint16
	TCI        uint16 // vlans[0].tci: VLAN present when CFI (0x1000) is set
	CTState    uint32
	CTMask     uint32
}

// Packet types (include/openvswitch/packets.h PT_*).
const (
	PTEth     = 0x00000000
	PTNSH     = 0x0001894f
	PTUnknown = 0xffffffff
)

// Facts returns the facts of m, as checked in OpenFlow 1.3 (Normalize's
// reading of it).
func (m *Match) Facts() Facts {
	fv := borrowView()
	defer fv.release()
	for k := range m.Fields {
		f := &m.Fields[k]
		fv.addSet(Set{Info: ByField(f), Value: f.Value, Mask: f.Mask})
	}
	return fv.facts()
}

func (fv *flowView) facts() Facts {
	var f Facts
	f.PacketType = uint32(fv.u(slotPacketType))
	f.DLType = uint16(fv.u(slotEthType))
	f.NwProto = uint8(fv.u(slotNwProto))
	f.NwFrag = uint8(fv.u(slotIPFrag))
	f.TpSrc, f.TpDst = uint16(fv.u(slotTpSrc)), uint16(fv.u(slotTpDst))
	f.TCI = uint16(fv.u(slotTCI))
	if v, m := fv.get(slotCTState); v != nil {
		f.CTState, f.CTMask = uint32(beUint(v)), uint32(beUint(m))
	}
	return f
}

// EffectiveDLType is OVS's get_dl_type: the Ethernet type of an Ethernet
// packet, the type of a packet_type (1,TYPE), else none (0).
func (f *Facts) EffectiveDLType() uint16 {
	switch {
	case f.PacketType == PTEth:
		return f.DLType
	case f.PacketType>>16 == 1:
		return uint16(f.PacketType)
	}
	return 0
}

// IsIPAny reports an IPv4 or IPv6 packet.
func (f *Facts) IsIPAny() bool {
	dl := f.EffectiveDLType()
	return dl == 0x0800 || dl == 0x86dd
}

// VLAN reports that the packet has an 802.1Q header.
func (f *Facts) VLAN() bool { return f.TCI&0x1000 != 0 }

// CTValid is is_ct_valid for a match: it matches a bit that implies a
// valid conntrack entry, or an explicit not-invalid.
func (f *Facts) CTValid() bool {
	return f.CTState&0xcf != 0 || f.CTState&0x20 != 0 && f.CTMask&0x10 != 0 && f.CTState&0x10 == 0
}

func (f *Facts) nd() bool {
	return f.IsIPAny() && f.EffectiveDLType() == 0x86dd && f.NwProto == 58 && f.TpDst == 0 &&
		(f.TpSrc == 135 || f.TpSrc == 136)
}

// PrereqOK is mf_are_match_prereqs_ok: whether the packet meets p.
func (f *Facts) PrereqOK(p Prereq) bool {
	dl := f.EffectiveDLType()
	later := f.NwFrag&2 != 0 // FLOW_NW_FRAG_LATER
	ip := dl == 0x0800 || dl == 0x86dd
	switch p {
	case PrereqNone:
		return true
	case PrereqEthernet:
		return f.PacketType == PTEth
	case PrereqARP:
		return dl == 0x0806 || dl == 0x8035
	case PrereqIPv4:
		return dl == 0x0800
	case PrereqIPv6:
		return dl == 0x86dd
	case PrereqIPAny:
		return ip
	case PrereqVLANVID:
		return f.PacketType == PTEth && f.VLAN()
	case PrereqMPLS:
		return dl == 0x8847 || dl == 0x8848
	case PrereqNSH:
		return dl == 0x894f
	case PrereqCT:
		return f.CTValid()
	case PrereqTCP:
		return ip && f.NwProto == 6 && !later
	case PrereqUDP:
		return ip && f.NwProto == 17 && !later
	case PrereqSCTP:
		return ip && f.NwProto == 132 && !later
	case PrereqICMPv4:
		return dl == 0x0800 && f.NwProto == 1
	case PrereqICMPv6:
		return dl == 0x86dd && f.NwProto == 58
	case PrereqND:
		return f.nd()
	case PrereqNDSolicit:
		return f.nd() && f.TpSrc == 135
	case PrereqNDAdvert:
		return f.nd() && f.TpSrc == 136
	}
	return false
}

// Describe says what prerequisite p needs, in ovs-ofctl's words, for
// messages ("tcp_dst needs tcp").
func (p Prereq) Describe() string {
	switch p {
	case PrereqEthernet:
		return "an Ethernet packet"
	case PrereqARP:
		return "arp or rarp"
	case PrereqVLANVID:
		return "a VLAN header (vlan_tci=0x1000/0x1000 or dl_vlan)"
	case PrereqIPv4:
		return "ip"
	case PrereqIPv6:
		return "ipv6"
	case PrereqIPAny:
		return "ip or ipv6"
	case PrereqMPLS:
		return "mpls or mplsm"
	case PrereqTCP:
		return "tcp or tcp6"
	case PrereqUDP:
		return "udp or udp6"
	case PrereqSCTP:
		return "sctp or sctp6"
	case PrereqICMPv4:
		return "icmp"
	case PrereqICMPv6:
		return "icmp6"
	case PrereqND:
		return "icmp6 with icmp_type=135 or 136 and icmp_code=0"
	case PrereqNDSolicit:
		return "icmp6,icmp_type=135,icmp_code=0"
	case PrereqNDAdvert:
		return "icmp6,icmp_type=136,icmp_code=0"
	case PrereqNSH:
		return "dl_type=0x894f"
	case PrereqCT:
		return "a tracked connection (ct_state=+trk with +new, +est, +rel, +rpl, +snat, +dnat or -inv)"
	}
	return "nothing"
}

// Write records in f a learned flow's match on field i of value v (the
// field's width, or fewer low-order bytes) in the bits of mask m (nil: all),
// as mf_write_subfield_value does to the match learn_check builds.
func (f *Facts) Write(i *Info, v, m []byte) {
	get := func(n int) (uint64, uint64) {
		var x, y uint64
		for k := max(0, len(v)-n); k < len(v); k++ {
			x = x<<8 | uint64(v[k])
			if m == nil {
				y = y<<8 | 0xff
			} else {
				y = y<<8 | uint64(m[k])
			}
		}
		return x, y
	}
	id, kind, _ := i.fold()
	switch {
	case id == slotEthType:
		x, y := get(2)
		f.DLType = uint16(uint64(f.DLType)&^y | x&y)
	case id == slotNwProto || kind == kindARPOp:
		x, y := get(1)
		f.NwProto = uint8(uint64(f.NwProto)&^y | x&y)
	case kind == kindTpSrc || kind == kindICMPType:
		x, y := get(2)
		f.TpSrc = uint16(uint64(f.TpSrc)&^y | x&y)
	case kind == kindTpDst || kind == kindICMPCode:
		x, y := get(2)
		f.TpDst = uint16(uint64(f.TpDst)&^y | x&y)
	case kind == kindVLANTCI:
		x, y := get(2)
		f.TCI = uint16(uint64(f.TCI)&^y | x&y)
	case kind == kindVLANVID, kind == kindDlVLAN:
		f.TCI |= 0x1000
	case id == slotPacketType:
		x, y := get(4)
		f.PacketType = uint32(uint64(f.PacketType)&^y | x&y)
	case id == slotCTState:
		x, y := get(4)
		f.CTState = uint32(uint64(f.CTState)&^y | x&y)
		f.CTMask |= uint32(y)
	}
}
