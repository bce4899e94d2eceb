package ofctl

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ofactor/ofactor/openflow"
)

// ovnSampleDir is ../shared/corpus/ovn-sample relative to the repository
// root; a test that needs it fails when it is missing.
func ovnSampleDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, "..", "shared", "corpus", "ovn-sample")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("corpus missing: %v", err)
	}
	return dir
}

// ovnSampleLines returns the lines of one ovn-sample file.
func ovnSampleLines(t testing.TB, name string) []string {
	t.Helper()
	out := nonEmptyLines(t, filepath.Join(ovnSampleDir(t), name))
	if len(out) == 0 {
		t.Fatalf("%s: empty", name)
	}
	return out
}

// nonEmptyLines returns the lines of a file that are not blank.
func nonEmptyLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCorpusFlows(t *testing.T) {
	for i, line := range ovnSampleLines(t, "flows.txt") {
		fm, err := ParseFlow(line, nil)
		if err != nil {
			t.Errorf("flows.txt:%d: %v", i+1, err)
			continue
		}
		if got := string(AppendFlow(nil, fm)); got != line {
			t.Errorf("flows.txt:%d:\n got %s\nwant %s", i+1, got, line)
		}
		// Through the wire and back, and as a flow stats entry.
		fs, err := throughWire(fm)
		if err != nil {
			t.Errorf("flows.txt:%d: wire: %v", i+1, err)
			continue
		}
		if got := string(AppendFlowStats(nil, fs)); got != line {
			t.Errorf("flows.txt:%d: from the wire:\n got %s\nwant %s", i+1, got, line)
		}
	}
}

func TestCorpusGroups(t *testing.T) {
	for i, line := range ovnSampleLines(t, "groups.txt") {
		gm, err := ParseGroup(line, nil)
		if err != nil {
			t.Errorf("groups.txt:%d: %v", i+1, err)
			continue
		}
		if got := string(AppendGroup(nil, gm)); got != line {
			t.Errorf("groups.txt:%d:\n got %s\nwant %s", i+1, got, line)
		}
		b, err := gm.AppendBinary(nil)
		var back openflow.GroupMod
		if err == nil {
			err = back.UnmarshalBinary(b)
		}
		if err != nil {
			t.Errorf("groups.txt:%d: wire: %v", i+1, err)
		} else if got := string(AppendGroup(nil, &back)); got != line {
			t.Errorf("groups.txt:%d: from the wire:\n got %s\nwant %s", i+1, got, line)
		}
	}
}

func TestCorpusMeters(t *testing.T) {
	for i, line := range ovnSampleLines(t, "meters.txt") {
		mm, err := ParseMeter(line, nil)
		if err != nil {
			t.Errorf("meters.txt:%d: %v", i+1, err)
			continue
		}
		if got := string(AppendMeter(nil, mm)); got != line {
			t.Errorf("meters.txt:%d:\n got %s\nwant %s", i+1, got, line)
		}
		b, err := mm.AppendBinary(nil)
		var back openflow.MeterMod
		if err == nil {
			err = back.UnmarshalBinary(b)
		}
		if err != nil {
			t.Errorf("meters.txt:%d: wire: %v", i+1, err)
		} else if got := string(AppendMeter(nil, &back)); got != line {
			t.Errorf("meters.txt:%d: from the wire:\n got %s\nwant %s", i+1, got, line)
		}
	}
}

func TestCorpusFiles(t *testing.T) {
	dir := ovnSampleDir(t)
	for name, parse := range map[string]func(*os.File) (int, error){
		"flows.txt":  func(f *os.File) (int, error) { l, err := ParseFlows("flows.txt", f, nil); return len(l), err },
		"groups.txt": func(f *os.File) (int, error) { l, err := ParseGroups("groups.txt", f, nil); return len(l), err },
		"meters.txt": func(f *os.File) (int, error) { l, err := ParseMeters("meters.txt", f, nil); return len(l), err },
	} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		n, err := parse(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if want := len(ovnSampleLines(t, name)); n != want {
			t.Errorf("%s: %d lines parsed, want %d", name, n, want)
		}
	}
}

func BenchmarkParseFlow(b *testing.B) {
	lines := ovnSampleLines(b, "flows.txt")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ParseFlow(lines[i%len(lines)], nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendFlow(b *testing.B) {
	var fms []*openflow.FlowMod
	for _, l := range ovnSampleLines(b, "flows.txt") {
		fm, err := ParseFlow(l, nil)
		if err != nil {
			b.Fatal(err)
		}
		fms = append(fms, fm)
	}
	b.ResetTimer()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendFlow(buf[:0], fms[i%len(fms)])
	}
}
