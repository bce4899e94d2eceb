package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor/internal/config"
	"github.com/ofactor/ofactor/internal/httpapi"
)

const runUsage = `usage: ofactor run [OPTIONS]
       ofactor run --config FILE [OPTIONS]

Keep a bridge's OpenFlow tables equal to flows, groups and meters files in
ovs-ofctl syntax. Without --once, watch the files and apply every change;
a file that does not parse is reported and the last good state kept;
SIGHUP reads the config file and every file again.

Bridge options (or a --config file listing several bridges):
  --switch TARGET     unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]
                      (default unix:$OVS_RUNDIR/BRIDGE.mgmt)
  --bridge NAME       bridge name (default br-int)
  --flows FILE        flows, as ovs-ofctl add-flows takes them
  --groups FILE       groups, as ovs-ofctl add-groups takes them
  --meters FILE       meters, as ovs-ofctl add-meter takes them
  --geneve C,T,L      Geneve option class,type,len to map (default
                      0x0102,0x80,4), or "off": no TLV map is read or written
  --probe DURATION    inactivity probe interval (default 0: off)
  -O, --protocols P   OpenFlow versions to offer, as ovs-ofctl -O takes them
                      (default OpenFlow13,OpenFlow14,OpenFlow15): the highest
                      the bridge allows too is used; the files are read in
                      the highest offered
  --flow-monitor=BOOL watch the switch's flows for out-of-band changes and put
                      them right at once (default true)
  --audit-interval D  read the groups, meters and TLV map every D (and every
                      10th time, or every time without the monitor, the flows)
                      and put right what differs (default 60s; 0: off)

SSL options (ssl: targets only):
  --private-key FILE  our private key (PEM)
  --certificate FILE  our certificate (PEM)
  --ca-cert FILE      the CA certificate the switch's must chain to

File options:
  --strict            two lines for one flow (same table, priority and match),
                      group or meter are an error, not a warning (the later
                      line wins, as in ovs-ofctl add-flows)
  --max-shrink F      a reload that would remove more than this fraction of
                      what the switch holds (or all of it) waits until the
                      files are unchanged for --settle (default 0.5)
  --settle DURATION   that wait (default 2s; 0: apply every reload at once)

Daemon options:
  --config FILE       YAML file listing bridges (see docs/operations.md)
  --metrics-addr ADDR serve /metrics, /status, /healthz on ADDR
                      (default 127.0.0.1:9810 without --once, off with it;
                      "off" disables)
  --once              install, then exit: 0 when the switch holds the desired
                      state, 1 when it refused something (the rest installed)
                      or a file does not parse, 2 when the switch cannot be
                      reached (at once), on timeout or on a usage error.
                      Quiet but for one summary line; a progress bar on a
                      terminal
  --timeout DURATION  with --once: give up after this long (default 5m)

Logging options:
  --log-level LEVEL   debug, info, warn or error (default info; error with
                      --once)
  --log-format FMT    console or json (default console)
`

type runOptions struct {
	bridges             []bridgeOptions
	config              string
	metricsAddr         string
	timeout             time.Duration
	once                bool
	logLevel, logFormat string
	set                 map[string]bool // the flags given
	defaults            bridgeOptions   // --strict, --max-shrink, --settle
	flagMetricsAddr     string          // --metrics-addr as given
	flagLogLevel        string          // --log-level as given, or the default
}

func parseRunFlags(args []string, stderr io.Writer) (*runOptions, error) {
	o := &runOptions{}
	var bf bridgeFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage) }
	bf.register(fs)
	fs.DurationVar(&bf.b.probe, "probe", 0, "")
	fs.BoolVar(&o.defaults.strict, "strict", false, "")
	fs.Float64Var(&o.defaults.guard.max, "max-shrink", defaultMaxShrink, "")
	fs.DurationVar(&o.defaults.guard.settle, "settle", defaultSettle, "")
	fs.DurationVar(&o.defaults.audit, "audit-interval", defaultAudit, "")
	fs.BoolVar(&o.defaults.monitor, "flow-monitor", true, "")
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
	if g := o.defaults.guard; g.max < 0 || g.max > 1 || g.settle < 0 {
		return nil, fmt.Errorf("run: --max-shrink %v --settle %v: want a fraction from 0 to 1 and a duration", g.max, g.settle)
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	o.flagMetricsAddr = o.metricsAddr
	if o.once && !o.set["log-level"] {
		// Quiet on success, as ovs-ofctl: what goes wrong is printed, the
		// rest is one summary line.
		o.logLevel = "error"
	}
	o.flagLogLevel = o.logLevel
	if o.config != "" {
		for _, name := range bridgeFlagNames {
			if o.set[name] {
				return nil, fmt.Errorf("run: --%s and --config: give bridge options in the config file", name)
			}
		}
		if err := o.loadConfig(); err != nil {
			return nil, err
		}
	} else {
		b, err := bf.options()
		if err != nil {
			return nil, err
		}
		b.strict, b.guard = o.defaults.strict, o.defaults.guard
		b.audit, b.monitor = o.defaults.audit, o.defaults.monitor
		o.bridges = []bridgeOptions{b}
	}
	if !o.set["metrics-addr"] && o.metricsAddr == "" && !o.once {
		o.metricsAddr = httpapi.DefaultAddr
	}
	if o.metricsAddr == "off" {
		o.metricsAddr = ""
	}
	return o, nil
}

// loadConfig takes the bridges and the daemon options not given on the
// command line from the --config file. --strict, --max-shrink and
// --settle, when given, apply to every bridge, whatever the file says.
func (o *runOptions) loadConfig() error {
	f, err := config.Load(o.config)
	if err != nil {
		return err
	}
	if o.bridges, err = configBridges(f, o.defaults); err != nil {
		return err
	}
	for i := range o.bridges {
		b := &o.bridges[i]
		if o.set["strict"] {
			b.strict = o.defaults.strict
		}
		if o.set["max-shrink"] {
			b.guard.max = o.defaults.guard.max
		}
		if o.set["settle"] {
			b.guard.settle = o.defaults.guard.settle
		}
		if o.set["audit-interval"] {
			b.audit = o.defaults.audit
		}
		if o.set["flow-monitor"] {
			b.monitor = o.defaults.monitor
		}
	}
	o.metricsAddr = "" // parseRunFlags sets the default
	if o.set["metrics-addr"] {
		o.metricsAddr = o.flagMetricsAddr
	} else if f.MetricsAddr != "" {
		o.metricsAddr = f.MetricsAddr
	}
	if !o.set["log-level"] && f.LogLevel != "" {
		o.logLevel = f.LogLevel
	}
	if !o.set["log-format"] && f.LogFormat != "" {
		o.logFormat = f.LogFormat
	}
	return nil
}

func runCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP reloads the configuration and the files; caught from the
	// start so that one sent while starting is not the default (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return runWith(ctx, args, hup, stdout, stderr)
}

// run is `ofactor run` until ctx ends, with no SIGHUP.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, nil, stdout, stderr)
}

// runWith is `ofactor run` until ctx ends (SIGINT or SIGTERM); each value
// of hup reloads (the daemon only).
func runWith(ctx context.Context, args []string, hup <-chan os.Signal, stdout, stderr io.Writer) int {
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
	lvl, err := parseLevel(o.logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 2
	}
	level := zap.NewAtomicLevelAt(lvl)
	log, err := newLogger(level, o.logFormat, zapcore.AddSync(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 2
	}
	defer log.Sync()

	// Spawn first: the bridges connect, negotiate and read the switch
	// while the files are parsed. A reconciler sends nothing before its
	// first desired state, so a file that fails to parse changes nothing.
	d, err := newDaemon(o, log, level, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "ofactor:", err)
		return 2
	}
	defer d.shutdown()
	// Each bridge starts on its files as soon as they are read, not once
	// every bridge's are: with a hundred bridges the first holds its table
	// long before the last file is parsed.
	if o.once {
		return d.once(ctx)
	}
	return d.watch(ctx, hup)
}
