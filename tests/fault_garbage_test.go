package tests

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/openflow"
)

// The ofactor daemon (built with -race) against a switch that sends every
// kind of garbage: it keeps running, drops and re-makes the connection with
// a growing backoff, and never panics.
func TestFaultGarbageSwitch(t *testing.T) {
	sw, err := fakeswitch.Start(fakeswitch.GarbageScript(openflow.Version13, 300*time.Millisecond, fakeswitch.Kinds...))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	d := startDaemon(t, sw.Target(), append([]string{"--probe", "200ms"}, sampleArgs(t)...)...)
	want := len(fakeswitch.Kinds) + 1
	deadline := time.Now().Add(60 * time.Second)
	for len(sw.Accepted()) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in 60s, want %d", len(sw.Accepted()), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	logs := d.logs()
	if strings.Contains(logs, "panic") || strings.Contains(logs, "actor failed") {
		t.Fatalf("ofactor panicked:\n%s", tail(logs, 40))
	}
	var delays []time.Duration
	// The console encoder writes durations in seconds: "delay": 0.25
	for _, m := range regexp.MustCompile(`reconnecting\s.*"delay": ([0-9.]+)`).FindAllStringSubmatch(logs, -1) {
		if d, err := time.ParseDuration(m[1] + "s"); err == nil {
			delays = append(delays, d)
		}
	}
	if len(delays) < want-1 {
		t.Fatalf("%d reconnect delays logged, want %d:\n%s", len(delays), want-1, tail(logs, 40))
	}
	if delays[len(delays)-1] <= delays[0] {
		t.Errorf("reconnect delays do not grow: %v", delays)
	}
	for _, e := range sw.Errors() {
		t.Errorf("fake switch: %v", e)
	}
}
