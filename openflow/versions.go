package openflow

import (
	"fmt"
	"strings"
)

// versionNames are the protocol names ovs-ofctl's -O takes, by version.
var versionNames = map[uint8]string{
	Version10: "OpenFlow10",
	Version11: "OpenFlow11",
	Version12: "OpenFlow12",
	Version13: "OpenFlow13",
	Version14: "OpenFlow14",
	Version15: "OpenFlow15",
}

// VersionName names an OpenFlow version as ovs-ofctl -O does
// ("OpenFlow15"); a version without a name is its number ("0x07").
func VersionName(v uint8) string {
	if n, ok := versionNames[v]; ok {
		return n
	}
	return fmt.Sprintf("0x%02x", v)
}

// BitmapNames names the versions of a version bitmap (bit v for version v),
// lowest first, separated by ", "; an empty bitmap is "none".
func BitmapNames(bm uint32) string {
	var names []string
	for v := 0; v < 32; v++ {
		if bm&(1<<v) != 0 {
			names = append(names, VersionName(uint8(v)))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ParseVersions reads a list of protocol names as ovs-ofctl's -O takes it
// ("OpenFlow13,OpenFlow15", case-insensitive, spaces allowed) into
// versions, lowest first, each once. Only the versions ofactor speaks —
// OpenFlow 1.3, 1.4 and 1.5 — are taken; another name, known or not, is
// an error that names it and lists those.
func ParseVersions(list string) ([]uint8, error) {
	var bm uint32
	for _, f := range strings.Split(list, ",") {
		name := strings.TrimSpace(f)
		if name == "" {
			continue
		}
		v, ok := uint8(0), false
		for ver, n := range versionNames {
			if strings.EqualFold(n, name) {
				v, ok = ver, true
			}
		}
		if !ok {
			return nil, fmt.Errorf("%q: unknown OpenFlow version (ofactor speaks %s)", name, BitmapNames(Spoken))
		}
		if Spoken&(1<<v) == 0 {
			return nil, fmt.Errorf("%s: not spoken by ofactor (it speaks %s)", name, BitmapNames(Spoken))
		}
		bm |= 1 << v
	}
	if bm == 0 {
		return nil, fmt.Errorf("no OpenFlow version given (ofactor speaks %s)", BitmapNames(Spoken))
	}
	var out []uint8
	for v := 0; v < 32; v++ {
		if bm&(1<<v) != 0 {
			out = append(out, uint8(v))
		}
	}
	return out, nil
}

// Spoken is the version bitmap of what ofactor's controller side speaks:
// OpenFlow 1.3, 1.4 and 1.5 (it encodes 1.2 messages for ofactor encode,
// but bundles, which every round uses, came with 1.3's extension).
const Spoken uint32 = 1<<Version13 | 1<<Version14 | 1<<Version15

// DefaultVersions are the versions offered in HELLO when none are
// configured: all that ofactor speaks, as OVS's own tools offer theirs;
// the highest both sides have is used.
func DefaultVersions() []uint8 { return []uint8{Version13, Version14, Version15} }
