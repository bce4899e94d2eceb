package connection

import (
	"encoding/binary"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

func claimMaster(gen uint64) func() (RoleClaim, bool) {
	return func() (RoleClaim, bool) { return RoleClaim{Role: RoleMaster, GenerationID: gen}, true }
}

// readRoleRequest reads the actor's next frame and checks that it is a role
// request for claim; it returns the request's xid.
func (c *swConn) readRoleRequest(claim RoleClaim) uint32 {
	c.t.Helper()
	b := c.readFrame()
	if b == nil {
		c.t.Fatal("fake switch: closed before the role request")
	}
	if openflow.Type(b[1]) != openflow.TypeRoleRequest || len(b) != roleMsgLen {
		c.t.Fatalf("fake switch: got type %d, %d bytes, want a role request", b[1], len(b))
	}
	if r, g := binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint64(b[16:]); r != claim.Role || g != claim.GenerationID {
		c.t.Fatalf("role request role %d generation %d, want %+v", r, g, claim)
	}
	return xidOf(b)
}

func (c *swConn) writeRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("fake switch: write: %v", err)
	}
}

func roleReplyFrame(xid, role uint32, gen uint64) []byte {
	b := roleRequest(openflow.Version13, RoleClaim{Role: role, GenerationID: gen})
	b[1] = byte(openflow.TypeRoleReply)
	setXID(b, xid)
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

// onfRoleStatus is ONFT_ROLE_STATUS: header | ONF | 1911 | role | reason | pad | generation.
func onfRoleStatus(role uint32, gen uint64) []byte {
	b := make([]byte, 32)
	b[0], b[1] = openflow.Version13, byte(openflow.TypeExperimenter)
	binary.BigEndian.PutUint16(b[2:], 32)
	binary.BigEndian.PutUint32(b[8:], openflow.ExperimenterONF)
	binary.BigEndian.PutUint32(b[12:], onftRoleStatus)
	binary.BigEndian.PutUint32(b[16:], role)
	binary.BigEndian.PutUint64(b[24:], gen)
	return b
}

// The role request is the first message after HELLO, nothing is
// published before the switch answers it, and a send meanwhile is refused.
func TestRoleRequestBeforeConnected(t *testing.T) {
	sw := newFakeSwitch(t)
	sys := newSystem()
	claim := RoleClaim{Role: RoleMaster, GenerationID: 7}
	pid, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(7)})
	c := sw.accept()
	c.handshake(openflow.Version13)
	xid := c.readRoleRequest(claim)
	sink.quiet(t, 50*time.Millisecond) // no Connected before the reply
	sys.Root.Send(pid, &messages.Send{Ref: 1, Msgs: []openflow.Message{&openflow.BarrierRequest{}}, ReplyTo: sink.pid})
	if f := expect[*messages.SendFailed](t, sink); f.Ref != 1 {
		t.Fatalf("SendFailed %+v", f)
	}
	c.writeRaw(roleReplyFrame(xid, RoleMaster, 7))
	if g := expect[*messages.RoleGranted](t, sink); g.Role != RoleMaster || g.GenerationID != 7 || g.Seq != 1 {
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
		Role: func() (RoleClaim, bool) { gen++; return RoleClaim{Role: RoleMaster, GenerationID: gen}, true }})
	for want := uint64(11); want <= 12; want++ {
		c := sw.accept()
		c.handshake(openflow.Version13)
		xid := c.readRoleRequest(RoleClaim{Role: RoleMaster, GenerationID: want})
		c.writeRaw(roleReplyFrame(xid, RoleMaster, want))
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
		{"stale", "OFPRRFC_STALE", func(x uint32) []byte { return errorFrame(x, ofpetRoleFailed, 0) }, false},
		{"unsupported", "OFPRRFC_UNSUP", func(x uint32) []byte { return errorFrame(x, ofpetRoleFailed, 1) }, false},
		{"role status", "role_status", func(uint32) []byte { return onfRoleStatus(RoleSlave, 9) }, true},
		{"is secondary", "OFPBRC_IS_SECONDARY", func(uint32) []byte { return errorFrame(77, ofpetBadRequest, ofpbrcIsSecondary) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := newFakeSwitch(t)
			sys := newSystem()
			_, sink, _ := start(t, sys, Config{Target: sw.target(), Role: claimMaster(5), Backoff: constBackoff(10 * time.Millisecond)})
			c := sw.accept()
			c.handshake(openflow.Version13)
			xid := c.readRoleRequest(RoleClaim{Role: RoleMaster, GenerationID: 5})
			if tc.connected {
				c.writeRaw(roleReplyFrame(xid, RoleMaster, 5))
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
	xid := c.readRoleRequest(RoleClaim{Role: RoleMaster, GenerationID: 5})
	c.writeRaw(roleReplyFrame(xid, RoleMaster, 5))
	expect[*messages.RoleGranted](t, sink)
	expect[*messages.Connected](t, sink)
	c.writeRaw(onfRoleStatus(RoleMaster, 5))
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
	c.readRoleRequest(RoleClaim{Role: RoleMaster, GenerationID: 1})
	if c.readFrame() != nil {
		t.Fatal("connection not closed after the role request timed out")
	}
	c2 := sw.accept()
	c2.handshake(openflow.Version13)
	c2.readRoleRequest(RoleClaim{Role: RoleMaster, GenerationID: 1})
	sink.quiet(t, 20*time.Millisecond)
}

// Against a real ovs-vswitchd: the first master is demoted by a second
// one's higher generation id (role status), and a third that claims with
// an older generation id is refused OFPRRFC_STALE.
func TestRoleAgainstOVS(t *testing.T) {
	sw := ovstest.Start(t)
	sys := newSystem()
	_, first, _ := start(t, sys, Config{Target: sw.Target(), Role: claimMaster(10)})
	if g := expect[*messages.RoleGranted](t, first); g.Role != RoleMaster || g.GenerationID != 10 {
		t.Fatalf("first: RoleGranted %+v", g)
	}
	expect[*messages.Connected](t, first)

	_, second, _ := start(t, sys, Config{Target: sw.Target(), Role: claimMaster(11)})
	if g := expect[*messages.RoleGranted](t, second); g.Role != RoleMaster || g.GenerationID != 11 {
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

// The role frames this package writes and reads, checked against OVS's
// own printer: the request it sends, the reply and the OpenFlow 1.3 and
// 1.4 role status it reads.
func TestRoleFramesGolden(t *testing.T) {
	ofctl := ovstest.OfctlPath(t)
	req := roleRequest(openflow.Version13, RoleClaim{Role: RoleMaster, GenerationID: 5})
	setXID(req, 1)
	reply := roleReplyFrame(2, RoleSlave, 9)
	status13 := onfRoleStatus(RoleSlave, 7)
	setXID(status13, 3)
	// OpenFlow 1.4's OFPT_ROLE_STATUS: the same body after a plain header.
	status14 := append([]byte{openflow.Version14, ofptRoleStatus, 0, 0, 0, 0, 0, 4}, status13[16:]...)
	binary.BigEndian.PutUint16(status14[2:], uint16(len(status14)))
	for _, tc := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"request", req, "OFPT_ROLE_REQUEST (OF1.3) (xid=0x1): role=primary generation_id=5"},
		{"reply", reply, "OFPT_ROLE_REPLY (OF1.3) (xid=0x2): role=secondary generation_id=9"},
		{"status 1.3", status13, "ONFT_ROLE_STATUS (OF1.3) (xid=0x3): role=secondary generation_id=7 reason=primary_request"},
		{"status 1.4", status14, "OFPT_ROLE_STATUS (OF1.4) (xid=0x4): role=secondary generation_id=7 reason=primary_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(ofctl, "ofp-print", hex.EncodeToString(tc.frame)).CombinedOutput()
			if err != nil {
				t.Fatalf("ovs-ofctl ofp-print: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("ovs-ofctl prints\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if role, gen, err := roleReply(reply); err != nil || role != RoleSlave || gen != 9 {
		t.Errorf("roleReply: %d %d %v", role, gen, err)
	}
	for _, f := range [][]byte{status13, status14} {
		if role, gen, ok, err := roleStatus(f); !ok || err != nil || role != RoleSlave || gen != 7 {
			t.Errorf("roleStatus %x: %d %d %v %v", f, role, gen, ok, err)
		}
	}
}

// Every truncation of a role reply and status is an error, never a read
// past the frame.
func TestRoleFramesTruncated(t *testing.T) {
	reply := roleReplyFrame(2, RoleMaster, 9)
	for n := openflow.HeaderLen; n < len(reply); n++ {
		if _, _, err := roleReply(reply[:n]); err == nil {
			t.Errorf("role reply of %d bytes read", n)
		}
	}
	status := onfRoleStatus(RoleSlave, 7)
	for n := 16; n < len(status); n++ {
		if _, _, ok, err := roleStatus(status[:n]); !ok || err == nil {
			t.Errorf("role status of %d bytes: ok %v err %v", n, ok, err)
		}
	}
	if _, _, ok, _ := roleStatus(errorFrame(1, 1, 1)); ok {
		t.Error("an error read as a role status")
	}
}
