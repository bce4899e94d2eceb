package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/openflow"
)

// What run refuses before it starts anything, and how the command line
// and a config file combine.
func TestRunFlags(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ofactor.yaml")
	if err := os.WriteFile(cfg, []byte(`max_shrink: 0.25
settle: 10s
protocols: OpenFlow13,OpenFlow14
bridges:
  - name: br-a
    switch: tcp:127.0.0.1:6653
    flows: a.txt
    geneve: "off"
  - name: br-b
    switch: tcp:127.0.0.1:6654
    flows: b.txt
    strict: true
    settle: 1s
    protocols: OpenFlow15
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--switch", "tpc:127.0.0.1", "--flows", "f"}, `unknown kind "tpc"`},
		{[]string{"--switch", "tcp:127.0.0.1:99999", "--flows", "f"}, `bad port number "99999"`},
		{[]string{"--switch", "unix:/x", "--private-key", "k", "--flows", "f"}, "apply to ssl: targets only"},
		{[]string{"--switch", "ssl:127.0.0.1", "--flows", "f"}, "ssl needs --private-key, --certificate, --ca-cert"},
		{[]string{"--max-shrink", "1.5", "--flows", "f"}, "--max-shrink 1.5"},
		{[]string{"--geneve", "0x102,0x80,6", "--flows", "f"}, "multiple of 4"},
		{[]string{"--config", cfg, "--switch", "unix:/x"}, "--switch and --config"},
		{[]string{"--protocols", "OpenFlow13,OpenFlow16", "--flows", "f"}, `--protocols: "OpenFlow16": unknown OpenFlow version`},
		{[]string{"-O", "OpenFlow11", "--flows", "f"}, "--protocols: OpenFlow11: not spoken by ofactor (it speaks OpenFlow13, OpenFlow14, OpenFlow15)"},
		{[]string{"--config", cfg, "-O", "OpenFlow13"}, "--O and --config"},
	} {
		if _, err := parseRunFlags(tc.args, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}

	o, err := parseRunFlags([]string{"--geneve", "off", "--flows", "f", "--once"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if b := o.bridges[0]; b.geneve != ofactor.GeneveOff || b.guard != defaultGuard() || o.logLevel != "error" {
		t.Errorf("--geneve off --once: %+v, log level %s", b, o.logLevel)
	}
	if b := o.bridges[0]; b.offered() != nil || b.fileVersion() != openflow.Version15 {
		t.Errorf("default versions: offered %v, files read in %#x", b.offered(), b.fileVersion())
	}
	o, err = parseRunFlags([]string{"-O", "OpenFlow14, OpenFlow13", "--flows", "f"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if b := o.bridges[0]; !slices.Equal(b.offered(), []uint8{openflow.Version13, openflow.Version14}) ||
		b.fileVersion() != openflow.Version14 || !slices.Equal(b.ofactorConfig().Versions, b.offered()) {
		t.Errorf("-O OpenFlow14,OpenFlow13: offered %v, files read in %#x", b.offered(), b.fileVersion())
	}

	o, err = parseRunFlags([]string{"--config", cfg}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a, b := o.bridges[0], o.bridges[1]
	if a.geneve != ofactor.GeneveOff || a.guard != (shrinkGuard{0.25, 10 * time.Second}) || a.strict {
		t.Errorf("br-a: %+v", a)
	}
	if b.geneve != ofactor.DefaultGeneveOption || b.guard != (shrinkGuard{0.25, time.Second}) || !b.strict {
		t.Errorf("br-b: %+v", b)
	}
	if !slices.Equal(a.offered(), []uint8{openflow.Version13, openflow.Version14}) || !slices.Equal(b.offered(), []uint8{openflow.Version15}) {
		t.Errorf("protocols: br-a %v, br-b %v", a.offered(), b.offered())
	}
	// The command line wins over the file.
	o, err = parseRunFlags([]string{"--config", cfg, "--settle", "0", "--strict=false"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range o.bridges {
		if b.guard.settle != 0 || b.strict {
			t.Errorf("%s: %+v, want settle 0 and not strict from the command line", b.name, b)
		}
	}
}

// The systemd example reloads with SIGHUP and its configuration loads.
func TestSystemdExample(t *testing.T) {
	unit, err := os.ReadFile(filepath.Join("..", "..", "examples", "systemd", "ofactor.service"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), "\nExecReload=/bin/kill -HUP $MAINPID\n") {
		t.Error("ofactor.service has no ExecReload sending SIGHUP")
	}
	o, err := parseRunFlags([]string{"--config", filepath.Join("..", "..", "examples", "systemd", "ofactor.yaml")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.bridges) != 2 || o.bridges[1].geneve != ofactor.GeneveOff {
		t.Errorf("bridges %+v", o.bridges)
	}
}
