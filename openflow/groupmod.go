package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
)

const (
	groupModLen = 16 // header + struct ofp_group_mod before the buckets
	bucketLen   = 16 // struct ofp_bucket before the actions
)

// AppendBinary writes the group_mod in the OpenFlow 1.1-1.4 layout:
//
//	header | command u16 | type u8 | pad u8 | group_id u32 | ofp_bucket...
//
// OpenFlow 1.5's bucket framing (bucket ids, properties) is not written.
func (m *GroupMod) AppendBinary(b []byte) ([]byte, error) {
	if m.Version >= Version15 {
		return b, fmt.Errorf("group_mod: OpenFlow 1.5 framing not supported")
	}
	b, start := appendHeader(b, &m.Header, TypeGroupMod)
	b = be.AppendUint16(b, m.Command)
	b = append(b, m.Type, 0)
	b = be.AppendUint32(b, m.GroupID)
	var err error
	if b, err = appendBuckets(b, m.Buckets); err != nil {
		return b[:start], fmt.Errorf("group_mod: %w", err)
	}
	return finish(b, start)
}

// UnmarshalBinary decodes one whole group_mod of OpenFlow 1.1-1.4.
func (m *GroupMod) UnmarshalBinary(b []byte) error {
	const name = "group_mod"
	if err := checkHeader(&m.Header, b, TypeGroupMod, name); err != nil {
		return err
	}
	if m.Version >= Version15 || m.Version < Version11 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	if len(b) < groupModLen {
		return errTruncated(name, b, HeaderLen, groupModLen-HeaderLen)
	}
	m.Command = be.Uint16(b[8:])
	m.Type = b[10]
	m.GroupID = be.Uint32(b[12:])
	var err error
	m.Buckets, err = parseBuckets(action.Context{Version: m.Version}, b[groupModLen:])
	if err != nil {
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
		n := len(b) - start
		if n > 0xffff {
			return b[:start], fmt.Errorf("bucket[%d]: %w", i, ErrTooLong)
		}
		be.PutUint16(b[start:], uint16(n))
	}
	return b, nil
}

// parseBuckets decodes the buckets that fill b.
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
		}
		var err error
		acts := b[off+bucketLen : off+n]
		if bk.Actions, err = decodeActions(ctx, acts); err != nil {
			// As for flow stats: actions we cannot read are kept as
			// bytes, not a reason to refuse what the switch holds.
			bk.Actions = action.List{&action.Raw{Data: append([]byte(nil), acts...)}}
		}
		bs = append(bs, bk)
		off += n
	}
	return bs, nil
}
