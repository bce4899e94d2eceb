package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/messages"
)

// diff, check and dump look at a switch and change nothing: the bridge
// runs in ofactor.ModeDiff or ModeCheck, which neither installs anything
// nor writes the Geneve TLV map.

const lookOptions = `Bridge options:
  --switch TARGET     unix:PATH, tcp:HOST[:PORT] or ssl:HOST[:PORT]
                      (default unix:$OVS_RUNDIR/BRIDGE.mgmt)
  --bridge NAME       bridge name (default br-int)
  --flows FILE        flows, as ovs-ofctl add-flows takes them
  --groups FILE       groups, as ovs-ofctl add-groups takes them
  --meters FILE       meters, as ovs-ofctl add-meter takes them
  --geneve C,T,L      Geneve option class,type,len (default 0x0102,0x80,4),
                      or "off"
  -O, --protocols P   OpenFlow versions to offer (default OpenFlow13,OpenFlow14,
                      OpenFlow15); flows print as ovs-ofctl prints them in the
                      version the switch takes
  --private-key FILE, --certificate FILE, --ca-cert FILE
                      PEM files for ssl: targets, as ovs-ofctl takes them

Other options:
  --timeout DURATION  give up after this long (default 1m)
  --log-level LEVEL   debug, info, warn or error (default error)
  --log-format FMT    console or json (default console)
`

const diffUsage = `usage: ofactor diff [--switch TARGET] --flows FILE [--groups FILE] [--meters FILE] [--strict]

Print what 'ofactor run --once' with these files would change on the
switch, as ovs-ofctl diff-flows does: "-" the object as the switch holds it,
"+" as the files want it, a modified object as both lines; groups and meters
too. Nothing is changed, not even the Geneve TLV map.

Exit status: 0 the switch holds the files already, 1 it would change,
2 an error (a file that does not parse, a switch that cannot be reached).

  --strict            a duplicate in a file is an error, not a warning
` + lookOptions

const checkUsage = `usage: ofactor check [--switch TARGET] --flows FILE [--groups FILE] [--meters FILE] [--strict]

As 'ofactor diff', then have the switch judge the change: it is sent in a
bundle that is opened, filled and discarded, so nothing is applied. Each
object the switch would refuse is printed with its file:line and OVS's
error name. Meters are not sent (OVS cannot bundle meter_mods).

Exit status: 0 the switch would accept everything, 1 it would refuse
something, 2 an error.

  --strict            a duplicate in a file is an error, not a warning
` + lookOptions

const dumpUsage = `usage: ofactor dump [--switch TARGET] [--flows FILE] [--groups FILE] [--meters FILE]

Write what the switch holds in the files' syntax, one object a line:
'ofactor run --once' with these files then changes nothing. Each file is
written whole and renamed into place ("-" for standard output); at least
one is needed. Flows that use the Geneve option's tun_metadata field are
written with its symbolic name, geneve.

Exit status: 0 written, 2 an error.
` + lookOptions

func diffCmd(args []string, stdout, stderr io.Writer) int {
	return look(args, ofactor.ModeDiff, diffUsage, stdout, stderr)
}

func checkCmd(args []string, stdout, stderr io.Writer) int {
	return look(args, ofactor.ModeCheck, checkUsage, stdout, stderr)
}

// looker is one run of diff, check or dump.
type looker struct {
	name           string // of the command
	o              bridgeOptions
	stdout, stderr io.Writer
	log            *zap.Logger
	sys            *actor.ActorSystem
	bridge         *ofactor.Bridge
	events         *eventQueue
	connected      bool
}

// lookFlags parses the options diff, check and dump share.
func lookFlags(name, usage string, args []string, stdout, stderr io.Writer) (*looker, time.Duration, int) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fmt.Fprint(stdout, usage)
			return nil, 0, 0
		}
	}
	l := &looker{name: name, stdout: stdout, stderr: stderr}
	var bf bridgeFlags
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	bf.register(fs)
	strict := false
	if name != "dump" {
		fs.BoolVar(&strict, "strict", false, "")
	}
	timeout := fs.Duration("timeout", time.Minute, "")
	level := fs.String("log-level", "error", "")
	format := fs.String("log-format", "console", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0, 0
		}
		return nil, 0, 2
	}
	fail := func(err error) (*looker, time.Duration, int) {
		fmt.Fprintf(stderr, "ofactor %s: %v\n", name, err)
		return nil, 0, 2
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	b, err := bf.options()
	if err != nil {
		return fail(err)
	}
	if len(b.files.Paths()) == 0 {
		return fail(errors.New("no --flows, --groups or --meters file"))
	}
	b.strict = strict
	l.o = b
	lvl, err := parseLevel(*level)
	if err != nil {
		return fail(err)
	}
	if l.log, err = newLogger(zap.NewAtomicLevelAt(lvl), *format, zapcore.AddSync(stderr)); err != nil {
		return fail(err)
	}
	return l, *timeout, -1
}

// spawn starts the bridge in mode, feeding l.events.
func (l *looker) spawn(mode ofactor.Mode) error {
	l.sys = newActorSystem(l.log)
	l.events = newEventQueue()
	sink := l.sys.Root.Spawn(eventSink(l.events.push))
	cfg := l.o.ofactorConfig()
	cfg.Mode, cfg.Logger, cfg.Subscribers = mode, l.log, []*actor.PID{sink}
	b, err := ofactor.Spawn(l.sys.Root, cfg)
	if err != nil {
		return err
	}
	l.bridge = b
	return nil
}

func (l *looker) stop() {
	if l.bridge != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		l.bridge.Stop(ctx)
		cancel()
	}
	l.sys.Shutdown()
}

func (l *looker) errorf(format string, a ...any) int {
	fmt.Fprintf(l.stderr, "ofactor %s: "+format+"\n", append([]any{l.name}, a...)...)
	return 2
}

// next waits for the bridge's next events. A switch that cannot be
// reached is an error at once, as for ovs-ofctl.
func (l *looker) next(ctx context.Context) ([]any, error) {
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("bridge %s: no answer from the switch: %w", l.o.name, ctx.Err())
	case <-l.events.notify:
	}
	evs := l.events.take()
	return evs, l.scan(evs)
}

// scan notes a connection, and returns a failure to make the first as an
// error.
func (l *looker) scan(evs []any) error {
	for _, ev := range evs {
		switch m := ev.(type) {
		case *messages.Connected:
			l.connected = true
		case *messages.ConnectFailed:
			if !l.connected {
				return errors.New(m.Err)
			}
		}
	}
	return nil
}

// lookContext is the context of one command: the timeout, SIGINT and
// SIGTERM.
func lookContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// look is diff (ModeDiff) and check (ModeCheck).
func look(args []string, mode ofactor.Mode, usage string, stdout, stderr io.Writer) int {
	name := "diff"
	if mode == ofactor.ModeCheck {
		name = "check"
	}
	l, timeout, code := lookFlags(name, usage, args, stdout, stderr)
	if l == nil {
		return code
	}
	ctx, cancel := lookContext(timeout)
	defer cancel()
	if err := l.spawn(mode); err != nil {
		return l.errorf("%v", err)
	}
	defer l.stop()
	// The switch is read while the files are parsed.
	loader := desired.NewLoader(l.o.files, desired.Options{Strict: l.o.strict, Index: true, Version: l.o.fileVersion()})
	put, err := loader.Load()
	if err != nil {
		return l.errorf("%v", err)
	}
	for _, d := range loader.Duplicates() {
		fmt.Fprintf(stderr, "ofactor %s: warning: %s\n", name, d)
	}
	version, err := l.bridge.Put(ctx, put)
	var nt *ofactor.NotTakenError
	if errors.As(err, &nt) {
		for _, e := range nt.Errors {
			fmt.Fprintf(stderr, "ofactor %s: warning: left out: %s\n", name, e)
		}
	} else if err != nil {
		return l.errorf("%v", err)
	}
	var (
		plan     *messages.Planned
		rejected []*messages.Rejected
	)
	for {
		evs, err := l.next(ctx)
		if err != nil {
			return l.errorf("%v", err)
		}
		for _, ev := range evs {
			switch m := ev.(type) {
			case *messages.Planned:
				if m.Version < version || plan != nil {
					continue
				}
				plan = m
				printPlan(stdout, m)
				if len(m.MissingPorts) > 0 {
					fmt.Fprintf(stderr, "ofactor %s: note: flows naming ports the switch does not have are left out: %s\n",
						name, strings.Join(m.MissingPorts, ", "))
				}
				for _, u := range m.Unchecked {
					if mode == ofactor.ModeCheck {
						fmt.Fprintf(stderr, "ofactor %s: note: %s\n", name, u)
					}
				}
				if mode == ofactor.ModeDiff {
					if len(m.Changes) == 0 {
						return 0
					}
					return 1
				}
			case *messages.Rejected:
				if m.Version >= version {
					rejected = append(rejected, m)
				}
			case *messages.Checked:
				if m.Version < version {
					continue
				}
				for _, r := range rejected {
					fmt.Fprintf(stdout, "%s: %s: %s\n", where(loader.Index(), r), r.Error, r.Text)
				}
				if len(rejected) > 0 || m.Rejected > 0 {
					fmt.Fprintf(stderr, "ofactor check: the switch would refuse %d of %d changes\n",
						max(m.Rejected, len(rejected)), len(plan.Changes))
					return 1
				}
				return 0
			}
		}
	}
}
