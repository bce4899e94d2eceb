package reconciler

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
	"github.com/ofactor/ofactor/openflow/oxm"
)

// Flows may name switch ports (`in_port=vm1`, `output:patch-tun`), as
// ovs-ofctl resolves them online: their text (PutDesired.PortFlows) is
// parsed with the switch's port map whenever it changes, as the flows
// naming the Geneve field are rendered again when the field does. The
// port map comes from OFPMP_PORT_DESC, read on each connection, and then
// from port status messages: OVS sends those on a service connection
// (br-int.mgmt) only after a SET_CONFIG with a nonzero miss_send_len, so
// the machine sends one (with the switch's own fragment handling, read by
// GET_CONFIG first: that setting is the whole switch's) and a SET_ASYNC
// that asks for port status and nothing else (no packet-ins, no flow
// removed). A flow naming a port the switch lacks waits, reported
// (Status.MissingPorts); rendered again when the port appears.
//
// While flows name ports, no round runs on a connection before its port
// map is read: a flow rendered for the port numbers of another time, or not
// at all, would be deleted or sent wrong.

// portsStep is where reading the port map is on the current connection.
type portsStep uint8

const (
	portsUnread  portsStep = iota // not asked for on this connection
	portsConfig                   // GET_CONFIG sent (ModeApply)
	portsReading                  // PORT_DESC sent
	portsRead                     // the map is the switch's, kept current by port status
)

// portsWanted says whether the desired state names ports and the map is
// not read on this connection yet: rounds wait.
func (m *Machine) portsWanted() bool {
	return len(m.st.portTexts) > 0 && m.ports != portsRead
}

// askPorts starts reading the port map when flows name ports: GET_CONFIG
// first when the machine may change the switch (ModeApply), else PORT_DESC
// at once.
func (m *Machine) askPorts() {
	if len(m.st.portTexts) == 0 || m.ports != portsUnread || m.seq == 0 || m.phase == PhaseDisconnected ||
		m.phase == PhaseNegotiating {
		return
	}
	m.portsRef = m.newRef()
	if m.cfg.Mode == ModeApply {
		m.ports = portsConfig
		m.sendAs(m.portsRef, []openflow.Message{getConfigRequest(m.ofVersion)}, nil)
		return
	}
	m.ports = portsReading
	m.sendAs(m.portsRef, []openflow.Message{openflow.NewPortDescRequest(m.ofVersion)}, nil)
}

func payloadHeader(v uint8) openflow.Header { return openflow.Header{Version: v} }

func getConfigRequest(v uint8) *openflow.GetConfigRequest {
	r := &openflow.GetConfigRequest{}
	r.Version = v
	return r
}

// portsSent takes the xid of the ports' Send; it reports whether it was it.
func (m *Machine) portsSent(ev *messages.Sent) bool {
	if ev.Ref != m.portsRef || m.portsRef == 0 {
		return false
	}
	m.portsFirst, m.portsXID = ev.FirstXID, ev.FirstXID+uint32(ev.N)-1 // the last message's reply
	return true
}

// portsReply takes the replies of the port map's requests; it reports
// whether ev was one.
func (m *Machine) portsReply(ev *messages.Reply) bool {
	if m.portsXID == 0 || ev.XID < m.portsFirst || ev.XID > m.portsXID {
		return false
	}
	if e, ok := ev.Msg.(*openflow.Error); ok && ev.XID != m.portsXID {
		// SET_CONFIG or SET_ASYNC refused: the map is read all the same,
		// but port changes may go unseen until the next connection.
		m.log.Warn("the switch refused to send port status: port changes are seen at the next connection",
			zap.String("error", e.Err().Name))
		return true
	}
	switch msg := ev.Msg.(type) {
	case *openflow.GetConfigReply:
		if m.ports != portsConfig {
			return true
		}
		// Port status from now on, then the map as it is: a port that
		// changes in between is in both.
		miss := msg.MissSendLen
		if miss == 0 {
			miss = 128
		}
		none := [2]uint32{}
		all := uint32(1<<openflow.PortReasonAdd | 1<<openflow.PortReasonDelete | 1<<openflow.PortReasonModify)
		m.ports = portsReading
		m.portsRef = m.newRef()
		m.portsXID = 0
		m.sendAs(m.portsRef, []openflow.Message{
			&openflow.SetConfig{Header: payloadHeader(m.ofVersion), SwitchConfig: openflow.SwitchConfig{Flags: msg.Flags, MissSendLen: miss}},
			&openflow.SetAsync{Header: payloadHeader(m.ofVersion), PacketIn: none, FlowRemoved: none, PortStatus: [2]uint32{all, all}},
			openflow.NewPortDescRequest(m.ofVersion),
		}, nil)
	case *openflow.PortDescReply:
		if m.ports != portsReading {
			return true
		}
		ports := make(map[uint32]string, len(msg.Ports))
		for _, p := range msg.Ports {
			ports[p.PortNo] = p.Name
		}
		m.ports, m.portsXID = portsRead, 0
		m.log.Debug("switch ports read", zap.Int("ports", len(ports)))
		m.setPorts(ports)
		m.kick()
	case *openflow.Error:
		// The port map cannot be read (no switch refuses PORT_DESC): the
		// flows naming ports keep waiting; the next connection tries again.
		m.log.Warn("the switch's ports could not be read: flows naming ports wait",
			zap.String("error", msg.Err().Name))
		m.portsXID = 0
	default:
		return false
	}
	return true
}

// portStatus takes a port status message: the map changes, the flows
// naming ports are rendered again.
func (m *Machine) portStatus(ps *openflow.PortStatus) {
	if m.ports != portsRead {
		return // the PORT_DESC reply to come has it
	}
	ports := maps.Clone(m.st.ports)
	if ports == nil {
		ports = map[uint32]string{}
	}
	for no, name := range ports {
		if no == ps.PortNo || name == ps.Name {
			delete(ports, no)
		}
	}
	if ps.Reason != openflow.PortReasonDelete {
		ports[ps.PortNo] = ps.Name
	}
	m.log.Info("switch port changed", zap.String("port", ps.Name), zap.Uint32("number", ps.PortNo),
		zap.Uint8("reason", ps.Reason))
	m.setPorts(ports)
	m.kick()
}

// setPorts makes ports the State's port map and renders the flows naming
// ports again; a change to the desired flows is a new version.
func (m *Machine) setPorts(ports map[uint32]string) {
	m.st.ports = ports
	if len(m.st.portTexts) > 0 && m.st.rerender(m.log) {
		m.st.version++
	}
}

// portMap is the State's port map for ofctl, nil before any was read.
func (s *State) portMap() *ofctl.Ports {
	if s.ports == nil {
		return nil
	}
	byName := make(map[string]uint32, len(s.ports))
	for no, name := range s.ports {
		byName[name] = no
	}
	// The bridge's own port is LOCAL: ovs-ofctl names it so.
	return ofctl.NewPorts(byName)
}

// setPortTexts takes a put's flows naming ports. A text that does not
// parse whatever the ports (not for want of a port) is reported and left
// out; it is checked with a stand-in map that knows every name.
func (s *State) setPortTexts(texts []string, acc *messages.DesiredAccepted) {
	s.portTexts = s.portTexts[:0]
	for _, text := range texts {
		ctx := s.portContext(anyPort{})
		if ctx.OXM.Geneve < 0 && flowkey.UsesGeneve(text) {
			ctx.OXM.Geneve, ctx.OXM.TunMetadataLen[0] = 0, 4 // a stand-in field, to check the rest
		}
		if _, err := ofctl.ParseFlow(text, ctx); err != nil {
			acc.Errors = append(acc.Errors, fmt.Sprintf("%q: %v", text, err))
			continue
		}
		s.portTexts = append(s.portTexts, text)
	}
}

// portContext is the parse context of the flows naming ports: the State's
// version, its Geneve field (a stand-in while none is mapped: those flows
// are left out then), the port map given.
func (s *State) portContext(ports oxm.PortMap) *ofctl.Context {
	v := s.encoding
	if v == 0 {
		v = openflow.Version13
	}
	ctx := &ofctl.Context{Version: v}
	ctx.OXM.Ports = ports
	ctx.OXM.Geneve = -1
	if s.geneve.Enabled {
		ctx.OXM.Geneve = s.geneve.Index
		ctx.OXM.TunMetadataLen[s.geneve.Index] = s.geneve.Len
	}
	return ctx
}

// portRecorder is a port map that notes the names it does not know.
type portRecorder struct {
	ports   *ofctl.Ports
	missing []string
}

func (r *portRecorder) PortNumber(name string) (uint32, bool) {
	n, ok := r.ports.PortNumber(name)
	if !ok {
		r.missing = append(r.missing, name)
	}
	return n, ok
}

func (r *portRecorder) PortName(n uint32) (string, bool) { return r.ports.PortName(n) }

// anyPort is the stand-in port map that knows every name (as port 1).
type anyPort struct{}

func (anyPort) PortNumber(string) (uint32, bool) { return 1, true }
func (anyPort) PortName(uint32) (string, bool)   { return "", false }

// renderPorts parses the flows naming ports with the switch's map into
// next. A flow naming a port the switch lacks waits (MissingPorts); one
// naming the Geneve field while none is mapped is left out, as templates
// are.
func (s *State) renderPorts(next map[string]string, log *zap.Logger) {
	clear(s.missingPorts)
	if len(s.portTexts) == 0 {
		return
	}
	pm := s.portMap()
	if pm == nil {
		return // before the first port map: they wait
	}
	rec := &portRecorder{ports: pm}
	ctx := s.portContext(rec)
	for _, text := range s.portTexts {
		if !s.geneve.Enabled && flowkey.UsesGeneve(text) {
			continue
		}
		rec.missing = rec.missing[:0]
		fm, err := ofctl.ParseFlow(text, ctx)
		if err != nil && len(rec.missing) > 0 {
			for _, name := range rec.missing {
				s.missingPorts[name]++
			}
			continue
		}
		if err != nil {
			log.Warn("flow naming ports left out", zap.String("flow", text), zap.Error(err))
			continue
		}
		f, err := flowkey.OfCanonical(fm)
		if err != nil {
			log.Warn("flow naming ports left out", zap.String("flow", text), zap.Error(err))
			continue
		}
		next[f.Key()] = f.Value()
		s.rendered[f.Key()] = struct{}{}
	}
	if len(s.missingPorts) > 0 {
		log.Warn("flows wait for ports the switch does not have", zap.Strings("ports", s.MissingPorts()))
	}
}

// MissingPorts returns the names of the ports flows wait for, sorted.
func (s *State) MissingPorts() []string {
	out := make([]string, 0, len(s.missingPorts))
	for name := range s.missingPorts {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// portsUseGeneve reports whether a flow naming ports names the Geneve
// field too: it is rendered again when the field changes.
func (s *State) portsUseGeneve() bool {
	return slices.ContainsFunc(s.portTexts, flowkey.UsesGeneve)
}
