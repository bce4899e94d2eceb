package oxm

import "testing"

// TestActionField checks OVS's lookup of set_field headers against what
// ovs-ofctl 3.1 parse-actions answered for them (set_field TLVs with these
// headers): the field, or OFPBAC_BAD_SET_LEN / OFPBAC_BAD_SET_TYPE.
func TestActionField(t *testing.T) {
	for _, c := range []struct {
		h      Header
		exp    uint32
		field  string
		badLen bool
	}{
		{0x80000806, 0, "eth_src", false},
		{0x80000907, 0, "", true}, // masked, exact length 3 (7/2)
		{0x0001507c, 0, "tun_metadata0", false},
		{0x00015004, 0, "tun_metadata0", false},
		{0xffff0c08, 0x005ad650, "nsh_c1", false},
		{0x00011610, 0, "", true},  // a known field, another length
		{0x80004c10, 0, "", true},  // the same
		{0x80004c09, 0, "", true},  // the same
		{0x10011604, 0, "", false}, // unknown class
		{0x00004c08, 0, "", false}, // unknown in NXM_OF
		{0x00005204, 0, "", true},  // unknown, but a bucket shared with a field of another length
		{0x80000101, 0, "", false}, // masked, exact length 0
		{0xffff0205, 0xff5ad650, "", false},
		{0xffff1608, 0x01002320, "", false},
	} {
		info, badLen := ActionField(c.h, c.exp)
		name := ""
		if info != nil {
			name = info.Name
		}
		if name != c.field || badLen != c.badLen {
			t.Errorf("%#08x/%#x: field %q, badLen %v; want %q, %v", uint32(c.h), c.exp, name, badLen, c.field, c.badLen)
		}
	}
}
