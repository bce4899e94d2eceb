package connection

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// RoleClaim is the role a connection asks for right after HELLO, before any
// other message (Config.Role): openflow.RoleMaster or RoleSlave, and the
// generation id to claim it with.
type RoleClaim struct {
	Role         uint32
	GenerationID uint64
}

// The errors a role claim can meet (ofp-errors.h): OFPRRFC_* answer the
// role request itself; OFPBRC_IS_SECONDARY (OVS's name for IS_SLAVE)
// answers a write from a connection that is not master.
const (
	ofpetBadRequest   = 1  // OFPET_BAD_REQUEST
	ofpbrcIsSecondary = 10 // OFPBRC_IS_SECONDARY, OpenFlow 1.2+
)

// sendRoleRequest starts the role state: HELLO is done, and nothing but the
// role request is written until the switch answers it. The handshake timer
// keeps running: a switch that never answers is a failed handshake.
func (a *connActor) sendRoleRequest(ctx actor.Context, claim RoleClaim) {
	xid, err := a.tx.alloc(nil, 1, nil)
	if err != nil {
		a.lost(ctx, fmt.Errorf("role request: %w", err))
		return
	}
	req := openflow.NewRoleRequest(a.version, claim.Role, claim.GenerationID)
	req.XID = xid
	b, err := req.AppendBinary(nil)
	if err != nil {
		a.lost(ctx, fmt.Errorf("role request: %w", err))
		return
	}
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
	if openflow.FrameXID(in.frame) != a.roleXID || openflow.IsAsyncFrame(in.frame) {
		// Echo requests are answered by the reader; what the switch sends
		// on its own meanwhile (port status) is passed on as usual.
		if openflow.IsAsyncFrame(in.frame) {
			a.unsolicited(ctx, in)
		}
		return
	}
	switch m := in.msg.(type) {
	case *openflow.RoleReply:
		if tx := a.tx.lookup(a.roleXID); tx != nil {
			a.tx.complete(tx)
		}
		a.log.Info("role granted", zap.Uint32("role", m.Role), zap.Uint64("generation_id", m.GenerationID))
		a.connected(ctx, &messages.RoleGranted{Role: m.Role, GenerationID: m.GenerationID})
	case *openflow.Error:
		if tx := a.tx.lookup(a.roleXID); tx != nil {
			a.tx.complete(tx)
		}
		a.demote(ctx, ofperr.Decode(m.Version, m.ErrType, m.Code, m.Experimenter).Name, 0)
	default:
		// Another reply with our xid: the switch is broken.
		a.lost(ctx, fmt.Errorf("role request: answered with %s", typeName(openflow.Type(in.frame[1]))))
	}
}

// checkDemotion looks at every frame of a connection that claimed MASTER:
// a role status naming another role, or an OFPBRC_IS_SECONDARY error, is a
// demotion. It reports whether it demoted.
func (a *connActor) checkDemotion(ctx actor.Context, in *inbound) bool {
	if a.sh.cfg.Role == nil || a.claim.Role != openflow.RoleMaster {
		return false
	}
	switch m := in.msg.(type) {
	case *openflow.Error:
		if m.ErrType == ofpetBadRequest && m.Code == ofpbrcIsSecondary {
			a.demote(ctx, "OFPBRC_IS_SECONDARY", 0)
			return true
		}
	case *openflow.RoleStatus:
		if m.Role != openflow.RoleMaster {
			a.demote(ctx, "role_status", m.GenerationID)
			return true
		}
	}
	return false
}

// demote publishes Demoted and closes the connection for good: holders are
// told their transactions failed, subscribers Disconnected, and nothing is
// dialled again.
func (a *connActor) demote(ctx actor.Context, reason string, gen uint64) {
	a.log.Warn("demoted: closing the connection for good", zap.String("reason", reason),
		zap.Uint64("generation_id", gen), zap.Uint64("claimed_generation_id", a.claim.GenerationID))
	a.publish(ctx, &messages.Demoted{Seq: a.seq, Reason: reason, GenerationID: gen})
	a.sh.closed.Store(true)
	a.teardown(ctx, fmt.Errorf("demoted: %s", reason))
	a.become(stateIdle)
}
