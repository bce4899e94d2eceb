package ofactortest

import (
	"fmt"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// Fault hooks: what a test makes the switch do that OVS does when
// something is wrong with it.

// faults is the switch's armed faults. Guarded by Switch.mu.
type faults struct {
	stall     chan struct{} // non-nil while stalled; closed by release
	cutAfter  int           // messages to go before a cut; 0: none
	cutBefore int           // messages to go before a drop; 0: none
	refusals  []refusal
}

// refusal is one object the switch refuses, with the error to give.
type refusal struct {
	table uint8 // flows: table and key
	key   string
	group uint32 // groups
	meter uint32 // meters
	kind  byte   // 'f', 'g', 'm' or 'x' (fn)
	err   string
	fn    func(openflow.Message) string
}

func (f *faults) release() {
	if f.stall != nil {
		close(f.stall)
		f.stall = nil
	}
}

// tick counts one received message towards an armed cut: cut means the
// message is handled but neither it nor anything after it is answered,
// drop that it is not even handled. Either closes the connection.
func (f *faults) tick() (cut, drop bool) {
	if f.cutAfter > 0 {
		f.cutAfter--
		cut = f.cutAfter == 0
	}
	if f.cutBefore > 0 {
		f.cutBefore--
		drop = f.cutBefore == 0
	}
	return cut, drop
}

// Stall makes the switch stop reading and answering, as a SIGSTOPped
// ovs-vswitchd does: connections stay open, nothing more is read from
// them or written to them (new ones are accepted, but get no HELLO), until
// Release. Observation and out-of-band changes still work.
func (s *Switch) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fault.stall == nil {
		s.fault.stall = make(chan struct{})
	}
}

// Release ends a Stall: the switch reads and answers again.
func (s *Switch) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.release()
}

// CutAfter arms a cut: of the next n messages the switch receives (on any
// connection, HELLOs not counted), the first n-1 are handled and answered
// as usual; the nth is handled, its changes made, but the connection it
// came on is closed before anything is sent for it. This is the
// connection lost right after the switch acted, e.g. after a bundle
// COMMIT but before its reply. n <= 0 disarms.
func (s *Switch) CutAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.cutAfter = max(n, 0)
}

// CutBefore arms a cut like CutAfter, except that the nth message is not
// handled at all: the connection is lost right before the switch would
// have acted on it. n <= 0 disarms.
func (s *Switch) CutBefore(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.cutBefore = max(n, 0)
}

// RefuseFlow makes the switch refuse, with the OVS error named errName
// (e.g. "OFPFMFC_TABLE_FULL"), every flow_mod that would add or modify the
// flow text names: its table, priority and match, in ovs-ofctl syntax
// ("table=3,priority=10,ip,nw_dst=10.0.0.1"; actions are not looked at).
// The refusal comes where OVS would refuse it for a reason of its own:
// at once for a plain flow_mod, at commit for a bundled one.
func (s *Switch) RefuseFlow(text, errName string) error {
	if ofperr.Named(errName) == nil {
		return fmt.Errorf("ofactortest: refuse flow: no OVS error %q", errName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	line := text
	if !strings.Contains(text, "actions=") {
		line += " actions=drop" // the parser wants some; they are not looked at
	}
	fm, err := ofctl.ParseFlow(line, &ofctl.Context{OXM: *s.st.tunContext()})
	if err != nil {
		return fmt.Errorf("ofactortest: refuse flow: %w", err)
	}
	m := fm.Match
	m.Normalize()
	s.fault.refusals = append(s.fault.refusals, refusal{kind: 'f', table: fm.TableID, key: ruleKey(fm.Priority, &m), err: errName})
	return nil
}

// RefuseGroup makes the switch refuse every add or modify of group id
// with the error errName (e.g. "OFPGMFC_OUT_OF_GROUPS").
func (s *Switch) RefuseGroup(id uint32, errName string) error {
	if ofperr.Named(errName) == nil {
		return fmt.Errorf("ofactortest: refuse group: no OVS error %q", errName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.refusals = append(s.fault.refusals, refusal{kind: 'g', group: id, err: errName})
	return nil
}

// RefuseMeter makes the switch refuse every add or modify of meter id
// with the error errName (e.g. "OFPMMFC_OUT_OF_METERS").
func (s *Switch) RefuseMeter(id uint32, errName string) error {
	if ofperr.Named(errName) == nil {
		return fmt.Errorf("ofactortest: refuse meter: no OVS error %q", errName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.refusals = append(s.fault.refusals, refusal{kind: 'm', meter: id, err: errName})
	return nil
}

// RefuseFunc calls fn with every flow_mod, group_mod and meter_mod that
// would add or modify an object (as the codec decodes them, inner
// messages of bundles included, at the point where OVS would check the
// object against its tables); a non-empty result is the name of the OVS
// error to refuse it with. fn runs with the switch locked: it must not
// call the switch.
func (s *Switch) RefuseFunc(fn func(openflow.Message) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.refusals = append(s.fault.refusals, refusal{kind: 'x', fn: fn})
}

// ClearRefusals forgets every refusal.
func (s *Switch) ClearRefusals() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault.refusals = nil
}

// refusesFlow returns the error a refusal gives rule r, made by the
// flow_mod raw (decoded for RefuseFunc only when there is one).
func (f *faults) refusesFlow(r *rule, raw []byte) string {
	var fm *openflow.FlowMod
	for _, x := range f.refusals {
		switch x.kind {
		case 'f':
			if x.table == r.table && x.key == r.key {
				return x.err
			}
		case 'x':
			if fm == nil {
				if fm = decodeForHooks(raw); fm == nil {
					continue
				}
			}
			if e := x.fn(fm); e != "" {
				return e
			}
		}
	}
	return ""
}

func (f *faults) refusesGroup(id uint32, gm *openflow.GroupMod) string {
	for _, x := range f.refusals {
		switch {
		case x.kind == 'g' && x.group == id:
			return x.err
		case x.kind == 'x':
			if e := x.fn(gm); e != "" {
				return e
			}
		}
	}
	return ""
}

func (f *faults) refusesMeter(id uint32, mm *openflow.MeterMod) string {
	for _, x := range f.refusals {
		switch {
		case x.kind == 'm' && x.meter == id:
			return x.err
		case x.kind == 'x':
			if e := x.fn(mm); e != "" {
				return e
			}
		}
	}
	return ""
}

// CountPackets adds to a flow's counters as if packets had matched it,
// bytes in all: the switch has no datapath, so this is how a test makes
// counters move (OVS's are moved by traffic, e.g. `ovs-appctl
// netdev-dummy/receive`). flow names the flow strictly: table, priority
// and match in ovs-ofctl syntax. The flow's idle timeout restarts.
func (s *Switch) CountPackets(flow string, packets, bytes uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fm, err := ofctl.ParseFlow("delete_strict "+flow, &ofctl.Context{OXM: *s.st.tunContext()})
	if err != nil {
		return fmt.Errorf("ofactortest: count packets: %w", err)
	}
	table := fm.TableID
	if table == openflow.TableAll {
		table = 0
	}
	m := fm.Match
	m.Normalize()
	r := s.st.find(table, ruleKey(fm.Priority, &m))
	if r == nil {
		return fmt.Errorf("ofactortest: count packets: no flow %q", flow)
	}
	r.packets += packets
	r.bytes += bytes
	r.used = s.cfg.now()
	return nil
}
