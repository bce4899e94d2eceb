package ofactortest

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
)

// Group and meter table semantics of OVS 3.1 (ofproto/ofproto.c
// handle_group_mod, handle_meter_mod; lib/ofp-group.c, lib/ofp-meter.c),
// with the limits of the netdev (dummy) datapath.

const (
	groupMax       = 0xffffff00 // OFPG_MAX
	groupAddOrMod  = 0x8000     // OFPGC11_ADD_OR_MOD, OVS's extension
	meterMax       = 0xffff0000 // OFPM13_MAX
	meterSlowpath  = 0xfffffffd
	meterCtrl      = 0xfffffffe
	maxMeterBands  = 8       // dpif-netdev MAX_BANDS
	maxMeters      = 1 << 18 // dpif-netdev MAX_METERS
	meterFlagsMask = openflow.MeterKBPS | openflow.MeterPKTPS | openflow.MeterBurst | openflow.MeterStats
)

// groupOp is a decoded group_mod (struct ofputil_group_mod).
type groupOp struct {
	cmd     uint16
	typ     uint8
	id      uint32
	buckets []openflow.Bucket
	msg     *openflow.GroupMod
}

// decodeGroupMod is ofputil_decode_group_mod of an OpenFlow 1.1-1.4
// group_mod: bucket framing, their actions, then ofputil_check_group_mod.
func decodeGroupMod(raw []byte) (*groupOp, string) {
	be := binary.BigEndian
	op := &groupOp{cmd: be.Uint16(raw[8:]), typ: raw[10], id: be.Uint32(raw[12:])}
	actx := action.Context{Version: raw[0]}
	for b, id := raw[16:], uint32(0); len(b) > 0; id++ {
		if len(b) < 16 {
			return nil, "OFPGMFC_BAD_BUCKET"
		}
		n := int(be.Uint16(b))
		if n < 16 || n > len(b) {
			return nil, "OFPGMFC_BAD_BUCKET"
		}
		acts, err := action.DecodeList(actx, b[16:n])
		if err == nil {
			err = action.Validate(actx, acts)
		}
		if err != nil {
			return nil, errName(err, "OFPBAC_BAD_LEN")
		}
		bk := openflow.Bucket{
			Weight:     be.Uint16(b[2:]),
			WatchPort:  be.Uint32(b[4:]),
			WatchGroup: be.Uint32(b[8:]),
			BucketID:   id,
			Actions:    acts,
		}
		if !portValid(bk.WatchPort) {
			return nil, "OFPGMFC_BAD_WATCH"
		}
		op.buckets = append(op.buckets, bk)
		b = b[n:]
	}
	if op.cmd == openflow.GroupDelete && len(op.buckets) > 0 {
		return nil, "OFPGMFC_INVALID_GROUP" // OpenFlow 1.3.5 says so
	}
	if e := checkGroupMod(op); e != "" {
		return nil, e
	}
	op.msg = &openflow.GroupMod{Command: op.cmd, Type: op.typ, GroupID: op.id, Buckets: op.buckets}
	return op, ""
}

// checkGroupMod is ofputil_check_group_mod.
func checkGroupMod(op *groupOp) string {
	switch op.typ {
	case openflow.GroupTypeIndirect:
		if op.cmd != openflow.GroupDelete && len(op.buckets) != 1 {
			return "OFPGMFC_INVALID_GROUP"
		}
	case openflow.GroupTypeAll, openflow.GroupTypeSelect, openflow.GroupTypeFastFailover:
	default:
		return "OFPGMFC_BAD_TYPE"
	}
	switch op.cmd {
	case openflow.GroupAdd, openflow.GroupModify, groupAddOrMod, openflow.GroupDelete, openflow.GroupInsertBucket:
	case openflow.GroupRemoveBucket:
		if len(op.buckets) > 0 {
			return "OFPGMFC_BAD_BUCKET"
		}
	default:
		return "OFPGMFC_BAD_COMMAND"
	}
	for _, bk := range op.buckets {
		if bk.Weight != 0 && op.typ != openflow.GroupTypeSelect && op.cmd != openflow.GroupInsertBucket {
			return "OFPGMFC_INVALID_GROUP"
		}
		live := bk.WatchPort != openflow.PortAny || bk.WatchGroup != openflow.GroupAny
		switch op.typ {
		case openflow.GroupTypeAll, openflow.GroupTypeIndirect:
			if live {
				return "OFPGMFC_WATCH_UNSUPPORTED"
			}
		case openflow.GroupTypeFastFailover:
			if !live {
				return "OFPGMFC_INVALID_GROUP"
			}
		}
	}
	return ""
}

// startGroupMod is ofproto_group_mod_start. A group's buckets are not
// checked against the tables: a bucket may name a group that does not
// exist, or the group itself, as in OVS.
func (s *Switch) startGroupMod(op *groupOp, j *journal) string {
	st := s.st
	_, exists := st.groups[op.id]
	cmd := op.cmd
	if cmd == groupAddOrMod {
		cmd = openflow.GroupAdd
		if exists {
			cmd = openflow.GroupModify
		}
	}
	switch cmd {
	case openflow.GroupAdd:
		if exists {
			return "OFPGMFC_GROUP_EXISTS"
		}
		if op.id > groupMax {
			return "OFPGMFC_INVALID_GROUP"
		}
		if e := s.fault.refusesGroup(op.id, op.msg); e != "" {
			return e
		}
		st.putGroup(&group{id: op.id, typ: op.typ, buckets: op.buckets, created: s.cfg.now()}, j)
	case openflow.GroupModify, openflow.GroupInsertBucket, openflow.GroupRemoveBucket:
		old, ok := st.groups[op.id]
		if !ok {
			return "OFPGMFC_UNKNOWN_GROUP"
		}
		g := &group{id: op.id, typ: op.typ, buckets: op.buckets, created: old.created}
		switch cmd {
		case openflow.GroupInsertBucket:
			// OpenFlow 1.3 has no command_bucket_id: it is ALL, so the
			// new buckets go first and the old ones after them, and a
			// bucket id that repeats is refused.
			g.typ = old.typ
			g.buckets = append(append([]openflow.Bucket(nil), op.buckets...), old.buckets...)
			seen := map[uint32]bool{}
			for _, bk := range g.buckets {
				if seen[bk.BucketID] {
					return "OFPGMFC_BUCKET_EXISTS"
				}
				seen[bk.BucketID] = true
			}
		case openflow.GroupRemoveBucket:
			g.typ, g.buckets = old.typ, nil
		}
		if e := s.fault.refusesGroup(op.id, op.msg); e != "" {
			return e
		}
		st.putGroup(g, j)
	case openflow.GroupDelete:
		if op.id == openflow.GroupAll {
			for _, id := range sortedIDs(st.groups) {
				st.deleteGroup(id, j)
			}
		} else {
			st.deleteGroup(op.id, j)
		}
	default:
		return "OFPGMFC_BAD_COMMAND"
	}
	return ""
}

// sortedIDs lists a table's ids in order.
func sortedIDs[T any](m map[uint32]T) []uint32 { return slices.Sorted(maps.Keys(m)) }

// meterOp is a decoded meter_mod (struct ofputil_meter_mod).
type meterOp struct {
	cmd   uint16
	flags uint16
	id    uint32
	bands []openflow.MeterBand
	msg   *openflow.MeterMod
}

// decodeMeterMod is ofputil_decode_meter_mod.
func decodeMeterMod(raw []byte) (*meterOp, string) {
	be := binary.BigEndian
	op := &meterOp{cmd: be.Uint16(raw[8:]), id: be.Uint32(raw[12:])}
	switch op.cmd {
	case openflow.MeterAdd, openflow.MeterModify, openflow.MeterDelete:
	default:
		return nil, "OFPMMFC_BAD_COMMAND"
	}
	if op.cmd != openflow.MeterDelete {
		op.flags = be.Uint16(raw[10:])
		if op.flags&openflow.MeterKBPS != 0 && op.flags&openflow.MeterPKTPS != 0 {
			return nil, "OFPMMFC_BAD_FLAGS"
		}
		b := raw[16:]
		for len(b) >= 16 {
			if be.Uint16(b[2:]) != 16 {
				return nil, "OFPBRC_BAD_LEN"
			}
			band := openflow.MeterBand{Type: be.Uint16(b), Rate: be.Uint32(b[4:]), BurstSize: be.Uint32(b[8:])}
			switch band.Type {
			case openflow.MeterBandDrop:
			case openflow.MeterBandDSCPRemark:
				band.PrecLevel = b[12]
			default:
				return nil, "OFPMMFC_BAD_BAND"
			}
			op.bands = append(op.bands, band)
			b = b[16:]
		}
		if len(b) != 0 {
			return nil, "OFPBRC_BAD_LEN"
		}
	}
	op.msg = &openflow.MeterMod{Command: op.cmd, Flags: op.flags, MeterID: op.id, Bands: op.bands}
	return op, ""
}

// meterMod is handle_meter_mod with the netdev datapath's meter_set.
func (s *Switch) meterMod(op *meterOp) string {
	st := s.st
	if op.cmd != openflow.MeterDelete {
		switch {
		case op.id == 0:
			return "OFPMMFC_INVALID_METER"
		case op.id > meterMax && op.id != meterSlowpath && op.id != meterCtrl:
			return "OFPMMFC_INVALID_METER"
		case len(op.bands) > maxMeterBands:
			return "OFPMMFC_OUT_OF_BANDS"
		}
	}
	switch op.cmd {
	case openflow.MeterAdd:
		if _, ok := st.meters[op.id]; ok {
			return "OFPMMFC_METER_EXISTS"
		}
		if len(st.meters) >= maxMeters {
			return "OFPMMFC_OUT_OF_METERS"
		}
		if e := s.checkMeterSet(op); e != "" {
			return e
		}
		st.meters[op.id] = &meter{id: op.id, flags: op.flags, bands: datapathBands(op.bands)}
	case openflow.MeterModify:
		m, ok := st.meters[op.id]
		if !ok {
			return "OFPMMFC_UNKNOWN_METER"
		}
		if e := s.checkMeterSet(op); e != "" {
			return e
		}
		m.flags, m.bands = op.flags, datapathBands(op.bands)
	case openflow.MeterDelete:
		switch op.id {
		case 0: // OpenFlow has no meter 0
		case openflow.MeterAll:
			for _, id := range sortedIDs(st.meters) {
				st.deleteMeter(id)
			}
		default:
			st.deleteMeter(op.id)
		}
	}
	return ""
}

// checkMeterSet is what the datapath refuses (lib/dpif.c dpif_meter_set,
// then dpif_netdev_meter_set, as ofproto-dpif's meter_set maps their
// errors), then the test's refusals.
func (s *Switch) checkMeterSet(op *meterOp) string {
	if op.flags&(openflow.MeterKBPS|openflow.MeterPKTPS) == 0 {
		return "OFPMMFC_BAD_FLAGS" // no rate unit
	}
	if len(op.bands) == 0 {
		return "OFPMMFC_OUT_OF_BANDS"
	}
	for _, b := range op.bands {
		if b.Rate == 0 {
			return "OFPMMFC_BAD_RATE"
		}
	}
	if op.flags&^meterFlagsMask != 0 {
		return "OFPMMFC_BAD_FLAGS"
	}
	for _, b := range op.bands {
		if b.Type != openflow.MeterBandDrop {
			return "OFPMMFC_BAD_BAND"
		}
	}
	return s.fault.refusesMeter(op.id, op.msg)
}

// datapathBands is what the datapath keeps of the bands: a burst size of
// 0 becomes the rate (dpif_netdev_meter_set writes it back into the
// config OVS then stores).
func datapathBands(bs []openflow.MeterBand) []openflow.MeterBand {
	out := make([]openflow.MeterBand, len(bs))
	for i, b := range bs {
		if b.BurstSize == 0 {
			b.BurstSize = b.Rate
		}
		out[i] = b
	}
	return out
}
