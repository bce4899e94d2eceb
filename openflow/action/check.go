package action

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// What ovs-ofctl does with a flow's actions once they parse
// (ofpacts_check, lib/ofp-actions.c): each action is checked against the
// packet as the match and the actions before it leave it. Two kinds of
// findings make OVS refuse the flow in OpenFlow 1.1 and later:
//
//   - inconsistent: the action could be sent only in OpenFlow 1.0
//     (mod_nw_src without ip, strip_vlan without a VLAN): ovs-ofctl finds
//     no usable protocol;
//   - OFPBAC_MATCH_INCONSISTENT and the like: a hard error (set_field of a
//     field whose prerequisite the match lacks, move from one, ct without
//     ip).
//
// The check also settles what OVS settles then: mod_tp_src is a set_field
// of tcp_src, udp_src or sctp_src by the match's protocol (l4Port).

// checkError is a finding of the check: Index is the action's.
type checkError struct {
	Index int
	Soft  bool // inconsistent: only OpenFlow 1.0 could carry it
	Err   error
}

func (e *checkError) Error() string { return e.Err.Error() }

func (e *checkError) Unwrap() error { return e.Err }

// checker runs the check over a list and its nested lists.
type checker struct {
	ctx Context
	f   *oxm.Facts
	// vlans counts the VLAN headers pushed on top of the match's one, for
	// push_vlan's limit of two (FLOW_MAX_VLAN_HEADERS).
	vlans int
}

func inconsistent(format string, args ...any) error {
	return &checkError{Soft: true, Err: fmt.Errorf(format+": the flow could be sent only in OpenFlow 1.0 (no usable protocol)", args...)}
}

func matchInconsistent(format string, args ...any) error {
	return &checkError{Err: fmt.Errorf(format+": %w", append(args, ofpErr("OFPBAC_MATCH_INCONSISTENT"))...)}
}

// checkList checks l against c.f, changing c.f as the actions change the
// packet, and resolves l's l4Port placeholders (l is changed in place).
// The first finding is returned, its Index that of the action in l.
func (c *checker) checkList(l List) error {
	for i, a := range l {
		if p, ok := a.(*l4Port); ok {
			l[i] = p.resolve(c.ctx, c.f)
		}
		if err := c.checkOne(l[i]); err != nil {
			if ce, ok := err.(*checkError); ok {
				return &checkError{Index: i, Soft: ce.Soft, Err: ce.Err}
			}
			return &checkError{Index: i, Err: err}
		}
	}
	return nil
}

// sub checks a nested list (clone, ct's exec) on a copy of the facts:
// what it does to the packet stays inside it.
func (c *checker) sub(l List) error {
	saved, vl := *c.f, c.vlans
	err := c.checkList(l)
	*c.f, c.vlans = saved, vl
	if ce, ok := err.(*checkError); ok {
		return ce.Err
	}
	return err
}

// srcOK is mf_check_src's prerequisite test; dstOK mf_check_dst's.
func (c *checker) srcOK(sf Subfield, what string) error {
	info := sf.info()
	if info != nil && !c.f.PrereqOK(info.Prereq) {
		return matchInconsistent("%s field %s needs %s", what, info.Name, info.Prereq.Describe())
	}
	return nil
}

func (c *checker) checkOne(a Action) error {
	f := c.f
	switch a := a.(type) {
	case *pushIfNeeded:
		// mod_vlan_vid, mod_vlan_pcp: a VLAN header is pushed if needed.
		f.TCI |= 0x1000
		return c.checkOne(a.Action)
	case *Std:
		return c.checkStd(a)
	case *DecTTL:
		if !f.IsIPAny() {
			return inconsistent("dec_ttl needs ip or ipv6")
		}
	case *SetField:
		if a.legacy != 0 {
			// mod_nw_src and the like: checked as the action they are.
			return c.checkStd(&Std{Type: a.legacy})
		}
		info := a.info()
		if info == nil {
			return nil
		}
		if !f.PrereqOK(info.Prereq) {
			return matchInconsistent("set_field %s needs %s", info.Name, info.Prereq.Describe())
		}
		if info.Name == "vlan_vid" && !f.VLAN() {
			return matchInconsistent("set_field vlan_vid needs a VLAN header (push_vlan first, or match one)")
		}
		if info.Name == "vlan_tci" && len(a.Value) == 2 {
			f.TCI = uint16(a.Value[0])<<8 | uint16(a.Value[1])
		}
	case *RegLoad:
		return c.srcOK(a.Dst, "load: destination")
	case *Move:
		if err := c.srcOK(a.Src, "move: source"); err != nil {
			return err
		}
		return c.srcOK(a.Dst, "move: destination")
	case *Stack:
		return c.srcOK(a.Field, "stack")
	case *OutputReg:
		return c.srcOK(a.Src, "output: source")
	case *Bundle:
		if a.Dst.Header != 0 {
			return c.srcOK(a.Dst, "bundle_load: destination")
		}
	case *Multipath:
		return c.srcOK(a.Dst, "multipath: destination")
	case *Learn:
		return c.checkLearn(a)
	case *FinTimeout:
		if f.NwProto != 6 {
			return inconsistent("fin_timeout needs tcp")
		}
	case *Encap:
		f.PacketType = a.PacketType
		if a.PacketType>>16 == 1 {
			f.DLType = uint16(a.PacketType)
		}
		if !f.IsIPAny() {
			f.NwProto = 0
		}
	case *Decap:
		if f.PacketType == oxm.PTEth {
			f.PacketType = 1<<16 | uint32(f.DLType)
		} else {
			f.PacketType, f.DLType = oxm.PTUnknown, 0xffff
		}
	case *DecNSHTTL:
		if f.PacketType != oxm.PTNSH && f.DLType != 0x894f {
			return inconsistent("dec_nsh_ttl needs an NSH packet")
		}
	case *Resubmit:
		if a.Sub == nxResubmitTableCT && !f.CTValid() {
			return matchInconsistent("resubmit(...,ct) needs %s", oxm.PrereqCT.Describe())
		}
	case *Clone:
		return c.sub(a.Actions)
	case *CT:
		return c.checkCT(a)
	case *NAT:
		return checkNAT(f, a)
	}
	return nil
}

func (c *checker) checkStd(a *Std) error {
	f := c.f
	switch a.Type {
	case 1, 2: // set_vlan_vid, set_vlan_pcp
		if !f.VLAN() {
			return inconsistent("%s needs a VLAN header", stdSpecs[a.Type].name)
		}
	case 17: // push_vlan
		if c.vlans >= 1 && f.VLAN() || c.vlans >= 2 {
			return &checkError{Err: fmt.Errorf("push_vlan: more than two VLAN headers: %w", ofpErr("OFPBAC_BAD_TAG"))}
		}
		if f.VLAN() {
			c.vlans++
		}
		f.TCI |= 0x1000
	case 18: // strip_vlan, pop_vlan
		if !f.VLAN() {
			return inconsistent("%s needs a VLAN header", stdSpecs[a.Type].name)
		}
		if c.vlans > 0 {
			c.vlans--
		} else {
			f.TCI = 0
		}
	case 5, 6: // mod_nw_src, mod_nw_dst
		if f.EffectiveDLType() != 0x0800 {
			return inconsistent("%s needs ip", stdSpecs[a.Type].name)
		}
	case 7, 8, 23: // mod_nw_tos, mod_nw_ecn, mod_nw_ttl
		if !f.IsIPAny() {
			return inconsistent("%s needs ip or ipv6", stdSpecs[a.Type].name)
		}
	case 9, 10: // mod_tp_src, mod_tp_dst
		if !f.IsIPAny() || f.NwFrag&2 != 0 || f.NwProto != 6 && f.NwProto != 17 && f.NwProto != 132 {
			return inconsistent("%s needs tcp, udp or sctp", stdSpecs[a.Type].name)
		}
	case 13, 14, 15, 16: // set_mpls_label, _tc, _ttl, dec_mpls_ttl
		if dl := f.EffectiveDLType(); dl != 0x8847 && dl != 0x8848 {
			return inconsistent("%s needs mpls or mplsm", stdSpecs[a.Type].name)
		}
	case 19: // push_mpls
		if f.PacketType != oxm.PTEth {
			return inconsistent("push_mpls needs an Ethernet packet")
		}
		f.DLType, f.NwProto = uint16(a.Arg), 0
	case 20: // pop_mpls
		if dl := f.EffectiveDLType(); f.PacketType != oxm.PTEth || dl != 0x8847 && dl != 0x8848 {
			return inconsistent("pop_mpls needs mpls or mplsm")
		}
		f.DLType = uint16(a.Arg)
	}
	return nil
}

// checkLearn is learn_check: the sources against the flow, the
// destinations against the match of the flow learned, which the
// immediates build up spec by spec.
func (c *checker) checkLearn(a *Learn) error {
	var learned oxm.Facts
	for _, s := range a.Specs {
		if s.Src == LearnSrcField {
			if err := c.srcOK(s.SrcField, "learn: source"); err != nil {
				return err
			}
		}
		if s.Dst == LearnDstOutput {
			continue
		}
		info := s.DstField.info()
		if info == nil {
			continue
		}
		if !learned.PrereqOK(info.Prereq) {
			return matchInconsistent("learn: destination field %s needs %s in the learned flow", info.Name, info.Prereq.Describe())
		}
		if s.Dst == LearnDstMatch && s.Src == LearnSrcImmediate {
			v, m := subfieldBytes(info, s.DstField, s.Imm)
			learned.Write(info, v, m)
		}
	}
	return nil
}

// subfieldBytes is the value and mask, the field's width, that set
// subfield sf to imm (its low-order bits).
func subfieldBytes(info *oxm.Info, sf Subfield, imm []byte) ([]byte, []byte) {
	n := info.Bytes
	if info.VarLen {
		n = (sf.Ofs + sf.Bits + 7) / 8
	}
	v, m := make([]byte, n), make([]byte, n)
	for i := 0; i < sf.Bits; i++ {
		bit := sf.Ofs + i
		m[n-1-bit/8] |= 1 << (bit % 8)
		if k := len(imm) - 1 - i/8; k >= 0 && imm[k]>>(i%8)&1 != 0 {
			v[n-1-bit/8] |= 1 << (bit % 8)
		}
	}
	return v, m
}

// checkCT is check_CT: ct needs ip; not commit an invalid connection; an
// alg its protocol. With a zone from a field only the field is checked
// (as OVS does), else the nested actions.
func (c *checker) checkCT(a *CT) error {
	f := c.f
	switch {
	case !f.IsIPAny():
		return matchInconsistent("ct needs ip or ipv6")
	case f.CTState&0x10 != 0 && a.Flags&CTCommit != 0:
		return matchInconsistent("ct(commit) of an invalid connection (ct_state=+inv)")
	case a.Alg == 21 && f.NwProto != 6:
		return matchInconsistent("ct(alg=ftp) needs tcp")
	case a.Alg == 69 && f.NwProto != 17:
		return matchInconsistent("ct(alg=tftp) needs udp")
	}
	if a.ZoneSrc.Header != 0 {
		return c.srcOK(a.ZoneSrc, "ct: zone")
	}
	return c.sub(a.Actions)
}

// checkNAT is check_NAT: nat needs ip, and an address range of the
// packet's family.
func checkNAT(f *oxm.Facts, a *NAT) error {
	dl := f.EffectiveDLType()
	switch {
	case dl != 0x0800 && dl != 0x86dd:
		return matchInconsistent("nat needs ip or ipv6")
	case a.Min.Is4() && dl != 0x0800:
		return matchInconsistent("nat with an IPv4 range needs ip")
	case a.Min.Is6() && dl != 0x86dd:
		return matchInconsistent("nat with an IPv6 range needs ipv6")
	}
	return nil
}

// l4Port is what mod_tp_src and mod_tp_dst parse to before the check knows
// the flow's protocol (ofpact_l4_port's flow_ip_proto): a set_field of
// tcp_src, udp_src or sctp_src (..._dst) by the match's ip_proto, or, when
// nothing says (a group's bucket), OpenFlow 1.1's set_tp_src, which OVS
// writes in every version. It never leaves parsing.
type l4Port struct{ Std }

func (p *l4Port) resolve(ctx Context, f *oxm.Facts) Action {
	if f == nil || ctx.Version < 3 {
		return &p.Std
	}
	var name string
	switch f.NwProto {
	case 6:
		name = "tcp_"
	case 17:
		name = "udp_"
	case 132:
		name = "sctp_"
	default:
		return &p.Std
	}
	if p.Type == 9 {
		name += "src"
	} else {
		name += "dst"
	}
	info := oxm.ByName(name)
	return NewSetField(info, ctx.Version, []byte{byte(p.Arg >> 8), byte(p.Arg)}, nil)
}

// resolveL4Ports replaces the l4Port placeholders of l (at any depth of
// clone) by what they are without a flow to check them against.
func resolveL4Ports(ctx Context, l List) {
	for i, a := range l {
		switch a := a.(type) {
		case *l4Port:
			l[i] = a.resolve(ctx, nil)
		case *Clone:
			resolveL4Ports(ctx, a.Actions)
		}
	}
}
