package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/config"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/openflow"
)

// bridgeOptions configure one bridge.
type bridgeOptions struct {
	name, target string
	files        desired.Files
	geneve       ofactor.GeneveOption
	probe        time.Duration
	tls          ofactor.TLSFiles
	strict       bool
	guard        shrinkGuard
	audit        time.Duration // 0: none
	monitor      bool          // the flow monitor
	versions     uint32        // offered in HELLO, a version bitmap; 0: the library's default
}

// offered returns the versions offered in HELLO (nil: the library's
// default).
func (b bridgeOptions) offered() []uint8 {
	var vs []uint8
	for v := range 32 {
		if b.versions&(1<<v) != 0 {
			vs = append(vs, uint8(v))
		}
	}
	return vs
}

// fileVersion is the OpenFlow version the bridge's files are parsed for:
// the highest offered, which the switch takes when it has it too.
func (b bridgeOptions) fileVersion() uint8 {
	vs := b.offered()
	if len(vs) == 0 {
		vs = openflow.DefaultVersions()
	}
	return slices.Max(vs)
}

// parseProtocols reads a list of versions as ovs-ofctl -O takes it into a
// version bitmap.
func parseProtocols(list string) (uint32, error) {
	vs, err := openflow.ParseVersions(list)
	var bm uint32
	for _, v := range vs {
		bm |= 1 << v
	}
	return bm, err
}

// ofactorConfig is the library's configuration of the bridge.
func (b bridgeOptions) ofactorConfig() ofactor.Config {
	audit := b.audit
	if audit == 0 {
		audit = -1 // the library's 0 is its default; the command's 0 is off
	}
	return ofactor.Config{Bridge: b.name, Target: b.target, Geneve: b.geneve, Probe: b.probe, TLS: b.tls,
		AuditInterval: audit, NoFlowMonitor: !b.monitor, Versions: b.offered()}
}

// bridgeFlags are the options naming one bridge, its switch and its files,
// as run, diff, check and dump take them.
type bridgeFlags struct {
	b         bridgeOptions
	geneve    string
	protocols string
}

func (f *bridgeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.b.target, "switch", "", "")
	fs.StringVar(&f.b.name, "bridge", "br-int", "")
	fs.StringVar(&f.b.files.Flows, "flows", "", "")
	fs.StringVar(&f.b.files.Groups, "groups", "", "")
	fs.StringVar(&f.b.files.Meters, "meters", "", "")
	fs.StringVar(&f.geneve, "geneve", "0x0102,0x80,4", "")
	fs.StringVar(&f.protocols, "protocols", "", "")
	fs.StringVar(&f.protocols, "O", "", "")
	fs.StringVar(&f.b.tls.PrivateKey, "private-key", "", "")
	fs.StringVar(&f.b.tls.Certificate, "certificate", "", "")
	fs.StringVar(&f.b.tls.CACert, "ca-cert", "", "")
}

// bridgeFlagNames are the flags register defines, which --config refuses.
var bridgeFlagNames = []string{"switch", "bridge", "flows", "groups", "meters", "geneve", "probe",
	"private-key", "certificate", "ca-cert", "protocols", "O"}

// options returns the bridge the flags name, checked as Spawn would check
// it, so that a typo in --switch is an error before anything starts.
func (f *bridgeFlags) options() (bridgeOptions, error) {
	g, err := parseGeneve(f.geneve)
	if err != nil {
		return bridgeOptions{}, err
	}
	b := f.b
	b.geneve = g
	if f.protocols != "" {
		if b.versions, err = parseProtocols(f.protocols); err != nil {
			return bridgeOptions{}, fmt.Errorf("--protocols: %w", err)
		}
	}
	if err := b.ofactorConfig().Validate(); err != nil {
		return bridgeOptions{}, err
	}
	return b, nil
}

// configBridges returns the bridges of a configuration file; defaults are
// the options given on the command line that every bridge shares.
func configBridges(f *config.File, defaults bridgeOptions) ([]bridgeOptions, error) {
	guard, strict, audit, monitor := defaults.guard, defaults.strict, defaults.audit, defaults.monitor
	var versions uint32
	if f.Protocols != "" {
		var err error
		if versions, err = parseProtocols(f.Protocols); err != nil {
			return nil, fmt.Errorf("config: protocols: %w", err)
		}
	}
	if f.AuditInterval != nil {
		audit = time.Duration(*f.AuditInterval)
	}
	if f.FlowMonitor != nil {
		monitor = *f.FlowMonitor
	}
	if f.MaxShrink != nil {
		guard.max = *f.MaxShrink
	}
	if f.Settle != nil {
		guard.settle = time.Duration(*f.Settle)
	}
	if f.Strict != nil {
		strict = *f.Strict
	}
	var out []bridgeOptions
	for _, b := range f.Bridges {
		g := ofactor.DefaultGeneveOption
		if b.Geneve != "" {
			var err error
			if g, err = parseGeneve(b.Geneve); err != nil {
				return nil, fmt.Errorf("config: bridge %s: %w", b.Name, err)
			}
		}
		bo := bridgeOptions{
			name: b.Name, target: b.Switch,
			files:  desired.Files{Flows: b.Flows, Groups: b.Groups, Meters: b.Meters},
			geneve: g, probe: time.Duration(b.Probe),
			tls:    ofactor.TLSFiles{PrivateKey: b.PrivateKey, Certificate: b.Certificate, CACert: b.CACert},
			strict: strict, guard: guard, audit: audit, monitor: monitor, versions: versions,
		}
		if b.Protocols != "" {
			var err error
			if bo.versions, err = parseProtocols(b.Protocols); err != nil {
				return nil, fmt.Errorf("config: bridge %s: protocols: %w", b.Name, err)
			}
		}
		if b.AuditInterval != nil {
			bo.audit = time.Duration(*b.AuditInterval)
		}
		if b.FlowMonitor != nil {
			bo.monitor = *b.FlowMonitor
		}
		if b.MaxShrink != nil {
			bo.guard.max = *b.MaxShrink
		}
		if b.Settle != nil {
			bo.guard.settle = time.Duration(*b.Settle)
		}
		if b.Strict != nil {
			bo.strict = *b.Strict
		}
		if err := bo.ofactorConfig().Validate(); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		out = append(out, bo)
	}
	return out, nil
}

// parseGeneve reads "CLASS,TYPE,LEN" (numbers in C syntax), or "off".
func parseGeneve(s string) (ofactor.GeneveOption, error) {
	if s == "off" {
		return ofactor.GeneveOff, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return ofactor.GeneveOption{}, fmt.Errorf("--geneve %q: want CLASS,TYPE,LEN", s)
	}
	var n [3]uint64
	for i, bits := range []int{16, 8, 8} {
		v, err := strconv.ParseUint(strings.TrimSpace(parts[i]), 0, bits)
		if err != nil {
			return ofactor.GeneveOption{}, fmt.Errorf("--geneve %q: %s: %w", s, []string{"class", "type", "len"}[i], err)
		}
		n[i] = v
	}
	if n[2] == 0 || n[2]%4 != 0 || n[2] > 124 {
		return ofactor.GeneveOption{}, fmt.Errorf("--geneve %q: len must be a multiple of 4 from 4 to 124", s)
	}
	return ofactor.GeneveOption{Class: uint16(n[0]), Type: uint8(n[1]), Len: uint8(n[2])}, nil
}

// newLogger returns a logger at level, which SIGHUP may change.
func newLogger(level zap.AtomicLevel, format string, w zapcore.WriteSyncer) (*zap.Logger, error) {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var e zapcore.Encoder
	switch format {
	case "json":
		e = zapcore.NewJSONEncoder(enc)
	case "console":
		enc.EncodeLevel = zapcore.CapitalLevelEncoder
		e = zapcore.NewConsoleEncoder(enc)
	default:
		return nil, fmt.Errorf("--log-format %q: want console or json", format)
	}
	return zap.New(zapcore.NewCore(e, w, level)), nil
}

func parseLevel(s string) (zapcore.Level, error) {
	lvl, err := zapcore.ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("--log-level: %w", err)
	}
	return lvl, nil
}

// newActorSystem returns an actor system whose own logging (slog) goes to
// the same zap core as ofactor's.
func newActorSystem(log *zap.Logger) *actor.ActorSystem {
	return actor.NewActorSystem(ofactor.WithZap(log))
}
