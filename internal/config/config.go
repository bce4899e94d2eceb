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
//	  - name: br-ex
//	    flows: /etc/ofactor/br-ex/flows.txt
//
// Relative file names are relative to the configuration file's directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"
)

// File is the whole configuration file.
type File struct {
	// MetricsAddr is where /metrics, /status and /healthz listen; the
	// command line's --metrics-addr overrides it. "off" disables them.
	MetricsAddr string   `yaml:"metrics_addr"`
	LogLevel    string   `yaml:"log_level"`
	LogFormat   string   `yaml:"log_format"`
	Bridges     []Bridge `yaml:"bridges"`
}

// Bridge is one bridge: the options of `ofactor run` for it.
type Bridge struct {
	Name        string   `yaml:"name"`
	Switch      string   `yaml:"switch"`
	Flows       string   `yaml:"flows"`
	Groups      string   `yaml:"groups"`
	Meters      string   `yaml:"meters"`
	Geneve      string   `yaml:"geneve"`
	Probe       Duration `yaml:"probe"`
	PrivateKey  string   `yaml:"private_key"`
	Certificate string   `yaml:"certificate"`
	CACert      string   `yaml:"ca_cert"`
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
	seen := map[string]bool{}
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
		for _, p := range []*string{&br.Flows, &br.Groups, &br.Meters, &br.PrivateKey, &br.Certificate, &br.CACert} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return &f, nil
}
