package reconciler

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// State is what a reconciler keeps across restarts: the desired tables and
// their version. Only the reconciler actor touches it, one message at a
// time; a restarted actor picks it up where its predecessor left it.
type State struct {
	flows, groups, meters *keyspace

	version          uint64 // desired version: bumped by every accepted change
	installedVersion uint64

	geneve      messages.GeneveFieldAssigned
	geneveFlows []string            // flow texts naming the Geneve field
	geneveKeys  map[string]struct{} // the flow keys rendered from them

	// partial holds the parts of a put under way (PutDesired.More).
	partial *partialPut

	// flowsRaw says the installed flows are a dump's bytes as received,
	// not yet in canonical form: see canonicalizeFlows.
	flowsRaw bool
}

// canonicalizeFlows puts the dumped flows in canonical form before the
// first round that needs them. It waits for the desired table, since only
// the flows that differ from it need normalizing (a dump of a switch that
// holds our flows normalizes nothing), and the dump may arrive before the
// desired table does.
func (s *State) canonicalizeFlows(version uint8) {
	if !s.flowsRaw {
		return
	}
	s.flowsRaw = false
	s.flows.canonicalize(func(k, v string) (string, string, bool) { return canonicalKeyVal(version, k, v) })
}

// NewState returns an empty desired state.
func NewState() *State {
	return &State{
		flows:      newKeyspace(),
		groups:     newKeyspace(),
		meters:     newKeyspace(),
		geneve:     messages.GeneveFieldAssigned{Index: -1},
		geneveKeys: map[string]struct{}{},
	}
}

// maxInner is the largest message that still fits a bundle ADD_MESSAGE.
const maxInner = flowkey.MaxInner

// partialPut holds the parts of a put under way (PutDesired.More): the
// flows in canonical bytes, in order, and the groups and meters of the
// first part as tables.
type partialPut struct {
	keys, vals     []string
	errs           []error
	groups, meters map[string]string // nil: the put leaves that kind alone
	flows          bool              // some part gave flows (maybe none)
	errors         []string
}

// put takes a whole desired state, or a part of one. What does not encode,
// or would make a message over 65535 bytes, is left out and reported; the
// rest is taken.
func (s *State) put(m *messages.PutDesired, log *zap.Logger) *messages.DesiredAccepted {
	acc := &messages.DesiredAccepted{}
	p := s.partial
	if p == nil {
		p = &partialPut{}
		if m.Groups != nil {
			p.groups = groupTable(m.Groups, acc)
		}
		if m.Meters != nil {
			p.meters = meterTable(m.Meters, acc)
		}
	} else if m.Groups != nil || m.Meters != nil {
		acc.Errors = append(acc.Errors, "groups and meters of a put in parts go in its first part: left out")
	}
	keys, vals, errs := flowEntries(m.Flows, s.flows.desired)
	for i, err := range errs {
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("flow %d: %v", len(p.keys)+i, err))
		}
	}
	if len(m.Canonical) != 0 {
		keys, vals, errs = withCanonical(keys, vals, errs, m.Canonical)
	}
	p.flows = p.flows || m.Flows != nil || m.Canonical != nil || m.GeneveFlows != nil
	if m.More {
		if s.partial == nil {
			s.partial = p
		}
		p.keys, p.vals, p.errs = append(p.keys, keys...), append(p.vals, vals...), append(p.errs, errs...)
		p.errors = append(p.errors, acc.Errors...)
		acc.Version = s.version
		return acc
	}
	if s.partial != nil {
		s.partial = nil
		keys, vals, errs = append(p.keys, keys...), append(p.vals, vals...), append(p.errs, errs...)
		acc.Errors = append(p.errors, acc.Errors...)
	}
	if p.flows {
		s.putFlows(keys, vals, errs, m.GeneveFlows, acc, log)
	}
	if p.groups != nil {
		s.groups.replace(p.groups)
	}
	if p.meters != nil {
		s.meters.replace(p.meters)
	}
	s.version++
	acc.Version = s.version
	return acc
}

// putFlows makes the flows keys/vals (those without errs) and the flows
// naming the Geneve field the desired flow table.
func (s *State) putFlows(keys, vals []string, errs []error, geneve []string, acc *messages.DesiredAccepted, log *zap.Logger) {
	s.geneveFlows = geneve
	clear(s.geneveKeys)
	if len(geneve) == 0 && s.flows.replaceSame(keys, vals, errs) {
		return
	}
	next := make(map[string]string, len(keys))
	for i := range keys {
		if errs[i] != nil {
			continue
		}
		if _, dup := next[keys[i]]; dup {
			log.Debug("dropping duplicate flow", zap.Int("index", i))
			continue
		}
		next[keys[i]] = vals[i]
	}
	acc.Errors = append(acc.Errors, s.renderGeneve(next)...)
	s.flows.replace(next)
}

// groupTable returns groups as a table of canonical values by id; the first
// of two with one id counts.
func groupTable(gms []*openflow.GroupMod, acc *messages.DesiredAccepted) map[string]string {
	return idTable(gms, "group", acc, func(gm *openflow.GroupMod) (uint32, string, error) {
		v, err := GroupVal(gm.Type, gm.Buckets)
		if err == nil && len(v)+groupModFixed > maxInner {
			err = fmt.Errorf("group_mod of %d bytes: %w", len(v)+groupModFixed, openflow.ErrTooLong)
		}
		return gm.GroupID, v, err
	})
}

// meterTable is groupTable for meters.
func meterTable(mms []*openflow.MeterMod, acc *messages.DesiredAccepted) map[string]string {
	return idTable(mms, "meter", acc, func(mm *openflow.MeterMod) (uint32, string, error) {
		v, err := MeterVal(mm.Flags, mm.Bands)
		return mm.MeterID, v, err
	})
}

// idTable makes a table by id of objects' canonical values (entry), the
// first of two with one id counting; what does not encode is reported.
func idTable[T any](objs []T, kind string, acc *messages.DesiredAccepted, entry func(T) (uint32, string, error)) map[string]string {
	next := make(map[string]string, len(objs))
	for _, o := range objs {
		id, v, err := entry(o)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("%s %d: %v", kind, id, err))
			continue
		}
		if _, dup := next[idKey(id)]; !dup {
			next[idKey(id)] = v
		}
	}
	return next
}

// update applies a delta to the desired flows, in O(len(delta)).
func (s *State) update(m *messages.UpdateFlows) *messages.DesiredAccepted {
	acc := &messages.DesiredAccepted{}
	for i, fm := range m.Remove {
		k, _, err := knownEntry(fm, s.flows.desired)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("remove %d: %v", i, err))
			continue
		}
		s.flows.remove(k)
	}
	for i, fm := range m.Add {
		k, v, err := knownEntry(fm, s.flows.desired)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("add %d: %v", i, err))
			continue
		}
		s.flows.put(k, v)
	}
	for _, f := range m.RemoveCanonical {
		s.flows.remove(f.Key())
	}
	for _, f := range m.AddCanonical {
		s.flows.put(f.Key(), f.Value())
	}
	s.version++
	acc.Version = s.version
	return acc
}

// updateInstalled applies a delta to the installed flows, in
// O(len(delta)). A round in flight may still overwrite these keys with what
// it sends; whatever then differs is dirty and goes in the next round.
func (s *State) updateInstalled(m *messages.UpdateInstalled) *messages.DesiredAccepted {
	acc := &messages.DesiredAccepted{Version: s.version}
	for i, fm := range m.Removed {
		k, _, err := FlowModKey(fm)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("removed %d: %v", i, err))
			continue
		}
		s.flows.installedAs(k, "")
	}
	for i, fm := range m.Added {
		k, v, err := FlowModKey(fm)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("added %d: %v", i, err))
			continue
		}
		s.flows.installedAs(k, v)
	}
	return acc
}

// withCanonical appends ready flows to the entries flowEntries made.
func withCanonical(keys, vals []string, errs []error, fs []flowkey.Flow) ([]string, []string, []error) {
	if len(keys) == 0 {
		keys, vals, errs = make([]string, 0, len(fs)), make([]string, 0, len(fs)), make([]error, 0, len(fs))
	}
	for _, f := range fs {
		keys, vals, errs = append(keys, f.Key()), append(vals, f.Value()), append(errs, nil)
	}
	return keys, vals, errs
}

// fitsBundle reports whether a flow's flow_mod fits a bundle ADD_MESSAGE.
func fitsBundle(k, v string) bool { return flowkey.FlowModLen(k, v) <= maxInner }

// setGeneve records the negotiated Geneve field and, when it changed,
// renders again the flows that name it.
func (s *State) setGeneve(g messages.GeneveFieldAssigned, log *zap.Logger) {
	old := s.geneve
	s.geneve = g
	if old.Enabled == g.Enabled && old.Index == g.Index && old.Len == g.Len {
		if old.Seq == 0 && !g.Enabled && len(s.geneveFlows) > 0 {
			// The first result, and Geneve is off: say so once.
			log.Warn("geneve flows left out", zap.String("error", s.renderGeneve(nil)[0]))
		}
		return
	}
	if len(s.geneveFlows) == 0 {
		return
	}
	next := make(map[string]string, len(s.flows.desired))
	for k, v := range s.flows.desired {
		if _, rendered := s.geneveKeys[k]; !rendered {
			next[k] = v
		}
	}
	clear(s.geneveKeys)
	for _, e := range s.renderGeneve(next) {
		log.Warn("geneve flow left out", zap.String("error", e))
	}
	s.flows.replace(next)
	s.version++
}

// renderGeneve parses the flows that name the Geneve field into next. While
// Geneve is disabled they are left out, with one warning.
func (s *State) renderGeneve(next map[string]string) (errs []string) {
	if len(s.geneveFlows) == 0 {
		return nil
	}
	if !s.geneve.Enabled {
		if s.geneve.Seq == 0 && next != nil {
			// Not negotiated yet: they are rendered when it is.
			return nil
		}
		return []string{fmt.Sprintf("%d flows name the Geneve field, which is not negotiated: left out", len(s.geneveFlows))}
	}
	ctx := &ofctl.Context{Version: openflow.Version13, OXM: oxm.Context{Geneve: s.geneve.Index}}
	ctx.OXM.TunMetadataLen[s.geneve.Index] = s.geneve.Len
	for _, text := range s.geneveFlows {
		fm, err := ofctl.ParseFlow(text, ctx)
		if err == nil {
			var k, v string
			if k, v, err = FlowModKey(fm); err == nil {
				if _, dup := next[k]; !dup {
					next[k] = v
					s.geneveKeys[k] = struct{}{}
				}
				continue
			}
		}
		errs = append(errs, fmt.Sprintf("%q: %v", text, err))
	}
	return errs
}

// describe renders an item the way ovs-ofctl prints it, for people.
func (s *State) describe(version uint8, it *item) string {
	val := it.c.Val
	if val == "" {
		val = it.c.Old
	}
	switch it.kind {
	case kindFlow:
		fm, err := DecodeFlow(version, it.c.Key, val)
		if err != nil {
			return fmt.Sprintf("<flow: %v>", err)
		}
		return string(ofctl.AppendFlow(nil, fm))
	case kindGroup:
		gm := &openflow.GroupMod{}
		b, _ := GroupMessage(version, openflow.GroupAdd, id32(it.c.Key), val).AppendBinary(nil)
		if err := gm.UnmarshalBinary(b); err != nil {
			return fmt.Sprintf("<group %d: %v>", id32(it.c.Key), err)
		}
		return string(ofctl.AppendGroup(nil, gm))
	}
	mm := &openflow.MeterMod{}
	b, _ := MeterMessage(version, openflow.MeterAdd, id32(it.c.Key), val).AppendBinary(nil)
	if err := mm.UnmarshalBinary(b); err != nil {
		return fmt.Sprintf("<meter %d: %v>", id32(it.c.Key), err)
	}
	return string(ofctl.AppendMeter(nil, mm))
}
