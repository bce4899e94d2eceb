package main

import (
	"time"

	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
)

// Defaults of --max-shrink, --settle and --audit-interval.
const (
	defaultMaxShrink = 0.5
	defaultSettle    = 2 * time.Second
	defaultAudit     = 60 * time.Second
)

// shrinkGuard holds back a reload that would remove much of what the
// switch holds until the files have been unchanged for a while. A file
// written in place is read while it is being written (a shell's
// `(head -400; sleep 0.3; tail -n +401) > flows.txt` leaves it at 400 lines
// for 300 ms, an editor may truncate it first): applied at once, the part
// not written yet would be deleted from the switch and added back a moment
// later. A writer that pauses longer than settle, or a file that really is
// that much smaller, is applied after the wait, with a warning. A file
// written in place (not renamed over) that removes anything at all waits
// the same way: it may be read half written.
type shrinkGuard struct {
	// max is the fraction of the installed objects a reload may remove
	// at once; emptying a table that is not empty always waits.
	max float64
	// settle is how long the files must be unchanged before a reload that
	// removes more is applied; 0 applies everything at once.
	settle time.Duration
}

func defaultGuard() shrinkGuard { return shrinkGuard{max: defaultMaxShrink, settle: defaultSettle} }

// holds says whether a reload that removes removed of base objects,
// leaving after, must wait.
func (g shrinkGuard) holds(removed, base, after int) bool {
	if g.settle <= 0 || base == 0 || removed <= 0 {
		return false
	}
	return after == 0 || float64(removed) > g.max*float64(base)
}

// shrink is how much a reload would take away: removed of base objects
// (the larger of what the bridge desires and holds now), leaving after.
type shrink struct{ removed, base, after int }

// shrinkOf measures a reload against the bridge's status. A delta removes
// exactly its RemoveCanonical; a whole put is measured by its count, its
// duplicates counted once.
func shrinkOf(st *messages.Status, got desired.Reloaded, dups int) shrink {
	desiredNow := st.DesiredFlows + st.DesiredGroups + st.DesiredMeters
	installed := st.InstalledFlows + st.InstalledGroups + st.InstalledMeters
	s := shrink{base: max(desiredNow, installed)}
	switch {
	case got.Update != nil:
		s.removed = len(got.Update.RemoveCanonical)
		s.after = max(desiredNow-s.removed, 0) + len(got.Update.AddCanonical)
	case got.Put != nil:
		p := got.Put
		s.after = max(len(p.Canonical)+len(p.GeneveFlows)+len(p.Groups)+len(p.Meters)-dups, 0)
		s.removed = max(desiredNow-s.after, 0)
	}
	return s
}
