package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
)

// Bucket ids of OpenFlow 1.5 (enum ofp15_group_bucket).
const (
	BucketMax   uint32 = 0xffffff00 // the last id a bucket may have
	BucketFirst uint32 = 0xfffffffd // INSERT_BUCKET / REMOVE_BUCKET: the first bucket
	BucketLast  uint32 = 0xfffffffe // INSERT_BUCKET / REMOVE_BUCKET: the last bucket
	BucketAll   uint32 = 0xffffffff // REMOVE_BUCKET: every bucket
)

// GroupAddOrMod is OVS's command that adds a group or modifies it if it
// exists (OFPGC15_ADD_OR_MOD, every version).
const GroupAddOrMod uint16 = 0x8000

const (
	groupModLen   = 16 // header + struct ofp_group_mod before the buckets
	groupMod15Len = 24 // header + struct ofp15_group_mod
	bucketLen     = 16 // struct ofp_bucket before the actions
	bucket15Len   = 8  // struct ofp15_bucket before the actions
)

// Bucket property types (enum ofp15_group_bucket_prop_type) and OVS's
// select group selection method property (netronome-ext.h).
const (
	bucketPropWeight     = 0
	bucketPropWatchPort  = 1
	bucketPropWatchGroup = 2

	ntrVendorID       uint32 = 0x0000154d // NTR_VENDOR_ID
	ntrCompatVendorID uint32 = 0x00001540 // NTR_COMPAT_VENDOR_ID, OVS 2.4's mistake, still read
	ntrSelection      uint32 = 1          // NTRT_SELECTION_METHOD
	ntrMethodLen             = 16         // NTR_MAX_SELECTION_METHOD_LEN
	ntrPropLen               = 40         // struct ntr_group_prop_selection_method
)

// AppendBinary writes the group_mod in the layout of its version. OpenFlow
// 1.1-1.4 (struct ofp_group_mod, OpenFlow 1.3.5 §7.3.4.2):
//
//	header | command u16 | type u8 | pad | group_id u32 | ofp_bucket...
//
// OpenFlow 1.5 (struct ofp15_group_mod):
//
//	header | command u16 | type u8 | pad | group_id u32 |
//	bucket_array_len u16 | pad 2 | command_bucket_id u32 |
//	ofp15_bucket... | group properties (Selection, Properties)
//
// In 1.5, CommandBucketID is written for INSERT_BUCKET and REMOVE_BUCKET;
// every other command carries OFPG15_BUCKET_ALL, which is all OVS takes
// there. Bucket ids are described at Bucket. Before 1.5 the command bucket
// id, bucket ids, Selection and Properties are not on the wire (ovs-ofctl
// drops a selection method there too).
func (m *GroupMod) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version < Version11 {
		return b, fmt.Errorf("group_mod: version %#x not supported", m.Version)
	}
	b, start := appendHeader(b, &m.Header, TypeGroupMod)
	b = be.AppendUint16(b, m.Command)
	b = append(b, m.Type, 0)
	b = be.AppendUint32(b, m.GroupID)
	var err error
	if b[start] < Version15 {
		if b, err = appendBuckets(b, m.Buckets); err != nil {
			return b[:start], fmt.Errorf("group_mod: %w", err)
		}
		return finish(b, start)
	}
	cbid := BucketAll
	if m.Command == GroupInsertBucket || m.Command == GroupRemoveBucket {
		cbid = m.CommandBucketID
	}
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint32(b, cbid)
	bs := len(b)
	if b, err = appendBuckets15(b, m.Type, m.Buckets); err != nil {
		return b[:start], fmt.Errorf("group_mod: %w", err)
	}
	if len(b)-bs > 0xffff {
		return b[:start], fmt.Errorf("group_mod: buckets: %w", ErrTooLong)
	}
	be.PutUint16(b[start+16:], uint16(len(b)-bs))
	if b, err = appendGroupProps(b, m.Selection, m.Properties); err != nil {
		return b[:start], fmt.Errorf("group_mod: %w", err)
	}
	return finish(b, start)
}

// groupModFixed reads a group_mod's header into h and checks that its
// version's fixed part is there.
func groupModFixed(h *Header, b []byte) error {
	const name = "group_mod"
	if err := checkHeader(h, b, TypeGroupMod, name); err != nil {
		return err
	}
	if h.Version < Version11 {
		return fmt.Errorf("%s: version %#x not supported", name, h.Version)
	}
	fixed := groupModLen
	if h.Version >= Version15 {
		fixed = groupMod15Len
	}
	if len(b) < fixed {
		return errTruncated(name, b, HeaderLen, fixed-HeaderLen)
	}
	return nil
}

// UnmarshalBinary decodes one whole group_mod of OpenFlow 1.1-1.5.
func (m *GroupMod) UnmarshalBinary(b []byte) error {
	const name = "group_mod"
	if err := groupModFixed(&m.Header, b); err != nil {
		return err
	}
	m.Command = be.Uint16(b[8:])
	m.Type = b[10]
	m.GroupID = be.Uint32(b[12:])
	m.CommandBucketID, m.Selection, m.Properties = 0, nil, nil
	ctx := action.Context{Version: m.Version}
	var err error
	if m.Version < Version15 {
		if m.Buckets, err = parseBuckets(ctx, b[groupModLen:]); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	cbid := be.Uint32(b[20:])
	switch m.Command {
	case GroupInsertBucket, GroupRemoveBucket:
		if cbid > BucketMax && cbid != BucketFirst && cbid != BucketLast &&
			(cbid != BucketAll || m.Command != GroupRemoveBucket) {
			return fmt.Errorf("%s: command_bucket_id %#x out of range", name, cbid)
		}
		m.CommandBucketID = cbid
	default:
		if cbid != BucketAll {
			return fmt.Errorf("%s: command %d with command_bucket_id %#x (OVS takes only OFPG15_BUCKET_ALL)", name, m.Command, cbid)
		}
	}
	n := int(be.Uint16(b[16:]))
	if n > len(b)-groupMod15Len {
		return fmt.Errorf("%s: bucket_array_len %d, %d bytes left", name, n, len(b)-groupMod15Len)
	}
	if m.Buckets, err = parseBuckets15(ctx, m.Type, b[groupMod15Len:groupMod15Len+n]); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if m.Selection, m.Properties, err = parseGroupProps(b[groupMod15Len+n:]); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// appendBuckets writes struct ofp_bucket (OpenFlow 1.3.5 §7.3.4.2):
//
//	len u16 | weight u16 | watch_port u32 | watch_group u32 | pad 4 | actions
func appendBuckets(b []byte, bs []Bucket) ([]byte, error) {
	for i, bk := range bs {
		start := len(b)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint16(b, bk.Weight)
		b = be.AppendUint32(b, bk.WatchPort)
		b = be.AppendUint32(b, bk.WatchGroup)
		b = append(b, 0, 0, 0, 0)
		var err error
		if b, err = appendActions(b, bk.Actions); err != nil {
			return b[:start], fmt.Errorf("bucket[%d]: %w", i, err)
		}
		if b, err = patchLen16(b, start); err != nil {
			return b, fmt.Errorf("bucket[%d]: %w", i, err)
		}
	}
	return b, nil
}

// parseBuckets decodes the ofp_buckets that fill b.
func parseBuckets(ctx action.Context, b []byte) ([]Bucket, error) {
	var bs []Bucket
	for off, i := 0, 0; off < len(b); i++ {
		if len(b)-off < bucketLen {
			return nil, fmt.Errorf("bucket[%d]: %w", i, errTruncated("ofp_bucket", b, off, bucketLen))
		}
		n := int(be.Uint16(b[off:]))
		if n < bucketLen || n > len(b)-off {
			return nil, fmt.Errorf("bucket[%d]: length %d, %d bytes left", i, n, len(b)-off)
		}
		bk := Bucket{
			Weight:     be.Uint16(b[off+2:]),
			WatchPort:  be.Uint32(b[off+4:]),
			WatchGroup: be.Uint32(b[off+8:]),
			Actions:    decodeActionsOrRaw(ctx, b[off+bucketLen:off+n]),
		}
		bs = append(bs, bk)
		off += n
	}
	return bs, nil
}

// decodeActionsOrRaw decodes a bucket's actions. As for flow stats,
// actions we cannot read are kept as bytes, not a reason to refuse what
// the switch holds.
func decodeActionsOrRaw(ctx action.Context, acts []byte) action.List {
	l, err := decodeActions(ctx, acts)
	if err != nil {
		return action.List{&action.Raw{Data: append([]byte(nil), acts...)}}
	}
	return l
}

// bucketIDs returns the ids OpenFlow 1.5 writes for bs. Buckets with ids
// are written with them; a bucket whose BucketID is above BucketMax gets
// the lowest id free, as OVS's encoder numbers buckets given without one
// (ofputil_encode_ofp15_group_mod: free of the ids of the buckets after
// it and of those it has given). A group whose buckets all have BucketID
// 0, as the OpenFlow 1.1-1.4 syntax and wire (which have no ids) make
// them, is numbered 0, 1, 2...: the ids OVS gives those buckets.
func bucketIDs(bs []Bucket) []uint32 {
	ids := make([]uint32, len(bs))
	allZero := true
	for i := range bs {
		ids[i] = bs[i].BucketID
		allZero = allZero && bs[i].BucketID == 0
	}
	if allZero {
		for i := range ids {
			ids[i] = uint32(i)
		}
		return ids
	}
	var used map[uint32]bool
	for i := range bs {
		if ids[i] <= BucketMax {
			continue
		}
		if used == nil {
			used = map[uint32]bool{}
			for _, later := range bs[i+1:] {
				if later.BucketID <= BucketMax {
					used[later.BucketID] = true
				}
			}
		}
		id := uint32(0)
		for used[id] {
			id++
		}
		used[id], ids[i] = true, id
	}
	return ids
}

// appendBuckets15 writes struct ofp15_bucket, the bucket's fields as
// properties the way OVS writes them (ofputil_put_ofp15_bucket): weight for
// a select group or a nonzero weight, watch_port unless OFPP_ANY,
// watch_group unless OFPG_ANY; then the bucket's other properties.
//
//	len u16 | action_array_len u16 | bucket_id u32 | actions | properties
func appendBuckets15(b []byte, typ uint8, bs []Bucket) ([]byte, error) {
	ids := bucketIDs(bs)
	for i, bk := range bs {
		start := len(b)
		b = append(b, 0, 0, 0, 0)
		b = be.AppendUint32(b, ids[i])
		var err error
		if b, err = appendActions(b, bk.Actions); err != nil {
			return b[:start], fmt.Errorf("bucket[%d]: %w", i, err)
		}
		if n := len(b) - start - bucket15Len; n > 0xffff {
			return b[:start], fmt.Errorf("bucket[%d]: actions: %w", i, ErrTooLong)
		} else {
			be.PutUint16(b[start+2:], uint16(n))
		}
		if typ == GroupTypeSelect || bk.Weight != 0 {
			// A 16-bit property is 8 bytes long, value and 2 of
			// padding in its length (ofpprop_put_be16).
			b = appendProp(b, bucketPropWeight, []byte{byte(bk.Weight >> 8), byte(bk.Weight), 0, 0})
		}
		if bk.WatchPort != PortAny {
			b = appendProp(b, bucketPropWatchPort, be.AppendUint32(nil, bk.WatchPort))
		}
		if bk.WatchGroup != GroupAny {
			b = appendProp(b, bucketPropWatchGroup, be.AppendUint32(nil, bk.WatchGroup))
		}
		b = append(b, bk.Properties...)
		if b, err = patchLen16(b, start); err != nil {
			return b, fmt.Errorf("bucket[%d]: %w", i, err)
		}
	}
	return b, nil
}

// parseBuckets15 decodes the ofp15_buckets that fill b. A bucket without a
// weight property has weight 1 in a select group and 0 otherwise, without
// watch properties OFPP_ANY and OFPG_ANY, as OVS reads them. Ids above
// BucketMax and ids used twice are refused, as OVS refuses them
// (OFPGMFC_BAD_BUCKET).
func parseBuckets15(ctx action.Context, typ uint8, b []byte) ([]Bucket, error) {
	var bs []Bucket
	seen := map[uint32]bool{}
	for off, i := 0, 0; off < len(b); i++ {
		if len(b)-off < bucket15Len {
			return nil, fmt.Errorf("bucket[%d]: %w", i, errTruncated("ofp15_bucket", b, off, bucket15Len))
		}
		n, alen := int(be.Uint16(b[off:])), int(be.Uint16(b[off+2:]))
		if n < bucket15Len || n > len(b)-off {
			return nil, fmt.Errorf("bucket[%d]: length %d, %d bytes left", i, n, len(b)-off)
		}
		if alen > n-bucket15Len {
			return nil, fmt.Errorf("bucket[%d]: action_array_len %d, %d bytes left", i, alen, n-bucket15Len)
		}
		bk := Bucket{WatchPort: PortAny, WatchGroup: GroupAny, BucketID: be.Uint32(b[off+4:])}
		if typ == GroupTypeSelect {
			bk.Weight = 1
		}
		if bk.BucketID > BucketMax || seen[bk.BucketID] {
			return nil, fmt.Errorf("bucket[%d]: bucket_id %#x out of range or used twice", i, bk.BucketID)
		}
		seen[bk.BucketID] = true
		as := off + bucket15Len
		bk.Actions = decodeActionsOrRaw(ctx, b[as:as+alen])
		err := eachProp(b[as+alen:off+n], func(typ uint16, p, whole []byte) error {
			switch {
			case typ == bucketPropWeight && len(p) >= 2:
				bk.Weight = be.Uint16(p)
			case typ == bucketPropWatchPort && len(p) == 4:
				bk.WatchPort = be.Uint32(p)
			case typ == bucketPropWatchGroup && len(p) == 4:
				bk.WatchGroup = be.Uint32(p)
			default:
				bk.Properties = append(bk.Properties, whole...)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bucket[%d]: %w", i, err)
		}
		bs = append(bs, bk)
		off += n
	}
	return bs, nil
}

// appendGroupProps writes OpenFlow 1.5 group properties: OVS's selection
// method (struct ntr_group_prop_selection_method), then raw.
//
//	type u16 = 0xffff | length u16 | experimenter u32 = 0x154d |
//	exp_type u32 = 1 | pad 4 | selection_method [16] (NUL-terminated) |
//	selection_method_param u64 | OXM fields | zero padding to 8
func appendGroupProps(b []byte, sel *GroupSelection, raw []byte) ([]byte, error) {
	if sel != nil {
		if len(sel.Method) >= ntrMethodLen {
			return b, fmt.Errorf("selection_method %q: longer than %d bytes", sel.Method, ntrMethodLen-1)
		}
		start := len(b)
		b = be.AppendUint16(b, 0xffff)
		b = be.AppendUint16(b, 0)
		b = be.AppendUint32(b, ntrVendorID)
		b = be.AppendUint32(b, ntrSelection)
		b = append(b, 0, 0, 0, 0)
		b = append(b, sel.Method...)
		b = append(b, make([]byte, ntrMethodLen-len(sel.Method))...)
		b = be.AppendUint64(b, sel.Param)
		for i := range sel.Fields {
			var err error
			if b, err = sel.Fields[i].AppendBinary(b); err != nil {
				return b[:start], fmt.Errorf("selection_method: field[%d]: %w", i, err)
			}
		}
		n := len(b) - start
		if n > 0xffff {
			return b[:start], fmt.Errorf("selection_method: %w", ErrTooLong)
		}
		be.PutUint16(b[start+2:], uint16(n))
		b = append(b, make([]byte, pad8(n))...)
	}
	return append(b, raw...), nil
}

// parseGroupProps decodes OpenFlow 1.5 group properties: the selection
// method, and the rest raw.
func parseGroupProps(b []byte) (*GroupSelection, []byte, error) {
	var sel *GroupSelection
	var raw []byte
	err := eachProp(b, func(typ uint16, p, whole []byte) error {
		if typ != 0xffff || len(p) < ntrPropLen-4 {
			raw = append(raw, whole...)
			return nil
		}
		exp, sub := be.Uint32(p), be.Uint32(p[4:])
		if (exp != ntrVendorID && exp != ntrCompatVendorID) || sub != ntrSelection {
			raw = append(raw, whole...)
			return nil
		}
		name := p[12 : 12+ntrMethodLen]
		end := 0
		for end < len(name) && name[end] != 0 {
			end++
		}
		if end == len(name) {
			return fmt.Errorf("selection_method: not NUL-terminated")
		}
		s := &GroupSelection{Method: string(name[:end]), Param: be.Uint64(p[28:])}
		var err error
		if s.Fields, err = unmarshalFields(p[ntrPropLen-4:]); err != nil {
			return fmt.Errorf("selection_method: %w", err)
		}
		sel = s
		return nil
	})
	return sel, raw, err
}

// appendProp writes an OpenFlow 1.4+ property (struct ofp_prop_header):
// type u16 | length u16 (without padding) | value | zero padding to 8.
func appendProp(b []byte, typ uint16, value []byte) []byte {
	n := 4 + len(value)
	b = be.AppendUint16(b, typ)
	b = be.AppendUint16(b, uint16(n))
	b = append(b, value...)
	return append(b, make([]byte, pad8(n))...)
}

// eachProp calls fn for each property that fills b with its type, its
// value (after the 4-byte header, without padding) and the whole property
// (padding included), as OVS's ofpprop_pull reads them.
func eachProp(b []byte, fn func(typ uint16, value, whole []byte) error) error {
	for off, i := 0, 0; off < len(b); i++ {
		if len(b)-off < 4 {
			return fmt.Errorf("property[%d]: %w", i, errTruncated("property", b, off, 4))
		}
		n := int(be.Uint16(b[off+2:]))
		padded := n + pad8(n)
		if n < 4 || padded > len(b)-off {
			return fmt.Errorf("property[%d]: length %d, %d bytes left", i, n, len(b)-off)
		}
		if err := fn(be.Uint16(b[off:]), b[off+4:off+n], b[off:off+padded]); err != nil {
			return fmt.Errorf("property[%d]: %w", i, err)
		}
		off += padded
	}
	return nil
}
