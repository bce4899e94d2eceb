// Package config reads the configuration file of `ofactor run --config`:
// several bridges driven by one process, each with its own target and files.
//
//	metrics_addr: 127.0.0.1:9810
//	log_level: info
//	bridges:
//	  - name: br-int
//	    switch: unix:/var/run/openvswitch/br-int.mgmt
//	    flows: /etc/ofactor/br-int/flows.txt
//	    groups: /etc/ofactor/br-int/groups.txt
//	    meters: /etc/ofactor/br-int/meters.txt
//	    geneve: 0x0102,0x80,4
//	    probe: 5s
//	    protocols: OpenFlow13,OpenFlow15
//	  - name: br-ex
//	    flows: /etc/ofactor/br-ex/flows.txt
//
// Relative file names are relative to the configuration file's directory.
// Unknown keys are errors, and so are two bridges at one switch and TLS
// files for a target that is not ssl:.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ofactor/ofactor/actors/connection"
)

// File is the whole configuration file.
type File struct {
	// MetricsAddr is where /metrics, /status and /healthz listen; the
	// command line's --metrics-addr overrides it. "off" disables them.
	MetricsAddr string `yaml:"metrics_addr"`
	LogLevel    string `yaml:"log_level"`
	LogFormat   string `yaml:"log_format"`
	// MaxShrink, Settle and Strict are every bridge's unless it says
	// otherwise (the command line's --max-shrink, --settle and --strict).
	MaxShrink *float64  `yaml:"max_shrink"`
	Settle    *Duration `yaml:"settle"`
	Strict    *bool     `yaml:"strict"`
	// AuditInterval and FlowMonitor likewise (--audit-interval,
	// --flow-monitor).
	AuditInterval *Duration `yaml:"audit_interval"`
	FlowMonitor   *bool     `yaml:"flow_monitor"`
	// Protocols are the OpenFlow versions every bridge offers unless it
	// says otherwise, as ovs-ofctl's -O takes them ("OpenFlow13,OpenFlow15";
	// default OpenFlow 1.3 to 1.5).
	Protocols string   `yaml:"protocols"`
	Bridges   []Bridge `yaml:"bridges"`
}

// Bridge is one bridge: the options of `ofactor run` for it.
type Bridge struct {
	Name        string    `yaml:"name"`
	Switch      string    `yaml:"switch"`
	Flows       string    `yaml:"flows"`
	Groups      string    `yaml:"groups"`
	Meters      string    `yaml:"meters"`
	Geneve      string    `yaml:"geneve"`
	Probe       Duration  `yaml:"probe"`
	PrivateKey  string    `yaml:"private_key"`
	Certificate string    `yaml:"certificate"`
	CACert      string    `yaml:"ca_cert"`
	MaxShrink   *float64  `yaml:"max_shrink"`
	Settle      *Duration `yaml:"settle"`
	Strict      *bool     `yaml:"strict"`
	// AuditInterval: 0s turns audits off.
	AuditInterval *Duration `yaml:"audit_interval"`
	FlowMonitor   *bool     `yaml:"flow_monitor"`
	Protocols     string    `yaml:"protocols"`
}

// Duration is a time.Duration written as Go writes it ("5s", "1m30s").
type Duration time.Duration

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// Load reads and checks a configuration file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f, err := Parse(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	return f, nil
}

// Parse reads a configuration from b, resolving relative file names
// against dir. Unknown keys are errors, so that a typo is not ignored.
func Parse(b []byte, dir string) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if len(f.Bridges) == 0 {
		return nil, errors.New("no bridges")
	}
	if err := checkShrink("", f.MaxShrink); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	at := map[string]int{} // switch endpoint -> bridge
	for i := range f.Bridges {
		br := &f.Bridges[i]
		if br.Name == "" {
			return nil, fmt.Errorf("bridges[%d]: no name", i)
		}
		if seen[br.Name] {
			return nil, fmt.Errorf("bridges[%d]: bridge %q listed twice", i, br.Name)
		}
		seen[br.Name] = true
		if br.Flows == "" && br.Groups == "" && br.Meters == "" {
			return nil, fmt.Errorf("bridges[%d] (%s): no flows, groups or meters file", i, br.Name)
		}
		if err := checkShrink(fmt.Sprintf("bridges[%d] (%s): ", i, br.Name), br.MaxShrink); err != nil {
			return nil, err
		}
		target := br.Switch
		if target == "" {
			target = connection.DefaultTarget(br.Name)
		}
		if !strings.HasPrefix(target, "ssl:") && (br.PrivateKey != "" || br.Certificate != "" || br.CACert != "") {
			return nil, fmt.Errorf("bridges[%d] (%s): private_key, certificate and ca_cert apply to ssl: targets only, not %s",
				i, br.Name, target)
		}
		ep, err := Endpoint(target)
		if err != nil {
			return nil, fmt.Errorf("bridges[%d] (%s): %w", i, br.Name, err)
		}
		if j, ok := at[ep]; ok {
			// Two reconcilers on one switch would undo each other's work
			// forever.
			return nil, fmt.Errorf("bridges[%d] (%s) and bridges[%d] (%s): both at %s: one switch, one bridge",
				j, f.Bridges[j].Name, i, br.Name, target)
		}
		at[ep] = i
		for _, p := range []*string{&br.Flows, &br.Groups, &br.Meters, &br.PrivateKey, &br.Certificate, &br.CACert} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return &f, nil
}

func checkShrink(where string, v *float64) error {
	if v != nil && (*v < 0 || *v > 1) {
		return fmt.Errorf("%smax_shrink %v: want a fraction from 0 to 1", where, *v)
	}
	return nil
}

// Endpoint names the switch endpoint a target reaches, so that two
// spellings of one endpoint compare equal: "tcp:127.0.0.1" and
// "ssl:127.0.0.1:6653" are one TCP port, "unix:/run/x/../br.mgmt" and
// "unix:/run/br.mgmt" one socket.
func Endpoint(target string) (string, error) {
	network, addr, err := connection.ParseTarget(target)
	if err != nil {
		return "", err
	}
	if network == "unix" {
		if abs, err := filepath.Abs(addr); err == nil {
			addr = abs
		}
		return "unix:" + filepath.Clean(addr), nil
	}
	return network + ":" + strings.ToLower(addr), nil
}
