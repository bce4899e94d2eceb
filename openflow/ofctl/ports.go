package ofctl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow/oxm"
)

// Ports is a switch's port names, for Context.OXM.Ports: what ovs-ofctl
// learns from the switch before it parses a flow that names ports
// (in_port=vm1, output:vm1, enqueue:vm1:3, bundle members, watch_port).
// A name two ports share, or a number two names share, is ambiguous:
// it resolves, and prints, as no name (OVS's namemap "duplicate").
type Ports struct {
	byName   map[string]uint32
	byNumber map[uint32]string
	dupName  map[string]bool
	dupPort  map[uint32]bool
}

// NewPorts makes the port map of names to OpenFlow port numbers.
func NewPorts(m map[string]uint32) *Ports {
	p := &Ports{byName: map[string]uint32{}, byNumber: map[uint32]string{},
		dupName: map[string]bool{}, dupPort: map[uint32]bool{}}
	for name, n := range m {
		p.Add(name, n)
	}
	return p
}

// Add adds port name as number n.
func (p *Ports) Add(name string, n uint32) {
	if old, ok := p.byName[name]; ok && old != n {
		p.dupName[name] = true
	}
	if old, ok := p.byNumber[n]; ok && old != name {
		p.dupPort[n] = true
	}
	p.byName[name], p.byNumber[n] = n, name
}

// PortNumber is the number of port name (oxm.PortMap).
func (p *Ports) PortNumber(name string) (uint32, bool) {
	n, ok := p.byName[name]
	return n, ok && !p.dupName[name]
}

// PortName is the name of port number n (oxm.PortMap).
func (p *Ports) PortName(n uint32) (string, bool) {
	name, ok := p.byNumber[n]
	return name, ok && !p.dupPort[n]
}

// Names returns the port names, sorted.
func (p *Ports) Names() []string {
	out := make([]string, 0, len(p.byName))
	for name := range p.byName {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ParsePorts reads a port map written name=N,name=N,... (what `ofactor
// encode --ports` takes): each name once, N a port number below 0xff00.
func ParsePorts(s string) (*Ports, error) {
	p := NewPorts(nil)
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	for _, kv := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: expected NAME=NUMBER", kv)
		}
		if _, reserved := oxm.ParsePort(name); reserved || name[0] >= '0' && name[0] <= '9' {
			return nil, fmt.Errorf("%q: a port name cannot be a number or a reserved port", name)
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if strings.EqualFold(num, "LOCAL") {
			n, err = uint64(0xfffffffe), nil // the bridge's own port
		}
		if err != nil || n >= 0xff00 && n != 0xfffffffe {
			return nil, fmt.Errorf("%q: port number must be from 0 to 65279 (or LOCAL, the bridge's own port)", kv)
		}
		if _, dup := p.byName[name]; dup {
			return nil, fmt.Errorf("%q: port named twice", name)
		}
		p.Add(name, uint32(n))
	}
	return p, nil
}

// portValue reads a port for the flow keywords (out_port): as
// ofputil_port_from_string, with the context's port names.
func portValue(s string, t token, ctx *oxm.Context) (uint32, error) {
	p, err := ctx.ParsePort(t.val)
	if err != nil {
		return 0, errToken(s, t, "%s: %v", t.key, err)
	}
	return oxm.Port16To32(p), nil
}
