package oxm

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
)

// slot is one piece of OVS's struct flow and its wildcard mask: the storage
// several fields may share (tp_src holds tcp_src, udp_src and icmp_type).
// Its value and mask are n bytes each at off in the view's mem.
type slot struct {
	id     slotID
	off, n int
	// masked is, for tun_metadata, whether OVS writes the field with a
	// mask: the length alone cannot say (an unmapped field's mask may be
	// one byte of 0xff, or none at all).
	masked bool
}

// flowView is a match seen as OVS's struct match: fields folded into the
// storage they share, so that it can be written back in nx_put_raw's order.
// A match has few slots: they are found by a linear scan, and all their
// bytes live in one buffer.
type flowView struct {
	slots []slot
	mem   []byte
	// has marks the ids in slots: most lookups (emit's lists) are of
	// slots the match does not have, and this answers them at once.
	has [maxSlots / 64]uint64

	scratch []Field  // emit's fields before they are copied out
	tmp     []byte   // and the values emit makes
	vals    valueBuf // Builder.AddText's parsed values

	// added are the settings a Builder was given, for Finish's report;
	// only a Builder that is asked for one keeps them.
	added     []added
	keepAdded bool
	// prereqs has bit p for each prerequisite p a setting of a field
	// stored as itself needs (one that matches some bit); layered are the
	// settings of fields stored with others (tp_src under udp...), whose
	// prerequisite may be met otherwise: what FinishQuick checks.
	prereqs  uint32
	layered  [8]*Info
	nLayered int // more than len(layered): FinishQuick suspects
	// ptKnown: the view matches some packet type (defaultPacketType has
	// nothing to do); set clears it for the packet type's slot.
	ptKnown bool
	// emitted marks the slots emit wrote, and pcpOut the VLAN PCP.
	emitted [maxSlots / 64]uint64
	pcpOut  bool
}

// added is one setting of a Builder: its field and whether its mask
// selects any bit.
type added struct {
	info *Info
	any  bool
}

func newFlowView(n int) *flowView {
	return &flowView{slots: make([]slot, 0, n), mem: make([]byte, 0, 16*n)}
}

// scratchViews are views Build and Normalize borrow: what they return is
// copied out of the view, so the view's storage is used again.
var scratchViews = sync.Pool{New: func() any { return newFlowView(16) }}

func borrowView() *flowView {
	fv := scratchViews.Get().(*flowView)
	fv.slots, fv.mem, fv.vals.b = fv.slots[:0], fv.mem[:0], fv.vals.b[:0]
	fv.has = [maxSlots / 64]uint64{}
	fv.added, fv.keepAdded, fv.prereqs, fv.nLayered, fv.ptKnown = fv.added[:0], false, 0, 0, false
	return fv
}

func (fv *flowView) release() {
	if cap(fv.mem) <= 4096 && cap(fv.slots) <= 256 && cap(fv.scratch) <= 256 && cap(fv.tmp) <= 256 &&
		cap(fv.vals.b) <= 4096 && cap(fv.added) <= 256 {
		scratchViews.Put(fv)
	}
}

func (fv *flowView) find(id slotID) int {
	if fv.has[id/64]&(1<<(id%64)) == 0 {
		return -1
	}
	for k := range fv.slots {
		if fv.slots[k].id == id {
			return k
		}
	}
	return -1
}

func (fv *flowView) vm(k int) (v, m []byte) {
	s := fv.slots[k]
	return fv.mem[s.off : s.off+s.n : s.off+s.n], fv.mem[s.off+s.n : s.off+2*s.n : s.off+2*s.n]
}

// alloc gives slot k n zeroed bytes of value and of mask.
func (fv *flowView) alloc(k, n int) {
	off := len(fv.mem)
	fv.mem = append(fv.mem, make([]byte, 2*n)...)
	clear(fv.mem[off:]) // a borrowed view's old bytes
	fv.slots[k].off, fv.slots[k].n = off, n
}

func (fv *flowView) set(id slotID, v, m, cover []byte) {
	if id == slotPacketType {
		fv.ptKnown = false
	}
	k := fv.find(id)
	if k < 0 {
		k = len(fv.slots)
		fv.slots = append(fv.slots, slot{id: id})
		fv.has[id/64] |= 1 << (id % 64)
		fv.alloc(k, len(v))
	}
	if fv.slots[k].n != len(v) { // tun_metadata of another length: replace
		fv.alloc(k, len(v))
	}
	sv, sm := fv.vm(k)
	for k := range v {
		sm[k] = sm[k]&^cover[k] | m[k]&cover[k]
		sv[k] = (sv[k]&^cover[k] | v[k]&m[k]&cover[k]) & sm[k]
	}
	if st := slotMetas[id].storage; st != nil {
		for k := range st {
			sm[k] &= st[k]
			sv[k] &= st[k]
		}
	}
}

// get returns a slot's value and mask, or nils if it is wildcarded.
func (fv *flowView) get(id slotID) (v, m []byte) {
	k := fv.find(id)
	if k < 0 {
		return nil, nil
	}
	v, m = fv.vm(k)
	if allZero(m) && len(m) > 0 && !fv.slots[k].masked {
		return nil, nil // a masked tun_metadata matches presence even so
	}
	return v, m
}

func (fv *flowView) u(id slotID) uint64 {
	v, _ := fv.get(id)
	return beUint(v)
}

// drop removes the slots of ids (the order of slots does not matter).
func (fv *flowView) drop(ids []slotID) {
	for _, id := range ids {
		if k := fv.find(id); k >= 0 {
			last := len(fv.slots) - 1
			fv.slots[k] = fv.slots[last]
			fv.slots = fv.slots[:last]
			fv.has[id/64] &^= 1 << (id % 64)
		}
	}
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

// hasTunMetadata says whether any tun_metadata slot is set.
func (fv *flowView) hasTunMetadata() bool { return fv.families().tunMetadata }

func (fv *flowView) families() slotFamilies {
	var f slotFamilies
	for _, s := range fv.slots {
		f.or(slotMetas[s.id].family)
	}
	return f
}

func u16(x uint16) []byte { return []byte{byte(x >> 8), byte(x)} }

// fold returns how field i goes into a view: its slot, kind and index.
// Fields not from the registry are looked up by name.
func (i *Info) fold() (slotID, fieldKind, int) {
	if i.slot != 0 {
		return i.slot, i.kind, i.index
	}
	id, kind, idx := slotByName[i.Name], fieldKinds[i.Name], 0
	for _, w := range []string{"xxreg", "xreg"} {
		if strings.HasPrefix(i.Name, w) {
			idx, _ = strconv.Atoi(i.Name[len(w):])
			kind = kindXReg
			if w == "xxreg" {
				kind = kindXXReg
			}
			break
		}
	}
	return id, kind, idx
}

// add folds field i = v/m into the view (mf_set_masked's effect on struct
// match); masked says that a tun_metadata field is written with its mask.
func (fv *flowView) add(i *Info, v, m []byte, masked bool) {
	id, kind, idx := i.fold()
	switch kind {
	case kindXReg, kindXXReg:
		base := 2
		if kind == kindXXReg {
			base = 4
		}
		for k := 0; k < base; k++ {
			fv.set(regSlots[(idx*base+k)&15], v[4*k:4*k+4], m[4*k:4*k+4], ones(4))
		}
	case kindInPort:
		p := Port16To32(uint16(beUint(v)))
		fv.set(slotInPortOXM, []byte{byte(p >> 24), byte(p >> 16), byte(p >> 8), byte(p)}, ones(4), ones(4))
	case kindVLANTCI:
		fv.set(slotTCI, v, m, ones(2))
	case kindVLANVID:
		fv.set(slotTCI, v, m, u16(0x1fff))
	case kindDlVLAN:
		vid := uint16(beUint(v))
		if vid == 0xffff { // OFP10_VLAN_NONE
			fv.set(slotTCI, u16(0), u16(0x1fff), u16(0x1fff))
		} else {
			fv.set(slotTCI, u16(vid&0xfff|0x1000), ones(2), u16(0x1fff))
		}
	case kindVLANPCP:
		fv.set(slotTCI, u16(uint16(v[0]&7)<<13|0x1000), u16(0xf000), u16(0xf000))
	case kindNwTOS:
		fv.set(slotTOS, v, m, []byte{0xfc})
	case kindIPDSCP:
		fv.set(slotTOS, []byte{v[0] << 2}, []byte{0xfc}, []byte{0xfc})
	case kindNwECN:
		fv.set(slotTOS, v, m, []byte{0x03})
	case kindARPOp:
		fv.set(slotNwProto, v[1:], m[1:], ones(1))
	case kindARPSPA:
		fv.set(slotIPSrc, v, m, ones(4))
	case kindARPTPA:
		fv.set(slotIPDst, v, m, ones(4))
	case kindNDSLL:
		fv.set(slotARPSHA, v, m, ones(6))
	case kindNDTLL:
		fv.set(slotARPTHA, v, m, ones(6))
	case kindTpSrc:
		fv.set(slotTpSrc, v, m, ones(2))
	case kindTpDst:
		fv.set(slotTpDst, v, m, ones(2))
	case kindICMPType:
		fv.set(slotTpSrc, []byte{0, v[0]}, ones(2), ones(2))
	case kindICMPCode:
		fv.set(slotTpDst, []byte{0, v[0]}, ones(2), ones(2))
	case kindValueAsMask:
		// OVS 3.1's match_set_tun_{erspan,gtpu}_*_masked store the value
		// as the mask and value&mask as the value: replicate it, since
		// that is what ovs-ofctl sends and a switch keeps.
		fv.set(id, []byte{v[0] & m[0]}, []byte{v[0]}, ones(1))
	default:
		switch {
		case i.VarLen && id != 0:
			fv.setVar(id, v, m, masked)
		case id != 0:
			fv.set(id, v, m, ones(len(v)))
		}
	}
}

// Set is one field setting for Build: what "name=value/mask" says in
// ovs-ofctl's syntax. Mask nil means exact.
type Set struct {
	Info        *Info
	Value, Mask []byte
	// Bits: only the bits of Mask are set, the field's others kept as
	// earlier settings left them (a subfield, tp_src[5]=1).
	Bits bool
}

// Build makes the canonical match (see Normalize) of a list of settings,
// later ones overriding earlier ones. Settings whose value width is wrong
// for the field are ignored. The fields' values and masks share one
// backing array (each slice capped at its own length).
func Build(sets []Set) Match {
	fv := borrowView()
	defer fv.release()
	for _, s := range sets {
		fv.addSet(s)
	}
	fv.prune()
	return Match{Fields: fv.emit(0)}
}

// Builder builds a match as Build does, from settings given one at a time.
// The values AddText parses are not kept, so that building a match
// allocates little more than the match. The zero Builder is ready; Match
// finishes it, Release abandons it.
type Builder struct{ fv *flowView }

func (b *Builder) view() *flowView {
	if b.fv == nil {
		b.fv = borrowView()
	}
	return b.fv
}

// Add is one setting of Build: ignored if its value width is wrong.
func (b *Builder) Add(s Set) { b.view().addSet(s) }

// AddText adds field i set to text, parsed as ParseValueCtx parses it,
// with the same errors.
func (b *Builder) AddText(i *Info, text string, ctx *Context) error {
	fv := b.view()
	n := i.Bytes
	if i.VarLen {
		n = i.ValueLen(ctx)
	}
	v, m, err := i.parseChecked(text, n, &fv.vals, ctx)
	if err != nil {
		return err
	}
	fv.addSet(Set{Info: i, Value: v, Mask: m})
	return nil
}

// Match returns the match built (see Build) and resets b.
func (b *Builder) Match() Match { return b.Finish(openflowVersion13, nil) }

// Problem is a setting given to a Builder that OVS does not install as
// given: Dropped, it is left out of the match for want of its
// prerequisite, as ovs-ofctl leaves it out (it logs "normalization
// changed"); not Dropped, it is written, and a switch refuses the flow
// (OFPBMC_BAD_PREREQ). Index counts the settings given, from 0.
type Problem struct {
	Index   int
	Info    *Info
	Dropped bool
}

// Keep asks b to remember its settings, for Finish's problems. Call it
// before the first Add.
func (b *Builder) Keep() { b.view().keepAdded = true }

// Finish returns the match built for protocol version (OpenFlow 1.2 to
// 1.5: the headers, and in 1.5 the registers as xregs) and resets b. With
// problems not nil (and Keep called), it appends the settings OVS would not
// install as given.
func (b *Builder) Finish(version uint8, problems *[]Problem) Match {
	return b.FinishFacts(version, problems, nil)
}

// FinishFacts is Finish that also, with facts not nil, says what the
// match as given (before OVS leaves out fields for want of their
// prerequisites) says of the packet, for checking the flow's actions.
func (b *Builder) FinishFacts(version uint8, problems *[]Problem, facts *Facts) Match {
	fv := b.view()
	if facts != nil {
		*facts = fv.facts()
	}
	fv.prune()
	m := Match{Fields: fv.emitFor(version, 0)}
	if problems != nil && fv.keepAdded {
		*problems = fv.problems(*problems)
	}
	b.Release()
	return m
}

// FinishQuick is FinishFacts without the list of problems: it says only
// whether there may be some (a setting whose prerequisite the match does
// not meet), which is rare; then build again with Keep to learn which.
func (b *Builder) FinishQuick(version uint8, facts *Facts) (m Match, problems bool) {
	fv := b.view()
	var f Facts
	if facts != nil || fv.prereqs != 0 {
		f = fv.facts()
		if facts != nil {
			*facts = f
		}
	}
	for p := Prereq(1); fv.prereqs>>p != 0; p++ {
		if fv.prereqs&(1<<p) != 0 && !f.PrereqOK(p) {
			problems = true
			break
		}
	}
	fv.prune()
	m = Match{Fields: fv.emitFor(version, 0)}
	if fv.nLayered > len(fv.layered) {
		problems = true // too many to keep: let the second pass tell
	}
	for _, i := range fv.layered[:min(fv.nLayered, len(fv.layered))] {
		if !problems && !f.PrereqOK(i.Prereq) && !fv.written(i) {
			problems = true
		}
	}
	b.Release()
	return m, problems
}

// written says whether emit wrote field i, stored with others, under the
// header of the layer the match has (problems' test).
func (fv *flowView) written(i *Info) bool {
	id, kind, _ := i.fold()
	switch kind {
	case kindVLANPCP:
		return fv.pcpOut
	case kindInPort, kindXReg, kindXXReg:
		return true
	}
	return fv.wasEmitted(fv.storageOf(id, kind))
}

// problems lists the settings emit left out for want of a prerequisite and
// those it wrote whose prerequisite is not met.
func (fv *flowView) problems(out []Problem) []Problem {
	facts := fv.facts()
	for k, a := range fv.added {
		if !a.any || a.info.Prereq == PrereqNone || facts.PrereqOK(a.info.Prereq) {
			continue
		}
		_, kind, _ := a.info.fold()
		written := fv.written(a.info)
		if written && kind != kindPlain {
			// Written under the header of the layer the match has
			// (tp_src as udp_src, icmp_type as icmpv6_type): fine.
			continue
		}
		out = append(out, Problem{Index: k, Info: a.info, Dropped: !written})
	}
	return out
}

// storageOf is the slot a field of kind with slot id is kept in.
func (fv *flowView) storageOf(id slotID, kind fieldKind) slotID {
	switch kind {
	case kindVLANTCI, kindVLANVID, kindDlVLAN, kindVLANPCP:
		return slotTCI
	case kindNwTOS, kindIPDSCP, kindNwECN:
		return slotTOS
	case kindARPOp:
		return slotNwProto
	case kindARPSPA:
		return slotIPSrc
	case kindARPTPA:
		return slotIPDst
	case kindNDSLL:
		return slotARPSHA
	case kindNDTLL:
		return slotARPTHA
	case kindTpSrc, kindICMPType:
		return slotTpSrc
	case kindTpDst, kindICMPCode:
		return slotTpDst
	}
	return id
}

// Release resets b without building.
func (b *Builder) Release() {
	if b.fv != nil {
		b.fv.release()
		b.fv = nil
	}
}

func (fv *flowView) addSet(s Set) bool {
	i := s.Info
	if i == nil || (!i.VarLen && len(s.Value) != i.Bytes) || (len(s.Value) == 0 && !i.VarLen) ||
		(s.Mask != nil && len(s.Mask) != len(s.Value)) {
		return false
	}
	mask := s.Mask
	if mask == nil {
		mask = ones(len(s.Value))
	}
	if fv.keepAdded {
		fv.added = append(fv.added, added{info: i, any: !allZero(mask) || i.VarLen})
	}
	if s.Bits {
		fv.addBits(i, s.Value, mask)
	} else {
		fv.add(i, s.Value, mask, s.Mask != nil)
	}
	if i.Prereq != PrereqNone {
		// match_add_ethernet_prereq: a field that needs a layer implies
		// an Ethernet packet, unless the match names its packet type.
		fv.defaultPacketType()
		if i.VarLen || !allZero(mask) {
			if _, kind, _ := i.fold(); kind == kindPlain {
				fv.prereqs |= 1 << i.Prereq
			} else {
				if fv.nLayered < len(fv.layered) {
					fv.layered[fv.nLayered] = i
				}
				fv.nLayered++
			}
		}
	}
	return true
}

// addBits folds the bits of m of field i = v into the view, keeping the
// field's other bits (parse_subfield's mf_get, bitwise copy, mf_set).
func (fv *flowView) addBits(i *Info, v, m []byte) {
	id, kind, _ := i.fold()
	switch kind {
	case kindPlain, kindTpSrc, kindTpDst, kindVLANTCI, kindNwTOS, kindNwECN, kindARPSPA,
		kindARPTPA, kindNDSLL, kindNDTLL:
		if i.VarLen {
			// tun_metadata: the subfield's bytes, joined with what the
			// field matches already.
			if k := fv.find(id); k >= 0 {
				ov, om := fv.vm(k)
				nv, nm := make([]byte, max(len(v), len(ov))), make([]byte, max(len(v), len(ov)))
				copy(nv[len(nv)-len(ov):], ov)
				copy(nm[len(nm)-len(om):], om)
				for k := range v {
					j := len(nv) - len(v) + k
					nv[j] = nv[j]&^m[k] | v[k]&m[k]
					nm[j] |= m[k]
				}
				v, m = nv, nm
			}
			fv.setVar(id, v, m, !allOnes(m))
			return
		}
		fv.set(fv.storageOf(id, kind), v, m, m)
	default:
		// Fields folded some other way (registers in xregs, VLAN VID or
		// PCP in the TCI): as a whole-field setting, the bits outside m
		// wildcarded.
		fv.add(i, v, m, true)
	}
}

// defaultPacketType makes the view match Ethernet packets (packet_type
// (0,0)) unless it matches a packet type already
// (match_set_default_packet_type).
func (fv *flowView) defaultPacketType() {
	if fv.ptKnown {
		return
	}
	if k := fv.find(slotPacketType); k < 0 || allZero(fv.slotMask(k)) {
		fv.set(slotPacketType, zero4[:], ones(4), ones(4))
	}
	fv.ptKnown = true
}

// slotMask is the mask of slot k.
func (fv *flowView) slotMask(k int) []byte {
	_, m := fv.vm(k)
	return m
}

var zero4 [4]byte

// setVar stores a tun_metadata field: its length is the value's, and
// masked says whether it is written with its mask.
func (fv *flowView) setVar(id slotID, v, m []byte, masked bool) {
	k := fv.find(id)
	if k < 0 {
		k = len(fv.slots)
		fv.slots = append(fv.slots, slot{id: id})
		fv.has[id/64] |= 1 << (id % 64)
	}
	fv.alloc(k, len(v))
	fv.slots[k].masked = masked
	sv, sm := fv.vm(k)
	for j := range v {
		sv[j], sm[j] = v[j]&m[j], m[j]
	}
}

// Normalize puts m in the form OVS writes for it in OpenFlow 1.3 (lib/nx-match.c
// nx_put_raw): fields folded into the flow storage they share (xreg into
// regs, vlan_tci into vlan_vid/vlan_pcp, nw_tos into ip_dscp, in_port into
// in_port_oxm), later fields overriding earlier ones bit by bit, value bits
// outside the mask cleared, wildcarded fields dropped, exact masks removed,
// fields whose prerequisites are not met dropped (as ovs-ofctl's
// ofputil_normalize_match does), in nx_put_raw's order, each under its
// OpenFlow 1.3 header. Unknown fields follow in their original order. The
// known fields' values and masks share one new backing array (each slice
// capped at its own length); unknown fields keep theirs.
func (m *Match) Normalize() { m.NormalizeFor(openflowVersion13) }

// NormalizeFor is Normalize with the headers OVS writes in protocol
// version (OpenFlow 1.2 to 1.5; in 1.5 the registers are xregs).
func (m *Match) NormalizeFor(version uint8) {
	fv := borrowView()
	defer fv.release()
	var unknown []Field
	for k := range m.Fields {
		f := &m.Fields[k]
		if !fv.addSet(Set{Info: ByField(f), Value: f.Value, Mask: f.Mask}) {
			unknown = append(unknown, *f)
		}
	}
	fv.prune()
	m.Fields = append(fv.emitFor(version, len(unknown)), unknown...)
}

// View is a match seen as OVS's struct match (flow plus wildcards): the
// storage that fields share, named after the field that owns it ("tp_src"
// for tcp_src, udp_src and icmp_type; "tci" for the VLAN TCI; "tos" for
// nw_tos and nw_ecn; "ip_src" also for arp_spa; "nw_proto" also for
// arp_op; "arp_sha"/"arp_tha" also for nd_sll/nd_tll; "in_port_oxm" for
// in_port; "regN" for xreg and xxreg). It is for formatters.
type View struct{ fv *flowView }

// View returns m's view; fields not known are left out. Release it when
// done.
func (m *Match) View() View {
	fv := borrowView()
	for k := range m.Fields {
		f := &m.Fields[k]
		fv.addSet(Set{Info: ByField(f), Value: f.Value, Mask: f.Mask})
	}
	return View{fv}
}

// Release gives v's storage back for other views; v and what it returned
// must not be used after.
func (v *View) Release() {
	if v.fv != nil {
		v.fv.release()
		v.fv = nil
	}
}

// DLType is the Ethernet type of the packets the match matches, as OVS
// reads it (get_dl_type): the eth_type of an Ethernet match, the type of
// a packet_type (1,TYPE); false when the match says none.
func (v View) DLType() (uint16, bool) {
	if v.fv == nil {
		return 0, false
	}
	return v.fv.dlType()
}

// VarMasked says whether tun_metadata slot name is matched with a mask
// (a masked zero-length one matches on the option's presence).
func (v View) VarMasked(name string) bool {
	if v.fv == nil {
		return false
	}
	k := v.fv.find(slotByName[name])
	return k >= 0 && v.fv.slots[k].masked
}

// HasTunMetadata says whether any tun_metadataN is matched.
func (v View) HasTunMetadata() bool { return v.fv != nil && v.fv.hasTunMetadata() }

// Get returns the value and mask of a storage slot, or nils if it is
// wildcarded.
func (v View) Get(name string) (value, mask []byte) {
	id := slotByName[name]
	if id == 0 || v.fv == nil {
		return nil, nil
	}
	return v.fv.get(id)
}
