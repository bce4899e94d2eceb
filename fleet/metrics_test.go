package fleet

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A member that rejoins registers its metrics again: it gets the
// collectors already there, and keeps counting.
func TestMetricsRegisterTwice(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := newFleetMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.failovers.Inc()
	a.owned.WithLabelValues("br-int").Set(1)
	b, err := newFleetMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b.failovers.Inc()
	if got := testutil.ToFloat64(b.failovers); got != 2 {
		t.Errorf("ofactor_failovers_total %v after a rejoin, want 2", got)
	}
	if got := testutil.ToFloat64(b.owned.WithLabelValues("br-int")); got != 1 {
		t.Errorf("ofactor_bridge_owned %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "ofactor_bridge_owned", "ofactor_failovers_total", "ofactor_demotions_total"); err != nil || n != 3 {
		t.Errorf("gathered %d series (%v), want 3", n, err)
	}
	if _, err := newFleetMetrics(nil); err != nil {
		t.Errorf("no registerer: %v", err)
	}
}
