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
    max_shrink: 0.9
    settle: 500ms
    strict: false
max_shrink: 0.25
settle: 10s
strict: true
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
	if *f.MaxShrink != 0.25 || time.Duration(*f.Settle) != 10*time.Second || !*f.Strict || b.MaxShrink != nil {
		t.Errorf("defaults: %+v", f)
	}
	if ex := f.Bridges[1]; *ex.MaxShrink != 0.9 || time.Duration(*ex.Settle) != 500*time.Millisecond || *ex.Strict {
		t.Errorf("br-ex overrides: %+v", ex)
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
		{"bridges:\n  - name: a\n    flows: f\n    switch: tcp:10.0.0.1\n  - name: b\n    flows: g\n    switch: ssl:10.0.0.1:6653\n",
			"bridges[0] (a) and bridges[1] (b): both at ssl:10.0.0.1:6653"},
		{"bridges:\n  - name: br-int\n    flows: f\n  - name: b\n    flows: g\n    switch: unix:/var/run/openvswitch/x/../br-int.mgmt\n",
			"bridges[0] (br-int) and bridges[1] (b): both at"},
		{"bridges:\n  - name: a\n    flows: f\n    switch: tcp:10.0.0.1\n    ca_cert: ca.pem\n",
			"bridges[0] (a): private_key, certificate and ca_cert apply to ssl: targets only, not tcp:10.0.0.1"},
		{"bridges:\n  - name: a\n    flows: f\n    switch: bogus\n", `bridges[0] (a): target "bogus"`},
		{"max_shrink: 2\nbridges:\n  - name: a\n    flows: f\n", "max_shrink 2: want a fraction"},
		{"bridges:\n  - name: a\n    flows: f\n    max_shrink: -1\n", "bridges[0] (a): max_shrink -1"},
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
