package reconciler

import (
	"slices"
	"strings"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
)

// Views of the State for callers who look: what is installed, what is
// desired, what the switch refuses. They copy; the machine's tables stay
// its own.

// installedInfo answers GetInstalled.
func (m *Machine) installedInfo() *messages.Installed {
	return &messages.Installed{Version: m.st.installedVersion, Rejected: m.st.rejections(m.ofVersion)}
}

// tables answers GetTables: the desired tables, or what the switch holds,
// known only while connected and read.
func (m *Machine) tables(installed bool) *messages.Tables {
	t := &messages.Tables{Known: true, Version: m.st.version, OFVersion: m.ofVersion}
	if t.OFVersion == 0 {
		t.OFVersion = 4 // the form puts are kept in before any connection
	}
	if installed {
		switch m.phase {
		case PhaseDisconnected, PhaseNegotiating, PhaseDumping, PhaseDumpRetry:
			return &messages.Tables{OFVersion: t.OFVersion}
		}
		t.Version = m.st.installedVersion
	}
	each := func(s *keyspace, f func(k, v string)) {
		keys := make([]string, 0, s.desired.Len())
		vals := map[string]string{}
		if installed {
			for k, h := range s.instDiff {
				if h.state == heldValue {
					keys, vals[k] = append(keys, k), h.val
				}
			}
			for k, v := range s.desired.All() {
				if _, differs := s.instDiff[k]; !differs {
					keys, vals[k] = append(keys, k), v
				}
			}
		} else {
			for k, v := range s.desired.All() {
				keys, vals[k] = append(keys, k), v
			}
		}
		slices.SortFunc(keys, strings.Compare)
		for _, k := range keys {
			f(k, vals[k])
		}
	}
	each(m.st.flows, func(k, v string) { t.Flows = append(t.Flows, flowkey.FromStrings(k, v)) })
	each(m.st.groups, func(k, v string) { t.Groups = append(t.Groups, flowkey.GroupOf(k, v)) })
	each(m.st.meters, func(k, v string) { t.Meters = append(t.Meters, flowkey.MeterOf(k, v)) })
	return t
}

// rejections lists the desired objects the switch refuses, in key order.
func (s *State) rejections(version uint8) []messages.Rejected {
	var out []messages.Rejected
	for _, k := range kinds {
		ks := s.keyspace(k)
		keys := make([]string, 0, len(ks.rejected))
		for key, r := range ks.rejected {
			if d, ok := ks.desired.Get(key); ok && d == r.val && !r.expired {
				keys = append(keys, key)
			}
		}
		slices.Sort(keys)
		for _, key := range keys {
			r := ks.rejected[key]
			out = append(out, messages.Rejected{Version: r.version, Kind: k.String(),
				Text: describe(version, k, change{Key: key, Val: r.val}), Error: r.err})
		}
	}
	return out
}
