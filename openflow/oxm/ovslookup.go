package oxm

import "sync"

// ActionField is the field OVS finds for the OXM header of a set_field or
// NXAST_REG_LOAD2 action (nxm_field_by_header with is_action): h with its
// mask bit is taken as the exact header of half its value, exp is the
// experimenter of class 0xffff. nil if OVS finds none; then badLen says
// which error OVS gives: OFPBAC_BAD_SET_LEN, else OFPBAC_BAD_SET_TYPE.
//
// OVS looks the header up in a hash map keyed by the header without its
// length's low 7 bits, and walks the whole bucket the key falls in: any
// field there whose length differs from h's (h's not zero) makes the
// error OFPBAC_BAD_SET_LEN, even a field with another key. So the error
// for an unknown header depends on which fields share its bucket; this
// rebuilds OVS 3.1's map (its fields, its hash and its growth) to tell.
func ActionField(h Header, exp uint32) (info *Info, badLen bool) {
	ovsMapOnce.Do(buildOVSMap)
	n := int(h.Length())
	if h.Class() != 0xffff {
		exp = 0
	}
	if h.HasMask() {
		x := 0
		if h.Class() == 0xffff {
			x = 4
		}
		n = (n-x)/2 + x
	}
	key := ovsKey(h.Class(), h.Field(), n, exp)
	for _, e := range ovsBuckets[ovsHash(key)&ovsMask] {
		if n > 0 && n != int(e.length) {
			badLen = true
		}
		if e.key == key {
			if n == int(e.length) || e.info.VarLen {
				return e.info, false
			}
			return nil, badLen
		}
	}
	return nil, badLen
}

// ovsEntry is one code point of a field in OVS's header map.
type ovsEntry struct {
	key    uint64
	length uint8
	info   *Info
}

var (
	ovsMapOnce sync.Once
	ovsBuckets [][]ovsEntry
	ovsMask    uint32
)

// ovsKey is nxm_no_len of the 64-bit header OVS reads: class, field, the
// length's top bit, and the experimenter in the low 32 bits.
func ovsKey(class uint16, field uint8, length int, exp uint32) uint64 {
	return uint64(class)<<48 | uint64(field)<<41 | uint64(length&0x80)<<32 | uint64(exp)
}

// buildOVSMap inserts every code point of every field, as nxm_init does,
// growing the map as hmap_insert does.
func buildOVSMap() {
	var all []ovsEntry
	for _, info := range Fields() {
		for k := range info.hdrs {
			d := &info.hdrs[k]
			all = append(all, ovsEntry{key: ovsKey(d.class, d.field, int(d.length), d.exp), length: d.length, info: info})
		}
	}
	var mask uint32
	for n := 1; n <= len(all); n++ {
		if uint32(n/2) > mask {
			mask = max(mask, hmapCalcMask(uint32(n)))
		}
	}
	ovsMask = mask
	ovsBuckets = make([][]ovsEntry, mask+1)
	for _, e := range all {
		b := ovsHash(e.key) & mask
		ovsBuckets[b] = append(ovsBuckets[b], e)
	}
}

// hmapCalcMask is OVS's calc_mask.
func hmapCalcMask(capacity uint32) uint32 {
	m := capacity / 2
	m |= m >> 1
	m |= m >> 2
	m |= m >> 4
	m |= m >> 8
	m |= m >> 16
	return m | (m&1)<<1
}

// ovsHash is OVS's hash_uint64 (lib/hash.h, MurmurHash3 steps; the build
// without SSE 4.2).
func ovsHash(x uint64) uint32 {
	h := mhashAdd(mhashAdd(0, uint32(x)), uint32(x>>32))
	return mhashFinish(h ^ 8)
}

func mhashAdd(h, data uint32) uint32 {
	if data != 0 {
		data *= 0xcc9e2d51
		data = data<<15 | data>>17
		data *= 0x1b873593
		h ^= data
	}
	h = h<<13 | h>>19
	return h*5 + 0xe6546b64
}

func mhashFinish(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
