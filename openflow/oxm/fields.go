package oxm

import (
	"strings"
)

// Format is how OVS writes a field's value (enum mf_string in
// include/openvswitch/meta-flow.h).
type Format uint8

const (
	FormatDecimal Format = iota
	FormatHex
	FormatEthernet
	FormatIPv4
	FormatIPv6
	FormatPort16 // OpenFlow 1.0 port number
	FormatPort32 // OpenFlow 1.1+ port number
	FormatCTState
	FormatFrag
	FormatTunFlags
	FormatTCPFlags
	FormatPacketType
)

// Prereq is a field's prerequisite (enum mf_prereqs in meta-flow.h).
type Prereq uint8

const (
	PrereqNone Prereq = iota
	PrereqARP
	PrereqVLANVID
	PrereqIPv4
	PrereqIPv6
	PrereqIPAny
	PrereqMPLS
	PrereqTCP
	PrereqUDP
	PrereqSCTP
	PrereqICMPv4
	PrereqICMPv6
	PrereqND
	PrereqNDSolicit
	PrereqNDAdvert
	PrereqNSH
	PrereqCT
	PrereqEthernet // the packet type is Ethernet (MFP_ETHERNET)
)

// hdrDef is one code point of a field: its name, header and the OpenFlow
// version from which OVS writes it (0: NXM, or an extension OXM, which OVS
// writes in every version that has no standard one). Length counts the
// experimenter ID for class 0xffff.
type hdrDef struct {
	name   string
	class  uint16
	field  uint8
	length uint8
	exp    uint32
	of     uint8
}

func (d *hdrDef) header() Header { return MakeHeader(d.class, d.field, false, d.length) }

// Info describes one field OVS knows (struct mf_field in meta-flow.h).
type Info struct {
	Name      string // canonical OVS name, e.g. "eth_src", "nw_proto", "reg0"
	ExtraName string // alias, e.g. "dl_src"; may be empty
	// NXMName is the name OVS prints in subfield syntax (mf_format_subfield:
	// the header OVS would write before OpenFlow 1.2): NXM_NX_REG0,
	// OXM_OF_PKT_REG4, OXM_OF_METADATA.
	NXMName string
	// Header is the header OVS writes for the field in OpenFlow 1.3, without
	// mask bit. For class 0xffff Experimenter follows it on the wire. For
	// tun_metadata its length is the maximum (124): the real length is the
	// mapped option length (see Context). HeaderFor gives other versions'.
	Header       Header
	Experimenter uint32
	Bits         int // significant bits
	Bytes        int // value width on the wire (maximum for tun_metadata)
	Maskable     bool
	Writable     bool // set_field/load may write it
	Prereq       Prereq
	Format       Format
	VarLen       bool // tun_metadata: length depends on the TLV map

	// vhdr is the header (and experimenter) hdrFor gives for each
	// protocol version up to maxVersion, made once.
	vhdr [maxVersion + 1]struct {
		h   Header
		exp uint32
	}
	// hdrs are the field's code points in the order OVS keeps them (the
	// OXM rows, then the NXM rows, stably sorted by version), so that the
	// header for a version is the last one not newer than it
	// (nxm_field_by_mf_id).
	hdrs []hdrDef

	// How Build folds the field into a flowView (slots.go): set at init
	// for the registry's fields.
	slot  slotID
	kind  fieldKind
	index int // N of xregN, xxregN
	id    int // place in meta-flow.h (enum mf_field_id)
}

// ID is the field's place among OVS's fields (enum mf_field_id), the order
// in which OVS lists fields it keeps in a bitmap (a select group's hashed
// fields).
func (i *Info) ID() int { return i.id }

// TunMetadata returns the tun_metadata index of i, or -1.
func (i *Info) TunMetadata() int {
	if !i.VarLen {
		return -1
	}
	return int(i.Header.Field()) - 40
}

// hdrFor is the code point OVS writes for i in version (nxm_field_by_mf_id:
// the newest one not newer than version, else the first); nil if i has none.
func (i *Info) hdrFor(version uint8) *hdrDef {
	var d *hdrDef
	for k := range i.hdrs {
		if d == nil || version >= i.hdrs[k].of {
			d = &i.hdrs[k]
		}
	}
	return d
}

// HeaderFor is the header (without mask bit, length of an exact value, the
// experimenter ID counted for class 0xffff) and experimenter OVS writes for
// field i in protocol version (OpenFlow 1.2 is 0x03, 1.5 is 0x06): tcp_flags
// is ONFOXM_ET_TCP_FLAGS in 1.3 and 1.4 but OXM_OF_TCP_FLAGS in 1.5. Zero if
// the field has no code point.
func (i *Info) HeaderFor(version uint8) (Header, uint32) {
	if v := &i.vhdr[min(version, maxVersion)]; v.h != 0 {
		return v.h, v.exp
	}
	d := i.hdrFor(version)
	if d == nil {
		return 0, 0
	}
	return d.header(), d.exp
}

var (
	byName   = map[string]*Info{}
	byHeader = map[Header]*Info{} // key: header with mask bit and length cleared
)

func hdrKey(h Header) Header { return h &^ 0x1ff }

func init() {
	all := append([]Info(nil), fieldTable...)
	for k := range all {
		i := &all[k]
		i.VarLen = strings.HasPrefix(i.Name, "tun_metadata")
		i.id = k
		if d := i.hdrFor(openflowVersion13); d != nil {
			i.Header, i.Experimenter = d.header(), d.exp
		}
		if d := i.hdrFor(0); d != nil {
			i.NXMName = d.name
		}
		for v := range i.vhdr {
			i.vhdr[v].h, i.vhdr[v].exp = i.HeaderFor(uint8(v))
		}
		byName[i.Name] = i
		if i.ExtraName != "" {
			byName[i.ExtraName] = i
		}
		for k := range i.hdrs {
			d := &i.hdrs[k]
			byName[d.name] = i
			byHeader[hdrKey(d.header())] = i
			if c := fastClass(d.class); c >= 0 {
				byFast[c][d.field&0x7f] = i
			}
		}
	}
	initSlots(all)
}

// Protocol versions: OpenFlow 1.3's, the one Info.Header is for; 1.5's,
// where OVS writes registers as xregs; the newest one known.
const (
	openflowVersion13 = 0x04
	version15         = 0x06
	maxVersion        = 0x06
)

// ByName finds a field by its canonical name, its extra name or any of its
// NXM_*/OXM_* header names. It returns nil for an unknown name.
func ByName(name string) *Info { return byName[name] }

// ByHeader finds the field for a header (nxm_field_by_header): the length
// must be the field's (doubled with the mask bit, plus 4 for class 0xffff)
// except for tun_metadata, whose length varies. For class 0xffff use
// ByField, which also checks the experimenter.
func ByHeader(h Header) *Info {
	i := lookupHeader(h)
	if i == nil || i.VarLen {
		return i
	}
	n := i.Bytes
	if h.HasMask() {
		n *= 2
	}
	if h.Class() == 0xffff {
		n += 4
	}
	if int(h.Length()) != n {
		return nil
	}
	return i
}

// ByField finds the field of f, checking the experimenter for class 0xffff.
func ByField(f *Field) *Info {
	i := ByHeader(f.Header)
	if i == nil || (f.Header.Class() == 0xffff && i.expFor(f.Header) != f.Experimenter) {
		return nil
	}
	return i
}

func (i *Info) expFor(h Header) uint32 {
	for k := range i.hdrs {
		if d := &i.hdrs[k]; hdrKey(d.header()) == hdrKey(h) {
			return d.exp
		}
	}
	return 0
}

// Fields returns every known field, in no particular order.
func Fields() []*Info {
	seen := map[*Info]bool{}
	var out []*Info
	for _, i := range byName {
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

// HeaderName is the NXM_*/OXM_* name of header h (mask bit and length
// ignored), or "" if unknown.
func HeaderName(h Header) string {
	i := lookupHeader(h)
	if i == nil {
		return ""
	}
	for k := range i.hdrs {
		if d := &i.hdrs[k]; hdrKey(d.header()) == hdrKey(h) {
			return d.name
		}
	}
	return ""
}

// WireHeader is i's OpenFlow 1.3 header for a value of n bytes (the mapped
// length for tun_metadata, else i.Bytes), with the mask bit if masked: the
// length counts value, mask and experimenter ID as on the wire.
func (i *Info) WireHeader(n int, masked bool) Header {
	l := n
	if masked {
		l *= 2
	}
	if i.Header.Class() == 0xffff {
		l += 4
	}
	return MakeHeader(i.Header.Class(), i.Header.Field(), masked, uint8(l))
}

// ByHeaderAnyLen finds the field for a header ignoring mask bit and length.
// OVS looks fields up this way first to tell a known field of the wrong
// length (OFPBAC_BAD_SET_LEN, OFPBMC_BAD_LEN) from an unknown one.
func ByHeaderAnyLen(h Header) *Info { return lookupHeader(h) }

// byFast holds the fields of the classes most headers are of (NXM_OF,
// NXM_NX, OXM basic, OXM packet registers) by field number: lookups on
// the parser's hot path skip the map.
var byFast [4][128]*Info

func fastClass(class uint16) int {
	switch class {
	case 0x0000:
		return 0
	case 0x0001:
		return 1
	case 0x8000:
		return 2
	case 0x8001:
		return 3
	}
	return -1
}

// lookupHeader is byHeader[hdrKey(h)].
func lookupHeader(h Header) *Info {
	if c := fastClass(h.Class()); c >= 0 {
		return byFast[c][h.Field()&0x7f]
	}
	return byHeader[hdrKey(h)]
}
