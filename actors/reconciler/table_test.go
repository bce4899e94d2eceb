package reconciler

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestTableAsMap drives a table and a map with the same random sets,
// deletes and lookups, growing, emptying and compacting, and checks they
// agree throughout.
func TestTableAsMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tb, m := newTable(0), map[string]string{}
	key := func() string { return fmt.Sprintf("key-%d", r.IntN(5000)) }
	check := func(step int) {
		t.Helper()
		if tb.Len() != len(m) {
			t.Fatalf("step %d: Len %d, map %d", step, tb.Len(), len(m))
		}
		seen := 0
		for k, v := range tb.All() {
			seen++
			if mv, ok := m[k]; !ok || mv != v {
				t.Fatalf("step %d: All yields %q=%q, map has %q (%v)", step, k, v, mv, ok)
			}
		}
		if seen != len(m) {
			t.Fatalf("step %d: All yields %d, map holds %d", step, seen, len(m))
		}
	}
	for step := range 200_000 {
		switch k := key(); r.IntN(10) {
		case 0, 1, 2, 3:
			v := fmt.Sprintf("v%d", r.IntN(100))
			if r.IntN(50) == 0 {
				v = "" // an empty value is a value
			}
			tb.Set(k, v)
			m[k] = v
		case 4, 5:
			tb.Delete(k)
			delete(m, k)
		case 6:
			if step%1000 == 0 {
				tb.Compact()
			}
		default:
			v, ok := tb.Get(k)
			if mv, mok := m[k]; v != mv || ok != mok || tb.Has(k) != mok {
				t.Fatalf("step %d: Get(%q) = %q %v, map %q %v", step, k, v, ok, mv, mok)
			}
		}
		if step%20_000 == 0 {
			check(step)
		}
		if step == 100_000 {
			// Empty it: the table then shrinks at its next compaction.
			for k := range tb.All() {
				tb.Delete(k)
			}
			clear(m)
			check(step)
			big := len(tb.slots)
			tb.Compact()
			if len(tb.slots) >= big {
				t.Fatalf("an emptied table of %d slots was not made smaller", big)
			}
		}
	}
	check(-1)
	tb.Set("", "empty key")
	if v, ok := tb.Get(""); !ok || v != "empty key" {
		t.Fatalf("the empty key: %q %v", v, ok)
	}
}

// TestTableAllDeletes: deleting and changing values while All runs is
// allowed, as with a map; a deleted entry not reached yet is not yielded.
func TestTableAllDeletes(t *testing.T) {
	tb := newTable(0)
	for i := range 1000 {
		tb.Set(fmt.Sprint(i), "x")
	}
	seen := map[string]bool{}
	for k := range tb.All() {
		if seen[k] {
			t.Fatalf("%s yielded twice", k)
		}
		seen[k] = true
		tb.Set(k, "y")
		var n int
		fmt.Sscan(k, &n)
		tb.Delete(fmt.Sprint(n ^ 1)) // its pair
	}
	if len(seen) != 500 || tb.Len() != 500 {
		t.Fatalf("yielded %d, %d left; want one of each pair", len(seen), tb.Len())
	}
	for _, v := range tb.All() {
		if v != "y" {
			t.Fatalf("value %q", v)
		}
	}
}

// TestTableGrowWhileIterated: a new key that makes the table grow inside
// All is a broken invariant.
func TestTableGrowWhileIterated(t *testing.T) {
	tb := newTable(0)
	tb.Set("a", "1")
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	i := 0
	for range tb.All() {
		for range 100 {
			tb.Set(fmt.Sprint("new", i), "")
			i++
		}
	}
}

// TestTableConcurrentReaders: lookups from many goroutines at once (run
// with -race).
func TestTableConcurrentReaders(t *testing.T) {
	tb := newTable(10_000)
	for i := range 10_000 {
		tb.Set(fmt.Sprint(i), fmt.Sprint(-i))
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 10_000; i += 4 {
				if v, _ := tb.Get(fmt.Sprint(i)); v != fmt.Sprint(-i) {
					t.Errorf("%d: %q", i, v)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// tableOrMap is what BenchmarkDesiredTable measures either way.
type tableOrMap interface {
	Set(k, v string)
	Get(k string) (string, bool)
}

type stdMap map[string]string

func (m stdMap) Set(k, v string)             { m[k] = v }
func (m stdMap) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }

// BenchmarkDesiredTable fills a table and a map with 1M generated keys
// (flow-sized, 70 and 80 bytes) and reports the bytes each takes an entry
// beyond the strings, and the time of a lookup.
func BenchmarkDesiredTable(b *testing.B) {
	const n = 1_000_000
	keys, vals := make([]string, n), make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%070d", i)
		vals[i] = fmt.Sprintf("%080d", i)
	}
	for _, c := range []struct {
		name string
		make func() tableOrMap
	}{{"table", func() tableOrMap { return newTable(0) }}, {"map", func() tableOrMap { return stdMap{} }}} {
		b.Run(c.name, func(b *testing.B) {
			var ms0, ms1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms0)
			t := c.make()
			for i := range keys {
				t.Set(keys[i], vals[i])
			}
			runtime.GC()
			runtime.ReadMemStats(&ms1)
			perEntry := float64(ms1.HeapAlloc-ms0.HeapAlloc) / n
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, ok := t.Get(keys[i%n]); !ok {
					b.Fatal("missing")
				}
			}
			b.ReportMetric(perEntry, "B/entry")
			runtime.KeepAlive(t)
		})
	}
}
