package oxm

import (
	"bytes"
	"strings"
)

// l3 summarises what the match's eth_type and ip_proto allow, as
// ofputil_normalize_match (lib/ofp-match.c) reads them.
type l3 struct {
	ip4, ip6, arp, mpls, nsh bool
	proto                    int // -1 if wildcarded
	l4, nd                   bool
	icmpType                 uint64
}

func (fv *flowView) layers() l3 {
	var x l3
	x.proto = -1
	if dl, ok := fv.dlType(); ok {
		switch dl {
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
	if v, _ := fv.get(slotNwProto); v != nil && (x.ip4 || x.ip6 || x.arp) {
		x.proto = int(v[0])
	}
	switch {
	case (x.ip4 || x.ip6) && (x.proto == 6 || x.proto == 17 || x.proto == 132):
		x.l4 = true
	case x.ip4 && x.proto == 1:
		x.l4 = true
	case x.ip6 && x.proto == 58:
		x.l4 = true
		x.icmpType = fv.u(slotTpSrc)
		x.nd = (x.icmpType == 135 || x.icmpType == 136) && fv.u(slotTpDst) == 0
	}
	return x
}

// dlType is OVS's get_dl_type: the Ethernet type of a match on Ethernet
// packets (packet_type (0,0), or none matched), the type of a packet_type
// (1,TYPE), nothing for another packet type or no eth_type.
func (fv *flowView) dlType() (uint16, bool) {
	if v, _ := fv.get(slotPacketType); v != nil && beUint(v) != 0 {
		if v[0] == 0 && v[1] == 1 { // OFPHTN_ETHERTYPE
			return uint16(v[2])<<8 | uint16(v[3]), true
		}
		return 0, false
	}
	if v, m := fv.get(slotEthType); v != nil && allOnes(m) {
		return uint16(beUint(v)), true
	}
	return 0, false
}

// defaultPT says whether the view matches the default packet type,
// Ethernet (match_has_default_packet_type).
func (fv *flowView) defaultPT() bool {
	v, m := fv.get(slotPacketType)
	return v != nil && beUint(v) == 0 && allOnes(m)
}

// Slot lists of prune, resolved once.
var (
	pruneNwProto = sids("nw_proto")
	pruneIP4     = sids("ip_src", "ip_dst")
	pruneIP6     = sids("ipv6_src", "ipv6_dst", "ipv6_label")
	pruneIP      = sids("tos", "nw_ttl", "ip_frag")
	pruneL4      = sids("tp_src", "tp_dst")
	pruneTCP     = sids("tcp_flags")
	pruneARPSHA  = sids("arp_sha")
	pruneARPTHA  = sids("arp_tha")
	pruneND      = sids("nd_target", "nd_reserved", "nd_options_type")
	pruneMPLS    = sids("mpls_label", "mpls_tc", "mpls_bos", "mpls_ttl")
)

func sids(names ...string) []slotID {
	out := make([]slotID, len(names))
	for k, n := range names {
		out[k] = sid(n)
	}
	return out
}

// prune drops what ofputil_normalize_match would: fields whose layer the
// match's eth_type and ip_proto do not select.
func (fv *flowView) prune() {
	x := fv.layers()
	ip := x.ip4 || x.ip6
	drop := func(ok bool, ids []slotID) {
		if !ok {
			fv.drop(ids)
		}
	}
	drop(ip || x.arp, pruneNwProto)
	drop(x.ip4 || x.arp, pruneIP4)
	drop(x.ip6, pruneIP6)
	drop(ip, pruneIP)
	drop(x.l4, pruneL4)
	drop(ip && x.proto == 6, pruneTCP)
	drop(x.arp || (x.nd && x.icmpType == 135), pruneARPSHA)
	drop(x.arp || (x.nd && x.icmpType == 136), pruneARPTHA)
	drop(x.nd, pruneND)
	drop(x.mpls, pruneMPLS)
	// NSH fields are written whatever the match's type (nx_put_raw), and
	// a switch refuses them without dl_type=0x894f.
}

// emitEntry writes slot under field as's OpenFlow 1.3 header.
type emitEntry struct {
	as   *Info
	slot slotID
}

// entries resolves "name" (a field under its own slot) and "as=slot".
func entries(names ...string) []emitEntry {
	out := make([]emitEntry, len(names))
	for k, n := range names {
		as, sl, ok := strings.Cut(n, "=")
		if !ok {
			sl = as
		}
		out[k] = emitEntry{byName[as], sid(sl)}
	}
	return out
}

// The lists of emit, resolved by initEmit once the registry is filled.
var (
	emHead, emMPLS, emARP, emTun, emTunMetadata, emTunNSH, emReg, emPktMark []emitEntry
	emCT, emCTTp, emMetadata, emIP4, emIP6, emIPFrag, emTTL, emNwProto      []emitEntry
	emTCP, emUDP, emSCTP, emND                                              []emitEntry

	infoVLANVID, infoVLANPCP, infoARPOp, infoIPDSCP, infoNwECN *Info
	infoICMPType, infoICMPCode, infoICMPv6Type, infoICMPv6Code *Info
	infoIPFrag, infoPacketType                                 *Info
	emXReg                                                     []emitEntry
)

func initEmit() {
	emHead = entries("dp_hash", "recirc_id", "conj_id", "in_port_oxm",
		"actset_output", "eth_src", "eth_dst", "eth_type")
	emXReg = entries("xreg0", "xreg1", "xreg2", "xreg3", "xreg4", "xreg5", "xreg6", "xreg7")
	infoPacketType = byName["packet_type"]
	emMPLS = entries("mpls_tc", "mpls_bos", "mpls_ttl", "mpls_label")
	emARP = entries("arp_spa=ip_src", "arp_tpa=ip_dst", "arp_sha", "arp_tha")
	emTun = entries("tun_id", "tun_flags", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst",
		"tun_gbp_id", "tun_gbp_flags")
	emTunMetadata = entries(tunMetadataNames[:]...)
	emTunNSH = entries("tun_erspan_idx", "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid",
		"tun_gtpu_flags", "tun_gtpu_msgtype", "nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np",
		"nsh_spi", "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4")
	emReg = entries(regNames[:]...)
	emPktMark = entries("pkt_mark")
	emCT = entries("ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_src",
		"ct_ipv6_src", "ct_nw_dst", "ct_ipv6_dst")
	emCTTp = entries("ct_nw_proto", "ct_tp_src", "ct_tp_dst")
	emMetadata = entries("metadata")
	emIP4 = entries("ip_src", "ip_dst")
	emIP6 = entries("ipv6_src", "ipv6_dst")
	emIPFrag = entries("ip_frag")
	emTTL = entries("nw_ttl", "ipv6_label")
	emNwProto = entries("nw_proto")
	emTCP = entries("tcp_src=tp_src", "tcp_dst=tp_dst", "tcp_flags")
	emUDP = entries("udp_src=tp_src", "udp_dst=tp_dst")
	emSCTP = entries("sctp_src=tp_src", "sctp_dst=tp_dst")
	emND = entries("nd_reserved", "nd_target", "nd_sll=arp_sha", "nd_tll=arp_tha", "nd_options_type")
	infoVLANVID, infoVLANPCP = byName["vlan_vid"], byName["vlan_pcp"]
	infoARPOp, infoIPDSCP, infoNwECN = byName["arp_op"], byName["ip_dscp"], byName["nw_ecn"]
	infoICMPType, infoICMPCode = byName["icmp_type"], byName["icmp_code"]
	infoICMPv6Type, infoICMPv6Code = byName["icmpv6_type"], byName["icmpv6_code"]
	infoIPFrag = byName["ip_frag"]
}

// exactMask is, for fields OVS stores narrower than their width, the mask
// it writes as an exact match (nxm_put_frag, the VLAN VID with CFI).
func exactMask(i *Info) []byte {
	switch i {
	case infoIPFrag:
		return []byte{3}
	case infoVLANVID:
		return []byte{0x1f, 0xff}
	}
	return nil
}

type emitter struct {
	fv      *flowView
	out     []Field // values and masks point into the view or tmp
	tmp     []byte  // values and masks made here (a split TCI, TOS, ...)
	version uint8   // of the headers written
	// implied: a field written so far needs an Ethernet packet, which
	// says the packet type (nxm_put_ctx's implied_ethernet).
	implied bool
}

// made copies b to tmp: the values emit computes live there until copied
// out. A slice made before tmp grows keeps the old array, still valid.
func (e *emitter) made(b ...byte) []byte {
	start := len(e.tmp)
	e.tmp = append(e.tmp, b...)
	return e.tmp[start:len(e.tmp):len(e.tmp)]
}

func (e *emitter) putVM(i *Info, v, m []byte) {
	h := &i.vhdr[e.version]
	f := Field{Header: h.h, Experimenter: h.exp, Value: v}
	if full := exactMask(i); !allOnes(m) && (full == nil || !bytes.Equal(m, full)) {
		f.Mask = m
	}
	e.out = append(e.out, f)
	e.implied = e.implied || i.Prereq != PrereqNone
}

// putVar writes a tun_metadata slot: its length is its value's, and its
// mask is written when the slot says so, all ones or not.
func (e *emitter) putVar(i *Info, k int) {
	v, m := e.fv.vm(k)
	h := &i.vhdr[e.version]
	f := Field{Header: MakeHeader(h.h.Class(), h.h.Field(), false, uint8(len(v))), Value: v}
	if e.fv.slots[k].masked {
		f.Mask = m
	}
	e.out = append(e.out, f)
}

// copyOut returns the fields with room for extra more, their values and
// masks copied to one new array (each slice capped at its length, so that
// appending to one cannot overwrite the next). Empty ones become nil.
func (e *emitter) copyOut(extra int) []Field {
	if len(e.out)+extra == 0 {
		return nil // as append to nil would leave it
	}
	n := 0
	for _, f := range e.out {
		n += len(f.Value) + len(f.Mask)
	}
	buf := make([]byte, n)
	out := make([]Field, len(e.out), len(e.out)+extra)
	off := 0
	for k, f := range e.out {
		out[k] = Field{Header: f.Header, Experimenter: f.Experimenter}
		if n := copy(buf[off:], f.Value); n > 0 {
			out[k].Value = buf[off : off+n : off+n]
			off += n
		}
		if n := copy(buf[off:], f.Mask); n > 0 {
			out[k].Mask = buf[off : off+n : off+n]
			off += n
		} else if f.Mask != nil {
			out[k].Mask = buf[off:off:off] // a masked empty tun_metadata
		}
	}
	return out
}

func (e *emitter) list(l []emitEntry) {
	for _, x := range l {
		if v, m := e.fv.get(x.slot); v != nil {
			e.putVM(x.as, v, m)
			e.fv.mark(x.slot)
		}
	}
}

// mark records that slot id was written.
func (fv *flowView) mark(id slotID) { fv.emitted[id/64] |= 1 << (id % 64) }

func (fv *flowView) wasEmitted(id slotID) bool { return fv.emitted[id/64]&(1<<(id%64)) != 0 }

// emit writes the view in nx_put_raw's order for OpenFlow 1.3, with room
// for extra more fields.
func (fv *flowView) emit(extra int) []Field { return fv.emitFor(openflowVersion13, extra) }

// emitFor writes the view in nx_put_raw's order for protocol version
// (OpenFlow 1.2 to 1.5), with room for extra more fields.
func (fv *flowView) emitFor(version uint8, extra int) []Field {
	if version > maxVersion {
		version = maxVersion
	}
	e := &emitter{fv: fv, out: fv.scratch[:0], tmp: fv.tmp[:0], version: version}
	fv.emitted, fv.pcpOut = [maxSlots / 64]uint64{}, false
	x := fv.layers()
	defaultPT := fv.defaultPT()
	if v, m := fv.get(slotPacketType); v != nil && !defaultPT {
		e.putVM(infoPacketType, v, m)
	}
	if defaultPT {
		fv.mark(slotPacketType) // said by the fields, or written last
	}
	e.list(emHead)
	if v, m := fv.get(slotTCI); v != nil {
		v, m := beUint(v), beUint(m)
		if m&0x1fff != 0 {
			e.putVM(infoVLANVID, e.made(byte(v>>8)&0x1f, byte(v)), e.made(byte(m>>8)&0x1f, byte(m)))
			fv.mark(slotTCI)
		}
		// OVS writes the PCP whenever the VID is nonzero, even without the
		// CFI bit, and then rejects its own match (vlan_pcp needs a VLAN):
		// drop it then, as for any unmet prerequisite.
		if v&0x1000 != 0 && m&0x1000 != 0 && m&0xe000 != 0 {
			e.putVM(infoVLANPCP, e.made(byte(v>>13)&7), ones(1))
			fv.pcpOut = true
		}
	}
	if x.mpls {
		e.list(emMPLS)
	}
	switch {
	case x.ip4 || x.ip6:
		e.putIP(x)
	case x.arp:
		if v, _ := fv.get(slotNwProto); v != nil {
			e.putVM(infoARPOp, e.made(0, v[0]), ones(2))
			fv.mark(slotNwProto)
		}
		e.list(emARP)
	}
	// Most matches have no tunnel, NSH or conntrack field: skip those
	// lists whole rather than look up each of their slots.
	has := fv.families()
	if has.tun {
		e.list(emTun)
	}
	if has.tunMetadata {
		for _, t := range emTunMetadata {
			if k := fv.find(t.slot); k >= 0 {
				e.putVar(t.as, k)
				fv.mark(t.slot)
			}
		}
	}
	if has.tun || has.nsh {
		e.list(emTunNSH)
	}
	if has.reg {
		if version >= version15 {
			e.putXRegs()
		} else {
			e.list(emReg)
		}
	}
	e.list(emPktMark)
	if has.ct {
		e.list(emCT)
		if fv.u(slotCTNwProto) != 0 {
			e.list(emCTTp)
		}
	}
	e.list(emMetadata)
	if defaultPT && !e.implied {
		// The match says nothing that implies Ethernet: OVS writes the
		// packet type itself, first.
		e.out = append(e.out, Field{})
		copy(e.out[1:], e.out)
		h := &infoPacketType.vhdr[version]
		e.out[0] = Field{Header: h.h, Experimenter: h.exp, Value: zero4[:]}
	}
	out := e.copyOut(extra)
	fv.scratch, fv.tmp = e.out[:0], e.tmp[:0] // for the next borrower
	return out
}

// putXRegs writes the registers as OpenFlow 1.5 does: as the eight 64-bit
// xregs, regs 2N and 2N+1 making xregN.
func (e *emitter) putXRegs() {
	for n := 0; n < 8; n++ {
		var v, m [8]byte
		for half := 0; half < 2; half++ {
			if rv, rm := e.fv.get(regSlots[2*n+half]); rv != nil {
				copy(v[4*half:], rv)
				copy(m[4*half:], rm)
				e.fv.mark(regSlots[2*n+half])
			}
		}
		if !allZero(m[:]) {
			e.putVM(emXReg[n].as, e.made(v[:]...), e.made(m[:]...))
		}
	}
}

// putIP is nxm_put_ip.
func (e *emitter) putIP(x l3) {
	fv := e.fv
	if x.ip4 {
		e.list(emIP4)
	} else {
		e.list(emIP6)
	}
	e.list(emIPFrag)
	if v, m := fv.get(slotTOS); v != nil {
		fv.mark(slotTOS)
		if m[0]&0xfc != 0 {
			e.putVM(infoIPDSCP, e.made(v[0]>>2), ones(1))
		}
		if m[0]&3 != 0 {
			e.putVM(infoNwECN, e.made(v[0]&3), ones(1))
		}
	}
	e.list(emTTL)
	if x.proto < 0 {
		return
	}
	e.list(emNwProto)
	byte1 := func(as *Info, id slotID) {
		if v, _ := fv.get(id); v != nil {
			e.putVM(as, v[1:], ones(1))
			fv.mark(id)
		}
	}
	switch {
	case x.proto == 6:
		e.list(emTCP)
	case x.proto == 17:
		e.list(emUDP)
	case x.proto == 132:
		e.list(emSCTP)
	case x.ip4 && x.proto == 1:
		byte1(infoICMPType, slotTpSrc)
		byte1(infoICMPCode, slotTpDst)
	case x.ip6 && x.proto == 58:
		byte1(infoICMPv6Type, slotTpSrc)
		byte1(infoICMPv6Code, slotTpDst)
		if x.nd {
			e.list(emND)
		}
	}
}
