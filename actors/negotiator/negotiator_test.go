package negotiator

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// The tests are transcripts: a script of events in, the messages and
// results the negotiator hands out, one line each, compared with the
// expected text.

type harness struct {
	t    *testing.T
	n    *Negotiator
	logs *observer.ObservedLogs
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	cfg.Logger = zap.New(core)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, n: n, logs: logs}
}

// out takes the negotiator's Ready and returns it as transcript lines.
func (h *harness) out() string {
	h.t.Helper()
	if !h.n.HasReady() {
		return ""
	}
	rd := h.n.Ready()
	h.n.Advance()
	if h.n.HasReady() {
		h.t.Fatal("Ready not empty after Advance")
	}
	var lines []string
	for _, m := range rd.Msgs {
		lines = append(lines, describe(m))
	}
	if r := rd.Result; r != nil {
		lines = append(lines, fmt.Sprintf("result %v changed=%v", r.Geneve, r.Changed))
	}
	return strings.Join(lines, "\n")
}

func describe(m openflow.Message) string {
	switch m := m.(type) {
	case *openflow.TLVTableRequest:
		return fmt.Sprintf("tlv_table_request xid=%d", m.XID)
	case *openflow.TLVTableMod:
		var maps []string
		for _, tm := range m.Mappings {
			maps = append(maps, fmt.Sprintf("0x%04x,0x%02x,%d->%d", tm.OptionClass, tm.OptionType, tm.OptionLen, tm.Index))
		}
		return fmt.Sprintf("tlv_table_mod cmd=%d %s xid=%d", m.Command, strings.Join(maps, " "), m.XID)
	case *openflow.BarrierRequest:
		return fmt.Sprintf("barrier_request xid=%d", m.XID)
	}
	return fmt.Sprintf("%T xid=%d", m, m.Hdr().XID)
}

// expect checks the output of the last event and the state reached.
func (h *harness) expect(want string, state State) {
	h.t.Helper()
	if got := h.out(); got != want {
		h.t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if s := h.n.State(); s != state {
		h.t.Errorf("state %v, want %v", s, state)
	}
}

func (h *harness) step(m openflow.Message, handled bool) {
	h.t.Helper()
	if got := h.n.Step(m); got != handled {
		h.t.Errorf("Step(%s) = %v, want %v", describe(m), got, handled)
	}
}

func reply(xid uint32, maps ...openflow.TLVMap) *openflow.TLVTableReply {
	return &openflow.TLVTableReply{
		Header:         openflow.Header{Version: openflow.Version13, Type: openflow.TypeExperimenter, XID: xid},
		MaxOptionSpace: 256, MaxFields: 64, Mappings: maps,
	}
}

func barrierReply(xid uint32) *openflow.BarrierReply {
	m := &openflow.BarrierReply{}
	m.Header = openflow.Header{Version: openflow.Version13, Type: openflow.TypeBarrierReply, XID: xid}
	return m
}

func errorReply(xid uint32, name string) *openflow.Error {
	e := ofperr.Named(name)
	if e == nil {
		panic("no error " + name)
	}
	m := openflow.NewError(openflow.Header{Version: openflow.Version13, XID: xid}, e, nil)
	m.Type = openflow.TypeError
	return m
}

func other(index uint16) openflow.TLVMap {
	return openflow.TLVMap{OptionClass: 0xffff, OptionType: uint8(index), OptionLen: 8, Index: index}
}

func ours(index uint16) openflow.TLVMap {
	return openflow.TLVMap{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 4, Index: index}
}

const (
	requested = "tlv_table_request xid=1"
	modIndex2 = "tlv_table_mod cmd=0 0x0102,0x80,4->2 xid=2\nbarrier_request xid=3"
	disabled  = "result geneve(0x0102,0x80,4) disabled changed=true"
)

// started is a negotiator that has sent its NXT_TLV_TABLE_REQUEST (xid 1).
func started(t *testing.T) *harness {
	h := newHarness(t, DefaultConfig())
	h.n.Start(openflow.Version13)
	h.expect(requested, STLVTableRequested)
	return h
}

// modSent is a negotiator that has sent the mod for index 2 (xid 2) and
// its barrier (xid 3).
func modSent(t *testing.T) *harness {
	h := started(t)
	h.step(reply(1, other(0), other(1)), true)
	h.expect(modIndex2, STLVTableModSent)
	return h
}

// S_NEW sends NXT_TLV_TABLE_REQUEST and transitions to S_TLV_TABLE_REQUESTED.
func TestNewSendsRequest(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.expect("", SNew)
	h.n.Start(openflow.Version13)
	rd := h.n.Ready()
	if len(rd.Msgs) != 1 || rd.Msgs[0].Hdr().Version != openflow.Version13 {
		t.Fatalf("Ready %+v: want one OpenFlow 1.3 message", rd)
	}
	b, err := openflow.Marshal(rd.Msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%x", b), "0404001000000001000023200000001"+"9"; got != want {
		t.Errorf("request bytes %s, want %s", got, want)
	}
	h.expect(requested, STLVTableRequested)
}

// A reply mapping our option to an index below 64: that index, S_CLEAR_FLOWS
// announces it and hands over to S_UPDATE_FLOWS.
func TestReplyHasOurOption(t *testing.T) {
	h := started(t)
	h.step(reply(1, other(0), other(1), ours(3), other(4)), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata3 changed=true", SUpdateFlows)
	want := Geneve{Enabled: true, Index: 3, Class: 0x0102, Type: 0x80, Len: 4}
	want.Lengths[0], want.Lengths[1], want.Lengths[3], want.Lengths[4] = 8, 8, 4, 8 // the TLV map's
	if g, ok := h.n.Geneve(); !ok || g != want {
		t.Errorf("Geneve() = %+v, %v", g, ok)
	}
}

// No mapping of ours: the lowest index no option holds is asked for, with a
// barrier behind it. Indexes of 64 and more do not count.
func TestReplyWithoutOurOption(t *testing.T) {
	h := started(t)
	h.step(reply(1, other(1), other(70), other(0), other(3)), true)
	h.expect(modIndex2, STLVTableModSent)
	if _, ok := h.n.Geneve(); ok {
		t.Error("Geneve() known before the barrier reply")
	}
}

// Read-only: no mapping of ours is not made; the result is the index it
// would be, marked unmapped, and nothing is sent.
func TestReplyWithoutOurOptionReadOnly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ReadOnly = true
	h := newHarness(t, cfg)
	h.n.Start(openflow.Version13)
	h.expect(requested, STLVTableRequested)
	h.step(reply(1, other(1), other(0), other(3)), true)
	h.expect("result geneve(0x0102,0x80,4) unmapped, would be tun_metadata2 changed=true", SUpdateFlows)
	if g, ok := h.n.Geneve(); !ok || !g.Unmapped || g.Index != 2 {
		t.Errorf("Geneve() = %+v, %v", g, ok)
	}
	// Mapped already: as without ReadOnly.
	h.n.Start(openflow.Version13)
	h.expect("tlv_table_request xid=2", STLVTableRequested)
	h.step(reply(2, ours(5)), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata5 changed=true", SUpdateFlows)
}

// Every index taken: Geneve disabled.
func TestReplyNoFreeIndex(t *testing.T) {
	h := started(t)
	var maps []openflow.TLVMap
	for i := uint16(0); i < NumOptions; i++ {
		maps = append(maps, other(i))
	}
	h.step(reply(1, maps...), true)
	h.expect(disabled, SUpdateFlows)
	if g, ok := h.n.Geneve(); !ok || g.Enabled || g.Index != -1 {
		t.Errorf("Geneve() = %+v, %v", g, ok)
	}
}

// Our class and type at another length, or at an index of 64 or more:
// Geneve disabled, nothing sent.
func TestReplyOurOptionUnusable(t *testing.T) {
	for name, tm := range map[string]openflow.TLVMap{
		"other length": {OptionClass: 0x0102, OptionType: 0x80, OptionLen: 8, Index: 5},
		"index 64":     ours(64),
	} {
		t.Run(name, func(t *testing.T) {
			h := started(t)
			h.step(reply(1, other(0), tm), true)
			h.expect(disabled, SUpdateFlows)
		})
	}
}

// An error, or anything but a TLV table reply, answering the request:
// Geneve disabled.
func TestRequestFailed(t *testing.T) {
	for name, m := range map[string]openflow.Message{
		"error":       errorReply(1, "OFPBRC_BAD_SUBTYPE"),
		"unexpected":  barrierReply(1),
		"undecodable": &openflow.Unknown{Header: openflow.Header{Version: 4, Type: openflow.TypeExperimenter, XID: 1}, Data: []byte{0, 0, 0x23}},
	} {
		t.Run(name, func(t *testing.T) {
			h := started(t)
			h.step(m, true)
			h.expect(disabled, SUpdateFlows)
		})
	}
}

// In S_TLV_TABLE_MOD_SENT, the barrier reply: the index is ours.
func TestModBarrierReply(t *testing.T) {
	h := modSent(t)
	h.step(barrierReply(3), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata2 changed=true", SUpdateFlows)
}

// NXTTMFC_ALREADY_MAPPED or NXTTMFC_DUP_ENTRY: we raced with another
// controller. Back to S_NEW, which asks again; the barrier reply that follows
// the error is no longer ours.
func TestModRaced(t *testing.T) {
	for _, name := range []string{"NXTTMFC_ALREADY_MAPPED", "NXTTMFC_DUP_ENTRY"} {
		t.Run(name, func(t *testing.T) {
			h := modSent(t)
			h.step(errorReply(2, name), true)
			h.expect("tlv_table_request xid=4", STLVTableRequested)
			h.step(barrierReply(3), false)
			h.expect("", STLVTableRequested)
			h.step(reply(4, other(0), other(1), ours(2)), true)
			h.expect("result geneve(0x0102,0x80,4) = tun_metadata2 changed=true", SUpdateFlows)
		})
	}
}

// Any other error to the mod, an error to the barrier, a barrier reply with
// the mod's xid: Geneve disabled.
func TestModFailed(t *testing.T) {
	for name, m := range map[string]openflow.Message{
		"table full":    errorReply(2, "NXTTMFC_TABLE_FULL"),
		"bad opt len":   errorReply(2, "NXTTMFC_BAD_OPT_LEN"),
		"barrier error": errorReply(3, "OFPBRC_BAD_TYPE"),
		"barrier xid":   barrierReply(2),
		"unexpected":    reply(3, ours(2)),
	} {
		t.Run(name, func(t *testing.T) {
			h := modSent(t)
			h.step(m, true)
			h.expect(disabled, SUpdateFlows)
		})
	}
}

// Messages with xids the state does not wait for go to the common handler,
// in every state, and change nothing.
func TestOtherXIDs(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.step(reply(1, ours(3)), false) // S_NEW: nothing in flight yet
	h.expect("", SNew)
	h.n.Start(openflow.Version13)
	h.expect(requested, STLVTableRequested)
	h.step(reply(9, ours(3)), false)
	h.step(errorReply(9, "OFPBRC_BAD_TYPE"), false)
	h.step(barrierReply(0), false)
	h.expect("", STLVTableRequested)
	h.step(reply(1, other(0), other(1)), true)
	h.expect(modIndex2, STLVTableModSent)
	h.step(barrierReply(1), false)
	h.step(errorReply(4, "NXTTMFC_DUP_ENTRY"), false)
	h.expect("", STLVTableModSent)
	h.step(barrierReply(3), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata2 changed=true", SUpdateFlows)
	h.step(barrierReply(3), false) // S_UPDATE_FLOWS: the reconciler's
	h.step(errorReply(2, "OFPBRC_BAD_TYPE"), false)
	h.expect("", SUpdateFlows)
}

// Races are capped per connection: after MaxRaces, Geneve is disabled; a new
// connection starts counting again.
func TestRaceCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxRaces = 3
	h := newHarness(t, cfg)
	for conn := 0; conn < 2; conn++ {
		h.n.Start(openflow.Version13)
		xid := h.n.Ready().Msgs[0].Hdr().XID
		h.out()
		for race := 0; ; race++ {
			h.step(reply(xid), true)
			h.out()
			h.step(errorReply(xid+1, "NXTTMFC_ALREADY_MAPPED"), true)
			if race == cfg.MaxRaces {
				h.expect(fmt.Sprintf("result geneve(0x0102,0x80,4) disabled changed=%v", conn == 0), SUpdateFlows)
				break
			}
			h.expect(fmt.Sprintf("tlv_table_request xid=%d", xid+3), STLVTableRequested)
			xid += 3
		}
	}
	if h.logs.FilterMessage("raced with other controllers adding Geneve option too often; giving up").Len() != 2 {
		t.Error("giving up not logged once per connection")
	}
}

// A new connection starts over from S_NEW; the result is announced each
// time, marked Changed only when it differs from the last.
func TestReconnect(t *testing.T) {
	h := started(t)
	h.step(reply(1, ours(3)), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata3 changed=true", SUpdateFlows)

	h.n.Disconnected()
	h.expect("", SNew)
	h.n.Start(openflow.Version13)
	h.expect("tlv_table_request xid=2", STLVTableRequested)
	h.step(reply(2, ours(3)), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata3 changed=false", SUpdateFlows)

	// ovs-vswitchd restarted: an empty table, index 0 this time.
	h.n.Start(openflow.Version13)
	h.expect("tlv_table_request xid=3", STLVTableRequested)
	h.step(reply(3), true)
	h.expect("tlv_table_mod cmd=0 0x0102,0x80,4->0 xid=4\nbarrier_request xid=5", STLVTableModSent)
	h.n.Disconnected() // lost before the barrier reply
	h.expect("", SNew)
	h.step(barrierReply(5), false)
	h.n.Start(openflow.Version13)
	h.expect("tlv_table_request xid=6", STLVTableRequested)
	h.step(reply(6, ours(0)), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata0 changed=true", SUpdateFlows)

	h.n.Start(openflow.Version13)
	h.out()
	h.step(errorReply(7, "OFPBRC_BAD_SUBTYPE"), true)
	h.expect(disabled, SUpdateFlows)
}

// The connection may renumber a batch: replies are matched to its xids.
func TestSentRenumbers(t *testing.T) {
	h := started(t)
	h.n.Sent(100)
	h.step(reply(1, other(0), other(1)), false)
	h.step(reply(100, other(0), other(1)), true)
	h.expect(modIndex2, STLVTableModSent)
	h.n.Sent(200)
	h.step(barrierReply(3), false)
	h.step(errorReply(2, "NXTTMFC_TABLE_FULL"), false)
	h.step(barrierReply(201), true)
	h.expect("result geneve(0x0102,0x80,4) = tun_metadata2 changed=true", SUpdateFlows)
}

func TestConfig(t *testing.T) {
	for _, l := range []uint8{0, 3, 128} {
		if _, err := New(Config{OptionClass: 1, OptionType: 2, OptionLen: l}); err == nil {
			t.Errorf("New accepted option length %d", l)
		}
	}
	xid := uint32(41)
	h := newHarness(t, Config{OptionClass: 0xffee, OptionType: 7, OptionLen: 12,
		NextXID: func() uint32 { xid++; return xid }})
	h.n.Start(openflow.Version14)
	if v := h.n.Ready().Msgs[0].Hdr().Version; v != openflow.Version14 {
		t.Errorf("request version %d, want the connection's", v)
	}
	h.expect("tlv_table_request xid=42", STLVTableRequested)
	h.step(reply(42, ours(0)), true) // OVN's option is not ours here
	h.expect("tlv_table_mod cmd=0 0xffee,0x07,12->1 xid=43\nbarrier_request xid=44", STLVTableModSent)
	h.step(barrierReply(44), true)
	h.expect("result geneve(0xffee,0x07,12) = tun_metadata1 changed=true", SUpdateFlows)
}

func TestAbort(t *testing.T) {
	h := started(t)
	h.n.Abort("connection lost")
	h.expect(disabled, SUpdateFlows)
	h.n.Abort("again")
	h.expect("", SUpdateFlows)
}

// Every transition goes through become, which logs old and new state.
func TestBecomeLogs(t *testing.T) {
	h := modSent(t)
	h.step(barrierReply(3), true)
	var got []string
	for _, e := range h.logs.FilterMessage("negotiator state change").All() {
		m := e.ContextMap()
		got = append(got, fmt.Sprintf("%v->%v", m["old_state"], m["state"]))
	}
	want := "S_NEW->S_TLV_TABLE_REQUESTED S_TLV_TABLE_REQUESTED->S_TLV_TABLE_MOD_SENT " +
		"S_TLV_TABLE_MOD_SENT->S_CLEAR_FLOWS S_CLEAR_FLOWS->S_UPDATE_FLOWS"
	if strings.Join(got, " ") != want {
		t.Errorf("transitions %v\nwant %s", got, want)
	}
}

// FuzzTLVTableReply feeds S_TLV_TABLE_REQUESTED arbitrary mappings (8
// bytes each, struct nx_tlv_map) and checks what it does against the reply.
func FuzzTLVTableReply(f *testing.F) {
	for _, maps := range [][]openflow.TLVMap{nil, {other(0), other(1)}, {other(0), ours(3)},
		{ours(64)}, {{OptionClass: 0x0102, OptionType: 0x80, OptionLen: 8, Index: 1}}} {
		b, err := openflow.Marshal(reply(1, maps...))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[32:])
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		body = body[:min(len(body), 8000)/8*8]
		b, _ := openflow.Marshal(reply(1))
		b = append(b, body...)
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		var r openflow.TLVTableReply
		if err := r.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		n, _ := New(DefaultConfig())
		n.Start(openflow.Version13)
		n.Advance()
		if !n.Step(&r) {
			t.Fatal("reply not handled")
		}
		rd := n.Ready()
		taken := map[uint16]bool{}
		var mine *openflow.TLVMap
		for i, tm := range r.Mappings {
			if tm.OptionClass == 0x0102 && tm.OptionType == 0x80 && mine == nil {
				mine = &r.Mappings[i]
			}
			taken[tm.Index] = true
		}
		switch {
		case rd.Result != nil && rd.Result.Geneve.Enabled:
			if mine == nil || int(mine.Index) != rd.Result.Geneve.Index || mine.OptionLen != 4 || mine.Index >= 64 {
				t.Fatalf("enabled %+v with mappings %+v", rd.Result.Geneve, r.Mappings)
			}
		case rd.Result != nil:
			if mine == nil && len(taken) < 64 {
				for i := uint16(0); i < 64; i++ {
					if !taken[i] {
						t.Fatalf("disabled with tun_metadata%d free: %+v", i, r.Mappings)
					}
				}
			}
			if mine != nil && mine.OptionLen == 4 && mine.Index < 64 {
				t.Fatalf("disabled with our option usable: %+v", r.Mappings)
			}
		default:
			mod, ok := rd.Msgs[0].(*openflow.TLVTableMod)
			if mine != nil || len(rd.Msgs) != 2 || !ok || mod.Mappings[0].Index >= 64 || taken[mod.Mappings[0].Index] {
				t.Fatalf("sent %v for mappings %+v", rd.Msgs, r.Mappings)
			}
		}
	})
}
