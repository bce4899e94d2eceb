package ofctl

import (
	"sync"
	"testing"
)

// Parsing borrows scratch space from pools (oxm's views, action's apply
// lists): flows parsed at once by several goroutines must come out as
// when parsed one by one. Run with -race.
func TestParseFlowConcurrent(t *testing.T) {
	lines := ovnSampleLines(t, "flows.txt")
	if len(lines) > 1000 {
		lines = lines[:1000]
	}
	want := make([]string, len(lines))
	for k, l := range lines {
		fm, err := ParseFlow(l, nil)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		want[k] = string(AppendFlow(nil, fm))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range lines {
				k := (k + g*len(lines)/4) % len(lines)
				fm, err := ParseFlow(lines[k], nil)
				if err != nil {
					t.Errorf("%s: %v", lines[k], err)
					return
				}
				if got := string(AppendFlow(nil, fm)); got != want[k] {
					t.Errorf("goroutine %d:\n got %s\nwant %s", g, got, want[k])
					return
				}
			}
		}()
	}
	wg.Wait()
}
