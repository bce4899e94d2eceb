package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	f, err := Parse([]byte(`
metrics_addr: 127.0.0.1:9999
bridges:
  - name: br-int
    flows: a/flows.txt
    groups: /abs/groups.txt
    probe: 5s
  - name: br-ex
    switch: tcp:10.0.0.1:6653
    meters: m.txt
`), "/etc/ofactor")
	if err != nil {
		t.Fatal(err)
	}
	if f.MetricsAddr != "127.0.0.1:9999" || len(f.Bridges) != 2 {
		t.Fatalf("%+v", f)
	}
	b := f.Bridges[0]
	if b.Flows != "/etc/ofactor/a/flows.txt" || b.Groups != "/abs/groups.txt" || time.Duration(b.Probe) != 5*time.Second {
		t.Errorf("br-int: %+v", b)
	}
	if f.Bridges[1].Switch != "tcp:10.0.0.1:6653" || f.Bridges[1].Meters != "/etc/ofactor/m.txt" {
		t.Errorf("br-ex: %+v", f.Bridges[1])
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"bridges: []", "no bridges"},
		{"bridges:\n  - flows: f\n", "bridges[0]: no name"},
		{"bridges:\n  - name: a\n    flows: f\n  - name: a\n    flows: g\n", `bridge "a" listed twice`},
		{"bridges:\n  - name: a\n", "no flows, groups or meters file"},
		{"bridges:\n  - name: a\n    flow: f\n", "field flow not found"},
		{"bridges:\n  - name: a\n    flows: f\n    probe: soon\n", "line 4"},
	} {
		_, err := Parse([]byte(tc.yaml), "/")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

// The example shipped with the systemd unit parses.
func TestSystemdExample(t *testing.T) {
	p := filepath.Join("..", "..", "examples", "systemd", "ofactor.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Bridges) != 2 || f.Bridges[0].Name != "br-int" {
		t.Errorf("%+v", f)
	}
}
