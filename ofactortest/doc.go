// Package ofactortest is an in-memory OpenFlow 1.3 switch for tests: one
// Open vSwitch bridge as a controller sees it through the bridge's
// management socket, so that a controller's unit tests (ofactor's, or an
// embedder's) need no ovs-vswitchd.
//
// It keeps the state OVS keeps — flow tables 0-254 (254 holding OVS's
// hidden internal rules), the group and meter tables, the Geneve TLV map,
// per-connection bundles — and answers what ofactor and OVN send the way
// OVS 3.1 does: flow_mod ADD (an identical flow replaced, check_overlap),
// MODIFY and MODIFY_STRICT (which in OpenFlow 1.3 add nothing when nothing
// matches), DELETE and DELETE_STRICT with cookie masks, match subsumption
// and out_port/out_group; the checks OVS makes and the errors it gives
// (goto_table backwards, a group or meter that does not exist, an unmapped
// tun_metadata field, table 254, bad matches); group_mods and meter_mods
// with OVS's errors, a deleted group or meter taking its flows with it;
// NXT_TLV_TABLE_MOD with ALREADY_MAPPED, DUP_ENTRY and INVALID_TLV_DEL;
// ONF bundles with errors at add time and at commit time and everything
// reverted; barriers, echo, features, port and switch descriptions,
// multipart replies split as OVS splits them; errors for what it does not
// know, as OVS gives them. That it does so is not a claim: the
// conformance suite (package conformance below this one) runs the same
// test cases against this switch and a real ovs-vswitchd and fails on any
// difference.
//
// # Using it
//
//	sw := ofactortest.Start(t) // a unix socket in a temp dir, closed at cleanup
//	bridge, _ := ofactor.Spawn(system.Root, ofactor.Config{Target: sw.Target()})
//	// ... put the desired state, wait for messages.VersionInstalled ...
//	got := sw.DumpFlows() // lines as `ovs-ofctl --no-stats dump-flows` prints them
//
// New makes a switch that listens nowhere: ListenUnix or Listen give it a
// socket, ServeConn serves one end of net.Pipe. Several controllers may be
// connected at once; they share the bridge, and each has its own bundles.
// Client is a small synchronous OpenFlow client for tests that talk to a
// switch (this one or a real one) message by message.
//
// Observation is in ovs-ofctl's words: DumpFlows, DumpTable, DumpGroups,
// DumpMeters, DumpTLVMap print what `ovs-ofctl -O OpenFlow13 dump-flows`
// (and dump-groups, dump-meters in add-meter syntax, dump-tlv-map) would
// print for a real bridge, so a test compares them with a fixture made on
// OVS. Received counts the messages controllers sent, by the names ovs-ofctl
// gives them (Counts.Mods: "nothing was changed").
//
// Out-of-band changes are what an operator's ovs-ofctl does behind the
// controller's back: AddFlow, AddFlows, ModFlows, DelFlows, AddGroup,
// DelGroups, AddMeter, DelMeters, AddTLVMap, DelTLVMap take ovs-ofctl's
// text and fail with the error OVS would give; RecreateBridge is
// `ovs-vsctl del-br` and `add-br`.
//
// Faults: RefuseFlow, RefuseGroup, RefuseMeter and RefuseFunc make the
// switch refuse an object with an error of the test's choosing, where OVS
// would refuse it (at commit inside a bundle); CutAfter and CutBefore cut
// a connection at the nth message; Stall and Release stop and resume all
// reading and answering, as SIGSTOP and SIGCONT of ovs-vswitchd; Restart
// drops every table and connection, as kill -9 and a restart; Disconnect
// drops the connections alone.
//
// # What it does not model
//
// Packets: there is no datapath, so no packet_in, packet_out (refused as
// unmodelled) or counters that move; flow counters and durations are kept
// and reported as OVS keeps them, and hard and idle timeouts run out on
// the switch's clock (WithClock) as they do on OVS without traffic. Ports
// other than LOCAL, port_mod, table_mod, roles, async configuration, the
// flow monitor and OpenFlow 1.4/1.5 are not modelled yet: those requests
// are answered OFPBRC_BAD_TYPE (or _BAD_STAT) and counted in Unmodelled.
// Validation of actions is the codec's (package action's Validate), which
// follows OVS for what OVN uses. The RCU delay with which OVS releases a
// deleted flow's hold on a TLV mapping is not modelled: here the mapping
// can be deleted at once. docs/testing.md has the details.
package ofactortest
