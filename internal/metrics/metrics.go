// Package metrics turns the events of ofactor's bridges into Prometheus
// metrics (prefix ofactor_) and into the JSON status the daemon serves.
//
// Counters and histograms are fed by events (Bridge.Observe): connects and
// disconnects, Geneve negotiation, refusals by OVS error name, flow_mods sent
// by command, bundle commit latency. Gauges whose truth is in the reconciler
// (desired and installed counts and versions) are read at scrape time with
// messages.GetStatus, so they are never stale.
package metrics

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ofactor/ofactor/messages"
)

// StatusFunc asks a bridge for its reconciler's status, waiting at most
// timeout.
type StatusFunc func(timeout time.Duration) (*messages.Status, error)

// ScrapeTimeout bounds each bridge's GetStatus during a scrape: a bridge
// that does not answer is reported as ofactor_up 0, the others as usual.
const ScrapeTimeout = 2 * time.Second

// Metrics is the registry of one process and the bridges it reports on.
type Metrics struct {
	reg *prometheus.Registry

	connected       *prometheus.GaugeVec
	connects        *prometheus.CounterVec
	connectFailures *prometheus.CounterVec
	disconnects     *prometheus.CounterVec
	installedVer    *prometheus.GaugeVec
	rejectedErrors  *prometheus.CounterVec
	modsSent        *prometheus.CounterVec
	rounds          *prometheus.CounterVec
	commitLatency   *prometheus.HistogramVec
	roundDuration   *prometheus.HistogramVec
	lastErrorTime   *prometheus.GaugeVec
	progressSent    *prometheus.GaugeVec
	progressConfirm *prometheus.GaugeVec
	drift           *prometheus.CounterVec
	heals           *prometheus.CounterVec
	audits          *prometheus.CounterVec
	conflicts       *prometheus.CounterVec
	fileErrors      *prometheus.CounterVec

	mu      sync.Mutex
	bridges map[string]*Bridge
}

// NegotiationStates are the values of ofactor_negotiation_state's state
// label; exactly one is 1 per bridge. "disconnected" is before the first
// connection; after it, the last result stays while disconnected.
var NegotiationStates = []string{"disconnected", "negotiating", "enabled", "disabled"}

// New returns a Metrics with a fresh registry holding ofactor's collectors
// and the Go runtime and process collectors.
func New() *Metrics {
	b := []string{"bridge"}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ofactor_connected",
			Help: "1 while the OpenFlow connection to the switch is up (HELLO exchanged)."}, b),
		connects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_connects_total",
			Help: "OpenFlow connections established."}, b),
		connectFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_connect_failures_total",
			Help: "Attempts to connect that failed (no such socket, refused, TLS or HELLO failure)."}, b),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_disconnects_total",
			Help: "OpenFlow connections lost; each is followed by a reconnect with backoff."}, b),
		installedVer: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ofactor_installed_version",
			Help: "Last desired version the switch holds (barrier-confirmed)."}, b),
		rejectedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_errors_total",
			Help: "Flows, groups and meters the switch refused, by kind and OVS error name."},
			[]string{"bridge", "kind", "error"}),
		modsSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_mods_sent_total",
			Help: "flow_mods, group_mods and meter_mods sent, by kind and command."},
			[]string{"bridge", "kind", "command"}),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_rounds_total",
			Help: "Bundle rounds, by result (committed or failed)."}, []string{"bridge", "result"}),
		commitLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ofactor_bundle_commit_seconds",
			Help:    "Time from a bundle COMMIT to its barrier reply.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, b),
		roundDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ofactor_round_seconds",
			Help:    "Time from a round's first message to its last barrier reply.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, b),
		lastErrorTime: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ofactor_last_error_timestamp_seconds",
			Help: "Unix time of the last refusal, failed round or lost connection."}, b),
		progressSent: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ofactor_round_sent",
			Help: "Messages of the current round handed to the connection."}, b),
		progressConfirm: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ofactor_round_confirmed",
			Help: "Messages of the current round confirmed by a barrier reply."}, b),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_drift_total",
			Help: "Out-of-band changes seen on the switch (another party), by kind and change (added, removed, modified)."},
			[]string{"bridge", "kind", "change"}),
		heals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_heal_rounds_total",
			Help: "Times drift was put right and the switch held the desired state again."}, b),
		audits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_audits_total",
			Help: "Audits of the switch's tables, by result (clean or differences)."}, []string{"bridge", "result"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_conflicts_total",
			Help: "Objects held back because another controller kept changing them."}, b),
		fileErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ofactor_file_errors_total",
			Help: "Reads of the bridge's files that failed (a line that does not parse, a file missing or unreadable)."}, b),
		bridges: map[string]*Bridge{},
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.connected, m.connects, m.connectFailures, m.disconnects, m.installedVer,
		m.rejectedErrors, m.modsSent, m.rounds, m.commitLatency, m.roundDuration, m.lastErrorTime,
		m.progressSent, m.progressConfirm, m.drift, m.heals, m.audits, m.conflicts, m.fileErrors,
		&statusCollector{m: m})
	return m
}

// Registry returns the registry to serve (promhttp.HandlerFor).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// AddBridge starts reporting on a bridge: name and target as configured,
// status to read its reconciler. Feed its events to the result's Observe.
func (m *Metrics) AddBridge(name, target string, status StatusFunc) *Bridge {
	b := &Bridge{m: m, name: name, target: target, statusFn: status}
	m.connected.WithLabelValues(name).Set(0)
	m.connects.WithLabelValues(name)
	m.connectFailures.WithLabelValues(name)
	m.disconnects.WithLabelValues(name)
	// Series that exist from the start, so that rate() and absent() work
	// before the first round.
	for _, kc := range [][2]string{{"flow", "add"}, {"flow", "modify"}, {"flow", "delete"}, {"group", "mod"}, {"meter", "mod"}} {
		m.modsSent.WithLabelValues(name, kc[0], kc[1])
	}
	m.rounds.WithLabelValues(name, "committed")
	m.rounds.WithLabelValues(name, "failed")
	m.commitLatency.WithLabelValues(name)
	m.roundDuration.WithLabelValues(name)
	m.installedVer.WithLabelValues(name)
	for _, kind := range []string{"flow", "group", "meter"} {
		for _, change := range []string{"added", "removed", "modified"} {
			m.drift.WithLabelValues(name, kind, change)
		}
	}
	m.heals.WithLabelValues(name)
	m.audits.WithLabelValues(name, "clean")
	m.audits.WithLabelValues(name, "differences")
	m.conflicts.WithLabelValues(name)
	m.fileErrors.WithLabelValues(name)
	m.mu.Lock()
	m.bridges[name] = b
	m.mu.Unlock()
	return b
}

// RemoveBridge stops reporting on a bridge and drops its series.
func (m *Metrics) RemoveBridge(name string) {
	m.mu.Lock()
	delete(m.bridges, name)
	m.mu.Unlock()
	labels := prometheus.Labels{"bridge": name}
	for _, v := range []interface {
		DeletePartialMatch(prometheus.Labels) int
	}{m.connected, m.connects, m.connectFailures, m.disconnects, m.installedVer, m.rejectedErrors,
		m.modsSent, m.rounds, m.commitLatency, m.roundDuration, m.lastErrorTime, m.progressSent, m.progressConfirm,
		m.drift, m.heals, m.audits, m.conflicts, m.fileErrors} {
		v.DeletePartialMatch(labels)
	}
}

// Bridges returns the bridges in name order.
func (m *Metrics) Bridges() []*Bridge {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Bridge, 0, len(m.bridges))
	for _, b := range m.bridges {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Bridge returns the bridge called name, or nil.
func (m *Metrics) Bridge(name string) *Bridge {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bridges[name]
}

// NegotiationState is the state of a bridge's Geneve negotiation as the
// reconciler sees it (the negotiator announces a result only when it
// changes, so events alone cannot tell a renegotiation from a stale one):
// one of NegotiationStates.
func NegotiationState(st *messages.Status) string {
	switch {
	case st.Geneve.Seq == 0 && !st.Connected:
		return "disconnected"
	case st.Connected && st.Geneve.Seq != st.Seq:
		return "negotiating"
	case st.Geneve.Enabled:
		return "enabled"
	}
	return "disabled"
}

// statusCollector reads each bridge's reconciler at scrape time.
type statusCollector struct{ m *Metrics }

var (
	descUp = prometheus.NewDesc("ofactor_up",
		"1 when the bridge's actors answered the scrape's status request.", []string{"bridge"}, nil)
	descDesired = prometheus.NewDesc("ofactor_desired",
		"Desired flows, groups and meters.", []string{"bridge", "kind"}, nil)
	descInstalled = prometheus.NewDesc("ofactor_installed",
		"Flows, groups and meters the switch holds; absent while that is not known (disconnected, not read yet).",
		[]string{"bridge", "kind"}, nil)
	descRejected = prometheus.NewDesc("ofactor_rejected",
		"Desired objects the switch currently refuses.", []string{"bridge"}, nil)
	descDesiredVer = prometheus.NewDesc("ofactor_desired_version",
		"Version of the desired state (one per PutDesired or UpdateFlows).", []string{"bridge"}, nil)
	descInSync = prometheus.NewDesc("ofactor_in_sync",
		"1 when the switch is known to hold the desired state (connected, tables read, nothing to install); 0 while disconnected.",
		[]string{"bridge"}, nil)
	descNegotiation = prometheus.NewDesc("ofactor_negotiation_state",
		"Geneve TLV negotiation state: 1 for the current state.", []string{"bridge", "state"}, nil)
	descGeneveIndex = prometheus.NewDesc("ofactor_geneve_index",
		"tun_metadata index of the Geneve option, -1 while none is assigned.", []string{"bridge"}, nil)
)

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descDesired, descInstalled, descRejected, descDesiredVer, descInSync,
		descNegotiation, descGeneveIndex} {
		ch <- d
	}
}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	bridges := c.m.Bridges()
	var wg sync.WaitGroup
	sts := make([]*messages.Status, len(bridges))
	for i, b := range bridges {
		// In parallel: a stalled bridge costs the scrape one timeout, not
		// one per bridge.
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i], _ = b.statusFn(ScrapeTimeout)
		}()
	}
	wg.Wait()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for i, b := range bridges {
		st := sts[i]
		if st == nil {
			g(descUp, 0, b.name)
			continue
		}
		g(descUp, 1, b.name)
		g(descDesired, float64(st.DesiredFlows), b.name, "flow")
		g(descDesired, float64(st.DesiredGroups), b.name, "group")
		g(descDesired, float64(st.DesiredMeters), b.name, "meter")
		if st.InstalledKnown {
			// Not known (disconnected, not read yet): no series rather
			// than stale counts.
			g(descInstalled, float64(st.InstalledFlows), b.name, "flow")
			g(descInstalled, float64(st.InstalledGroups), b.name, "group")
			g(descInstalled, float64(st.InstalledMeters), b.name, "meter")
		}
		g(descRejected, float64(st.Rejected), b.name)
		g(descDesiredVer, float64(st.DesiredVersion), b.name)
		inSync := 0.0
		if st.InSync {
			inSync = 1
		}
		g(descInSync, inSync, b.name)
		ns := NegotiationState(st)
		for _, s := range NegotiationStates {
			v := 0.0
			if s == ns {
				v = 1
			}
			g(descNegotiation, v, b.name, s)
		}
		idx := -1.0
		if st.Geneve.Enabled {
			idx = float64(st.Geneve.Index)
		}
		g(descGeneveIndex, idx, b.name)
	}
}
