// Package ofctl is ovs-ofctl's text syntax for whole flows, groups and
// meters: it parses what `ovs-ofctl add-flows`, `add-groups` and
// `add-meter` accept, and prints flows, groups and meters exactly as
// `ovs-ofctl -O OpenFlow13 --no-stats dump-flows` and `dump-groups` print
// them (OVS lib/ofp-flow.c, lib/ofp-group.c, lib/ofp-meter.c), so that a
// dump can be fed back and compared byte for byte.
//
// The match of a flow is parsed and printed by ParseMatch and AppendMatch,
// its instructions and a bucket's actions by package action. This package
// splits a line into ovs-ofctl's key=value tokens (ofputil_parse_key_value),
// takes the keys that belong to the flow_mod, group_mod or meter_mod itself
// and hands the rest on, keeping track of where each piece came from, so
// that every error names the column of the line where the problem is.
//
// Files (ParseFlows, ParseGroups, ParseMeters) are read as OVS reads them:
// one item a line, '#' starts a comment, blank lines are skipped. Every bad
// line is reported, each as file:line:column; a file with any bad line
// yields no result.
package ofctl
