package reconciler

// Some refusals say nothing is wrong with the object, only that our idea of
// what the switch holds is stale: another controller (or a commit whose
// reply was lost) added a group or meter we believed absent, or removed one
// we believed present. Treating those as rejections loops forever on
// GROUP_EXISTS, as antrea and ovn-controller have; instead the installed
// side is corrected and the next round sends the right command (MODIFY for
// an existing object, ADD for a missing one).

// staleView reports whether err (an OVS error name) about an object of kind
// k means our installed view was wrong, and what the switch must hold
// instead: something we do not know (it exists) or nothing.
func staleView(k kind, err string) (held, bool) {
	switch err {
	case "OFPGMFC_GROUP_EXISTS":
		return held{state: heldUnknown}, k == kindGroup
	case "OFPMMFC_METER_EXISTS":
		return held{state: heldUnknown}, k == kindMeter
	case "OFPGMFC_UNKNOWN_GROUP":
		return nothing, k == kindGroup
	case "OFPMMFC_UNKNOWN_METER":
		return nothing, k == kindMeter
	}
	return nothing, false
}

// culprit reports whether the switch named an object of the round at
// fault: then the next round, without it or with our view corrected, can
// succeed at once and needs no backoff.
func (r *round) culprit() bool {
	for _, it := range r.all {
		if it.err != "" {
			return true
		}
	}
	return false
}

// deletedGroupsOrMeters reports whether the round deleted a group or a
// meter. OVS then deletes every flow that uses it (ofproto's
// delete_flows__ for a group's or meter's referring rules), behind our
// back: the installed flow table must be read again.
func (r *round) deletedGroupsOrMeters() bool {
	for _, it := range r.all {
		if it.kind != kindFlow && it.c.Val == "" && it.err == "" {
			return true
		}
	}
	return false
}

// changedGroupsOrMeters reports whether the round installed a group or a
// meter.
func (r *round) changedGroupsOrMeters() bool {
	for _, it := range r.all {
		if it.kind != kindFlow && it.c.Val != "" && it.err == "" {
			return true
		}
	}
	return false
}
