package messages

import (
	"time"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
)

// PutDesired replaces the desired state of the bridge. A nil slice leaves
// that kind as it was; an empty non-nil one desires none. Flows whose text
// names the negotiated Geneve field symbolically go in GeneveFlows, as
// ovs-ofctl text: the reconciler renders them whenever the field changes and
// leaves them out, with a warning, while Geneve is disabled.
//
// Canonical holds more flows, already in the reconciler's form
// (flowkey.Of): taken as they are, after Flows, which lets a sender with
// many flows compute their bytes on its own cores and drop its FlowMods.
//
// A large desired state can be handed over in parts while it is still
// being made (the daemon sends a file in parts as its lines are parsed): the
// first part has More, the parts after it Continue, and the last one
// Continue without More. The parts are one desired state, one version, as
// if their flows were given in one put, in order; groups and meters go in
// the first part, GeneveFlows in the last. A reconciler that is ready may
// already send the parts' flows in the version's bundle, but it commits
// nothing until the last part is there. A part is answered with the version
// before it. A put that does not Continue (a whole put, or a new first
// part) while a put in parts is unfinished supersedes it: the unfinished
// one is given up (as AbortPut does), never appended to.
//
// Of two flows with one key (table, priority and match), or two groups or
// meters with one id, the later wins, as in ovs-ofctl add-flows.
//
// The reconciler answers the sender with DesiredAccepted.
type PutDesired struct {
	Flows       []*openflow.FlowMod
	Canonical   []flowkey.Flow
	Groups      []*openflow.GroupMod
	Meters      []*openflow.MeterMod
	GeneveFlows []string
	// SwitchFlows are flows, in ovs-ofctl syntax, whose bytes depend on
	// what the switch says: they name its ports (in_port=vm1,
	// output:patch-tun), or tun_metadataN fields (sized by its TLV map). The
	// bridge parses them with the switch's port map (read at each
	// connection, kept current by port status) and TLV map, and again
	// whenever a port appears, goes or is renumbered or the map changes. A
	// flow naming a port the switch lacks waits (Status.MissingPorts). They
	// may name the Geneve field too. Like GeneveFlows they go in the last
	// part of a put in parts.
	SwitchFlows []string
	More        bool // more parts follow
	Continue    bool // a part after the first of a put in parts
	// SizeHint, in the first part of a put in parts, is about how many
	// flows the whole put holds, when the sender knows (the daemon counts
	// a file's lines before it parses them): the bridge makes its tables
	// that large at once rather than growing them part by part. 0: not
	// known. It changes nothing but the work and memory of taking the put.
	SizeHint int
	// Version is the OpenFlow version the put's flows, groups (and
	// Canonical) are encoded in; 0 means their headers' (OpenFlow 1.3 when
	// they say none). The bridge re-encodes what is not in its
	// connection's version.
	Version uint8
}

// AbortPut gives up the put in parts under way, if any: the desired state
// is again what it was before the put's first part, and a bundle that was
// streaming it is discarded. Answered with DesiredAccepted (the version
// unchanged).
type AbortPut struct{}

// UpdateFlows changes the desired flow table by a delta: Remove names flows
// by table, priority and match (the rest of each FlowMod is ignored), Add
// adds or replaces. AddCanonical and RemoveCanonical are the same in the
// reconciler's form (flowkey.Of; a removal needs only the key), applied
// after Add and Remove. Its cost is O(len(Add)+len(Remove)+...).
type UpdateFlows struct {
	Add             []*openflow.FlowMod
	Remove          []*openflow.FlowMod
	AddCanonical    []flowkey.Flow
	RemoveCanonical []flowkey.Flow
	// Version is the OpenFlow version the delta is encoded in, as in
	// PutDesired: 0 means the FlowMods' headers (OpenFlow 1.3 when they say
	// none). A delta in another version than the bridge's tables is
	// re-encoded, flow by flow.
	Version uint8
}

// UpdateInstalled tells the reconciler that the switch's flow table changed
// behind its back, by a delta: Removed flows are gone (an OFPT_FLOW_REMOVED,
// another controller's delete), Added ones are there as given (named and
// valued as in UpdateFlows). The reconciler corrects its installed side and
// puts right what now differs from the desired state, in O(len(Added) +
// len(Removed)) with no dump. It answers with DesiredAccepted (the desired
// version is unchanged; Errors lists flows that do not encode).
type UpdateInstalled struct {
	Added   []*openflow.FlowMod
	Removed []*openflow.FlowMod
}

// DesiredAccepted answers PutDesired and UpdateFlows: the desired state is
// now Version. Errors lists what could not be taken (a flow that does not
// encode, a message over 65535 bytes); the rest was taken.
type DesiredAccepted struct {
	Version uint64
	Errors  []string
}

// VersionInstalled is published when the switch holds desired version
// Version (barrier-confirmed), apart from what it refused and the flows
// that wait for ports it does not have (MissingPorts, see
// PutDesired.SwitchFlows).
type VersionInstalled struct {
	Version      uint64
	Flows        int // installed counts
	Groups       int
	Meters       int
	Rejected     int      // desired objects the switch refuses
	MissingPorts []string // ports flows name that the switch lacks
}

// Rejected is published for each flow, group or meter the switch refused.
// Text is the object in ovs-ofctl syntax, Error OVS's name for the error
// (e.g. OFPBAC_BAD_OUT_GROUP), Version the desired version whose round
// sent it. The rest of that round is committed; the refused object is
// retried only when it changes.
type Rejected struct {
	Version uint64
	Kind    string // "flow", "group" or "meter"
	Text    string
	Error   string
}

// Planned is published by a bridge in diff or check mode (ofactor.ModeDiff,
// ModeCheck) when it has worked out what installing desired version
// Version would change on the switch; it changes nothing itself. No
// Changes means the switch holds that version already.
type Planned struct {
	Version uint64
	Changes []PlannedChange
	// Unchecked says what a check could not send (meters, which OVS cannot
	// bundle; flows naming a Geneve field the switch has not mapped).
	Unchecked []string
	// MissingPorts are ports flows name that the switch does not have:
	// those flows are not in the plan.
	MissingPorts []string
}

// PlannedChange is one object a round would send: Op "add", "modify" or
// "delete"; Old and New the object as the switch holds it and as it is
// desired, in ovs-ofctl syntax ("" for none).
type PlannedChange struct {
	Kind     string // "flow", "group" or "meter"
	Op       string
	Old, New string
}

// Checked is published by a bridge in check mode once the switch has
// judged the planned change in a bundle that was then discarded: Rejected
// of its objects were refused (each published as Rejected before it).
type Checked struct {
	Version  uint64
	Rejected int
}

// GeneveFieldAssigned is published by the negotiator when negotiation on
// connection Seq ends: Enabled with the tun_metadata Index holding the
// option (Class, Type, Len), or disabled.
type GeneveFieldAssigned struct {
	Seq     uint64
	Enabled bool
	Index   int
	Class   uint16
	Type    uint8
	Len     uint8
	// Unmapped: a read-only negotiation (ofactor diff, check) found the
	// option unmapped; Index is the one it would take.
	Unmapped bool
	// Lengths are the option lengths of the switch's TLV map by
	// tun_metadata index (0: unmapped), this option's included: flows
	// naming tun_metadataN fields are encoded with them.
	Lengths [64]uint8
}

// GetStatus asks the reconciler for a Status.
type GetStatus struct{}

// InSync is published every time the switch is known to hold the desired
// state again, after having been out of it: Cause "install" (a new desired
// version installed), "restore" (after a (re)connect: the dump compared
// and any repair barrier-confirmed), or "heal" (drift repaired).
type InSync struct {
	Version uint64
	Cause   string
}

// OutOfSync is published when the switch stops being known to hold the
// desired state: Reason "disconnected", "desired" (a new desired state to
// install), "drift" (out-of-band changes seen), "resync" (the switch's
// tables are being read again).
type OutOfSync struct {
	Reason string
}

// Drift is published when out-of-band changes are seen on the switch (by
// the flow monitor, or by an audit): how many objects another party added,
// removed or modified since the last Drift. Each is put right by the next
// round.
type Drift struct {
	Flows, Groups, Meters DriftCounts
	By                    string // "monitor" or "audit"
}

// DriftCounts counts out-of-band changes of one kind of object.
type DriftCounts struct {
	Added, Removed, Modified int
}

// Conflict is published when ofactor stops setting an object back for a
// while because it was changed out of band more than a few times in a
// short window (another controller fighting): Count changes seen, the
// object (Kind, Text in ovs-ofctl syntax) held back for Backoff. Once the
// other party stops, the desired state wins again.
type Conflict struct {
	Kind    string
	Text    string
	Count   int
	Backoff time.Duration
}

// Audited is published after each audit of the switch (what no monitor
// reports: groups, meters, the TLV map; every Nth time, or always with the
// monitor off, the flows too): Differences objects were found wrong, and
// are put right by the next round.
type Audited struct {
	Flows       bool // the flows were read too
	Differences int
}

// GetInstalled asks the reconciler how far the switch is: answered with
// Installed. A caller waiting for a version subscribes first, then asks,
// then waits for VersionInstalled.
type GetInstalled struct{}

// Installed answers GetInstalled: the switch was last known to hold
// desired version Version (barrier-confirmed), apart from the objects it
// refused, which are still desired (Rejected: each with the version whose
// round sent it).
type Installed struct {
	Version  uint64
	Rejected []Rejected
}

// GetTables asks the reconciler for a snapshot of its tables: what the
// switch holds (Installed) or what is desired. Answered with Tables, or,
// when what the switch holds is not known (not connected, not read yet),
// with Tables whose Known is false.
type GetTables struct{ Installed bool }

// Tables is a snapshot of flows, groups and meters in canonical form
// (package flowkey), encoded for OpenFlow version OFVersion; the text of
// each is flowkey's to render.
type Tables struct {
	Known     bool
	Version   uint64 // the desired version, or the installed one
	OFVersion uint8
	Flows     []flowkey.Flow
	Groups    []flowkey.Group
	Meters    []flowkey.Meter
}

// Status is a snapshot of a reconciler.
type Status struct {
	Connected bool
	Seq       uint64
	Phase     string // the reconciler's phase: disconnected, negotiating, dumping, idle, round, ...
	// InSync says the switch is known to hold the desired state, apart
	// from what it refused: connected, its tables read (and watched), no
	// round to run. Never true while disconnected or while a change is on
	// its way.
	InSync bool
	// InstalledKnown says the Installed counts mean something: connected
	// and the switch's tables read. Otherwise they are the last known.
	InstalledKnown bool
	// Monitor is the flow monitor's state: "off", "starting", "active",
	// "paused" (the switch dropped updates: a dump follows its resume).
	Monitor string
	// Conflicts is how many objects are held back because another
	// controller keeps setting them otherwise (see messages.Conflict).
	Conflicts        int
	Geneve           GeneveFieldAssigned
	DesiredVersion   uint64
	InstalledVersion uint64
	DesiredFlows     int
	InstalledFlows   int
	DesiredGroups    int
	InstalledGroups  int
	DesiredMeters    int
	InstalledMeters  int
	Rejected         int
	LastError        string
	// MissingPorts are the ports flows name (SwitchFlows) that the switch
	// does not have: those flows wait for them.
	MissingPorts []string
}
