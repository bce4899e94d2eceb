// Package desired loads a bridge's desired state from ovs-ofctl syntax files
// (flows, groups, meters) into the message the reconciler takes.
package desired

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// Files names the files of one bridge; an empty name is no file.
type Files struct {
	Flows, Groups, Meters string
}

// Paths returns the non-empty file names.
func (f Files) Paths() []string {
	var ps []string
	for _, p := range []string{f.Flows, f.Groups, f.Meters} {
		if p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// UsesGeneve reports whether a flow's text names the Geneve field
// (flowkey.UsesGeneve).
func UsesGeneve(text string) bool { return flowkey.UsesGeneve(text) }

// Load reads the files. Every problem in every file is reported, each with
// file:line:column; on any error the result is nil, so that a caller keeps
// its last good state. The flows are in the put's Canonical, those naming
// the Geneve field in its GeneveFlows. Of duplicates the later wins, as in
// the put; Loader reports them.
func Load(f Files) (*messages.PutDesired, error) {
	r, err := load(f, nil, Options{})
	if err != nil {
		return nil, err
	}
	return r.put, nil
}

// loaded is the files read: the put, the flows file's lines and their
// parse, the duplicates and where each object is.
type loaded struct {
	put      *messages.PutDesired
	ff       *flowFile
	dups     []Duplicate
	where    *Index
	distinct bool // two flow lines of different text share a key
}

// load is Load that also returns the flows file's lines and their parse,
// and hands the flows over in parts as they are parsed when part is not
// nil (Loader.LoadParts). With opts.Strict a duplicate is an error.
func load(f Files, part func(*messages.PutDesired), opts Options) (*loaded, error) {
	v, strict := opts.version(), opts.Strict
	put := &messages.PutDesired{
		Version:     v,
		Canonical:   []flowkey.Flow{},
		Groups:      []*openflow.GroupMod{},
		Meters:      []*openflow.MeterMod{},
		GeneveFlows: []string{},
	}
	r := &loaded{put: put, where: &Index{version: v}}
	var errs []error
	// Groups and meters first: they go in the first part.
	if f.Groups != "" {
		err := withFile(f.Groups, func(rd *os.File) error {
			lines, err := ofctl.ParseGroups(f.Groups, rd, defaultContext(v))
			pos, ids := make([]ofctl.Pos, len(lines)), make([]uint32, len(lines))
			for i, l := range lines {
				put.Groups = append(put.Groups, l.Mod)
				pos[i], ids[i] = l.Pos, l.Mod.GroupID
			}
			var dups []Duplicate
			dups, r.where.groups = idDups("group", pos, ids)
			r.dups = append(r.dups, dups...)
			return err
		})
		errs = append(errs, err)
	}
	if f.Meters != "" {
		err := withFile(f.Meters, func(rd *os.File) error {
			lines, err := ofctl.ParseMeters(f.Meters, rd, defaultContext(v))
			pos, ids := make([]ofctl.Pos, len(lines)), make([]uint32, len(lines))
			for i, l := range lines {
				put.Meters = append(put.Meters, l.Mod)
				pos[i], ids[i] = l.Pos, l.Mod.MeterID
			}
			var dups []Duplicate
			dups, r.where.meters = idDups("meter", pos, ids)
			r.dups = append(r.dups, dups...)
			return err
		})
		errs = append(errs, err)
	}
	if errors.Join(errs...) != nil || strict && len(r.dups) > 0 {
		part = nil // nothing goes out of a state that cannot be whole
	}
	if f.Flows != "" {
		s := &splitter{put: put, part: part}
		ff, err := readFlows(f.Flows, v, s.progress)
		errs = append(errs, err)
		if err == nil {
			s.rest(ff)
			dups, idx, distinct := flowDups(f.Flows, ff)
			r.ff, r.distinct, r.dups = ff, distinct, append(r.dups, dups...)
			r.where.flowsFile, r.where.ff, r.where.flows = f.Flows, ff, idx
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if strict && len(r.dups) > 0 {
		return nil, dupError(r.dups)
	}
	return r, nil
}

// Index tells where each object of the files is: the line holding it (of
// duplicates, the later, which wins).
type Index struct {
	version        uint8 // the files were parsed for
	flowsFile      string
	ff             *flowFile
	flows          *keyIndex
	groups, meters map[uint32]ofctl.Pos
}

// Version is the OpenFlow version the files were parsed for: the keys'
// encoding.
func (x *Index) Version() uint8 { return x.version }

// Flow returns the line of the flow with this key (flowkey.Flow.Key).
func (x *Index) Flow(key string) (ofctl.Pos, bool) {
	if x == nil || x.flows == nil {
		return ofctl.Pos{}, false
	}
	i, ok := x.flows.get(key)
	if !ok {
		return ofctl.Pos{}, false
	}
	l := x.ff.lines[i]
	return ofctl.Pos{File: x.flowsFile, Line: l.n, Column: l.col}, true
}

// Group returns the line of group id.
func (x *Index) Group(id uint32) (ofctl.Pos, bool) {
	if x == nil {
		return ofctl.Pos{}, false
	}
	p, ok := x.groups[id]
	return p, ok
}

// Meter returns the line of meter id.
func (x *Index) Meter(id uint32) (ofctl.Pos, bool) {
	if x == nil {
		return ofctl.Pos{}, false
	}
	p, ok := x.meters[id]
	return p, ok
}

// partLines is how many lines of a flows file go in one part.
const partLines = 8192

// splitter hands a flows file to part in parts while it is parsed, each
// with the flows of the next partLines lines or more, until a line fails.
type splitter struct {
	put  *messages.PutDesired // the first part's groups and meters; then the last part
	part func(*messages.PutDesired)
	sent int // lines handed over
}

func (s *splitter) progress(res []parsed, n int) {
	if s.part == nil || n-s.sent < partLines {
		return
	}
	p := &messages.PutDesired{Version: s.put.Version, Canonical: make([]flowkey.Flow, 0, n-s.sent), More: true,
		Continue: s.sent > 0}
	for _, r := range res[s.sent:n] {
		if r.err != nil {
			s.part = nil
			return
		}
		if !r.text() {
			p.Canonical = append(p.Canonical, r.flow)
		}
	}
	if s.sent == 0 {
		p.Groups, p.Meters = s.put.Groups, s.put.Meters
		s.put.Groups, s.put.Meters = nil, nil
		p.SizeHint = len(res) // the file's lines: its flows, but for blank and comment lines
	}
	s.sent = n
	s.part(p)
}

// rest makes s.put the last part (or the whole put, when no part went
// out): the flows not handed over yet and every flow naming the Geneve
// field or a port (as text: the bridge renders them for the switch).
func (s *splitter) rest(ff *flowFile) {
	s.put.Continue = s.sent > 0
	for i, r := range ff.res {
		switch {
		case r.ports: // or tun_metadataN
			s.put.SwitchFlows = append(s.put.SwitchFlows, ff.lines[i].text())
		case r.geneve:
			s.put.GeneveFlows = append(s.put.GeneveFlows, ff.lines[i].text())
		case i >= s.sent:
			s.put.Canonical = append(s.put.Canonical, r.flow)
		}
	}
}

func defaultContext(version uint8) *ofctl.Context {
	ctx := &ofctl.Context{Version: version}
	ctx.OXM.Geneve = -1
	return ctx
}

// flowFile is a flows file read and parsed: its lines and their results.
type flowFile struct {
	lines []line
	res   []parsed
}

// readFlows reads and parses a flows file on every core. Flows naming the
// Geneve field are checked with a stand-in mapping (tun_metadata0, 4 bytes)
// so that their syntax errors show now. progress is parseAll's.
func readFlows(name string, version uint8, progress func(res []parsed, n int)) (*flowFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lines := splitLines(fileText(data))
	res := parseAll(lines, geneveCheckContext(version), progress)
	if err := lineErrors(name, lines, res); err != nil {
		return nil, err
	}
	return &flowFile{lines: lines, res: res}, nil
}

// geneveCheckContext returns a maker of parse contexts for version with
// the stand-ins of what only the switch says: the Geneve mapping
// (tun_metadata0, 4 bytes) and a port map that takes any name (and notes
// that the line named a port).
func geneveCheckContext(version uint8) func() *ofctl.Context {
	return func() *ofctl.Context {
		ctx := &ofctl.Context{Version: version}
		ctx.OXM.Geneve = 0
		ctx.OXM.TunMetadataLen[0] = 4
		ctx.OXM.Ports = &standInPorts{}
		return ctx
	}
}

// standInPorts is a port map that knows every name (as port 1) and notes
// that one was asked for: such a flow is handed over as text
// (PutDesired.SwitchFlows), for the bridge to parse with the switch's ports.
type standInPorts struct{ used bool }

func (p *standInPorts) PortNumber(string) (uint32, bool) { p.used = true; return 1, true }
func (p *standInPorts) PortName(uint32) (string, bool)   { return "", false }

func withFile(name string, f func(*os.File) error) error {
	r, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	return f(r)
}

// fileText is a file's bytes as a string without copying them: the
// buffer is the file's alone, never written again (a copy of a 1M-line
// file is 200 MB more on the heap while it is parsed).
func fileText(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	return unsafe.String(&data[0], len(data))
}
