package ofactortest

import (
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/action"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Table numbers OVS gives a bridge: 255 tables (0-254) of which the last,
// TBL_INTERNAL, holds OVS's own rules, hidden from dumps of all tables and
// read-only to controllers.
const (
	nTables       = 255
	tableInternal = 254
)

// rule is one flow of a table, OVS's struct rule: what a flow stats reply
// shows of it plus what the switch needs to find it by group or meter.
type rule struct {
	table      uint8
	priority   uint16
	match      oxm.Match // canonical (oxm.Match.Normalize)
	matchBytes []byte    // its ofp_match, padded
	key        string    // priority and matchBytes: identity within the table
	cookie     uint64
	idle, hard uint16
	importance uint16
	flags      uint16 // the OFPFF_* bits OVS keeps (OFPUTIL_FF_STATE)
	ins        action.Instructions
	insBytes   []byte
	created    time.Time
	modified   time.Time // the hard timeout runs from here (an add or modify resets it)
	used       time.Time // and the idle one from here: a replacement keeps it
	packets    uint64
	bytes      uint64

	groups []uint32 // groups its actions output to
	meter  uint32   // its meter instruction's meter, 0 if none
	tlv    uint64   // bit n: uses tun_metadata<n> (match or actions)
}

// group is one group table entry.
type group struct {
	id      uint32
	typ     uint8
	buckets []openflow.Bucket
	created time.Time
}

// meter is one meter table entry.
type meter struct {
	id    uint32
	flags uint16
	bands []openflow.MeterBand
}

// tlvEntry is one mapping of the Geneve TLV table (tun_metadata<index>).
type tlvEntry struct {
	valid bool
	class uint16
	typ   uint8
	len   uint8
}

// state is a bridge's tables. Changes made through its methods with a
// journal can be undone, which is how a failed bundle is reverted.
type state struct {
	tables     [nTables]map[string]*rule
	nflows     int
	groups     map[uint32]*group
	meters     map[uint32]*meter
	tlv        [64]tlvEntry
	tlvRefs    [64]int // rules using each tun_metadata field
	groupRules map[uint32]map[*rule]struct{}
	meterRules map[uint32]map[*rule]struct{}
	fragDrop   uint16             // SET_CONFIG's fragment handling: normal or drop
	timed      map[*rule]struct{} // rules with an idle or hard timeout
	tunCtx     *oxm.Context       // of tlv; nil when it changed
}

// journal records how to undo changes, newest last.
type journal struct{ undo []func() }

func (j *journal) add(f func()) {
	if j != nil {
		j.undo = append(j.undo, f)
	}
}

// revert undoes every change, newest first.
func (j *journal) revert() {
	for i := len(j.undo) - 1; i >= 0; i-- {
		j.undo[i]()
	}
	j.undo = nil
}

func newState(now time.Time) *state {
	st := &state{
		groups:     map[uint32]*group{},
		meters:     map[uint32]*meter{},
		groupRules: map[uint32]map[*rule]struct{}{},
		meterRules: map[uint32]map[*rule]struct{}{},
		timed:      map[*rule]struct{}{},
	}
	for i := range st.tables {
		st.tables[i] = map[string]*rule{}
	}
	for _, r := range internalRules(now) {
		st.insert(r, nil)
	}
	return st
}

// insert adds r, which must not be in its table yet.
func (st *state) insert(r *rule, j *journal) {
	st.tables[r.table][r.key] = r
	st.nflows++
	for _, g := range r.groups {
		m := st.groupRules[g]
		if m == nil {
			m = map[*rule]struct{}{}
			st.groupRules[g] = m
		}
		m[r] = struct{}{}
	}
	if r.meter != 0 {
		m := st.meterRules[r.meter]
		if m == nil {
			m = map[*rule]struct{}{}
			st.meterRules[r.meter] = m
		}
		m[r] = struct{}{}
	}
	for i := range 64 {
		if r.tlv&(1<<i) != 0 {
			st.tlvRefs[i]++
		}
	}
	if r.idle != 0 || r.hard != 0 {
		st.timed[r] = struct{}{}
	}
	j.add(func() { st.remove(r, nil) })
}

// remove takes r out of its table.
func (st *state) remove(r *rule, j *journal) {
	if st.tables[r.table][r.key] != r {
		return
	}
	delete(st.tables[r.table], r.key)
	st.nflows--
	for _, g := range r.groups {
		delete(st.groupRules[g], r)
		if len(st.groupRules[g]) == 0 {
			delete(st.groupRules, g)
		}
	}
	if r.meter != 0 {
		delete(st.meterRules[r.meter], r)
		if len(st.meterRules[r.meter]) == 0 {
			delete(st.meterRules, r.meter)
		}
	}
	for i := range 64 {
		if r.tlv&(1<<i) != 0 {
			st.tlvRefs[i]--
		}
	}
	delete(st.timed, r)
	j.add(func() { st.insert(r, nil) })
}

// replace puts r where old is (same table and key).
func (st *state) replace(old, r *rule, j *journal) {
	st.remove(old, j)
	st.insert(r, j)
}

// expire removes the rules whose timeout has run out (ofproto-dpif's
// rule_expire): a hard timeout counts from the last add or modify, an
// idle one from the last packet, which without packets is when the rule
// was first made (a replacement, by add or modify, inherits it).
func (st *state) expire(now time.Time) {
	for r := range st.timed {
		hard := r.hard != 0 && now.Sub(r.modified) > time.Duration(r.hard)*time.Second
		idle := r.idle != 0 && now.Sub(r.used) > time.Duration(r.idle)*time.Second
		if hard || idle {
			st.remove(r, nil)
		}
	}
}

// find returns the rule with r's table and key, or nil.
func (st *state) find(table uint8, key string) *rule { return st.tables[table][key] }

// putGroup adds or replaces a group.
func (st *state) putGroup(g *group, j *journal) {
	old, had := st.groups[g.id]
	st.groups[g.id] = g
	j.add(func() {
		if had {
			st.groups[g.id] = old
		} else {
			delete(st.groups, g.id)
		}
	})
}

// deleteGroup removes a group and, as OVS does, every flow whose actions
// output to it.
func (st *state) deleteGroup(id uint32, j *journal) {
	g, ok := st.groups[id]
	if !ok {
		return
	}
	for _, r := range sortedRules(st.groupRules[id]) {
		st.remove(r, j)
	}
	delete(st.groups, id)
	j.add(func() { st.groups[id] = g })
}

// deleteMeter removes a meter and every flow that uses it. Meter mods are
// never bundled, so there is no journal.
func (st *state) deleteMeter(id uint32) {
	if _, ok := st.meters[id]; !ok {
		return
	}
	for _, r := range sortedRules(st.meterRules[id]) {
		st.remove(r, nil)
	}
	delete(st.meters, id)
}

// sortedRules lists a set of rules in table, priority, match order, so
// that what is done with them does not depend on map order.
func sortedRules(set map[*rule]struct{}) []*rule {
	rs := make([]*rule, 0, len(set))
	for r := range set {
		rs = append(rs, r)
	}
	sortRules(rs)
	return rs
}

// sortRules orders rules by table, then descending priority, then match
// bytes: the order of the switch's flow stats replies.
func sortRules(rs []*rule) {
	sort.Slice(rs, func(a, b int) bool {
		x, y := rs[a], rs[b]
		if x.table != y.table {
			return x.table < y.table
		}
		if x.priority != y.priority {
			return x.priority > y.priority
		}
		return x.key < y.key
	})
}

// rules returns the rules of table t (every visible table for
// openflow.TableAll), sorted.
func (st *state) rules(t uint8) []*rule {
	var rs []*rule
	for i := range st.tables {
		if t == openflow.TableAll && i == tableInternal || t != openflow.TableAll && i != int(t) {
			continue
		}
		for _, r := range st.tables[i] {
			rs = append(rs, r)
		}
	}
	sortRules(rs)
	return rs
}

// tunContext is the oxm.Context of the current TLV map, for decoding and
// parsing tun_metadata fields. Callers must not change it.
func (st *state) tunContext() *oxm.Context {
	if st.tunCtx == nil {
		st.tunCtx = oxm.NewContext()
		for i, e := range st.tlv {
			if e.valid {
				st.tunCtx.TunMetadataLen[i] = e.len
			}
		}
	}
	return st.tunCtx
}

// internalRules are the rules OVS 3.1 keeps in table 254 of every bridge
// (ofproto-dpif's add_internal_flows): the drop of recirculated packets
// without a recirculation, and the miss, no-packet-in and drop rules that
// reg0 selects. Their bytes are those a flow stats reply of OVS carries.
func internalRules(now time.Time) []*rule {
	const (
		recircZero = "0001000c000148040000000000000000"
		reg0Is     = "0001000c00010004000000%02x00000000"
		// apply_actions(controller(reason=implicit_miss)), NXAST_CONTROLLER.
		controller = "0004001800000000ffff0010000023200014ffff00000700"
	)
	specs := []struct {
		priority uint16
		match    string
		ins      string
	}{
		{2, recircZero, ""},
		{0, fmt.Sprintf(reg0Is, 1), controller},
		{0, fmt.Sprintf(reg0Is, 2), ""},
		{0, fmt.Sprintf(reg0Is, 3), ""},
	}
	var rs []*rule
	for _, s := range specs {
		var m oxm.Match
		if _, err := m.UnmarshalOXM(mustHex(s.match)); err != nil {
			panic(fmt.Sprintf("internal rule: %v", err)) // constant bytes: a broken invariant
		}
		ins, err := action.DecodeInstructions(action.Context{Version: openflow.Version13}, mustHex(s.ins))
		if err != nil {
			panic(fmt.Sprintf("internal rule: %v", err))
		}
		rs = append(rs, newRule(tableInternal, s.priority, m, ins, now))
	}
	return rs
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
