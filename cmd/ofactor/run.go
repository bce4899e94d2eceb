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
	"github.com/ofactor/ofactor/internal/desired"
)

const runUsage = `usage: ofactor run [OPTIONS]

Keep a bridge's OpenFlow tables equal to flows, groups and meters files in
ovs-ofctl syntax. Without --once, watch the files and apply every change.

Options:
  --switch TARGET     unix:PATH or tcp:HOST:PORT (default unix:$OVS_RUNDIR/BRIDGE.mgmt)
  --bridge NAME       bridge name (default br-int)
  --flows FILE        flows, as ovs-ofctl add-flows takes them
  --groups FILE       groups, as ovs-ofctl add-groups takes them
  --meters FILE       meters, as ovs-ofctl add-meter takes them
  --geneve C,T,L      Geneve option class,type,len to map (default 0x0102,0x80,4)
  --probe DURATION    inactivity probe interval (default 0: off)
  --private-key FILE  for ssl: targets, our private key (PEM)
  --certificate FILE  for ssl: targets, our certificate (PEM)
  --ca-cert FILE      for ssl: targets, the CA certificate the switch's must chain to
  --once              exit when the switch holds the desired state (0), or
                      after installing the rest when anything was refused (1)
  --timeout DURATION  with --once: give up after this long (default 5m)
  --log-level LEVEL   debug, info, warn or error (default info)
  --log-format FMT    console or json (default console)
`

type runOptions struct {
	target, bridge      string
	files               desired.Files
	geneve              ofactor.GeneveOption
	probe, timeout      time.Duration
	once                bool
	tls                 ofactor.TLSFiles
	logLevel, logFormat string
}

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	o := &runOptions{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage) }
	fs.StringVar(&o.target, "switch", "", "")
	fs.StringVar(&o.bridge, "bridge", "br-int", "")
	fs.StringVar(&o.files.Flows, "flows", "", "")
	fs.StringVar(&o.files.Groups, "groups", "", "")
	fs.StringVar(&o.files.Meters, "meters", "", "")
	geneve := fs.String("geneve", "0x0102,0x80,4", "")
	fs.DurationVar(&o.probe, "probe", 0, "")
	fs.StringVar(&o.tls.PrivateKey, "private-key", "", "")
	fs.StringVar(&o.tls.Certificate, "certificate", "", "")
	fs.StringVar(&o.tls.CACert, "ca-cert", "", "")
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
	g, err := parseGeneve(*geneve)
	if err != nil {
		return nil, err
	}
	o.geneve = g
	return o, nil
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

	put, err := desired.Load(o.files)
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := newDaemon(o, log)
	defer d.shutdown()
	if o.once {
		return d.once(ctx, put, stderr)
	}
	return d.watch(ctx, put)
}
