package negotiator

import (
	"net"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
)

// The negotiator against a real ovs-vswitchd: a bare OpenFlow 1.3
// connection to the bridge's management socket stands in for the connection
// actor, so that what OVS answers (NXTTMFC_DUP_ENTRY, NXTTMFC_ALREADY_MAPPED,
// the reply's mappings) is OVS's own.

type ovsConn struct {
	t   *testing.T
	c   net.Conn
	buf []byte
}

func dialOVS(t *testing.T, s *ovstest.Switch) *ovsConn {
	t.Helper()
	c, err := net.Dial("unix", s.SocketPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A deadline fails a broken exchange instead of hanging it.
	if err := c.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	oc := &ovsConn{t: t, c: c}
	oc.send(openflow.NewHello(openflow.Version13))
	if _, ok := oc.next().(*openflow.Hello); !ok {
		t.Fatal("no HELLO from the switch")
	}
	return oc
}

func (oc *ovsConn) send(m openflow.Message) {
	oc.t.Helper()
	b, err := openflow.Marshal(m)
	if err != nil {
		oc.t.Fatal(err)
	}
	if _, err := oc.c.Write(b); err != nil {
		oc.t.Fatal(err)
	}
}

func (oc *ovsConn) next() openflow.Message {
	oc.t.Helper()
	for {
		b, err := openflow.ReadMessage(oc.c, oc.buf)
		if err != nil {
			oc.t.Fatal(err)
		}
		oc.buf = b[:0]
		m, err := openflow.Decode(b)
		if err != nil {
			oc.t.Fatal(err)
		}
		if e, ok := m.(*openflow.EchoRequest); ok {
			oc.send(openflow.NewEchoReply(e))
			continue
		}
		return m
	}
}

// negotiate runs n on oc until it announces a result, and returns it with
// the transcript of what was sent and received.
func negotiate(t *testing.T, n *Negotiator, oc *ovsConn) (Result, []string) {
	t.Helper()
	var log []string
	for {
		if n.HasReady() {
			rd := n.Ready()
			for _, m := range rd.Msgs {
				log = append(log, "> "+describe(m))
				oc.send(m)
			}
			n.Advance()
			if rd.Result != nil {
				return *rd.Result, log
			}
			continue
		}
		m := oc.next()
		s := describe(m)
		if e, ok := m.(*openflow.Error); ok {
			s = e.Err().Name
		}
		log = append(log, "< "+s)
		if !n.Step(m) {
			log = append(log, "  (common handler)")
		}
	}
}

func TestOVS(t *testing.T) {
	sw := ovstest.Start(t)
	ofctl := func(args ...string) {
		t.Helper()
		if _, err := sw.Ofctl(args...); err != nil {
			t.Fatal(err)
		}
	}
	newNeg := func() *Negotiator {
		cfg := DefaultConfig()
		cfg.Logger = zaptest.NewLogger(t)
		n, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	check := func(name string, n *Negotiator, want Result, wantLog ...string) {
		t.Helper()
		oc := dialOVS(t, sw)
		if n.State() == SNew {
			n.Start(openflow.Version13)
		}
		got, log := negotiate(t, n, oc)
		lens := got.Geneve.Lengths
		got.Geneve.Lengths = [NumOptions]uint8{} // checked on their own below
		if name == "others at 0 and 1" && (lens[0] != 4 || lens[1] != 8 || lens[2] != 4) {
			t.Errorf("%s: lengths %v, want 4, 8 and ours 4", name, lens[:3])
		}
		if got != want {
			t.Errorf("%s: result %+v, want %+v\n%v", name, got, want, log)
		}
		if wantLog != nil && !slices.Equal(log, wantLog) {
			t.Errorf("%s: transcript\n%q\nwant\n%q", name, log, wantLog)
		}
	}
	index := func(i int) Geneve { return Geneve{Enabled: true, Index: i, Class: 0x0102, Type: 0x80, Len: 4} }
	off := Geneve{Index: -1, Class: 0x0102, Type: 0x80, Len: 4}

	n := newNeg()
	check("empty table", n, Result{index(0), true},
		"> tlv_table_request xid=1", "< *openflow.TLVTableReply xid=1",
		"> tlv_table_mod cmd=0 0x0102,0x80,4->0 xid=2", "> barrier_request xid=3", "< *openflow.BarrierReply xid=3")
	if m, err := sw.DumpTLVMap(); err != nil || len(m) != 1 || m[0] != (ovstest.TLVMapping{OptionClass: 0x102, OptionType: 0x80, OptionLen: 4}) {
		t.Errorf("dump-tlv-map: %v %v", m, err)
	}
	n.Disconnected()
	check("reconnect", n, Result{index(0), false},
		"> tlv_table_request xid=4", "< *openflow.TLVTableReply xid=4")

	ofctl("del-tlv-map")
	ofctl("add-tlv-map", "{class=0xffff,type=0,len=4}->tun_metadata0,{class=0xffff,type=1,len=8}->tun_metadata1")
	n.Disconnected()
	check("others at 0 and 1", n, Result{index(2), true})

	// Lose a race: between our request's reply and our mod, another
	// controller maps our option (DUP_ENTRY) or takes our index
	// (ALREADY_MAPPED).
	for _, race := range []struct {
		name, mapping string
		want          Geneve
	}{
		{"NXTTMFC_DUP_ENTRY", "{class=0x102,type=0x80,len=4}->tun_metadata5", index(5)},
		{"NXTTMFC_ALREADY_MAPPED", "{class=0xffff,type=9,len=4}->tun_metadata0", index(1)},
	} {
		ofctl("del-tlv-map")
		n := newNeg()
		oc := dialOVS(t, sw)
		n.Start(openflow.Version13)
		oc.send(n.Ready().Msgs[0])
		n.Advance()
		if !n.Step(oc.next()) || n.State() != STLVTableModSent {
			t.Fatalf("%s: state %v after the reply", race.name, n.State())
		}
		ofctl("add-tlv-map", race.mapping)
		got, log := negotiate(t, n, oc)
		got.Geneve.Lengths = [NumOptions]uint8{}
		t.Logf("%s: %q", race.name, log)
		if got != (Result{race.want, true}) || !slices.Contains(log, "< "+race.name) {
			t.Errorf("%s: result %+v, want %v\n%q", race.name, got, race.want, log)
		}
	}

	ofctl("del-tlv-map")
	ofctl("add-tlv-map", "{class=0x102,type=0x80,len=8}->tun_metadata3")
	check("our option with another length", newNeg(), Result{off, true},
		"> tlv_table_request xid=1", "< *openflow.TLVTableReply xid=1")
}
