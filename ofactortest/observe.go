package ofactortest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Observation, in ovs-ofctl's words: what a test compares with the output
// of ovs-ofctl against a real switch.

// Counts is how many messages the switch received, by name (MsgFlowMod,
// MsgBundleAdd, ...: the names `ovs-ofctl ofp-print` gives). A message
// inside a bundle ADD_MESSAGE counts under its own name as well as the
// ADD_MESSAGE under its; messages of unknown kinds count under
// "OFPT_UNKNOWN(...)". Out-of-band changes (AddFlow, DelGroups, ...) are
// not messages and do not count.
type Counts map[string]int

// Total is the number of messages counted.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Sub returns the counts of c not yet in old: what arrived between the
// two snapshots.
func (c Counts) Sub(old Counts) Counts {
	d := Counts{}
	for k, v := range c {
		if v -= old[k]; v != 0 {
			d[k] = v
		}
	}
	return d
}

// Mods is the number of flow_mods, group_mods, meter_mods and TLV table
// mods counted: the messages that change a switch.
func (c Counts) Mods() int {
	return c[MsgFlowMod] + c[MsgGroupMod] + c[MsgMeterMod] + c[MsgTLVTableMod]
}

// Received returns a snapshot of the counts of messages received since
// New (Restart does not reset them). A connection's HELLO counts once the
// switch has read it, which may be after Dial returns: a snapshot that must
// follow it follows an Exchange.
func (s *Switch) Received() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(Counts, len(s.recv))
	for k, v := range s.recv {
		c[k] = v
	}
	return c
}

// Unmodelled returns the messages the switch answered OFPBRC_BAD_TYPE or
// OFPBRC_BAD_STAT only because it does not model them (OVS handles them:
// PACKET_OUT, PORT_MOD, ROLE_REQUEST, ...), by name.
func (s *Switch) Unmodelled() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := make(Counts, len(s.unmodelled))
	for k, v := range s.unmodelled {
		c[k] = v
	}
	return c
}

// DumpFlows returns the flows of every table but the hidden table 254, as
// `ovs-ofctl -O OpenFlow13 --no-stats --no-names dump-flows` prints them:
// one line each, leading space kept, sorted bytewise (the form of
// ovstest's DumpFlows and of shared/corpus/ovn-sample/flows.txt).
func (s *Switch) DumpFlows() []string {
	return s.dump(openflow.TableAll)
}

// DumpTable returns the flows of one table, 254 included, in the form of
// DumpFlows (`dump-flows table=N`).
func (s *Switch) DumpTable(table uint8) []string {
	return s.dump(table)
}

func (s *Switch) dump(table uint8) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.expire(s.cfg.now())
	rules := s.st.rules(table)
	lines := make([]string, 0, len(rules))
	for _, r := range rules {
		fs := openflow.FlowStats{
			TableID: r.table, Priority: r.priority, IdleTimeout: r.idle, HardTimeout: r.hard,
			Flags: r.flags, Importance: r.importance, Cookie: r.cookie, Match: r.match, Instructions: r.ins,
		}
		lines = append(lines, ovsReasons(string(ofctl.AppendFlowStats(nil, &fs))))
	}
	sort.Strings(lines)
	return lines
}

// ovsReasons writes the controller action's internal miss reasons as
// ovs-ofctl does (ofputil_packet_in_reason_to_string gives "" for both);
// the codec's printer names them (table 254's miss rule has one).
func ovsReasons(line string) string {
	line = strings.ReplaceAll(line, "reason=implicit_miss", "reason=")
	return strings.ReplaceAll(line, "reason=explicit_miss", "reason=")
}

// FlowCount is the number of flows in every table but 254.
func (s *Switch) FlowCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.expire(s.cfg.now())
	return s.st.nflows - len(s.st.tables[tableInternal])
}

// DumpGroups returns the groups as `ovs-ofctl -O OpenFlow13 dump-groups`
// prints them, one a line without the leading space, sorted (the form of
// shared/corpus/ovn-sample/groups.txt).
func (s *Switch) DumpGroups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, id := range sortedIDs(s.st.groups) {
		g := s.st.groups[id]
		lines = append(lines, string(ofctl.AppendGroupDesc(nil, &openflow.GroupDesc{Type: g.typ, GroupID: g.id, Buckets: g.buckets})))
	}
	sort.Strings(lines)
	return lines
}

// DumpMeters returns the meters in `ovs-ofctl add-meter` syntax, one a
// line, sorted (the form of shared/corpus/ovn-sample/meters.txt and of
// ovstest's DumpMeters).
func (s *Switch) DumpMeters() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for _, id := range sortedIDs(s.st.meters) {
		m := s.st.meters[id]
		lines = append(lines, string(ofctl.AppendMeterConfig(nil, &openflow.MeterConfig{Flags: m.flags, MeterID: m.id, Bands: m.bands})))
	}
	sort.Strings(lines)
	return lines
}

// DumpTLVMap returns the Geneve TLV map, ordered by tun_metadata index
// (`ovs-ofctl dump-tlv-map`).
func (s *Switch) DumpTLVMap() []openflow.TLVMap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.tlvMaps()
}

// TLVMapString writes a mapping in `ovs-ofctl add-tlv-map` syntax:
// {class=0x102,type=0x80,len=4}->tun_metadata0.
func TLVMapString(m openflow.TLVMap) string {
	return fmt.Sprintf("{class=%#x,type=%#x,len=%d}->tun_metadata%d", m.OptionClass, m.OptionType, m.OptionLen, m.Index)
}
