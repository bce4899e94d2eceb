package parallel

import (
	"sync/atomic"
	"testing"
)

func TestForCallsEachOnce(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1023, 1024, 5000, 100_000} {
		hits := make([]atomic.Int32, n)
		For(n, func(i int) { hits[i].Add(1) })
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("n=%d: f(%d) called %d times", n, i, hits[i].Load())
			}
		}
	}
}

func TestOrderedPrefixGrows(t *testing.T) {
	const n, chunk = 10_000, 512
	var covered atomic.Int64
	last := 0
	Ordered(n, chunk, func(lo, hi int) {
		covered.Add(int64(hi - lo))
	}, func(m int) {
		if m <= last || m > n {
			t.Errorf("done(%d) after done(%d)", m, last)
		}
		last = m
	})
	if covered.Load() != n || last != n {
		t.Fatalf("covered %d, last done %d, want %d", covered.Load(), last, n)
	}
}
