package openflow

import "fmt"

// Controller roles (enum ofp_controller_role, OpenFlow 1.3.5 §7.3.9). OVS
// prints MASTER as "primary" and SLAVE as "secondary".
const (
	RoleNoChange uint32 = 0
	RoleEqual    uint32 = 1
	RoleMaster   uint32 = 2
	RoleSlave    uint32 = 3
)

// Role status reasons (enum ofp14_controller_role_reason).
const (
	RoleReasonMasterRequest uint8 = 0 // another controller asked to be master
	RoleReasonConfig        uint8 = 1 // the switch's configuration changed
	RoleReasonExperimenter  uint8 = 2
)

// ONF experimenter message types OpenFlow 1.3 borrows from 1.4
// (include/openvswitch/ofp-msgs.h).
const (
	ONFTRoleStatus     uint32 = 1911
	ONFTRequestForward uint32 = 2350
)

// roleLen is a whole role request or reply: header | role u32 | pad 4 |
// generation_id u64.
const roleLen = 24

// RoleRequest is OFPT_ROLE_REQUEST (OpenFlow 1.2+, type 24; OpenFlow 1.3.5
// §7.3.9, struct ofp12_role_request), the same in every version since:
//
//	header | role u32 | pad 4 | generation_id u64
//
// GenerationID matters for MASTER and SLAVE requests only: OVS refuses one
// older than the newest it has seen with OFPRRFC_STALE (ofproto.c
// handle_role_request), and a new MASTER demotes every other to SLAVE. OVS
// answers with a RoleReply carrying the connection's role and the switch's
// newest generation id.
type RoleRequest struct {
	Header
	Role         uint32
	GenerationID uint64
}

// RoleReply is OFPT_ROLE_REPLY (OpenFlow 1.2+, type 25), laid out as
// RoleRequest.
type RoleReply struct {
	Header
	Role         uint32
	GenerationID uint64
}

// NewRoleRequest asks for role with generation id gen.
func NewRoleRequest(version uint8, role uint32, gen uint64) *RoleRequest {
	return &RoleRequest{Header: Header{Version: version}, Role: role, GenerationID: gen}
}

func (m *RoleRequest) AppendBinary(b []byte) ([]byte, error) {
	return appendRole(b, &m.Header, TypeRoleRequest, m.Role, m.GenerationID, "role_request")
}

func (m *RoleRequest) UnmarshalBinary(b []byte) (err error) {
	m.Role, m.GenerationID, err = unmarshalRole(&m.Header, b, TypeRoleRequest, "role_request")
	return err
}

func (m *RoleReply) AppendBinary(b []byte) ([]byte, error) {
	return appendRole(b, &m.Header, TypeRoleReply, m.Role, m.GenerationID, "role_reply")
}

func (m *RoleReply) UnmarshalBinary(b []byte) (err error) {
	m.Role, m.GenerationID, err = unmarshalRole(&m.Header, b, TypeRoleReply, "role_reply")
	return err
}

func appendRole(b []byte, h *Header, t Type, role uint32, gen uint64, name string) ([]byte, error) {
	if h.Version != 0 && h.Version < Version12 {
		return b, fmt.Errorf("%s: version %#x not supported", name, h.Version)
	}
	b, start := appendHeader(b, h, t)
	b = be.AppendUint32(b, role)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint64(b, gen)
	return finish(b, start)
}

func unmarshalRole(h *Header, b []byte, t Type, name string) (role uint32, gen uint64, err error) {
	if err := checkHeader(h, b, t, name); err != nil {
		return 0, 0, err
	}
	if h.Version < Version12 {
		return 0, 0, fmt.Errorf("%s: version %#x not supported", name, h.Version)
	}
	if len(b) != roleLen {
		return 0, 0, fmt.Errorf("%s: %d bytes, want %d", name, len(b), roleLen)
	}
	return be.Uint32(b[8:]), be.Uint64(b[16:]), nil
}

// RoleStatus tells a controller its role changed without its asking
// (struct ofp14_role_status): OFPT_ROLE_STATUS (30) in OpenFlow 1.4+, in
// 1.3 the ONF experimenter message ONFT_ROLE_STATUS (1911) with the same
// body. OVS sends it to a master that another controller's MASTER request
// demoted.
//
//	1.3: header (type 4) | 0x4f4e4600 | 1911 u32 | body
//	1.4: header (type 30) | body
//	body: role u32 | reason u8 | pad 3 | generation_id u64 | properties
//
// Properties (ofp14_role_prop_header, experimenter only) are kept raw.
type RoleStatus struct {
	Header
	Role         uint32
	Reason       uint8
	GenerationID uint64
	Properties   []byte
}

const roleStatusBodyLen = 16

func (m *RoleStatus) AppendBinary(b []byte) ([]byte, error) {
	if m.Version != 0 && m.Version < Version13 {
		return b, fmt.Errorf("role_status: version %#x not supported", m.Version)
	}
	b, start := appendONFOrNative(b, &m.Header, TypeRoleStatus, ONFTRoleStatus)
	b = be.AppendUint32(b, m.Role)
	b = append(b, m.Reason, 0, 0, 0)
	b = be.AppendUint64(b, m.GenerationID)
	b = append(b, m.Properties...)
	return finish(b, start)
}

func (m *RoleStatus) UnmarshalBinary(b []byte) error {
	const name = "role_status"
	off, err := checkONFOrNative(&m.Header, b, TypeRoleStatus, ONFTRoleStatus, name)
	if err != nil {
		return err
	}
	if len(b)-off < roleStatusBodyLen {
		return errTruncated(name, b, off, roleStatusBodyLen)
	}
	m.Role = be.Uint32(b[off:])
	m.Reason = b[off+4]
	m.GenerationID = be.Uint64(b[off+8:])
	m.Properties = nil
	if rest := b[off+roleStatusBodyLen:]; len(rest) > 0 {
		m.Properties = append([]byte(nil), rest...)
	}
	return nil
}
