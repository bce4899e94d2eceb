package ovstest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// TLVMapping is one row of `ovs-ofctl dump-tlv-map`: a Geneve option (class, type, length)
// mapped to tun_metadata<Index>. Its fields are those of openflow.TLVMap (struct nx_tlv_map), so
// either converts to the other.
type TLVMapping struct {
	OptionClass uint16
	OptionType  uint8
	OptionLen   uint8
	Index       uint16
}

// String is the mapping in `ovs-ofctl add-tlv-map` syntax.
func (m TLVMapping) String() string {
	return fmt.Sprintf("{class=%#x,type=%#x,len=%d}->tun_metadata%d", m.OptionClass, m.OptionType, m.OptionLen, m.Index)
}

// NormalizeFlows turns `ovs-ofctl --no-stats dump-flows` output into sorted flow lines. Flow
// lines start with a space; reply headers (OFPST_FLOW reply ...) do not and are dropped.
func NormalizeFlows(out string) []string {
	var flows []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, " ") && strings.TrimSpace(line) != "" {
			flows = append(flows, strings.TrimRight(line, " \r"))
		}
	}
	sort.Strings(flows)
	return flows
}

// NormalizeGroups turns `ovs-ofctl dump-groups` output into sorted group lines without the
// leading space, which is how `ovs-ofctl add-groups` reads them back.
func NormalizeGroups(out string) []string {
	var groups []string
	for _, line := range strings.Split(out, "\n") {
		if g := strings.TrimSpace(line); strings.HasPrefix(g, "group_id=") {
			groups = append(groups, g)
		}
	}
	sort.Strings(groups)
	return groups
}

// NormalizeMeters turns `ovs-ofctl dump-meters` output, which prints
//
//	meter=1 kbps burst stats bands=
//	type=drop rate=50 burst_size=100
//
// into sorted `ovs-ofctl add-meter` lines: "meter=1,kbps,burst,stats,bands=type=drop,rate=50,burst_size=100".
// Each band starts with type=, so several bands simply follow one another.
func NormalizeMeters(out string) []string {
	var meters []string
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
		case strings.HasPrefix(fields[0], "meter="):
			meters = append(meters, strings.Join(fields, ","))
		case strings.HasPrefix(fields[0], "type=") && len(meters) > 0:
			m := &meters[len(meters)-1]
			if !strings.HasSuffix(*m, "=") {
				*m += ","
			}
			*m += strings.Join(fields, ",")
		}
	}
	sort.Strings(meters)
	return meters
}

// ParseTLVMap reads the mapping table of `ovs-ofctl dump-tlv-map`:
//
//	mapping table:
//	 class  type  length  match field
//	------  ----  ------  --------------
//	 0x102  0x80       4  tun_metadata0
func ParseTLVMap(out string) ([]TLVMapping, error) {
	var maps []TLVMapping
	inTable := false
	for i, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) == 0:
			continue
		case !inTable:
			inTable = strings.HasPrefix(fields[0], "---")
			continue
		}
		m, err := parseTLVRow(fields)
		if err != nil {
			return nil, fmt.Errorf("dump-tlv-map: line %d %q: %w", i+1, line, err)
		}
		maps = append(maps, m)
	}
	sort.Slice(maps, func(i, j int) bool { return maps[i].Index < maps[j].Index })
	return maps, nil
}

func parseTLVRow(fields []string) (TLVMapping, error) {
	if len(fields) != 4 {
		return TLVMapping{}, fmt.Errorf("%d columns, want 4", len(fields))
	}
	class, err := strconv.ParseUint(fields[0], 0, 16)
	if err != nil {
		return TLVMapping{}, fmt.Errorf("class: %w", err)
	}
	typ, err := strconv.ParseUint(fields[1], 0, 8)
	if err != nil {
		return TLVMapping{}, fmt.Errorf("type: %w", err)
	}
	length, err := strconv.ParseUint(fields[2], 0, 8)
	if err != nil {
		return TLVMapping{}, fmt.Errorf("length: %w", err)
	}
	idx, ok := strings.CutPrefix(fields[3], "tun_metadata")
	if !ok {
		return TLVMapping{}, fmt.Errorf("field %q: not tun_metadataN", fields[3])
	}
	index, err := strconv.ParseUint(idx, 10, 16)
	if err != nil {
		return TLVMapping{}, fmt.Errorf("field %q: %w", fields[3], err)
	}
	return TLVMapping{OptionClass: uint16(class), OptionType: uint8(typ), OptionLen: uint8(length), Index: uint16(index)}, nil
}
