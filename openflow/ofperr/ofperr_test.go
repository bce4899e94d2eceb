package ofperr

import (
	"errors"
	"fmt"
	"github.com/ofactor/ofactor/internal/ovstest"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// ovsOfctl finds ovs-ofctl; without it the test fails in CI and skips
// elsewhere.
func ovsOfctl(t *testing.T) string {
	t.Helper()
	p := ovstest.OfctlPath(t)
	return p
}

var printErrorLine = regexp.MustCompile(`^OpenFlow 1\.(\d): vendor (0x[0-9a-f]+|0), type (\d+), code (\d+)$`)

// printError runs `ovs-ofctl print-error name` and returns the encoding per
// version, in this package's form.
func printError(t *testing.T, bin, name string) map[uint8]Error {
	t.Helper()
	out, err := exec.Command(bin, "print-error", name).CombinedOutput()
	if err != nil {
		t.Fatalf("print-error %s: %v: %s", name, err, out)
	}
	encs := map[uint8]Error{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := printErrorLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("print-error %s: cannot parse %q", name, line)
		}
		minor, _ := strconv.Atoi(m[1])
		vendor, _ := strconv.ParseUint(m[2], 0, 32)
		typ, _ := strconv.Atoi(m[3])
		code, _ := strconv.Atoi(m[4])
		v := uint8(minor + 1)
		e := Error{Name: name, Type: uint16(typ), Code: uint16(code), Experimenter: uint32(vendor)}
		if vendor != 0 && v >= 0x03 {
			e.Type, e.Code = 0xffff, uint16(typ)
		}
		encs[v] = e
	}
	return encs
}

// TestTableMatchesOVS checks every name of the table, and every name the
// brief requires, against ovs-ofctl print-error in every version.
func TestTableMatchesOVS(t *testing.T) {
	bin := ovsOfctl(t)
	names := []string{}
	for _, e := range table {
		names = append(names, e.name)
	}
	for _, name := range names {
		want := printError(t, bin, name)
		for v := uint8(1); v <= 6; v++ {
			got := NamedFor(v, name)
			w, ok := want[v]
			if !ok {
				w = Error{Name: name}
			}
			if *got != w {
				t.Errorf("%s in OF1.%d: got %+v, ovs-ofctl says %+v", name, v-1, *got, w)
			}
		}
	}
}

func TestRequiredNames(t *testing.T) {
	// One or more names of each family the codec's users rely on.
	for _, name := range []string{
		"OFPHFC_INCOMPATIBLE", "OFPBRC_BAD_TYPE", "OFPBRC_BAD_LEN", "OFPBAC_BAD_OUT_GROUP",
		"OFPBIC_UNKNOWN_INST", "OFPBMC_BAD_FIELD", "OFPFMFC_TABLE_FULL", "OFPGMFC_GROUP_EXISTS",
		"OFPPMFC_BAD_PORT", "OFPTMFC_BAD_TABLE", "OFPQOFC_BAD_QUEUE", "OFPSCFC_BAD_FLAGS",
		"OFPRRFC_STALE", "OFPMMFC_METER_EXISTS", "OFPTFFC_BAD_TABLE", "OFPBPC_BAD_TYPE",
		"OFPBFC_MSG_FAILED", "OFPBFC_TIMEOUT", "OFPACFC_INVALID", "NXTTMFC_ALREADY_MAPPED",
		"NXTTMFC_DUP_ENTRY", "NXTTMFC_INVALID_TLV_DEL", "NXFMFC_INVALID_TLV_FIELD",
		"NXBRC_NXM_INVALID", "NXBAC_MUST_BE_ZERO",
	} {
		if Named(name) == nil {
			t.Errorf("%s: not in the table", name)
		}
	}
}

func TestKnownEncodings(t *testing.T) {
	for _, tc := range []struct {
		v    uint8
		name string
		want Error
	}{
		{4, "OFPBFC_MSG_FAILED", Error{"OFPBFC_MSG_FAILED", 0xffff, 2313, 0x4f4e4600}},
		{5, "OFPBFC_MSG_FAILED", Error{"OFPBFC_MSG_FAILED", 17, 13, 0}},
		{4, "OFPBFC_UNKNOWN", Error{"OFPBFC_UNKNOWN", 0xffff, 2300, 0x4f4e4600}},
		{4, "OFPBFC_BUNDLE_IN_PROGRESS", Error{"OFPBFC_BUNDLE_IN_PROGRESS", 0xffff, 2315, 0x4f4e4600}},
		{4, "NXTTMFC_BAD_COMMAND", Error{"NXTTMFC_BAD_COMMAND", 0xffff, 16, 0x2320}},
		{4, "NXFMFC_INVALID_TLV_FIELD", Error{"NXFMFC_INVALID_TLV_FIELD", 0xffff, 37, 0x2320}},
		{4, "NXTTMFC_INVALID_TLV_DEL", Error{"NXTTMFC_INVALID_TLV_DEL", 0xffff, 38, 0x2320}},
		{4, "OFPBAC_BAD_OUT_GROUP", Error{"OFPBAC_BAD_OUT_GROUP", 2, 9, 0}},
		{1, "OFPMMFC_METER_EXISTS", Error{Name: "OFPMMFC_METER_EXISTS"}},
		{1, "OFPBAC_BAD_OUT_GROUP", Error{"OFPBAC_BAD_OUT_GROUP", 2, 9, 0x2320}}, // OVS's NX1.0 form
	} {
		if got := NamedFor(tc.v, tc.name); *got != tc.want {
			t.Errorf("NamedFor(%d, %s) = %+v, want %+v", tc.v, tc.name, *got, tc.want)
		}
	}
	if Named("NO_SUCH_ERROR") != nil {
		t.Error("Named(NO_SUCH_ERROR) is not nil")
	}
}

// TestDecodeRoundTrip decodes every encoding of every name: it must give
// back the name, or the earlier name of an encoding two names share (OVS's
// rule, e.g. OF1.0 (1,5) is OFPBRC_EPERM, not OFPBRC_IS_SECONDARY).
func TestDecodeRoundTrip(t *testing.T) {
	first := map[string]string{} // "v/typ/code/exp" -> first name
	for _, e := range table {
		for v := uint8(1); v <= 6; v++ {
			n := NamedFor(v, e.name)
			if n.Type == 0 && n.Code == 0 && n.Experimenter == 0 && e.name != "OFPHFC_INCOMPATIBLE" {
				continue
			}
			key := fmt.Sprint(v, n.Type, n.Code, n.Experimenter)
			if _, ok := first[key]; !ok {
				first[key] = e.name
			}
			d := Decode(v, n.Type, n.Code, n.Experimenter)
			if d.Name != first[key] {
				t.Errorf("Decode(OF1.%d %+v) = %s, want %s", v-1, *n, d.Name, first[key])
			}
			if !errors.Is(d, &Error{Name: first[key]}) {
				t.Errorf("errors.Is(%s, %s) false", d.Name, first[key])
			}
		}
	}
	if d := Decode(4, 0xffff, 9999, 0x1234); d.Name != "OFPET_UNKNOWN(vendor=0x1234,type=9999)" {
		t.Errorf("unknown experimenter error named %q", d.Name)
	}
	if d := Decode(4, 99, 1, 0); d.Name != "OFPET_UNKNOWN(type=99,code=1)" {
		t.Errorf("unknown error named %q", d.Name)
	}
}

// errNameLit matches a string literal that names an OVS error: a family
// prefix ending in C (OFPBAC_, NXBRC_, OFPFMFC_, ...) or NXR_. Field names
// (NXM_, NXOXM_, ONFOXM_) do not match.
var errNameLit = regexp.MustCompile(`"((?:OFP|NX|ONF)[A-Z]*C_[A-Z0-9_]+|NXR_[A-Z0-9_]+)"`)

// TestCodecNamesInTable scans the codec's sources (openflow/**, tests and
// this table aside) for error names and checks that each is in the table:
// a name missing here would reach users as an error with no encoding.
func TestCodecNamesInTable(t *testing.T) {
	n := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") ||
			strings.HasSuffix(path, "_test.go") || filepath.Base(path) == "table.go" {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range errNameLit.FindAllStringSubmatch(string(src), -1) {
			n++
			if Named(m[1]) == nil {
				t.Errorf("%s: %s is not in the table", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 40 {
		t.Fatalf("found only %d error names in the codec: is the scan looking in the right place?", n)
	}
}
