package ofactor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// The methods of a Bridge are the embedding API for Go callers: each sends
// the bridge the message an actor would send and waits for the answer, as
// long as ctx lets it. Actors keep sending the messages themselves.

// Put hands the bridge a desired state (see messages.PutDesired) and
// returns the desired version it became. What could not be taken (a flow
// that does not encode) is an error of type *NotTakenError; the rest was
// taken.
func (b *Bridge) Put(ctx context.Context, m *messages.PutDesired) (uint64, error) {
	return b.desire(ctx, m)
}

// Update hands the bridge a delta of its desired flows (see
// messages.UpdateFlows) and returns the desired version it became.
func (b *Bridge) Update(ctx context.Context, m *messages.UpdateFlows) (uint64, error) {
	return b.desire(ctx, m)
}

func (b *Bridge) desire(ctx context.Context, m any) (uint64, error) {
	res, err := b.request(ctx, m)
	if err != nil {
		return 0, err
	}
	acc, ok := res.(*messages.DesiredAccepted)
	if !ok {
		return 0, fmt.Errorf("bridge %s: answered %T", b.name, res)
	}
	if len(acc.Errors) > 0 {
		return acc.Version, &NotTakenError{Bridge: b.name, Version: acc.Version, Errors: acc.Errors}
	}
	return acc.Version, nil
}

// NotTakenError lists what a put or an update left out of the desired
// state; the rest was taken as Version.
type NotTakenError struct {
	Bridge  string
	Version uint64
	Errors  []string
}

func (e *NotTakenError) Error() string {
	return fmt.Sprintf("bridge %s: version %d: %d left out: %s", e.Bridge, e.Version, len(e.Errors), strings.Join(e.Errors, "; "))
}

// WaitInstalled returns when the switch holds desired version (or a later
// one), barrier-confirmed. When it holds it apart from objects it refused,
// the error is a *RejectedError listing them; when ctx ends first, ctx's
// error.
func (b *Bridge) WaitInstalled(ctx context.Context, version uint64) error {
	for {
		// Take the watcher's channel before asking: a VersionInstalled
		// published after the answer closes it.
		changed := b.watcher.changed()
		res, err := b.request(ctx, &messages.GetInstalled{})
		if err != nil {
			return err
		}
		in := res.(*messages.Installed)
		if in.Version >= version {
			if len(in.Rejected) > 0 {
				return &RejectedError{Bridge: b.name, Version: in.Version, Rejected: in.Rejected}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// watcher is a bridge's own subscriber: it wakes the callers waiting in
// WaitInstalled whenever a version is installed. It lives as long as the
// bridge, so that no event of the bridge finds it gone.
type watcher struct {
	pid  *actor.PID
	mu   sync.Mutex
	wake chan struct{}
}

func newWatcher() *watcher { return &watcher{wake: make(chan struct{})} }

// changed returns a channel closed at the next VersionInstalled.
func (w *watcher) changed() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wake
}

func (w *watcher) receive(c actor.Context) {
	if _, ok := c.Message().(*messages.VersionInstalled); ok {
		w.mu.Lock()
		close(w.wake)
		w.wake = make(chan struct{})
		w.mu.Unlock()
	}
}

// RejectedError says the switch holds a version apart from the desired
// objects it refused.
type RejectedError struct {
	Bridge   string
	Version  uint64
	Rejected []messages.Rejected // each with OVS's error name and the object in ovs-ofctl syntax
}

func (e *RejectedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bridge %s: version %d installed, but the switch refused %d", e.Bridge, e.Version, len(e.Rejected))
	for i, r := range e.Rejected {
		if i == 3 {
			fmt.Fprintf(&b, "; ...")
			break
		}
		fmt.Fprintf(&b, "; %s %s: %s", r.Kind, r.Error, r.Text)
	}
	return b.String()
}

// Tables is a snapshot of a bridge's flows, groups and meters: what its
// switch holds (Installed) or what is desired (Desired).
type Tables = messages.Tables

// ErrNotKnown is Installed's error while what the switch holds is not
// known: not connected, or its tables not read yet.
var ErrNotKnown = errors.New("what the switch holds is not known (not connected, or not read yet)")

// Installed returns what the switch holds, as last read and kept up to
// date by the bridge. Its texts: Text.
func (b *Bridge) Installed(ctx context.Context) (*Tables, error) {
	t, err := b.tables(ctx, true)
	if err == nil && !t.Known {
		return nil, fmt.Errorf("bridge %s: %w", b.name, ErrNotKnown)
	}
	return t, err
}

// Desired returns the desired tables.
func (b *Bridge) Desired(ctx context.Context) (*Tables, error) { return b.tables(ctx, false) }

func (b *Bridge) tables(ctx context.Context, installed bool) (*Tables, error) {
	res, err := b.request(ctx, &messages.GetTables{Installed: installed})
	if err != nil {
		return nil, err
	}
	return res.(*messages.Tables), nil
}

// Text returns t's flows, groups and meters in ovs-ofctl syntax, one per
// line as the files of `ofactor run` take them (and `ovs-ofctl dump-flows`,
// `dump-groups`, `dump-meters` print them).
func Text(t *Tables) (flows, groups, meters []string) {
	for _, f := range t.Flows {
		fm, err := flowkey.Decode(t.OFVersion, f.Key(), f.Value())
		if err == nil {
			flows = append(flows, strings.TrimSpace(string(ofctl.AppendFlow(nil, fm))))
		}
	}
	for _, g := range t.Groups {
		if gm, err := g.GroupMod(t.OFVersion); err == nil {
			groups = append(groups, string(ofctl.AppendGroup(nil, gm)))
		}
	}
	for _, m := range t.Meters {
		if mm, err := m.MeterMod(t.OFVersion); err == nil {
			meters = append(meters, string(ofctl.AppendMeter(nil, mm)))
		}
	}
	return flows, groups, meters
}

// Status returns a snapshot of the bridge's state.
func (b *Bridge) Status(ctx context.Context) (*messages.Status, error) {
	res, err := b.request(ctx, &messages.GetStatus{})
	if err != nil {
		return nil, err
	}
	return res.(*messages.Status), nil
}

// Stop stops the bridge gracefully: a round in flight whose bundle is not
// committed yet is discarded (one that is committing finishes), then the
// connection closes and the subtree stops. The desired state stays in
// Config.State. When ctx ends first the subtree is stopped at once.
func (b *Bridge) Stop(ctx context.Context) error {
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	_, err := b.request(ctx, &stopRequest{timeout: timeout})
	b.sys.Root.PoisonFuture(b.PID).Wait()
	b.sys.Root.PoisonFuture(b.watcher.pid).Wait()
	if err != nil {
		return fmt.Errorf("bridge %s: stopped before its round ended: %w", b.name, err)
	}
	return nil
}

// request sends m to the bridge and waits for the answer while ctx lets
// it (a minute at most when ctx has no deadline).
func (b *Bridge) request(ctx context.Context, m any) (any, error) {
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return nil, ctx.Err()
	}
	f := b.sys.Root.RequestFuture(b.PID, m, timeout)
	done := make(chan struct{})
	var res any
	var err error
	go func() {
		res, err = f.Result()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("bridge %s: %T: %w", b.name, m, err)
	}
	return res, nil
}
