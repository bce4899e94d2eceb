package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/desired"
	"github.com/ofactor/ofactor/internal/metrics"
	"github.com/ofactor/ofactor/messages"
)

// bridgeRunner drives one bridge from its files.
type bridgeRunner struct {
	o       bridgeOptions
	log     *zap.Logger
	sys     *actor.ActorSystem
	bridge  *ofactor.Bridge
	sink    *actor.PID // the subscriber feeding events
	mb      *metrics.Bridge
	events  *eventQueue
	loader  *desired.Loader
	timeout time.Duration
	started time.Time
	once    bool // --once: problems are printed, not logged

	stdout, stderr io.Writer

	hup    chan struct{}      // SIGHUP: read every file again
	cancel context.CancelFunc // of the watch
	done   chan struct{}      // closed when the watch has ended
	code   int                // the watch's exit status, once done

	connected    bool // a connection was made
	lastProgress time.Time
}

// warn says something the operator should know: printed by a one-shot
// run (which is quiet otherwise), logged by the daemon.
func (r *bridgeRunner) warn(msg string, fields ...zap.Field) {
	if !r.once {
		r.log.Warn(msg, fields...)
		return
	}
	var b []byte
	for _, f := range fields {
		b = fmt.Appendf(b, " (%s)", fieldString(f))
	}
	fmt.Fprintf(r.stderr, "ofactor: bridge %s: warning: %s%s\n", r.o.name, msg, b)
}

func fieldString(f zap.Field) string {
	if f.String != "" {
		return f.String
	}
	if f.Interface != nil {
		return fmt.Sprint(f.Interface)
	}
	return fmt.Sprint(f.Integer)
}

// warnDuplicates reports the duplicates the loader found: the later line
// won each.
func (r *bridgeRunner) warnDuplicates() {
	for i, d := range r.loader.Duplicates() {
		if i == 20 {
			r.warn(fmt.Sprintf("%d more duplicates", len(r.loader.Duplicates())-i))
			return
		}
		r.warn(d.String())
	}
}

// put hands a desired state (a *messages.PutDesired or a
// *messages.UpdateFlows) to the bridge and returns its version.
func (r *bridgeRunner) put(put any) (uint64, error) {
	res, err := r.sys.Root.RequestFuture(r.bridge.PID, put, time.Minute).Result()
	if err != nil {
		return 0, fmt.Errorf("bridge did not take the desired state: %w", err)
	}
	acc := res.(*messages.DesiredAccepted)
	for _, e := range acc.Errors {
		r.warn("left out of the desired state", zap.String("error", e))
	}
	return acc.Version, nil
}

// load reads the files, handing the bridge the flows in parts as they are
// parsed (PutDesired.More, without waiting: the last part, returned, is
// sent with put, after them, and is answered with every part's errors).
// If a file fails once parts went out, the put in parts is aborted: the
// bridge keeps the desired state it had.
func (r *bridgeRunner) load() (*messages.PutDesired, error) {
	sent := false
	last, err := r.loader.LoadParts(func(p *messages.PutDesired) {
		sent = true
		r.sys.Root.RequestFuture(r.bridge.PID, p, time.Minute)
	})
	if err != nil && sent {
		r.sys.Root.Send(r.bridge.PID, &messages.AbortPut{})
	}
	if err == nil {
		r.warnDuplicates()
	}
	return last, err
}

// sentCounts adds up what the rounds of a one-shot run sent.
type sentCounts struct{ adds, modifies, deletes, groups, meters int }

func (c *sentCounts) add(m *messages.RoundFinished) {
	c.adds += m.FlowAdds
	c.modifies += m.FlowModifies
	c.deletes += m.FlowDeletes
	c.groups += m.GroupMods
	c.meters += m.MeterMods
}

// runOnce installs put and waits for the switch to hold it: 0 when it does
// with nothing refused, 1 when it holds the rest and something was refused,
// 2 when the switch cannot be reached or on timeout. It is quiet on
// success but for one summary line on stdout. bar, when not nil, shows the
// progress.
func (r *bridgeRunner) runOnce(ctx context.Context, put *messages.PutDesired, bar *progressBar) int {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	version, err := r.put(put)
	if err != nil {
		fmt.Fprintf(r.stderr, "ofactor: bridge %s: %v\n", r.o.name, err)
		return 1
	}
	defer bar.clear()
	rejected := map[string]string{}
	var sent sentCounts
	for {
		select {
		case <-ctx.Done():
			bar.clear()
			fmt.Fprintf(r.stderr, "ofactor: bridge %s: the switch does not hold version %d after %v: %v\n",
				r.o.name, version, r.timeout, ctx.Err())
			return 2
		case <-r.events.notify:
		}
		for _, ev := range r.events.take() {
			switch m := ev.(type) {
			case *messages.Connected:
				r.connected = true
			case *messages.ConnectFailed:
				if !r.connected {
					// As ovs-ofctl: a switch that is not there is an
					// error at once, not a wait for the timeout.
					bar.clear()
					fmt.Fprintf(r.stderr, "ofactor: bridge %s: %s\n", r.o.name, m.Err)
					return 2
				}
			case *messages.Rejected:
				rejected[m.Text] = m.Error
			case *messages.Progress:
				if bar != nil {
					bar.draw(m)
				} else {
					r.logProgress(m)
				}
			case *messages.RoundFinished:
				sent.add(m)
			case *messages.VersionInstalled:
				if m.Version < version {
					continue
				}
				bar.clear()
				r.summary(m, sent)
				if len(m.MissingPorts) > 0 {
					fmt.Fprintf(r.stderr, "ofactor: bridge %s: flows wait for ports the switch does not have: %s\n",
						r.o.name, strings.Join(m.MissingPorts, ", "))
				}
				if m.Rejected == 0 && len(m.MissingPorts) == 0 {
					return 0
				}
				if m.Rejected == 0 {
					return 1
				}
				for text, e := range rejected {
					fmt.Fprintf(r.stderr, "ofactor: bridge %s: switch refused %s: %s\n", r.o.name, e, text)
				}
				fmt.Fprintf(r.stderr, "ofactor: bridge %s: %d objects refused; everything else installed\n",
					r.o.name, m.Rejected)
				return 1
			}
		}
	}
}

// summary is a one-shot run's one line: what the switch holds now and
// what it took to get there.
func (r *bridgeRunner) summary(m *messages.VersionInstalled, c sentCounts) {
	fmt.Fprintf(r.stdout, "%s: version %d installed in %v: sent flows %d (add %d, modify %d, delete %d), groups %d, meters %d; "+
		"the switch holds flows %d, groups %d, meters %d\n",
		r.o.name, m.Version, time.Since(r.started).Round(time.Millisecond), c.adds+c.modifies+c.deletes,
		c.adds, c.modifies, c.deletes, c.groups, c.meters, m.Flows, m.Groups, m.Meters)
}

// logProgress logs a long round's progress, at most once a second.
func (r *bridgeRunner) logProgress(m *messages.Progress) {
	now := time.Now()
	if now.Sub(r.lastProgress) < time.Second {
		return
	}
	r.lastProgress = now
	r.log.Info("installing", zap.Uint64("version", m.Version), zap.Int("sent", m.Sent),
		zap.Int("confirmed", m.Confirmed), zap.Int("total", m.Total))
}
