package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/config"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/httpapi"
	"github.com/ofactor/ofactor/messages"
)

const runUsage = `usage: ofactor run [OPTIONS]
       ofactor run --config FILE [OPTIONS]

Keep a bridge's OpenFlow tables equal to flows, groups and meters files in
ovs-ofctl syntax. Without --once, watch the files and apply every change;
a file that does not parse is reported and the last good state kept.

Bridge options (or a --config file listing several bridges):
  --switch TARGET     unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]
                      (default unix:$OVS_RUNDIR/BRIDGE.mgmt)
  --bridge NAME       bridge name (default br-int)
  --flows FILE        flows, as ovs-ofctl add-flows takes them
  --groups FILE       groups, as ovs-ofctl add-groups takes them
  --meters FILE       meters, as ovs-ofctl add-meter takes them
  --geneve C,T,L      Geneve option class,type,len to map (default 0x0102,0x80,4)
  --probe DURATION    inactivity probe interval (default 0: off)

SSL options:
  --private-key FILE  our private key (PEM)
  --certificate FILE  our certificate (PEM)
  --ca-cert FILE      the CA certificate the switch's must chain to

Daemon options:
  --config FILE       YAML file listing bridges (see docs/operations.md)
  --metrics-addr ADDR serve /metrics, /status, /healthz on ADDR
                      (default 127.0.0.1:9810 without --once, off with it;
                      "off" disables)
  --once              exit when the switch holds the desired state (0), or
                      after installing the rest when anything was refused (1),
                      or on timeout (2); draws a progress bar on a terminal
  --timeout DURATION  with --once: give up after this long (default 5m)

Logging options:
  --log-level LEVEL   debug, info, warn or error (default info)
  --log-format FMT    console or json (default console)
`

// bridgeOptions configure one bridge.
type bridgeOptions struct {
	name, target string
	files        desired.Files
	geneve       ofactor.GeneveOption
	probe        time.Duration
	tls          ofactor.TLSFiles
}

type runOptions struct {
	bridges             []bridgeOptions
	config              string
	metricsAddr         string
	timeout             time.Duration
	once                bool
	logLevel, logFormat string
}

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	o := &runOptions{}
	var br bridgeOptions
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage) }
	fs.StringVar(&br.target, "switch", "", "")
	fs.StringVar(&br.name, "bridge", "br-int", "")
	fs.StringVar(&br.files.Flows, "flows", "", "")
	fs.StringVar(&br.files.Groups, "groups", "", "")
	fs.StringVar(&br.files.Meters, "meters", "", "")
	geneve := fs.String("geneve", "0x0102,0x80,4", "")
	fs.DurationVar(&br.probe, "probe", 0, "")
	fs.StringVar(&br.tls.PrivateKey, "private-key", "", "")
	fs.StringVar(&br.tls.Certificate, "certificate", "", "")
	fs.StringVar(&br.tls.CACert, "ca-cert", "", "")
	fs.StringVar(&o.config, "config", "", "")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "")
	fs.BoolVar(&o.once, "once", false, "")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "")
	fs.StringVar(&o.logLevel, "log-level", "info", "")
	fs.StringVar(&o.logFormat, "log-format", "console", "")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("run: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.config != "" {
		for _, name := range []string{"switch", "bridge", "flows", "groups", "meters", "geneve", "probe",
			"private-key", "certificate", "ca-cert"} {
			if set[name] {
				return nil, fmt.Errorf("run: --%s and --config: give bridge options in the config file", name)
			}
		}
		if err := o.loadConfig(set); err != nil {
			return nil, err
		}
	} else {
		g, err := parseGeneve(*geneve)
		if err != nil {
			return nil, err
		}
		br.geneve = g
		o.bridges = []bridgeOptions{br}
	}
	if !set["metrics-addr"] && o.metricsAddr == "" && !o.once {
		o.metricsAddr = httpapi.DefaultAddr
	}
	if o.metricsAddr == "off" {
		o.metricsAddr = ""
	}
	return o, nil
}

// loadConfig takes the bridges and the daemon options not given on the
// command line from the --config file.
func (o *runOptions) loadConfig(set map[string]bool) error {
	f, err := config.Load(o.config)
	if err != nil {
		return err
	}
	for _, b := range f.Bridges {
		g := ofactor.DefaultGeneveOption
		if b.Geneve != "" {
			if g, err = parseGeneve(b.Geneve); err != nil {
				return fmt.Errorf("config: bridge %s: %w", b.Name, err)
			}
		}
		o.bridges = append(o.bridges, bridgeOptions{
			name: b.Name, target: b.Switch,
			files:  desired.Files{Flows: b.Flows, Groups: b.Groups, Meters: b.Meters},
			geneve: g, probe: time.Duration(b.Probe),
			tls: ofactor.TLSFiles{PrivateKey: b.PrivateKey, Certificate: b.Certificate, CACert: b.CACert},
		})
	}
	if !set["metrics-addr"] && f.MetricsAddr != "" {
		o.metricsAddr = f.MetricsAddr
	}
	if !set["log-level"] && f.LogLevel != "" {
		o.logLevel = f.LogLevel
	}
	if !set["log-format"] && f.LogFormat != "" {
		o.logFormat = f.LogFormat
	}
	return nil
}

// parseGeneve reads "CLASS,TYPE,LEN" (numbers in C syntax).
func parseGeneve(s string) (ofactor.GeneveOption, error) {
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
	if n[2]%4 != 0 || n[2] > 124 {
		return ofactor.GeneveOption{}, fmt.Errorf("--geneve %q: len must be a multiple of 4 up to 124", s)
	}
	return ofactor.GeneveOption{Class: uint16(n[0]), Type: uint8(n[1]), Len: uint8(n[2])}, nil
}

func newLogger(level, format string, w zapcore.WriteSyncer) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
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
	return zap.New(zapcore.NewCore(e, w, lvl)), nil
}

// newActorSystem returns an actor system whose own logging (slog) goes to
// the same zap core as ofactor's.
func newActorSystem(log *zap.Logger) *actor.ActorSystem {
	core := log.Named("protoactor").Core()
	return actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(zapslog.NewHandler(core))
	}))
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

// run is `ofactor run` until ctx ends (SIGINT or SIGTERM).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		// Asked for, help goes to standard output, as ovs-ofctl's does.
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, runUsage)
			return 0
		}
	}
	o, err := parseRunFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 2
	}
	log, err := newLogger(o.logLevel, o.logFormat, zapcore.AddSync(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 2
	}
	defer log.Sync()

	// Spawn first: the bridges connect, negotiate and read the switch
	// while the files are parsed. A reconciler sends nothing before its
	// first desired state, so a file that fails to parse changes nothing.
	d, err := newDaemon(o, log)
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 1
	}
	defer d.shutdown()
	puts := make([]*messages.PutDesired, len(o.bridges))
	loaders := make([]*desired.Loader, len(o.bridges))
	for i, b := range o.bridges {
		// The flows go over in parts as they are parsed: the switch works
		// through the first while the last are parsed, and commits when
		// the last is there.
		loaders[i] = desired.NewLoader(b.files, !o.once)
		if puts[i], err = d.bridges[i].loadParts(loaders[i]); err != nil {
			fmt.Fprintf(stderr, "ofactor: bridge %s: %v\n", b.name, err)
			return 1
		}
	}
	if o.once {
		return d.once(ctx, puts, stderr)
	}
	return d.watch(ctx, puts, loaders)
}
