package main

import (
	"testing"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
)

func TestShrinkGuard(t *testing.T) {
	g := defaultGuard()
	for _, tc := range []struct {
		removed, base, after int
		hold                 bool
	}{
		{0, 790, 790, false},
		{390, 795, 405, false}, // just under half: at once
		{490, 795, 305, true},  // more than half
		{795, 795, 0, true},    // everything
		{1, 1, 0, true},        // a one-flow table emptied
		{10, 0, 0, false},      // nothing known to be installed
		{5, 100, 200, false},   // a few removed, more added
		{60, 100, 100, true},   // more than half removed, as many added: still waits
	} {
		if got := g.holds(tc.removed, tc.base, tc.after); got != tc.hold {
			t.Errorf("remove %d of %d leaving %d: holds %v, want %v", tc.removed, tc.base, tc.after, got, tc.hold)
		}
	}
	// max 1: only emptying waits; settle 0: nothing does.
	if all := (shrinkGuard{max: 1, settle: 1}); all.holds(99, 100, 1) || !all.holds(100, 100, 0) {
		t.Error("max 1: want only an emptied table held")
	}
	if off := (shrinkGuard{max: 0.5}); off.holds(100, 100, 0) {
		t.Error("settle 0: want nothing held")
	}
}

func TestShrinkOf(t *testing.T) {
	st := &messages.Status{DesiredFlows: 700, DesiredGroups: 4, DesiredMeters: 1, InstalledFlows: 690,
		InstalledGroups: 4, InstalledMeters: 1}
	rm := make([]flowkey.Flow, 400)
	got := shrinkOf(st, desired.Reloaded{Update: &messages.UpdateFlows{RemoveCanonical: rm}}, 0)
	if got != (shrink{removed: 400, base: 705, after: 305}) {
		t.Errorf("delta: %+v", got)
	}
	put := &messages.PutDesired{Canonical: make([]flowkey.Flow, 12), GeneveFlows: []string{"x"}}
	got = shrinkOf(st, desired.Reloaded{Put: put}, 2)
	if got != (shrink{removed: 694, base: 705, after: 11}) {
		t.Errorf("put: %+v", got)
	}
	// The switch holds more than is desired (not read yet): the larger.
	st.InstalledFlows = 2000
	if got := shrinkOf(st, desired.Reloaded{Put: &messages.PutDesired{}}, 0); got.base != 2005 || got.after != 0 {
		t.Errorf("empty put: %+v", got)
	}
}
