package reconciler

import (
	"fmt"
	"strings"
	"unsafe"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/parallel"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// State is what a reconciler keeps across restarts: the desired tables and
// their version. Only the reconciler touches it, one message at a time; a
// restarted reconciler picks it up where its predecessor left it.
type State struct {
	flows, groups, meters *keyspace

	version          uint64 // desired version: bumped by every accepted change
	installedVersion uint64 // the last version the switch was known to hold
	// encoding is the OpenFlow version the tables' bytes are in (0 until
	// the first put or connection): see transcode.go.
	encoding uint8

	geneve    messages.GeneveFieldAssigned
	templates []flowkey.Template  // flows naming the Geneve field
	rendered  map[string]struct{} // the flow keys rendered from them and from switchTexts

	switchTexts  []switchText      // flows whose bytes depend on the switch (ports.go)
	ports        map[uint32]string // the switch's port map, nil before the first read
	missingPorts map[string]int    // ports flows name that the switch lacks: flows waiting

	// pending is the put in parts under way (PutDesired.More), nil if none.
	pending *pendingPut

	// flowsRaw says the installed flows are a dump's bytes as received,
	// not yet in canonical form: see canonicalizeFlows.
	flowsRaw bool
}

// NewState returns an empty desired state.
func NewState() *State {
	flows := newKeyspace()
	flows.keepTimed = true
	return &State{
		flows:    flows,
		groups:   newKeyspace(),
		meters:   newKeyspace(),
		geneve:   messages.GeneveFieldAssigned{Index: -1},
		rendered: map[string]struct{}{},

		missingPorts: map[string]int{},
	}
}

// keyspace returns the keyspace of kind k.
func (s *State) keyspace(k kind) *keyspace {
	switch k {
	case kindFlow:
		return s.flows
	case kindGroup:
		return s.groups
	}
	return s.meters
}

// trim gives back the room each keyspace's tables no longer need
// (keyspace.trim).
func (s *State) trim() {
	for _, k := range kinds {
		s.keyspace(k).trim()
	}
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
	s.flows.canonicalize(func(k, v string) (string, string, bool) {
		f, ok := flowkey.Canonical(version, flowkey.FromStrings(k, v))
		return f.Key(), f.Value(), ok
	})
}

// entries is a put's flows in canonical bytes, in order; errs[i] says why
// the i-th could not be taken.
type entries struct {
	keys, vals []string
	errs       []error
}

// flowEntries makes the entries of a put's flows, FlowMods on every core
// (a full desired table of 100k flows costs its canonical bytes once, and
// that is most of the work of taking it), then the ready Canonical ones.
func flowEntries(m *messages.PutDesired, desired *table) entries {
	n := len(m.Flows) + len(m.Canonical)
	e := entries{keys: make([]string, n), vals: make([]string, n), errs: make([]error, n)}
	parallel.For(len(m.Flows), func(i int) {
		e.keys[i], e.vals[i], e.errs[i] = knownEntry(m.Flows[i], desired)
	})
	for i, f := range m.Canonical {
		e.keys[len(m.Flows)+i], e.vals[len(m.Flows)+i] = f.Key(), f.Value()
	}
	return e
}

// knownEntry returns a flow's canonical key and value. A flow whose match,
// encoded as given, is a desired key needs no normalizing (a full-set put
// that changes little then normalizes only its new flows).
func knownEntry(fm *openflow.FlowMod, desired *table) (string, string, error) {
	b, kl, err := flowkey.Encode(fm.TableID, fm.Priority, &fm.Match, fm.Cookie,
		fm.IdleTimeout, fm.HardTimeout, fm.Flags, fm.Importance, fm.Instructions)
	if err == nil {
		// The lookup looks at the bytes without a copy: a new flow leaves
		// no garbage string behind among the table's live ones.
		if desired.Has(unsafe.String(&b[0], kl)) {
			kv := string(b)
			if k, v := kv[:kl], kv[kl:]; flowkey.FlowModLen(k, v) <= flowkey.MaxInner {
				return k, v, nil
			}
		}
	}
	f, err := flowkey.Of(fm)
	return f.Key(), f.Value(), err
}

// report adds the errors of e to acc, numbering flows from first.
func (e entries) report(acc *messages.DesiredAccepted, first int) {
	for i, err := range e.errs {
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("flow %d: %v", first+i, err))
		}
	}
}

// put takes a whole desired state (not a part: see putPart). What does not
// encode, or would make a message over 65535 bytes, is left out and
// reported; the rest is taken. Of two flows with one key, or two groups or
// meters with one id, the later wins.
func (s *State) put(m *messages.PutDesired, geneveLen uint8, log *zap.Logger) *messages.DesiredAccepted {
	acc := &messages.DesiredAccepted{}
	from := s.putEncoding(m)
	if m.Flows != nil || m.Canonical != nil || m.GeneveFlows != nil || m.SwitchFlows != nil {
		e := flowEntries(m, s.flows.desired)
		e.transcode(from, s.encoding)
		e.report(acc, 0)
		s.setSwitchTexts(m.SwitchFlows, acc)
		s.putFlows(e, m.GeneveFlows, geneveLen, acc, log)
	}
	if m.Groups != nil {
		s.groups.replace(s.groupTable(m.Groups, from, acc))
	}
	if m.Meters != nil {
		s.meters.replace(meterTable(m.Meters, acc))
	}
	s.version++
	acc.Version = s.version
	return acc
}

// putFlows makes the flows of e (those without errors) and the flows naming
// the Geneve field the desired flow table.
func (s *State) putFlows(e entries, geneve []string, geneveLen uint8, acc *messages.DesiredAccepted, log *zap.Logger) {
	s.setTemplates(geneve, geneveLen, acc)
	if len(s.templates) == 0 && len(s.switchTexts) == 0 && s.flows.replaceSame(e.keys, e.vals, e.errs) {
		return
	}
	next := make(map[string]string, len(e.keys))
	for i := range e.keys {
		if e.errs[i] == nil {
			next[e.keys[i]] = e.vals[i] // of two with one key, the later wins
		}
	}
	s.renderInto(next, log)
	s.flows.replace(next)
}

// putEncoding returns the version a put is encoded in, and makes it the
// State's when the State has none yet.
func (s *State) putEncoding(m *messages.PutDesired) uint8 {
	v := putVersion(m.Version, m.Flows, m.Groups)
	if s.encoding == 0 {
		s.encoding = v
	}
	return v
}

// transcode re-encodes entries made in version from for version to.
func (e entries) transcode(from, to uint8) {
	if from == to {
		return
	}
	parallel.For(len(e.keys), func(i int) {
		if e.errs[i] == nil {
			e.keys[i], e.vals[i], e.errs[i] = transcodeFlow(from, to, e.keys[i], e.vals[i])
		}
	})
}

// groupTable returns groups as a table of canonical values by id, in the
// State's encoding (the groups say theirs: from).
func (s *State) groupTable(gms []*openflow.GroupMod, from uint8, acc *messages.DesiredAccepted) map[string]string {
	to := s.encoding
	return idTable(gms, "group", acc, func(gm *openflow.GroupMod) (uint32, string, error) {
		val, err := flowkey.GroupValue(from, gm.Type, gm.Buckets, gm.Selection, gm.Properties)
		if err == nil && from != to {
			val, err = transcodeGroup(from, to, flowkey.IDKey(gm.GroupID), val)
		}
		return gm.GroupID, val, err
	})
}

// meterTable is groupTable for meters.
func meterTable(mms []*openflow.MeterMod, acc *messages.DesiredAccepted) map[string]string {
	return idTable(mms, "meter", acc, func(mm *openflow.MeterMod) (uint32, string, error) {
		v, err := flowkey.MeterValue(mm.Flags, mm.Bands)
		return mm.MeterID, v, err
	})
}

// idTable makes a table by id of objects' canonical values (entry), the
// later of two with one id counting; what does not encode is reported.
func idTable[T any](objs []T, kind string, acc *messages.DesiredAccepted, entry func(T) (uint32, string, error)) map[string]string {
	next := make(map[string]string, len(objs))
	for _, o := range objs {
		id, v, err := entry(o)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("%s %d: %v", kind, id, err))
			continue
		}
		next[flowkey.IDKey(id)] = v
	}
	return next
}

// update applies a delta to the desired flows, in O(len(delta)).
func (s *State) update(m *messages.UpdateFlows) *messages.DesiredAccepted {
	acc := &messages.DesiredAccepted{}
	if s.pending != nil {
		acc.Version = s.version
		acc.Errors = append(acc.Errors, "a put in parts is under way: finish it (a part without More) or abort it first; nothing taken")
		return acc
	}
	from := putVersion(m.Version, append(m.Add[:len(m.Add):len(m.Add)], m.Remove...), nil)
	if s.encoding == 0 {
		s.encoding = from
	}
	// entry is a flow of the delta in the State's encoding.
	entry := func(k, v string, err error) (string, string, error) {
		if err == nil && from != s.encoding {
			return transcodeFlow(from, s.encoding, k, v)
		}
		return k, v, err
	}
	for i, fm := range m.Remove {
		k, _, err := entry(knownEntry(fm, s.flows.desired))
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("remove %d: %v", i, err))
			continue
		}
		s.flows.remove(k)
	}
	for i, fm := range m.Add {
		k, v, err := entry(knownEntry(fm, s.flows.desired))
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("add %d: %v", i, err))
			continue
		}
		s.flows.put(k, v)
	}
	for i, f := range m.RemoveCanonical {
		k, _, err := entry(f.Key(), f.Value(), nil)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("remove canonical %d: %v", i, err))
			continue
		}
		s.flows.remove(k)
	}
	for i, f := range m.AddCanonical {
		k, v, err := entry(f.Key(), f.Value(), nil)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("add canonical %d: %v", i, err))
			continue
		}
		s.flows.put(k, v)
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
	// entry is a flow in the State's encoding.
	entry := func(fm *openflow.FlowMod) (string, string, error) {
		f, err := flowkey.Of(fm)
		if from := putVersion(0, []*openflow.FlowMod{fm}, nil); err == nil && s.encoding != 0 && from != s.encoding {
			return transcodeFlow(from, s.encoding, f.Key(), f.Value())
		}
		return f.Key(), f.Value(), err
	}
	for i, fm := range m.Removed {
		k, _, err := entry(fm)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("removed %d: %v", i, err))
			continue
		}
		s.flows.installedAs(k, nothing)
	}
	for i, fm := range m.Added {
		k, v, err := entry(fm)
		if err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("added %d: %v", i, err))
			continue
		}
		s.flows.installedAs(k, holding(v))
	}
	return acc
}

// inSync reports whether the switch holds the desired state, apart from
// what it refused.
func (s *State) inSync() bool {
	return s.pending == nil && s.flows.inSync() && s.groups.inSync() && s.meters.inSync()
}

// rejectedLen is how many desired objects the switch refuses.
func (s *State) rejectedLen() int {
	n := 0
	for _, k := range kinds {
		for _, r := range s.keyspace(k).rejected {
			if !r.expired {
				n++
			}
		}
	}
	return n
}

// describe renders a change the way ovs-ofctl prints it, for people.
func describe(version uint8, k kind, c change) string {
	val := c.Val
	if val == "" {
		val = c.Old.val
	}
	switch k {
	case kindFlow:
		fm, err := flowkey.Decode(version, c.Key, val)
		if err != nil {
			return fmt.Sprintf("<flow: %v>", err)
		}
		return strings.TrimSpace(string(ofctl.AppendFlow(nil, fm)))
	case kindGroup:
		gm, err := flowkey.DecodeGroup(version, c.Key, val)
		if err != nil {
			return fmt.Sprintf("<group %d: %v>", flowkey.KeyID(c.Key), err)
		}
		return string(ofctl.AppendGroup(nil, gm))
	}
	mm, err := flowkey.DecodeMeter(version, c.Key, val)
	if err != nil {
		return fmt.Sprintf("<meter %d: %v>", flowkey.KeyID(c.Key), err)
	}
	return string(ofctl.AppendMeter(nil, mm))
}
