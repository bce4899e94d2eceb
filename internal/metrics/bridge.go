package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// Bridge is what the process knows of one bridge from its events, and how
// to ask its reconciler for the rest.
type Bridge struct {
	m              *Metrics
	name, target   string
	statusFn       StatusFunc
	mu             sync.Mutex
	connected      bool
	seq            uint64
	version        uint8
	connects       int
	lastErr        string
	lastErrAt      time.Time
	progress       messages.Progress
	installedEvent messages.VersionInstalled
}

// Name is the bridge's name.
func (b *Bridge) Name() string { return b.name }

// Observe updates the metrics from one of the bridge's events; other
// messages are ignored. It is safe to call from any goroutine.
func (b *Bridge) Observe(ev any) {
	m, n := b.m, b.name
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *messages.Connected:
		b.connected, b.seq, b.version = true, e.Seq, e.Version
		b.connects++
		m.connected.WithLabelValues(n).Set(1)
		m.connects.WithLabelValues(n).Inc()
	case *messages.ConnectFailed:
		m.connectFailures.WithLabelValues(n).Inc()
		b.setError(e.Err)
	case *messages.Disconnected:
		if e.Seq != b.seq {
			return
		}
		b.connected = false
		m.connected.WithLabelValues(n).Set(0)
		m.disconnects.WithLabelValues(n).Inc()
		b.setError("connection lost: " + e.Err)
	case *messages.VersionInstalled:
		b.installedEvent = *e
		m.installedVer.WithLabelValues(n).Set(float64(e.Version))
	case *messages.Rejected:
		m.rejectedErrors.WithLabelValues(n, e.Kind, e.Error).Inc()
		b.setError(e.Error + ": " + e.Text)
	case *messages.Progress:
		b.progress = *e
		m.progressSent.WithLabelValues(n).Set(float64(e.Sent))
		m.progressConfirm.WithLabelValues(n).Set(float64(e.Confirmed))
	case *messages.RoundFinished:
		b.roundFinished(e)
	case *messages.Drift:
		for _, k := range []struct {
			kind string
			c    messages.DriftCounts
		}{{"flow", e.Flows}, {"group", e.Groups}, {"meter", e.Meters}} {
			m.drift.WithLabelValues(n, k.kind, "added").Add(float64(k.c.Added))
			m.drift.WithLabelValues(n, k.kind, "removed").Add(float64(k.c.Removed))
			m.drift.WithLabelValues(n, k.kind, "modified").Add(float64(k.c.Modified))
		}
	case *messages.InSync:
		if e.Cause == "heal" {
			m.heals.WithLabelValues(n).Inc()
		}
	case *messages.Audited:
		if e.Differences > 0 {
			m.audits.WithLabelValues(n, "differences").Inc()
		} else {
			m.audits.WithLabelValues(n, "clean").Inc()
		}
	case *messages.Conflict:
		m.conflicts.WithLabelValues(n).Inc()
		b.setError(fmt.Sprintf("conflict: %s changed out of band %d times, held back for %v: %s", e.Kind, e.Count, e.Backoff, e.Text))
	}
}

// FileError records a read of the bridge's files that failed: counted,
// and the last error (with file:line:column) in the status.
func (b *Bridge) FileError(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m.fileErrors.WithLabelValues(b.name).Inc()
	b.setError("files not applied: " + err.Error())
}

func (b *Bridge) roundFinished(e *messages.RoundFinished) {
	m, n := b.m, b.name
	for _, c := range []struct {
		kind, cmd string
		n         int
	}{
		{"flow", "add", e.FlowAdds}, {"flow", "modify", e.FlowModifies}, {"flow", "delete", e.FlowDeletes},
		{"group", "mod", e.GroupMods}, {"meter", "mod", e.MeterMods},
	} {
		if c.n > 0 {
			m.modsSent.WithLabelValues(n, c.kind, c.cmd).Add(float64(c.n))
		}
	}
	if e.Failed != "" {
		m.rounds.WithLabelValues(n, "failed").Inc()
		b.setError("round failed: " + e.Failed)
	} else {
		m.rounds.WithLabelValues(n, "committed").Inc()
	}
	if e.CommitLatency > 0 {
		m.commitLatency.WithLabelValues(n).Observe(e.CommitLatency.Seconds())
	}
	if e.Duration > 0 {
		m.roundDuration.WithLabelValues(n).Observe(e.Duration.Seconds())
	}
	b.progress = messages.Progress{}
	m.progressSent.WithLabelValues(n).Set(0)
	m.progressConfirm.WithLabelValues(n).Set(0)
}

// setError records err as the last error; b.mu is held.
func (b *Bridge) setError(err string) {
	b.lastErr, b.lastErrAt = err, time.Now()
	b.m.lastErrorTime.WithLabelValues(b.name).Set(float64(b.lastErrAt.UnixNano()) / 1e9)
}

// Progress returns the last progress event of the round under way; zero
// when no round is.
func (b *Bridge) Progress() messages.Progress {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.progress
}

// Status is the JSON document /status serves for one bridge.
type Status struct {
	Bridge string `json:"bridge"`
	Target string `json:"target"`
	// State is "unresponsive" (the actors did not answer), "disconnected",
	// "negotiating" (connected, Geneve not settled yet), "syncing" (the
	// switch is not known to hold the desired state: its tables being
	// read, a change or a repair on its way) or "in_sync" (the reconciler
	// says so: Status.InSync).
	State      string     `json:"state"`
	Connection Connection `json:"connection"`
	Geneve     Geneve     `json:"geneve"`
	Desired    Tables     `json:"desired"`
	Installed  *Tables    `json:"installed"` // null while not known (disconnected, not read yet)
	Rejected   int        `json:"rejected"`
	Progress   *Progress  `json:"progress,omitempty"`
	LastError  *LastError `json:"last_error,omitempty"`
	// MissingPorts are ports flows name that the switch does not have:
	// those flows wait for them.
	MissingPorts []string `json:"missing_ports,omitempty"`
}

// Connection is the connection part of Status.
type Connection struct {
	Connected bool   `json:"connected"`
	Seq       uint64 `json:"seq"`
	Version   string `json:"openflow_version,omitempty"`
	Connects  int    `json:"connects"`
}

// Geneve is the negotiation part of Status.
type Geneve struct {
	State string `json:"state"` // as ofactor_negotiation_state, or "unknown"
	Field string `json:"field,omitempty"`
	Index int    `json:"index"` // -1: none
	Class string `json:"class,omitempty"`
	Type  string `json:"type,omitempty"`
	Len   uint8  `json:"len,omitempty"`
}

// Tables is a version and counts of flows, groups and meters.
type Tables struct {
	Version uint64 `json:"version"`
	Flows   int    `json:"flows"`
	Groups  int    `json:"groups"`
	Meters  int    `json:"meters"`
}

// Progress is the round under way.
type Progress struct {
	Version   uint64 `json:"version"`
	Sent      int    `json:"sent"`
	Confirmed int    `json:"confirmed"`
	Total     int    `json:"total"`
}

// LastError is the last refusal, failed round, failed attempt to connect
// or lost connection.
type LastError struct {
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// Status assembles the bridge's status from its reconciler (waiting at most
// timeout) and its events.
func (b *Bridge) Status(timeout time.Duration) Status {
	st, err := b.statusFn(timeout)
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Status{Bridge: b.name, Target: b.target, Connection: Connection{
		Connected: b.connected, Seq: b.seq, Connects: b.connects}}
	if b.connected {
		s.Connection.Version = versionName(b.version)
	}
	s.Geneve = Geneve{State: "unknown", Index: -1}
	if b.lastErr != "" {
		s.LastError = &LastError{Message: b.lastErr, Time: b.lastErrAt.UTC()}
	}
	if p := b.progress; p.Total > 0 {
		s.Progress = &Progress{Version: p.Version, Sent: p.Sent, Confirmed: p.Confirmed, Total: p.Total}
	}
	if err != nil || st == nil {
		s.State = "unresponsive"
		return s
	}
	g := st.Geneve
	s.Geneve.State = NegotiationState(st)
	if g.Enabled {
		s.Geneve.Field = fmt.Sprintf("tun_metadata%d", g.Index)
		s.Geneve.Index = g.Index
		s.Geneve.Class, s.Geneve.Type, s.Geneve.Len = fmt.Sprintf("0x%04x", g.Class), fmt.Sprintf("0x%02x", g.Type), g.Len
	}
	s.Desired = Tables{st.DesiredVersion, st.DesiredFlows, st.DesiredGroups, st.DesiredMeters}
	if st.InstalledKnown {
		s.Installed = &Tables{st.InstalledVersion, st.InstalledFlows, st.InstalledGroups, st.InstalledMeters}
	}
	s.Rejected = st.Rejected
	s.MissingPorts = st.MissingPorts
	switch {
	case !st.Connected:
		s.State = "disconnected"
	case s.Geneve.State == "negotiating":
		s.State = "negotiating"
	case st.InSync:
		s.State = "in_sync"
	default:
		s.State = "syncing"
	}
	return s
}

func versionName(v uint8) string { return openflow.VersionName(v) }
