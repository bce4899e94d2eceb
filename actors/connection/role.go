package connection

import (
	"encoding/binary"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Controller roles (enum ofp_controller_role, OpenFlow 1.3.5 §7.3.9). OVS
// prints MASTER as "primary" and SLAVE as "secondary".
const (
	RoleNoChange uint32 = 0
	RoleEqual    uint32 = 1
	RoleMaster   uint32 = 2
	RoleSlave    uint32 = 3
)

// RoleClaim is the role a connection asks for right after HELLO, before any
// other message (Config.Role).
type RoleClaim struct {
	Role         uint32
	GenerationID uint64
}

// Wire facts of roles (OpenFlow 1.3.5 §7.3.9, OVS's ofp-msgs.h): a role
// request or reply is header | role u32 | pad 4 | generation_id u64; the
// role status body is role u32 | reason u8 | pad 3 | generation_id u64.
const (
	roleMsgLen        = 24
	onftRoleStatus    = 1911 // ONFT_ROLE_STATUS, OpenFlow 1.3's role status
	ofpetRoleFailed   = 11   // OFPET_ROLE_REQUEST_FAILED
	ofpetBadRequest   = 1    // OFPET_BAD_REQUEST
	ofpbrcIsSecondary = 10   // OFPBRC_IS_SECONDARY (IS_SLAVE), OpenFlow 1.2+
)

// roleRequest encodes OFPT_ROLE_REQUEST in version v. The xid is set by
// the caller.
func roleRequest(v uint8, c RoleClaim) []byte {
	b := make([]byte, roleMsgLen)
	b[0], b[1] = v, byte(openflow.TypeRoleRequest)
	binary.BigEndian.PutUint16(b[2:], roleMsgLen)
	binary.BigEndian.PutUint32(b[8:], c.Role)
	binary.BigEndian.PutUint64(b[16:], c.GenerationID)
	return b
}

// roleReply reads an OFPT_ROLE_REPLY frame.
func roleReply(b []byte) (role uint32, gen uint64, err error) {
	if len(b) != roleMsgLen {
		return 0, 0, fmt.Errorf("role_reply: %d bytes, want %d", len(b), roleMsgLen)
	}
	return binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint64(b[16:]), nil
}

// roleStatus reads a role status frame, OpenFlow 1.3's ONF experimenter
// message or OpenFlow 1.4's OFPT_ROLE_STATUS; ok is false for any other frame.
func roleStatus(b []byte) (role uint32, gen uint64, ok bool, err error) {
	off := 0
	switch {
	case openflow.Type(b[1]) == ofptRoleStatus && b[0] >= openflow.Version14:
		off = openflow.HeaderLen
	case openflow.Type(b[1]) == openflow.TypeExperimenter:
		exp, sub, isExp := experimenter(b)
		if !isExp || exp != openflow.ExperimenterONF || sub != onftRoleStatus {
			return 0, 0, false, nil
		}
		off = openflow.HeaderLen + 8
	default:
		return 0, 0, false, nil
	}
	if len(b) < off+16 {
		return 0, 0, true, fmt.Errorf("role_status: truncated: %d bytes, want at least %d", len(b), off+16)
	}
	return binary.BigEndian.Uint32(b[off:]), binary.BigEndian.Uint64(b[off+8:]), true, nil
}

// isSecondaryError says whether a frame is the OFPBRC_IS_SECONDARY error
// that a switch answers a non-master's write with.
func isSecondaryError(b []byte) bool {
	if openflow.Type(b[1]) != openflow.TypeError {
		return false
	}
	typ, code, _, ok := errorFields(b)
	return ok && typ == ofpetBadRequest && code == ofpbrcIsSecondary
}

// sendRoleRequest starts the role state: HELLO is done, and nothing but the
// role request is written until the switch answers it. The handshake timer
// keeps running: a switch that never answers is a failed handshake.
func (a *connActor) sendRoleRequest(ctx actor.Context, claim RoleClaim) {
	xid, err := a.tx.alloc(nil, 1, nil)
	if err != nil {
		a.lost(ctx, fmt.Errorf("role request: %w", err))
		return
	}
	b := roleRequest(a.version, claim)
	setXID(b, xid)
	a.roleXID, a.claim = xid, claim
	a.become(stateRole)
	a.log.Info("role request sent", zap.Uint32("xid", xid), zap.Uint32("role", claim.Role),
		zap.Uint64("generation_id", claim.GenerationID))
	a.c.priority(b)
}

// handleRoleAnswer is the role state: the switch's answer to the role
// request. A ROLE_REPLY completes the handshake (RoleGranted, then
// Connected); an error is a demotion (OFPRRFC_STALE) or a switch that cannot
// fence us, and either way the connection is closed for good.
func (a *connActor) handleRoleAnswer(ctx actor.Context, in *inbound) {
	t, xid := openflow.Type(in.frame[1]), xidOf(in.frame)
	if xid != a.roleXID || (t != openflow.TypeRoleReply && t != openflow.TypeError) {
		// Echo requests are answered by the reader; anything else the
		// switch sends meanwhile (port status) is passed on as usual.
		if !isAsync(t) && t != openflow.TypeExperimenter {
			return
		}
		a.unsolicited(ctx, in)
		return
	}
	if tx := a.tx.lookup(xid); tx != nil {
		a.tx.complete(tx)
	}
	if t == openflow.TypeError {
		name := "truncated ofp_error_msg"
		if typ, code, exp, ok := errorFields(in.frame); ok {
			name = ofperr.Decode(in.frame[0], typ, code, exp).Name
		}
		a.demote(ctx, name, 0)
		return
	}
	role, gen, err := roleReply(in.frame)
	if err != nil {
		a.lost(ctx, err)
		return
	}
	a.log.Info("role granted", zap.Uint32("role", role), zap.Uint64("generation_id", gen))
	a.connected(ctx, &messages.RoleGranted{Role: role, GenerationID: gen})
}

// checkDemotion looks at every frame of a connection that claimed a role:
// a role status naming another role, or an OFPBRC_IS_SECONDARY error, is a
// demotion. It reports whether it demoted.
func (a *connActor) checkDemotion(ctx actor.Context, in *inbound) bool {
	if a.sh.cfg.Role == nil || a.claim.Role != RoleMaster {
		return false
	}
	if isSecondaryError(in.frame) {
		a.demote(ctx, "OFPBRC_IS_SECONDARY", 0)
		return true
	}
	role, gen, ok, err := roleStatus(in.frame)
	if !ok {
		return false
	}
	if err != nil {
		a.lost(ctx, err)
		return true
	}
	if role != RoleMaster {
		a.demote(ctx, "role_status", gen)
		return true
	}
	return false
}

// demote publishes Demoted and closes the connection for good: holders are
// told their transactions failed, subscribers Disconnected, and nothing is
// dialled again.
func (a *connActor) demote(ctx actor.Context, reason string, gen uint64) {
	seq := a.seq
	a.log.Warn("demoted: closing the connection for good", zap.String("reason", reason),
		zap.Uint64("generation_id", gen), zap.Uint64("claimed_generation_id", a.claim.GenerationID))
	a.publish(ctx, &messages.Demoted{Seq: seq, Reason: reason, GenerationID: gen})
	a.sh.closed.Store(true)
	a.teardown(ctx, fmt.Errorf("demoted: %s", reason))
	a.become(stateIdle)
}
