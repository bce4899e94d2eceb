// Package negotiator is the Geneve TLV negotiation of OVN's ofctrl: it finds
// or maps, on the switch, the Geneve option ovn-controller carries its
// logical ports in (class 0x0102, type 0x80, 4 bytes by default), so that
// flows can match and set it as tun_metadata<Index>.
//
// Negotiator is the pure state machine, in the shape of etcd's raft: it is
// driven by Start (a new connection), Step (a reply from the switch) and
// Disconnected, and hands back what to send and what it found through
// Ready/Advance. It knows neither actors, nor sockets, nor clocks. The
// actor in actor.go only moves messages between it and the connection.
package negotiator

import (
	"errors"
	"fmt"
	"math/bits"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// State is the negotiation state of ofctrl's enum ofctrl_state.
type State int

// The states, named as in ofctrl.c.
const (
	SNew               State = iota // S_NEW
	STLVTableRequested              // S_TLV_TABLE_REQUESTED
	STLVTableModSent                // S_TLV_TABLE_MOD_SENT
	SClearFlows                     // S_CLEAR_FLOWS
	SUpdateFlows                    // S_UPDATE_FLOWS
)

var stateNames = [...]string{"S_NEW", "S_TLV_TABLE_REQUESTED", "S_TLV_TABLE_MOD_SENT",
	"S_CLEAR_FLOWS", "S_UPDATE_FLOWS"}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// NumOptions is TUN_METADATA_NUM_OPTS: OVS has tun_metadata0..63.
const NumOptions = 64

// OVN's Geneve option (ovn/lib/ovn-util.h OVN_GENEVE_CLASS/TYPE/LEN).
const (
	OVNGeneveClass uint16 = 0x0102
	OVNGeneveType  uint8  = 0x80
	OVNGeneveLen   uint8  = 4
)

// DefaultMaxRaces bounds how often one connection may lose the race for a
// free index to another controller before Geneve is given up on.
const DefaultMaxRaces = 10

// Config says which Geneve option to negotiate.
type Config struct {
	OptionClass uint16
	OptionType  uint8
	OptionLen   uint8 // data bytes: a multiple of 4, 4 to 124

	// MaxRaces is how many NXTTMFC_ALREADY_MAPPED / NXTTMFC_DUP_ENTRY
	// answers one connection may get before Geneve is disabled; 0 means
	// DefaultMaxRaces.
	MaxRaces int

	// ReadOnly negotiates without writing: an option the switch has not
	// mapped is not mapped, and the result names the index it would take
	// (Geneve.Unmapped). For looking at a switch without changing it
	// (ofactor diff, check).
	ReadOnly bool

	// NextXID allocates the xid of each message the negotiator sends. Nil
	// means a counter of the negotiator's own, starting at 1. Either way the
	// connection may renumber a batch it sends: see Negotiator.Sent.
	NextXID func() uint32

	// Logger receives the state changes and the reasons Geneve is given
	// up on; nil means no logging.
	Logger *zap.Logger
}

// DefaultConfig negotiates OVN's option.
func DefaultConfig() Config {
	return Config{OptionClass: OVNGeneveClass, OptionType: OVNGeneveType, OptionLen: OVNGeneveLen}
}

// Geneve is what negotiation found: the option and, when Enabled, the
// tun_metadata field it is mapped to. When Geneve is disabled, Index is -1.
type Geneve struct {
	Enabled bool
	Index   int
	Class   uint16
	Type    uint8
	Len     uint8
	// Unmapped: a read-only negotiation found the option unmapped; Index
	// is the one it would take.
	Unmapped bool
	// Lengths are the option lengths of the switch's TLV map by
	// tun_metadata index, as read (and with this option once mapped); 0:
	// unmapped. A flow naming a tun_metadataN field is encoded with them.
	Lengths [NumOptions]uint8
}

func (g Geneve) String() string {
	if !g.Enabled {
		return fmt.Sprintf("geneve(0x%04x,0x%02x,%d) disabled", g.Class, g.Type, g.Len)
	}
	if g.Unmapped {
		return fmt.Sprintf("geneve(0x%04x,0x%02x,%d) unmapped, would be tun_metadata%d", g.Class, g.Type, g.Len, g.Index)
	}
	return fmt.Sprintf("geneve(0x%04x,0x%02x,%d) = tun_metadata%d", g.Class, g.Type, g.Len, g.Index)
}

// Result is the end of one connection's negotiation (S_CLEAR_FLOWS).
type Result struct {
	Geneve Geneve
	// Changed is true when Geneve differs from the result of the previous
	// connection, and always for the first.
	Changed bool
}

// Ready is what the negotiator has to hand over: Msgs to send, in order and
// in one batch, and the Result when negotiation has just ended.
type Ready struct {
	Msgs   []openflow.Message
	Result *Result
}

// Negotiator is the state machine. It is not safe for concurrent use; its
// actor owns it.
type Negotiator struct {
	cfg     Config
	log     *zap.Logger
	state   State
	version uint8
	counter uint32 // the xid counter when cfg.NextXID is nil

	xid   uint32 // TLV table request in S_TLV_TABLE_REQUESTED, TLV table mod in S_TLV_TABLE_MOD_SENT
	xid2  uint32 // barrier request in S_TLV_TABLE_MOD_SENT
	index int    // the index asked for in S_TLV_TABLE_MOD_SENT
	races int    // races lost on this connection

	lens   [NumOptions]uint8 // the TLV map's lengths, from the last TLV table reply
	geneve Geneve            // valid in S_UPDATE_FLOWS
	last   *Geneve           // the last result announced, across connections

	ready Ready
}

// New returns a negotiator in S_NEW, waiting for Start.
func New(cfg Config) (*Negotiator, error) {
	if cfg.OptionLen == 0 || cfg.OptionLen%4 != 0 || cfg.OptionLen > 124 {
		return nil, fmt.Errorf("negotiator: option length %d: want a multiple of 4 from 4 to 124", cfg.OptionLen)
	}
	if cfg.MaxRaces < 0 {
		return nil, fmt.Errorf("negotiator: max races %d is negative", cfg.MaxRaces)
	}
	if cfg.MaxRaces == 0 {
		cfg.MaxRaces = DefaultMaxRaces
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Negotiator{cfg: cfg, log: log, state: SNew, index: -1}, nil
}

// State returns the current state.
func (n *Negotiator) State() State { return n.state }

// Geneve returns this connection's result once negotiation has ended
// (ofctrl_get_mf_field_id); ok is false before then.
func (n *Negotiator) Geneve() (g Geneve, ok bool) {
	if n.state != SUpdateFlows {
		return Geneve{}, false
	}
	return n.geneve, true
}

// HasReady says whether Ready has anything.
func (n *Negotiator) HasReady() bool { return len(n.ready.Msgs) > 0 || n.ready.Result != nil }

// Ready returns what to send and announce. It stays the same until Advance.
func (n *Negotiator) Ready() Ready { return n.ready }

// Advance tells the negotiator that the last Ready has been dealt with.
func (n *Negotiator) Advance() { n.ready = Ready{} }

// Start begins negotiation on a new connection speaking OpenFlow version:
// whatever the previous connection left is forgotten.
func (n *Negotiator) Start(version uint8) {
	n.version = version
	n.races, n.lens = 0, [NumOptions]uint8{}
	n.ready = Ready{}
	n.become(SNew)
	n.runNew()
}

// Disconnected forgets the connection: S_NEW, waiting for Start. Replies
// still in flight are no longer recognised.
func (n *Negotiator) Disconnected() {
	n.ready = Ready{}
	n.xid, n.xid2, n.index = 0, 0, -1
	n.become(SNew)
}

// Sent tells the negotiator that the connection renumbered the messages of
// the last Ready: they went out with xids first, first+1, ... Replies are
// then matched against those. It must come before any reply to them.
func (n *Negotiator) Sent(first uint32) {
	switch n.state {
	case STLVTableRequested:
		n.xid = first
	case STLVTableModSent:
		n.xid, n.xid2 = first, first+1
	}
}

// Step hands the negotiator a message from the switch. It returns false
// when the message is not a reply the current state waits for: the caller's
// common handler (ofctrl_recv) deals with it.
func (n *Negotiator) Step(m openflow.Message) bool {
	switch n.state {
	case STLVTableRequested:
		return n.recvTLVTableRequested(m)
	case STLVTableModSent:
		return n.recvTLVTableModSent(m)
	default:
		// S_NEW has nothing in flight (a reply to an earlier connection is
		// stale), and S_CLEAR_FLOWS and S_UPDATE_FLOWS are the
		// reconciler's business.
		return false
	}
}

// Expired tells the negotiator that its timeout since Start (or the last
// race) has passed. If it still waits for the switch — S_TLV_TABLE_REQUESTED
// or S_TLV_TABLE_MOD_SENT — it gives this connection up and returns why:
// the caller drops the connection (a switch that does not answer is
// broken) and the next one starts over. Otherwise it returns "".
func (n *Negotiator) Expired() string {
	var why string
	switch n.state {
	case STLVTableRequested:
		why = "negotiation: no answer to NXT_TLV_TABLE_REQUEST"
	case STLVTableModSent:
		why = "negotiation: no answer to NXT_TLV_TABLE_MOD"
	default:
		return ""
	}
	n.log.Error("Geneve negotiation timed out: dropping the connection", zap.String("error", why))
	n.Disconnected()
	return why
}

// Abort gives Geneve up on this connection when what the negotiator asked
// for could not be sent. It does nothing once negotiation has ended.
func (n *Negotiator) Abort(reason string) {
	if n.state != STLVTableRequested && n.state != STLVTableModSent {
		return
	}
	n.log.Error("could not send Geneve option negotiation", zap.String("error", reason))
	n.disable()
}

func (n *Negotiator) become(s State) {
	if s != n.state {
		n.log.Info("negotiator state change", zap.Stringer("old_state", n.state), zap.Stringer("state", s))
	}
	n.state = s
}

func (n *Negotiator) nextXID() uint32 {
	if n.cfg.NextXID != nil {
		return n.cfg.NextXID()
	}
	n.counter++
	return n.counter
}

func (n *Negotiator) header(t openflow.Type) openflow.Header {
	return openflow.Header{Version: n.version, Type: t, XID: n.nextXID()}
}

func (n *Negotiator) send(m openflow.Message) uint32 {
	n.ready.Msgs = append(n.ready.Msgs, m)
	return m.Hdr().XID
}

// S_NEW, for a new connection (Start), or after losing a race for an index
// to another controller.
//
// Sends NXT_TLV_TABLE_REQUEST and transitions to S_TLV_TABLE_REQUESTED.
//
// In S_TLV_TABLE_REQUESTED and S_TLV_TABLE_MOD_SENT, if the timeout passes
// with no answer (Expired): give the connection up (the caller drops it and
// reconnects) and transition to S_NEW.
func (n *Negotiator) runNew() {
	n.xid = n.send(&openflow.TLVTableRequest{Header: n.header(openflow.TypeExperimenter)})
	n.xid2, n.index = 0, -1
	n.become(STLVTableRequested)
}

// S_TLV_TABLE_REQUESTED, when NXT_TLV_TABLE_REQUEST has been sent and we're
// waiting for the reply with its xid; anything with another xid goes to the
// common handler (Step returns false).
//
// If we receive an NXT_TLV_TABLE_REPLY:
//
//   - If it maps our option (class, type and length) to an index below 64,
//     that index is ours: transition to S_CLEAR_FLOWS.
//
//   - If it maps our class and type with another length, or to an index of
//     64 or more, log an error, disable Geneve, and transition to
//     S_CLEAR_FLOWS. (OVS keeps one mapping per class and type: the seed
//     would ADD ours elsewhere, get NXTTMFC_DUP_ENTRY and retry forever.)
//
//   - Otherwise, if an index below 64 is mapped to no option, take the
//     lowest, send NXT_TLV_TABLE_MOD (ADD) and OFPT_BARRIER_REQUEST, and
//     transition to S_TLV_TABLE_MOD_SENT. A read-only negotiator sends
//     nothing: that index is the result, marked unmapped, and it
//     transitions to S_CLEAR_FLOWS.
//
//   - Otherwise, log an error, disable Geneve, and transition to
//     S_CLEAR_FLOWS.
//
// If we receive an OFPT_ERROR, or any other message (one the connection
// could not decode arrives as openflow.Unknown):
//
//   - Log an error, disable Geneve, and transition to S_CLEAR_FLOWS.
func (n *Negotiator) recvTLVTableRequested(m openflow.Message) bool {
	if m.Hdr().XID != n.xid {
		return false
	}
	switch r := m.(type) {
	case *openflow.TLVTableReply:
		n.processTLVTableReply(r)
	case *openflow.Error:
		n.log.Error("switch refused TLV table request", zap.String("error", r.Err().Name))
		n.disable()
	default:
		n.log.Error("unexpected reply to TLV table request", zap.Uint8("of_type", uint8(m.Hdr().Type)),
			zap.String("msg", fmt.Sprintf("%T", m)))
		n.disable()
	}
	return true
}

func (n *Negotiator) processTLVTableReply(r *openflow.TLVTableReply) {
	free := ^uint64(0)
	n.lens = [NumOptions]uint8{}
	for _, tm := range r.Mappings {
		if tm.Index < NumOptions {
			n.lens[tm.Index] = tm.OptionLen
		}
	}
	for _, tm := range r.Mappings {
		if tm.OptionClass == n.cfg.OptionClass && tm.OptionType == n.cfg.OptionType {
			switch {
			case tm.OptionLen != n.cfg.OptionLen:
				n.log.Error("Geneve option already mapped with another length",
					zap.Uint8("option_len", tm.OptionLen), zap.Uint8("want_len", n.cfg.OptionLen),
					zap.Uint16("index", tm.Index))
				n.disable()
			case tm.Index >= NumOptions:
				n.log.Error("Geneve option already mapped to an unsupported index",
					zap.Uint16("index", tm.Index))
				n.disable()
			default:
				n.finish(n.enabled(int(tm.Index)))
			}
			return
		}
		if tm.Index < NumOptions {
			free &^= 1 << tm.Index
		}
	}
	if free == 0 {
		n.log.Error("no Geneve options free")
		n.disable()
		return
	}
	n.index = bits.TrailingZeros64(free)
	if n.cfg.ReadOnly {
		g := n.enabled(n.index)
		g.Unmapped = true
		n.finish(g)
		return
	}
	n.xid = n.send(&openflow.TLVTableMod{
		Header:  n.header(openflow.TypeExperimenter),
		Command: openflow.TLVTableAdd,
		Mappings: []openflow.TLVMap{{OptionClass: n.cfg.OptionClass, OptionType: n.cfg.OptionType,
			OptionLen: n.cfg.OptionLen, Index: uint16(n.index)}},
	})
	barrier := &openflow.BarrierRequest{}
	barrier.Header = n.header(openflow.TypeBarrierRequest)
	n.xid2 = n.send(barrier)
	n.become(STLVTableModSent)
}

// S_TLV_TABLE_MOD_SENT, when NXT_TLV_TABLE_MOD and OFPT_BARRIER_REQUEST
// have been sent and we're waiting for a reply to one or the other; anything
// with another xid goes to the common handler (Step returns false).
//
// If we receive an OFPT_ERROR to the NXT_TLV_TABLE_MOD:
//
//   - If the error is NXTTMFC_ALREADY_MAPPED or NXTTMFC_DUP_ENTRY, we raced
//     with some other controller: transition to S_NEW, which asks again.
//     After MaxRaces such races on one connection, log an error, disable
//     Geneve, and transition to S_CLEAR_FLOWS instead.
//
//   - Otherwise, log an error, disable Geneve, and transition to
//     S_CLEAR_FLOWS.
//
// If we receive the OFPT_BARRIER_REPLY:
//
//   - The index we asked for is ours: transition to S_CLEAR_FLOWS.
//
// If we receive anything else with one of the two xids:
//
//   - Log an error, disable Geneve, and transition to S_CLEAR_FLOWS.
//
// (OVS answers a failed mod with the error and then the barrier reply; the
// barrier reply then finds us in another state, with another xid, and goes
// to the common handler.)
func (n *Negotiator) recvTLVTableModSent(m openflow.Message) bool {
	xid := m.Hdr().XID
	if xid != n.xid && xid != n.xid2 {
		return false
	}
	switch r := m.(type) {
	case *openflow.BarrierReply:
		if xid == n.xid2 {
			n.finish(n.enabled(n.index))
			return true
		}
	case *openflow.Error:
		if xid == n.xid {
			n.modFailed(r.Err())
			return true
		}
	}
	n.log.Error("unexpected reply to Geneve option allocation request", zap.Uint32("xid", xid),
		zap.Uint8("of_type", uint8(m.Hdr().Type)), zap.String("msg", fmt.Sprintf("%T", m)))
	n.disable()
	return true
}

var (
	errAlreadyMapped = ofperr.Named("NXTTMFC_ALREADY_MAPPED")
	errDupEntry      = ofperr.Named("NXTTMFC_DUP_ENTRY")
)

func (n *Negotiator) modFailed(e *ofperr.Error) {
	if !errors.Is(e, errAlreadyMapped) && !errors.Is(e, errDupEntry) {
		n.log.Error("error adding Geneve option", zap.String("error", e.Name), zap.Int("index", n.index))
		n.disable()
		return
	}
	n.races++
	if n.races > n.cfg.MaxRaces {
		n.log.Error("raced with other controllers adding Geneve option too often; giving up",
			zap.String("error", e.Name), zap.Int("races", n.races-1))
		n.disable()
		return
	}
	n.log.Info("raced with another controller adding Geneve option; trying again",
		zap.String("error", e.Name), zap.Int("index", n.index), zap.Int("races", n.races))
	n.become(SNew)
	n.runNew()
}

func (n *Negotiator) enabled(index int) Geneve {
	g := Geneve{Enabled: true, Index: index,
		Class: n.cfg.OptionClass, Type: n.cfg.OptionType, Len: n.cfg.OptionLen, Lengths: n.lens}
	if index >= 0 && index < NumOptions {
		g.Lengths[index] = n.cfg.OptionLen
	}
	return g
}

// disable ends negotiation without Geneve.
func (n *Negotiator) disable() {
	g := n.enabled(-1)
	g.Enabled = false
	n.finish(g)
}

func (n *Negotiator) finish(g Geneve) {
	n.geneve = g
	n.become(SClearFlows)
	n.runClearFlows()
}

// S_CLEAR_FLOWS, once negotiation has ended with a tun_metadata index or
// with Geneve disabled.
//
// Unlike the seed's, it clears nothing on the switch: the reconciler dumps
// the switch's tables and repairs the difference, so a reconnect does not
// interrupt traffic. It announces the result in Ready (marked Changed when
// the option's mapping differs from the previous connection's: the other
// options' lengths do not count) and transitions to S_UPDATE_FLOWS.
func (n *Negotiator) runClearFlows() {
	g := n.geneve
	mine := func(g Geneve) Geneve { g.Lengths = [NumOptions]uint8{}; return g }
	changed := n.last == nil || mine(*n.last) != mine(g)
	n.last = &g
	n.ready.Result = &Result{Geneve: g, Changed: changed}
	n.xid, n.xid2 = 0, 0
	n.log.Info("Geneve option negotiated", zap.Stringer("geneve", g), zap.Bool("changed", changed))
	n.become(SUpdateFlows)
}

// S_UPDATE_FLOWS: negotiation is over for this connection; the reconciler
// maintains the flow tables. Every reply goes to the common handler. This is
// a terminal state: only Start (a new connection) or Disconnected leaves it.
