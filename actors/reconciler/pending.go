package reconciler

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
)

// A put in parts (PutDesired.More) is one desired state handed over while
// it is still being made: the parts up to the first put without More are
// one version. State owns it as pendingPut. Each part is applied to the
// desired tables once, as it arrives, so that the work of taking a large
// table is spread over its arrival; what the tables held before the put is
// remembered, so that an abort (messages.AbortPut, or a whole put that
// supersedes the parts) puts it back. The version moves only when the
// last part makes the put whole; the flows the put leaves out are removed
// then.
//
// A round may stream the parts into its bundle as they are applied (the
// machine asks putPart to hand it the changes instead of marking them
// dirty); the round reads them and never writes the State.
type pendingPut struct {
	// fromEmpty: no flow was desired when the put began, so an abort
	// empties the flow table and the last part removes nothing.
	fromEmpty bool
	// prior holds, unless fromEmpty, each flow key the parts set and what
	// was desired for it before the put (ok false: nothing).
	prior map[string]priorVal
	// groups and meters are the tables before the put, when its first part
	// replaced them (nil: it left that kind alone).
	groups, meters map[string]string
	// flows says some part gave flows: the put replaces the flow table.
	flows  bool
	n      int // flows given so far, to number errors
	errors []string
	hint   int // the first part's SizeHint
}

type priorVal struct {
	val string
	ok  bool
}

// putPart applies one part of a put in parts (More) and answers it with
// the version before the put and the part's errors. When carry is true the
// changes the part makes to the flows are returned rather than marked
// dirty: the caller sends them (a streamed round). The first part's groups
// and meters replace those tables.
func (s *State) putPart(m *messages.PutDesired, carry bool) (*messages.DesiredAccepted, []change) {
	acc := &messages.DesiredAccepted{Version: s.version}
	from := s.putEncoding(m)
	p := s.pending
	if p == nil {
		p = &pendingPut{fromEmpty: s.flows.desired.Len() == 0}
		if h := m.SizeHint; h > 0 && p.fromEmpty {
			p.hint = h
			s.flows.presize(h)
		}
		if !p.fromEmpty {
			p.prior = map[string]priorVal{}
		}
		if m.Groups != nil {
			p.groups = s.groups.snapshot()
			s.groups.replace(s.groupTable(m.Groups, from, acc))
		}
		if m.Meters != nil {
			p.meters = s.meters.snapshot()
			s.meters.replace(meterTable(m.Meters, acc))
		}
		s.pending = p
	} else if m.Groups != nil || m.Meters != nil {
		acc.Errors = append(acc.Errors, "groups and meters of a put in parts go in its first part: left out")
	}
	if m.GeneveFlows != nil || m.SwitchFlows != nil {
		acc.Errors = append(acc.Errors, "flows naming the Geneve field or ports go in the last part of a put in parts: left out")
	}
	p.flows = p.flows || m.Flows != nil || m.Canonical != nil
	if carry {
		// The caller takes the part's changes: nothing may mark them dirty
		// later on its own (a dump read before anything was desired does).
		s.flows.markAllDirty()
	}
	e := flowEntries(m, s.flows.desired)
	e.transcode(from, s.encoding)
	e.report(acc, p.n)
	p.n += len(e.keys)
	var carried []change
	for i, k := range e.keys {
		if e.errs[i] != nil {
			continue
		}
		if p.prior != nil {
			if _, seen := p.prior[k]; !seen {
				old, ok := s.flows.desired.Get(k)
				p.prior[k] = priorVal{old, ok}
			}
		}
		v := e.vals[i]
		if !carry {
			s.flows.put(k, v)
			continue
		}
		// The caller sends what differs: the key is not left dirty.
		h, _ := s.flows.putCleanHeld(k, v)
		delete(s.flows.dirty, k)
		if !h.is(v) && !s.flows.refused(k, v) {
			carried = append(carried, change{Key: k, Val: v, Old: h})
		}
	}
	p.errors = append(p.errors, acc.Errors...)
	return acc, carried
}

// completePut applies the last part of a put in parts: its flows (and the
// Geneve ones) as any part, then the removal of every flow the put left
// out, and the new version. The answer lists every part's errors.
func (s *State) completePut(m *messages.PutDesired, geneveLen uint8, log *zap.Logger) *messages.DesiredAccepted {
	s.putPart(&messages.PutDesired{Flows: m.Flows, Canonical: m.Canonical, Groups: m.Groups, Meters: m.Meters, Version: m.Version}, false)
	p := s.pending
	s.pending = nil
	acc := &messages.DesiredAccepted{Errors: p.errors}
	if p.flows || m.GeneveFlows != nil || m.SwitchFlows != nil {
		if !p.fromEmpty {
			for k := range s.flows.desired.Keys() {
				if _, put := p.prior[k]; !put {
					s.flows.remove(k)
				}
			}
		}
		s.setTemplates(m.GeneveFlows, geneveLen, acc)
		s.setSwitchTexts(m.SwitchFlows, acc)
		next := map[string]string{}
		s.renderInto(next, log)
		for k, v := range next {
			s.flows.put(k, v)
		}
	}
	s.version++
	acc.Version = s.version
	return acc
}

// abortPut gives an unfinished put in parts up: the tables are put back as
// they were before it. It reports whether there was one.
func (s *State) abortPut() bool {
	p := s.pending
	if p == nil {
		return false
	}
	s.pending = nil
	if p.fromEmpty {
		s.flows.replace(map[string]string{})
	} else {
		for k, pv := range p.prior {
			if pv.ok {
				s.flows.put(k, pv.val)
			} else {
				s.flows.remove(k)
			}
		}
	}
	if p.groups != nil {
		s.groups.replace(p.groups)
	}
	if p.meters != nil {
		s.meters.replace(p.meters)
	}
	return true
}

// snapshot returns a copy of the desired table (groups and meters: small).
func (s *keyspace) snapshot() map[string]string {
	m := make(map[string]string, s.desired.Len())
	for k, v := range s.desired.All() {
		m[k] = v
	}
	return m
}

// pendingSummary describes the put in parts under way, for status.
func (s *State) pendingSummary() string {
	if s.pending == nil {
		return ""
	}
	return fmt.Sprintf("put in parts under way: %d flows so far", s.pending.n)
}
