package action

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

const (
	ptEth          = 0x00000000
	ptNSH          = 0x0001894f
	ptMPLS         = 0x00018847
	ptMPLSMC       = 0x00018848
	ptUseNextProto = 0x0000fffe
)

var encapNames = map[uint32]string{ptEth: "ethernet", ptNSH: "nsh", ptMPLS: "mpls", ptMPLSMC: "mpls_mc"}

// EncapProp is one encap property (struct ofp_ed_prop_header; OVS knows
// only the NSH class 4: md_type 1, tlv 2).
type EncapProp struct {
	Class    uint16
	Type     uint8
	MDType   uint8  // md_type
	TLVClass uint16 // tlv
	TLVType  uint8
	TLVData  []byte
	TLVPad   []byte // the TLV's padding as received (OVS copies it); nil: zeros
}

// Encap is NXAST_ENCAP (struct nx_action_encap, 16 bytes: hdr_size u16,
// new_pkt_type u32; then properties).
type Encap struct {
	HdrSize    uint16
	PacketType uint32
	Props      []EncapProp
}

func decodeEncap(ctx Context, b []byte) (Action, error) {
	if nxaBefore13(ctx) {
		return nil, nil // NX1.3+ only: unknown before, as in OVS
	}
	if len(b) < 16 {
		return nil, nxaError(ctx, "encap", "OFPBAC_BAD_LEN")
	}
	a := &Encap{HdrSize: be.Uint16(b[10:]), PacketType: be.Uint32(b[12:])}
	if _, ok := encapNames[a.PacketType]; !ok {
		return nil, nxaError(ctx, "encap", "NXBAC_BAD_HEADER_TYPE")
	}
	for p := b[16:]; len(p) > 0; {
		if len(p) < 4 {
			return nil, nxaError(ctx, "encap: property", "OFPBAC_BAD_LEN")
		}
		pr := EncapProp{Class: be.Uint16(p), Type: p[2]}
		n := int(p[3])
		padded := (n + 7) &^ 7
		if n < 4 || padded > len(p) {
			return nil, nxaError(ctx, "encap: property", "OFPBAC_BAD_LEN")
		}
		switch {
		case pr.Class == 4 && pr.Type == 1:
			if n < 5 || n > 8 {
				return nil, nxaError(ctx, "encap: md_type", "NXBAC_BAD_ED_PROP")
			}
			pr.MDType = p[4]
		case pr.Class == 4 && pr.Type == 2:
			if n < 8 || n != 8+(int(p[7])+7)&^7 {
				return nil, nxaError(ctx, "encap: tlv", "NXBAC_BAD_ED_PROP")
			}
			pr.TLVClass, pr.TLVType = be.Uint16(p[4:]), p[6]
			pr.TLVData = append([]byte(nil), p[8:8+int(p[7])]...)
			pr.TLVPad = append([]byte(nil), p[8+int(p[7]):n]...)
		default:
			return nil, nxaError(ctx, "encap: property", "NXBAC_UNKNOWN_ED_PROP")
		}
		a.Props = append(a.Props, pr)
		p = p[padded:]
	}
	return a, nil
}

func (a *Encap) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastEncap)
	b = be.AppendUint16(b, a.HdrSize)
	b = be.AppendUint32(b, a.PacketType)
	for _, p := range a.Props {
		b = be.AppendUint16(b, p.Class)
		switch {
		case p.Class == 4 && p.Type == 1:
			b = append(b, p.Type, 5, p.MDType, 0, 0, 0)
		case p.Class == 4 && p.Type == 2 && len(p.TLVData) < 256:
			n := (len(p.TLVData) + 7) &^ 7
			b = append(b, p.Type, byte(8+n))
			b = be.AppendUint16(b, p.TLVClass)
			b = append(b, p.TLVType, byte(len(p.TLVData)))
			b = append(b, p.TLVData...)
			pad := make([]byte, n-len(p.TLVData))
			copy(pad, p.TLVPad)
			b = append(b, pad...)
		default:
			return b[:start], fmt.Errorf("encap: property class %d type %d: not supported", p.Class, p.Type)
		}
	}
	return finishAction(b, start)
}

func (a *Encap) AppendText(b []byte) ([]byte, error) {
	name, ok := encapNames[a.PacketType]
	if !ok {
		name = "UNKNOWN"
	}
	b = append(append(b, "encap("...), name...)
	if len(a.Props) > 0 {
		b = append(b, '(')
		for i, p := range a.Props {
			if i > 0 {
				b = append(b, ',')
			}
			if p.Type == 1 {
				b = fmt.Appendf(b, "md_type=%d", p.MDType)
			} else {
				b = fmt.Appendf(b, "tlv(0x%04x,%d,", p.TLVClass, p.TLVType)
				b = append(nxaAppendSubvalue(b, p.TLVData), ')')
			}
		}
		b = append(b, ')')
	}
	return append(b, ')'), nil
}

// parseEncap parses "ethernet", "mpls", "mpls_mc" or
// "nsh(md_type=N,tlv(0xCLASS,TYPE,0xHEX),...)".
func parseEncap(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	kvs, err := nxaKeyValues(arg)
	if err != nil {
		return nil, err
	}
	if len(kvs) != 1 {
		return nil, nxaSyntax(arg, "Missing encap hdr")
	}
	a := &Encap{}
	found := false
	for pt, n := range encapNames {
		if n == kvs[0].key {
			a.PacketType, found = pt, true
		}
	}
	if !found {
		return nil, nxaSyntax(kvs[0].key, "Encap hdr not supported")
	}
	props, err := nxaKeyValues(kvs[0].value)
	if err != nil {
		return nil, err
	}
	for _, kv := range props {
		if a.PacketType != ptNSH {
			return nil, nxaSyntax(kv.key, "Invalid property")
		}
		p, err := parseEncapProp(kv)
		if err != nil {
			return nil, err
		}
		a.Props = append(a.Props, p)
	}
	return a, nil
}

func parseEncapProp(kv nxaKV) (EncapProp, error) {
	p := EncapProp{Class: 4}
	if kv.value == "" {
		return p, nxaSyntax(kv.key, "Value missing for encap property")
	}
	switch kv.key {
	case "md_type":
		n, err := strconv.ParseUint(kv.value, 0, 8)
		if err != nil || n < 1 || n > 2 {
			return p, nxaSyntax(kv.value, "invalid md_type")
		}
		p.Type, p.MDType = 1, uint8(n)
	case "tlv":
		parts := strings.Split(kv.value, ",")
		if len(parts) != 3 || !strings.HasPrefix(parts[0], "0x") || !strings.HasPrefix(parts[2], "0x") {
			return p, nxaSyntax(kv.value, "Invalid NSH TLV header")
		}
		c, err1 := strconv.ParseUint(parts[0][2:], 16, 16)
		t, err2 := strconv.ParseUint(parts[1], 10, 8)
		h := parts[2][2:]
		if len(h)%2 == 1 {
			h = "0" + h
		}
		d, err3 := hex.DecodeString(h)
		if err1 != nil || err2 != nil || err3 != nil || len(d) > 125 {
			return p, nxaSyntax(kv.value, "Invalid NSH TLV header")
		}
		p.Type, p.TLVClass, p.TLVType, p.TLVData = 2, uint16(c), uint8(t), d
	default:
		return p, nxaSyntax(kv.key, "Invalid property")
	}
	return p, nil
}

// Decap is NXAST_DECAP (struct nx_action_decap, 16 bytes: pad 2,
// new_pkt_type u32; 0x0000fffe: take it from the removed header).
type Decap struct {
	PacketType uint32
}

func decodeDecap(ctx Context, b []byte) (Action, error) {
	if nxaBefore13(ctx) {
		return nil, nil // NX1.3+ only: unknown before, as in OVS
	}
	if len(b) < 16 {
		return nil, nxaError(ctx, "decap", "OFPBAC_BAD_LEN")
	}
	if len(b) > 16 {
		return nil, nxaError(ctx, "decap", "NXBAC_UNKNOWN_ED_PROP")
	}
	return &Decap{PacketType: be.Uint32(b[12:])}, nil
}

func (a *Decap) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendNXHeader(b, nxastDecap)
	b = append(b, 0, 0)
	b = be.AppendUint32(b, a.PacketType)
	return finishAction(b, start)
}

func (a *Decap) AppendText(b []byte) ([]byte, error) {
	b = append(b, "decap("...)
	if a.PacketType != ptUseNextProto {
		b = fmt.Appendf(b, "packet_type(ns=%d,type=", a.PacketType>>16)
		b = append(appendHex64(b, uint64(a.PacketType&0xffff)), ')')
	}
	return append(b, ')'), nil
}

// parseDecap parses "" or "packet_type(ns=N,type=T)".
func parseDecap(ctx Context, kw, arg string, hasArg bool) (Action, error) {
	a := &Decap{PacketType: ptUseNextProto}
	kvs, err := nxaKeyValues(arg)
	if err != nil || len(kvs) == 0 {
		return a, err
	}
	if kvs[0].key != "packet_type" {
		return nil, nxaSyntax(kvs[0].key, "Invalid decap argument")
	}
	pt, err := nxaKeyValues(kvs[0].value)
	if err != nil {
		return nil, err
	}
	if len(pt) != 2 || pt[0].key != "ns" || pt[1].key != "type" {
		return nil, nxaSyntax(kvs[0].value, "Missing packet_type attribute ns or type")
	}
	ns, err1 := strconv.ParseUint(pt[0].value, 0, 16)
	typ, err2 := strconv.ParseUint(pt[1].value, 0, 16)
	if err1 != nil || err2 != nil || ns >= 5 {
		return nil, nxaSyntax(kvs[0].value, "Unsupported packet_type")
	}
	a.PacketType = uint32(ns)<<16 | uint32(typ)
	return a, nil
}
