package fleet

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// fleetMetrics are the fleet's own metrics; the bridges' are package
// metrics' as in a single process.
type fleetMetrics struct {
	owned     *prometheus.GaugeVec
	failovers prometheus.Counter
	demotions prometheus.Counter
}

func newFleetMetrics(reg prometheus.Registerer) (*fleetMetrics, error) {
	m := &fleetMetrics{
		owned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ofactor_bridge_owned",
			Help: "1 while this member owns the bridge and the switch granted it MASTER, else 0.",
		}, []string{"bridge"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ofactor_failovers_total",
			Help: "Activations on this member of a bridge whose previous owner was another member.",
		}),
		demotions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ofactor_demotions_total",
			Help: "Bridges this member stopped because the switch demoted it (another member is master).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.owned, err = register(reg, m.owned); err != nil {
		return nil, err
	}
	if m.failovers, err = register(reg, m.failovers); err != nil {
		return nil, err
	}
	if m.demotions, err = register(reg, m.demotions); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered under
// its name (a member that rejoins keeps counting).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}
