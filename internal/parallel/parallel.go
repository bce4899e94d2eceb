// Package parallel runs loops on every core: the one worker-pool helper of
// ofactor (parsing files, encoding puts, scanning tables).
package parallel

import (
	"runtime"
	"sync"
)

// minPerWorker is how many small iterations make a goroutine worth it.
const minPerWorker = 1024

// For calls f(0) ... f(n-1) on every core, each index once, and returns
// when all calls have. f must be safe to call concurrently.
func For(n int, f func(i int)) {
	run(n, 256, min(runtime.GOMAXPROCS(0), 1+n/minPerWorker), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	}, nil)
}

// Chunks calls f on [0,n) cut into runs of chunk indexes, handed out in
// turn to one goroutine per core (so that every core stays busy to the end
// even when some runs take longer), and returns when all calls have.
func Chunks(n, chunk int, f func(lo, hi int)) {
	Ordered(n, chunk, f, nil)
}

// Ordered is Chunks that also calls done(m), one call at a time and m
// growing, each time the runs covering [0,m) have all returned: a caller
// can hand on the front of the work while the rest goes on.
func Ordered(n, chunk int, f func(lo, hi int), done func(m int)) {
	run(n, chunk, runtime.GOMAXPROCS(0), f, done)
}

func run(n, chunk, workers int, f func(lo, hi int), done func(m int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	runs := (n + chunk - 1) / chunk
	if workers = min(workers, runs); workers <= 1 {
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			f(lo, hi)
			if done != nil {
				done(hi)
			}
		}
		return
	}
	var (
		mu     sync.Mutex
		next   int
		fin    = make([]bool, runs)
		prefix int // runs finished from the start
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				r := next
				next++
				mu.Unlock()
				if r >= runs {
					return
				}
				lo := r * chunk
				f(lo, min(lo+chunk, n))
				mu.Lock()
				fin[r] = true
				was := prefix
				for prefix < runs && fin[prefix] {
					prefix++
				}
				if done != nil && prefix > was {
					done(min(prefix*chunk, n))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
