package ofctl

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ofactor/ofactor/openflow"
)

// MeterLine is one meter of a meters file: the meter_mod, where its line
// starts and its text without the comment.
type MeterLine struct {
	Mod  *openflow.MeterMod
	Pos  Pos
	Text string
}

// Reserved meter numbers (OpenFlow 1.3.5 §7.3.4.4, enum ofp_meter).
const (
	meterMax        uint32 = 0xffff0000
	meterSlowpath   uint32 = 0xfffffffd
	meterController uint32 = 0xfffffffe
)

var meterNames = map[uint32]string{
	openflow.MeterAll: "all",
	meterController:   "controller",
	meterSlowpath:     "slowpath",
}

// meterFlags are the flag keywords in the order OVS prints them.
var meterFlags = []struct {
	name string
	bit  uint16
}{
	{"kbps", openflow.MeterKBPS},
	{"pktps", openflow.MeterPKTPS},
	{"burst", openflow.MeterBurst},
	{"stats", openflow.MeterStats},
}

var meterCommands = map[string]uint16{
	"add":    openflow.MeterAdd,
	"modify": openflow.MeterModify,
	"delete": openflow.MeterDelete,
}

// ParseMeter parses one meter as `ovs-ofctl add-meter` accepts it
// (parse_ofp_meter_mod_str): meter=ID,FLAGS...,bands=type=drop|dscp_remark,
// rate=R[,burst_size=B][,prec_level=P][,type=...]... A line may start with
// add, modify or delete; a delete takes only meter=. Errors are
// *ParseError, their column counted in s.
func ParseMeter(s string, ctx *Context) (*openflow.MeterMod, error) {
	if ctx == nil {
		ctx = &defaultContext
	}
	if ctx.version() < openflow.Version13 {
		return nil, errAt(0, "", "meters need OpenFlow 1.3 or later")
	}
	mm := &openflow.MeterMod{Header: openflow.Header{Version: ctx.version()}}
	pos := 0
	if t, ok := nextToken(s, 0); ok && t.delim == 0 {
		if c, ok := meterCommands[t.key]; ok {
			mm.Command, pos = c, t.end
		}
	}
	end := len(strings.TrimRight(s, separators))
	if _, ok := nextToken(s, pos); !ok && mm.Command == openflow.MeterDelete {
		mm.MeterID = openflow.MeterAll
		return mm, nil
	}
	bands := -1
	for {
		t, ok := nextToken(s, pos)
		if !ok {
			break
		}
		pos = t.end
		if (t.key == "bands" || t.key == "band") && t.delim == '=' {
			if mm.Command == openflow.MeterDelete {
				return nil, errToken(s, t, "a delete takes no bands")
			}
			bands = t.voff
			break
		}
		if err := meterField(mm, s, t); err != nil {
			return nil, err
		}
	}
	if mm.MeterID == 0 {
		return nil, errAt(end, "", "missing meter=ID")
	}
	if mm.Command == openflow.MeterDelete {
		return mm, nil
	}
	if mm.Flags&(openflow.MeterKBPS|openflow.MeterPKTPS) == 0 {
		return nil, errAt(end, "", "a meter must say kbps or pktps")
	}
	if bands < 0 {
		return nil, errAt(end, "", "missing bands= (e.g. bands=type=drop,rate=1000)")
	}
	return mm, meterBands(mm, s, bands)
}

// meterField sets what a token before bands= says.
func meterField(mm *openflow.MeterMod, s string, t token) error {
	for _, f := range meterFlags {
		if t.key == f.name && t.delim == 0 {
			if mm.Command == openflow.MeterDelete {
				return errToken(s, t, "a delete takes no flags")
			}
			mm.Flags |= f.bit
			if mm.Flags&openflow.MeterKBPS != 0 && mm.Flags&openflow.MeterPKTPS != 0 {
				return errToken(s, t, "a meter is either kbps or pktps")
			}
			return nil
		}
	}
	if t.key != "meter" {
		return errToken(s, t, "unknown keyword %q (expected meter=, kbps, pktps, burst, stats or bands=)", t.key)
	}
	for id, name := range meterNames {
		if t.val == name {
			mm.MeterID = id
			return nil
		}
	}
	v, err := numValue(s, t, 32)
	if err == nil && (v == 0 || v > uint64(meterMax)) {
		err = errToken(s, t, "meter must be from 1 to %d, all, controller or slowpath", meterMax)
	}
	mm.MeterID = uint32(v)
	return err
}

// meterBands reads the bands that start at offset pos of s; each starts
// with type=.
func meterBands(mm *openflow.MeterMod, s string, pos int) error {
	var b *openflow.MeterBand
	var start []int // where each band starts, for errors
	for {
		t, ok := nextToken(s, pos)
		if !ok {
			break
		}
		pos = t.end
		if t.key == "type" {
			mm.Bands = append(mm.Bands, openflow.MeterBand{})
			b = &mm.Bands[len(mm.Bands)-1]
			start = append(start, t.off)
			switch t.val {
			case "drop":
				b.Type = openflow.MeterBandDrop
			case "dscp_remark":
				b.Type = openflow.MeterBandDSCPRemark
			default:
				return errToken(s, t, "unknown band type (expected drop or dscp_remark)")
			}
			continue
		}
		if b == nil {
			return errToken(s, t, "a band must start with type=")
		}
		if err := bandField(b, s, t); err != nil {
			return err
		}
	}
	if len(mm.Bands) == 0 {
		return errAt(pos, "", "a meter needs at least one band (e.g. type=drop,rate=1000)")
	}
	for i := range mm.Bands {
		if err := checkBand(mm, &mm.Bands[i], s, start[i]); err != nil {
			return err
		}
	}
	return nil
}

func bandField(b *openflow.MeterBand, s string, t token) error {
	var err error
	var v uint64
	switch t.key {
	case "rate":
		v, err = numValue(s, t, 32)
		b.Rate = uint32(v)
	case "burst_size":
		v, err = numValue(s, t, 32)
		b.BurstSize = uint32(v)
	case "prec_level":
		v, err = numValue(s, t, 8)
		b.PrecLevel = uint8(v)
	default:
		err = errToken(s, t, "unknown band keyword %q (expected type=, rate=, burst_size= or prec_level=)", t.key)
	}
	return err
}

// checkBand applies OVS's rules for a band of an add or modify.
func checkBand(mm *openflow.MeterMod, b *openflow.MeterBand, s string, off int) error {
	tok := s[off:]
	if t, ok := nextToken(s, off); ok {
		tok = t.text(s)
	}
	burst := mm.Flags&openflow.MeterBurst != 0
	switch {
	case b.Type == openflow.MeterBandDSCPRemark && b.PrecLevel == 0:
		return errAt(off, tok, "a dscp_remark band needs prec_level=")
	case b.Type != openflow.MeterBandDSCPRemark && b.PrecLevel != 0:
		return errAt(off, tok, "only a dscp_remark band takes prec_level=")
	case b.Rate == 0:
		return errAt(off, tok, "a band needs rate=")
	case burst && b.BurstSize == 0:
		return errAt(off, tok, "a band needs burst_size= when the meter has the burst flag")
	case !burst && b.BurstSize != 0:
		return errAt(off, tok, "burst_size= needs the meter's burst flag")
	}
	return nil
}

// ParseMeters parses a meters file, one meter a line. It reports every bad
// line (up to a limit), each as file:line:column, and then returns no
// meters.
func ParseMeters(name string, r io.Reader, ctx *Context) ([]MeterLine, error) {
	var out []MeterLine
	err := eachLine(name, r, func(text string, pos Pos) error {
		mm, err := ParseMeter(text, ctx)
		if err == nil {
			out = append(out, MeterLine{Mod: mm, Pos: pos, Text: strings.TrimSpace(text)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AppendMeter writes mm in `ovs-ofctl add-meter` syntax, as the corpus's
// meters.txt holds it: what `ovs-ofctl dump-meters` prints, with commas for
// its spaces. A modify or delete is written with its command first.
func AppendMeter(b []byte, mm *openflow.MeterMod) []byte {
	switch mm.Command {
	case openflow.MeterAdd:
	case openflow.MeterModify:
		b = append(b, "modify "...)
	case openflow.MeterDelete:
		return appendMeterID(append(b, "delete meter="...), mm.MeterID)
	default:
		b = fmt.Appendf(b, "command=%d ", mm.Command) // does not parse
	}
	return appendMeter(b, mm.MeterID, mm.Flags, mm.Bands)
}

// AppendMeterConfig writes one meter of a meter config reply as
// AppendMeter writes an add.
func AppendMeterConfig(b []byte, mc *openflow.MeterConfig) []byte {
	return appendMeter(b, mc.MeterID, mc.Flags, mc.Bands)
}

func appendMeter(b []byte, id uint32, flags uint16, bands []openflow.MeterBand) []byte {
	b = appendMeterID(append(b, "meter="...), id)
	for _, f := range meterFlags {
		if flags&f.bit != 0 {
			b = append(append(b, ','), f.name...)
		}
	}
	return appendBands(append(b, ",bands="...), flags, bands, ',')
}

// appendBands writes a meter's bands, their words separated by sep: ','
// as add-meter reads them, ' ' as dump-meters prints them.
func appendBands(b []byte, flags uint16, bands []openflow.MeterBand, sep byte) []byte {
	for i, band := range bands {
		if i > 0 {
			b = append(b, sep)
		}
		switch band.Type {
		case openflow.MeterBandDrop:
			b = append(b, "type=drop"...)
		case openflow.MeterBandDSCPRemark:
			b = append(b, "type=dscp_remark"...)
		default:
			b = fmt.Appendf(b, "type=%d", band.Type) // does not parse
		}
		b = fmt.Appendf(append(b, sep), "rate=%d", band.Rate)
		if flags&openflow.MeterBurst != 0 {
			b = fmt.Appendf(append(b, sep), "burst_size=%d", band.BurstSize)
		}
		if band.Type == openflow.MeterBandDSCPRemark {
			b = fmt.Appendf(append(b, sep), "prec_level=%d", band.PrecLevel)
		}
	}
	return b
}

// AppendMeterDump writes mm as `ovs-ofctl dump-meters` prints a meter
// (ofputil_format_meter_config), its lines joined: "meter=1 pktps burst
// stats bands=type=drop rate=1 burst_size=1", bands separated by a space.
// `ovs-ofctl add-meter` reads it back.
func AppendMeterDump(b []byte, mm *openflow.MeterMod) []byte {
	return appendMeterDump(b, mm.MeterID, mm.Flags, mm.Bands)
}

// AppendMeterConfigDump is AppendMeterDump for a meter config reply's
// meter.
func AppendMeterConfigDump(b []byte, mc *openflow.MeterConfig) []byte {
	return appendMeterDump(b, mc.MeterID, mc.Flags, mc.Bands)
}

func appendMeterDump(b []byte, id uint32, flags uint16, bands []openflow.MeterBand) []byte {
	b = append(appendMeterID(append(b, "meter="...), id), ' ')
	for _, f := range meterFlags {
		if flags&f.bit != 0 {
			b = append(append(b, f.name...), ' ')
		}
	}
	return appendBands(append(b, "bands="...), flags, bands, ' ')
}

func appendMeterID(b []byte, id uint32) []byte {
	if name, ok := meterNames[id]; ok {
		return append(b, name...)
	}
	return strconv.AppendUint(b, uint64(id), 10)
}
