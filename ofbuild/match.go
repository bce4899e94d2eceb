// Package ofbuild builds flows, groups and meters in Go, with typed match
// fields and actions, so that a program embedding ofactor needs no
// ovs-ofctl text. What it builds is exactly what package ofctl parses from
// the equivalent text (the tests check this byte for byte), so the two can
// be mixed in one desired state.
//
//	fm, err := ofbuild.Flow(0, 100).
//		Match(ofbuild.InPort(1), ofbuild.IPv4(), ofbuild.IPv4Dst(netip.MustParsePrefix("10.0.0.0/24"))).
//		Apply(ofbuild.SetReg(0, 7), ofbuild.Resubmit(10)).
//		FlowMod()
//
// A field whose prerequisite is not matched (tcp_dst without ip and tcp)
// is an error ("tcp_dst needs tcp or tcp6"), where ovs-ofctl drops the
// field and installs a flow that matches more than was asked; match the
// prerequisites with the protocol shorthands IPv4(), TCP(), ... as in
// ovs-ofctl's "ip", "tcp". A flow of table 254, Open vSwitch's internal
// table, is an error too.
package ofbuild

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Match is one match field setting: what "name=value/mask" says in
// ovs-ofctl's syntax. Protocol shorthands (IPv4, TCP) are several.
type Match struct {
	sets []oxm.Set
	err  error
}

// field makes a Match of field name with value and mask (nil: exact). The
// value and mask have the field's width.
func field(name string, value, mask []byte) Match {
	info := oxm.ByName(name)
	if info == nil {
		return Match{err: fmt.Errorf("match: unknown field %q", name)}
	}
	if len(value) != info.Bytes && !info.VarLen {
		return Match{err: fmt.Errorf("match: %s: value is %d bytes, want %d", name, len(value), info.Bytes)}
	}
	if mask != nil && !info.Maskable {
		return Match{err: fmt.Errorf("match: %s cannot be masked", name)}
	}
	return Match{sets: []oxm.Set{{Info: info, Value: value, Mask: mask}}}
}

func u8(v uint8) []byte   { return []byte{v} }
func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// Field matches any field OVS knows, its value in ovs-ofctl's syntax:
// Field("ct_state", "+trk+est"), Field("tun_metadata0", "0x5/0xff").
func Field(name, value string) Match {
	info := oxm.ByName(name)
	if info == nil {
		return Match{err: fmt.Errorf("match: unknown field %q", name)}
	}
	v, m, err := info.ParseValue(value)
	if err != nil {
		return Match{err: fmt.Errorf("match: %s=%s: %w", name, value, err)}
	}
	return Match{sets: []oxm.Set{{Info: info, Value: v, Mask: m}}}
}

// InPort matches the ingress port (OpenFlow 1.1+ numbering).
func InPort(port uint32) Match { return field("in_port_oxm", u32(port), nil) }

// EthType matches the Ethernet type.
func EthType(t uint16) Match { return field("eth_type", u16(t), nil) }

// EthSrc and EthDst match a MAC address; the Masked forms a masked one.
func EthSrc(mac net.HardwareAddr) Match { return field("eth_src", mac, nil) }

// EthDst matches the destination MAC address.
func EthDst(mac net.HardwareAddr) Match { return field("eth_dst", mac, nil) }

// EthSrcMasked matches the source MAC address under mask.
func EthSrcMasked(mac, mask net.HardwareAddr) Match { return field("eth_src", mac, mask) }

// EthDstMasked matches the destination MAC address under mask, e.g. the
// multicast bit: EthDstMasked(01:00:00:00:00:00, 01:00:00:00:00:00).
func EthDstMasked(mac, mask net.HardwareAddr) Match { return field("eth_dst", mac, mask) }

// VLANVID matches 802.1Q VLAN vid (OFPVID_PRESENT is added).
func VLANVID(vid uint16) Match { return field("vlan_vid", u16(vid|0x1000), nil) }

// IPProto matches the IP protocol (ovs-ofctl's nw_proto).
func IPProto(p uint8) Match { return field("ip_proto", u8(p), nil) }

// Protocol shorthands, as ovs-ofctl's "ip", "ipv6", "arp", "tcp", ...
func IPv4() Match { return EthType(0x0800) }

// IPv6 is ovs-ofctl's "ipv6".
func IPv6() Match { return EthType(0x86dd) }

// ARP is ovs-ofctl's "arp".
func ARP() Match { return EthType(0x0806) }

// TCP is ovs-ofctl's "tcp" (IPv4); UDP "udp", ICMP "icmp".
func TCP() Match { return All(IPv4(), IPProto(6)) }

// UDP is ovs-ofctl's "udp".
func UDP() Match { return All(IPv4(), IPProto(17)) }

// ICMP is ovs-ofctl's "icmp".
func ICMP() Match { return All(IPv4(), IPProto(1)) }

// TCP6 is ovs-ofctl's "tcp6"; UDP6 "udp6".
func TCP6() Match { return All(IPv6(), IPProto(6)) }

// UDP6 is ovs-ofctl's "udp6".
func UDP6() Match { return All(IPv6(), IPProto(17)) }

// All combines matches into one.
func All(ms ...Match) Match {
	var out Match
	for _, m := range ms {
		if m.err != nil && out.err == nil {
			out.err = m.err
		}
		out.sets = append(out.sets, m.sets...)
	}
	return out
}

// prefix matches an address prefix: exact for a full-length prefix.
func prefix(name string, p netip.Prefix, bytes int) Match {
	if !p.IsValid() || p.Addr().BitLen() != bytes*8 {
		return Match{err: fmt.Errorf("match: %s: %v is not an IPv%d prefix", name, p, map[int]int{4: 4, 16: 6}[bytes])}
	}
	p = p.Masked()
	v := p.Addr().AsSlice()
	if p.Bits() == bytes*8 {
		return field(name, v, nil)
	}
	mask := net.CIDRMask(p.Bits(), bytes*8)
	return field(name, v, mask)
}

// IPv4Src matches the IPv4 source (nw_src); a /32 is exact. Needs IPv4().
func IPv4Src(p netip.Prefix) Match { return prefix("ip_src", p, 4) }

// IPv4Dst matches the IPv4 destination (nw_dst). Needs IPv4().
func IPv4Dst(p netip.Prefix) Match { return prefix("ip_dst", p, 4) }

// IPv6Src matches the IPv6 source. Needs IPv6().
func IPv6Src(p netip.Prefix) Match { return prefix("ipv6_src", p, 16) }

// IPv6Dst matches the IPv6 destination. Needs IPv6().
func IPv6Dst(p netip.Prefix) Match { return prefix("ipv6_dst", p, 16) }

// ARPSpa and ARPTpa match ARP's sender and target protocol addresses.
func ARPSpa(p netip.Prefix) Match { return prefix("arp_spa", p, 4) }

// ARPTpa matches ARP's target protocol address.
func ARPTpa(p netip.Prefix) Match { return prefix("arp_tpa", p, 4) }

// ARPOp matches the ARP opcode (1 request, 2 reply).
func ARPOp(op uint16) Match { return field("arp_op", u16(op), nil) }

// TCPSrc, TCPDst, UDPSrc, UDPDst match L4 ports. They need TCP() or UDP().
func TCPSrc(port uint16) Match { return field("tcp_src", u16(port), nil) }

// TCPDst matches the TCP destination port.
func TCPDst(port uint16) Match { return field("tcp_dst", u16(port), nil) }

// UDPSrc matches the UDP source port.
func UDPSrc(port uint16) Match { return field("udp_src", u16(port), nil) }

// UDPDst matches the UDP destination port.
func UDPDst(port uint16) Match { return field("udp_dst", u16(port), nil) }

// ICMPType matches the ICMPv4 type; needs ICMP().
func ICMPType(t uint8) Match { return field("icmp_type", u8(t), nil) }

// Metadata matches the whole metadata register; MetadataMasked some bits.
func Metadata(v uint64) Match { return field("metadata", u64(v), nil) }

// MetadataMasked matches the metadata bits in mask.
func MetadataMasked(v, mask uint64) Match { return field("metadata", u64(v), u64(mask)) }

// Reg matches 32-bit register n (reg0 ... reg15).
func Reg(n int, v uint32) Match { return field(fmt.Sprintf("reg%d", n), u32(v), nil) }

// RegMasked matches the bits of register n in mask.
func RegMasked(n int, v, mask uint32) Match {
	return field(fmt.Sprintf("reg%d", n), u32(v), u32(mask))
}

// TunID matches the tunnel ID (VNI).
func TunID(id uint64) Match { return field("tun_id", u64(id), nil) }

// CTState matches the conntrack state in ovs-ofctl's flag syntax:
// CTState("+trk+est-rel").
func CTState(flags string) Match { return Field("ct_state", flags) }

// CTZone matches the conntrack zone.
func CTZone(zone uint16) Match { return field("ct_zone", u16(zone), nil) }

// CTMark matches the conntrack mark bits in mask (0xffffffff: exact).
func CTMark(v, mask uint32) Match {
	if mask == 0xffffffff {
		return field("ct_mark", u32(v), nil)
	}
	return field("ct_mark", u32(v), u32(mask))
}
