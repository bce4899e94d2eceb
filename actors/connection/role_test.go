package connection

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

func claimMaster(gen uint64) func() (RoleClaim, bool) {
	return func() (RoleClaim, bool) { return RoleClaim{Role: openflow.RoleMaster, GenerationID: gen}, true }
}

// readRoleRequest reads the actor's next message and checks that it is a
// role request for claim; it returns the request's xid.
func (c *swConn) readRoleRequest(claim RoleClaim) uint32 {
	c.t.Helper()
	m, ok := c.read().(*openflow.RoleRequest)
	if !ok {
		c.t.Fatalf("fake switch: got %T, want a role request", m)
	}
	if m.Role != claim.Role || m.GenerationID != claim.GenerationID {
		c.t.Fatalf("role request role %d generation %d, want %+v", m.Role, m.GenerationID, claim)
	}
	return m.XID
}

func (c *swConn) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("fake switch: write: %v", err)
	}
}

func roleReplyFrame(xid, role uint32, gen uint64) []byte {
	b, _ := (&openflow.RoleReply{Header: openflow.Header{Version: openflow.Version13, XID: xid}, Role: role, GenerationID: gen}).AppendBinary(nil)
	return b
}

func errorFrame(xid uint32, typ, code uint16) []byte {
	b := make([]byte, 12)
	b[0], b[1] = openflow.Version13, byte(openflow.TypeError)
	binary.BigEndian.PutUint16(b[2:], 12)
	binary.BigEndian.PutUint32(b[4:], xid)
	binary.BigEndian.PutUint16(b[8:], typ)
	binary.BigEndian.PutUint16(b[10:], code)
	return b
}

// onfRoleStatus is OpenFlow 1.3's ONFT_ROLE_STATUS.
func onfRoleStatus(role uint32, gen uint64) []byte {
	b, _ := (&openflow.RoleStatus{Header: openflow.Header{Version: openflow.Version13}, Role: role, GenerationID: gen}).AppendBinary(nil)
	return b
}

// The role request is the first message after HELLO, nothing is
// published before the switch answers it, and a send meanwhile is refused.
func TestRoleRequestBeforeConnected(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	claim := RoleClaim{Role: openflow.RoleMaster, GenerationID: 7}
	pid, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(7)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	xid := c.readRoleRequest(claim)
	sink.quiet(t, 50*time.Millisecond) // no Connected before the reply
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: []openflow.Message{&openflow.BarrierRequest{}}, ReplyTo: sink.pid})
	if f := expect[*messages.SendFailed](t, sink); f.Ref != 1 {
		t.Fatalf("SendFailed %+v", f)
	}
	c.writeRaw(roleReplyFrame(xid, openflow.RoleMaster, 7))
	if g := expect[*messages.RoleGranted](t, sink); g.Role != openflow.RoleMaster || g.GenerationID != 7 || g.Seq != 1 {
		t.Errorf("RoleGranted %+v", g)
	}
	if got := expect[*messages.Connected](t, sink); got.Seq != 1 {
		t.Errorf("Connected %+v", got)
	}
}

// Each new connection asks Role again: a claim may change between them.
func TestRoleAskedOnEveryConnection(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	gen := uint64(10)
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Backoff: constBackoff(10 * time.Millisecond),
		Role: func() (RoleClaim, bool) { gen++; return RoleClaim{Role: openflow.RoleMaster, GenerationID: gen}, true }})
	for want := uint64(11); want <= 12; want++ {
		c := sw.accept()
		c.handshake(openflow.Version13)
		xid := c.readRoleRequest(RoleClaim{Role: openflow.RoleMaster, GenerationID: want})
		c.writeRaw(roleReplyFrame(xid, openflow.RoleMaster, want))
		expect[*messages.RoleGranted](t, sink)
		expect[*messages.Connected](t, sink)
		c.nc.Close()
		expect[*messages.Disconnected](t, sink)
	}
}

// A claim of no role sends no role request.
func TestRoleNotClaimed(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Role: func() (RoleClaim, bool) { return RoleClaim{}, false }})
	c := sw.accept()
	c.handshake(openflow.Version13)
	expect[*messages.Connected](t, sink)
}

// The demotions: each closes the connection for good (no redial) and
// publishes Demoted with OVS's name for why.
func TestRoleDemoted(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		// after the role reply (or instead of it, when stale) the switch sends this
		frame     func(roleXID uint32) []byte
		connected bool
	}{
		{"stale", "OFPRRFC_STALE", func(x uint32) []byte { return errorFrame(x, 11, 0) }, false},
		{"unsupported", "OFPRRFC_UNSUP", func(x uint32) []byte { return errorFrame(x, 11, 1) }, false},
		{"role status", "role_status", func(uint32) []byte { return onfRoleStatus(openflow.RoleSlave, 9) }, true},
		{"is secondary", "OFPBRC_IS_SECONDARY", func(uint32) []byte { return errorFrame(77, ofpetBadRequest, ofpbrcIsSecondary) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := newFakeSwitch(t)
			sys := newSystem()
			_, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(5), Backoff: constBackoff(10 * time.Millisecond)})
			c := sw.accept()
			c.handshake(openflow.Version13)
			xid := c.readRoleRequest(RoleClaim{Role: openflow.RoleMaster, GenerationID: 5})
			if tc.connected {
				c.writeRaw(roleReplyFrame(xid, openflow.RoleMaster, 5))
				expect[*messages.RoleGranted](t, sink)
				expect[*messages.Connected](t, sink)
			}
			c.writeRaw(tc.frame(xid))
			d := expect[*messages.Demoted](t, sink)
			if d.Reason != tc.reason {
				t.Errorf("Demoted %+v, want reason %s", d, tc.reason)
			}
			if tc.connected {
				if got := expect[*messages.Disconnected](t, sink); got.Seq != 1 {
					t.Errorf("Disconnected %+v", got)
				}
			}
			if c.readFrame() != nil {
				t.Error("connection still open after the demotion")
			}
			select {
			case <-sw.conns:
				t.Error("redialled after a demotion")
			case <-time.After(100 * time.Millisecond):
			}
		})
	}
}

// A role status that keeps us master (OVS sends none such, but a switch
// may) is no demotion; it is passed on as any unsolicited message.
func TestRoleStatusMasterIsNoDemotion(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(5)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	xid := c.readRoleRequest(RoleClaim{Role: openflow.RoleMaster, GenerationID: 5})
	c.writeRaw(roleReplyFrame(xid, openflow.RoleMaster, 5))
	expect[*messages.RoleGranted](t, sink)
	expect[*messages.Connected](t, sink)
	c.writeRaw(onfRoleStatus(openflow.RoleMaster, 5))
	if u := expect[*messages.Unsolicited](t, sink); u.Seq != 1 {
		t.Errorf("Unsolicited %+v", u)
	}
}

// A switch that never answers the role request fails the handshake and is
// redialled, as one that never says HELLO.
func TestRoleRequestTimeout(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	_, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(1), HandshakeTimeout: 100 * time.Millisecond,
		Backoff: constBackoff(10 * time.Millisecond)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	c.readRoleRequest(RoleClaim{Role: openflow.RoleMaster, GenerationID: 1})
	if c.readFrame() != nil {
		t.Fatal("connection not closed after the role request timed out")
	}
	c2 := sw.accept()
	c2.handshake(openflow.Version13)
	c2.readRoleRequest(RoleClaim{Role: openflow.RoleMaster, GenerationID: 1})
	sink.quiet(t, 20*time.Millisecond)
}

// Against a real ovs-vswitchd: the first master is demoted by a second
// one's higher generation id (role status), and a third that claims with
// an older generation id is refused OFPRRFC_STALE.
func TestRoleAgainstOVS(t *testing.T) {
	sw := ovstest.Start(t)
	sys := newSystem()
	_, first, _ := start(t, sys, Config{Target: sw.Target(), Role: claimMaster(10)})
	if g := expect[*messages.RoleGranted](t, first); g.Role != openflow.RoleMaster || g.GenerationID != 10 {
		t.Fatalf("first: RoleGranted %+v", g)
	}
	expect[*messages.Connected](t, first)

	_, second, _ := start(t, sys, Config{Target: sw.Target(), Role: claimMaster(11)})
	if g := expect[*messages.RoleGranted](t, second); g.Role != openflow.RoleMaster || g.GenerationID != 11 {
		t.Fatalf("second: RoleGranted %+v", g)
	}
	expect[*messages.Connected](t, second)
	if d := expect[*messages.Demoted](t, first); d.Reason != "role_status" || d.GenerationID != 11 {
		t.Errorf("first: Demoted %+v, want role_status generation 11", d)
	}
	expect[*messages.Disconnected](t, first)

	_, third, _ := start(t, sys, Config{Target: sw.Target(), Role: claimMaster(10)})
	if d := expect[*messages.Demoted](t, third); d.Reason != "OFPRRFC_STALE" {
		t.Errorf("third: Demoted %+v, want OFPRRFC_STALE", d)
	}
	second.quiet(t, 100*time.Millisecond) // the stale claim changed nothing for the master
}
