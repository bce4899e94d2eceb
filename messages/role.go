package messages

// RoleGranted is published by a connection that claimed an OpenFlow role
// (ofactor.Config.Role) when the switch answers with OFPT_ROLE_REPLY, just
// before Connected: Role is the role it gave (2 MASTER, 3 SLAVE), and
// GenerationID the newest it has seen.
type RoleGranted struct {
	Seq          uint64
	Role         uint32
	GenerationID uint64
}

// Demoted is published when a connection that claimed MASTER learns it is
// no longer master: the switch refused the claim (OFPRRFC_STALE: another
// controller holds a newer generation id), told it of a new master (a role
// status), or refused one of its writes (OFPBRC_IS_SECONDARY). The
// connection is then closed for good: a demoted controller must not redial
// and claim again. Reason is OVS's error name, or "role_status";
// GenerationID is the switch's newest when it said (role status).
type Demoted struct {
	Seq          uint64
	Reason       string
	GenerationID uint64
}
