package openflow

import (
	"fmt"

	"github.com/ofactor/ofactor/openflow/action"
)

// GroupDescRequest is an OFPMP_GROUP_DESC request (OpenFlow 1.3.5
// §7.3.5.10): an empty body in OpenFlow 1.1-1.4, which asks for every
// group; in 1.5 struct ofp15_group_desc_request, group_id u32 | pad 4, which
// asks for group GroupID (GroupAll: every group). Decoding an earlier
// version gives GroupAll; its encoder does not write GroupID.
type GroupDescRequest struct {
	Header
	Flags   uint16
	GroupID uint32
}

// NewGroupDescRequest asks for every group.
func NewGroupDescRequest(version uint8) *GroupDescRequest {
	return &GroupDescRequest{Header: Header{Version: version}, GroupID: GroupAll}
}

func (m *GroupDescRequest) AppendBinary(b []byte) ([]byte, error) {
	return appendIDRequest(b, &m.Header, MultipartGroupDesc, m.Flags, m.GroupID)
}

func (m *GroupDescRequest) UnmarshalBinary(b []byte) error {
	var err error
	m.Flags, m.GroupID, err = decodeIDRequest(&m.Header, b, MultipartGroupDesc, "group_desc_request", GroupAll)
	return err
}

// GroupDescReply is an OFPMP_GROUP_DESC reply (OpenFlow 1.3.5 §7.3.5.10):
// one part, or, from a Reassembler, all parts' groups. Each group is, in
// OpenFlow 1.1-1.4, struct ofp_group_desc
//
//	length u16 | type u8 | pad | group_id u32 | ofp_bucket...
//
// and in 1.5 struct ofp15_group_desc_stats
//
//	length u16 | type u8 | pad | group_id u32 | bucket_list_len u16 |
//	pad 6 | ofp15_bucket... | group properties
//
// with buckets and properties as in GroupMod.
type GroupDescReply struct {
	Header
	Flags  uint16
	Groups []GroupDesc
}

const (
	groupDescLen   = 8
	groupDesc15Len = 16
)

func (m *GroupDescReply) AppendBinary(b []byte) ([]byte, error) {
	b, start := appendMultipartHeader(b, &m.Header, TypeMultipartReply, MultipartGroupDesc, m.Flags)
	v := b[start]
	for i := range m.Groups {
		var err error
		if b, err = m.Groups[i].append(b, v); err != nil {
			return b[:start], fmt.Errorf("group_desc_reply: group[%d]: %w", i, err)
		}
	}
	return finish(b, start)
}

func (g *GroupDesc) append(b []byte, version uint8) ([]byte, error) {
	gs := len(b)
	b = append(b, 0, 0, g.Type, 0)
	b = be.AppendUint32(b, g.GroupID)
	var err error
	if version < Version15 {
		if b, err = appendBuckets(b, g.Buckets); err != nil {
			return b[:gs], err
		}
		return patchLen16(b, gs)
	}
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	bs := len(b)
	if b, err = appendBuckets15(b, g.Type, g.Buckets); err != nil {
		return b[:gs], err
	}
	if len(b)-bs > 0xffff {
		return b[:gs], fmt.Errorf("buckets: %w", ErrTooLong)
	}
	be.PutUint16(b[gs+8:], uint16(len(b)-bs))
	if b, err = appendGroupProps(b, g.Selection, g.Properties); err != nil {
		return b[:gs], err
	}
	return patchLen16(b, gs)
}

func (m *GroupDescReply) UnmarshalBinary(b []byte) error {
	const name = "group_desc_reply"
	mp, flags, err := checkMultipart(&m.Header, b, TypeMultipartReply, name)
	if err != nil {
		return err
	}
	if mp != MultipartGroupDesc {
		return fmt.Errorf("%s: multipart type %d", name, mp)
	}
	if m.Version < Version11 {
		return fmt.Errorf("%s: version %#x not supported", name, m.Version)
	}
	m.Flags, m.Groups = flags, nil
	ctx := action.Context{Version: m.Version}
	fixed := groupDescLen
	if m.Version >= Version15 {
		fixed = groupDesc15Len
	}
	for off, i := multipartLen, 0; off < len(b); i++ {
		if len(b)-off < fixed {
			return fmt.Errorf("%s: group[%d]: %w", name, i, errTruncated("ofp_group_desc", b, off, fixed))
		}
		n := int(be.Uint16(b[off:]))
		if n < fixed || n > len(b)-off {
			return fmt.Errorf("%s: group[%d]: length %d, %d bytes left", name, i, n, len(b)-off)
		}
		g := GroupDesc{Type: b[off+2], GroupID: be.Uint32(b[off+4:])}
		if m.Version < Version15 {
			g.Buckets, err = parseBuckets(ctx, b[off+groupDescLen:off+n])
		} else {
			g.Buckets, g.Selection, g.Properties, err = parseGroupDesc15(ctx, g.Type, b[off:off+n])
		}
		if err != nil {
			return fmt.Errorf("%s: group[%d]: %w", name, i, err)
		}
		m.Groups = append(m.Groups, g)
		off += n
	}
	return nil
}

// parseGroupDesc15 decodes the buckets and properties of the
// ofp15_group_desc_stats that is b.
func parseGroupDesc15(ctx action.Context, typ uint8, b []byte) ([]Bucket, *GroupSelection, []byte, error) {
	n := int(be.Uint16(b[8:]))
	if n > len(b)-groupDesc15Len {
		return nil, nil, nil, fmt.Errorf("bucket_list_len %d, %d bytes left", n, len(b)-groupDesc15Len)
	}
	bs, err := parseBuckets15(ctx, typ, b[groupDesc15Len:groupDesc15Len+n])
	if err != nil {
		return nil, nil, nil, err
	}
	sel, raw, err := parseGroupProps(b[groupDesc15Len+n:])
	return bs, sel, raw, err
}
