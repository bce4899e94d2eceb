package reconciler

import (
	"hash/maphash"
	"runtime"
	"sync"
)

// A full-set put usually names the same keys as the desired table, with a
// few values changed and a few keys added. replaceSame takes that case
// without building a map of the new set: the new set is scanned on every
// core, read-only, and only its changes are applied.
//
// It must prove that no desired key is missing from the new set (else a
// removal would be missed) and that no key is given twice. The scan counts
// the entries whose key is desired and sums their keys' hashes: the count
// equal to the table's size and the sum equal to the table's own running
// sum (keyspace.sum) means the desired keys appear exactly once each, up to
// a 64-bit hash collision. Otherwise nothing is changed and the caller takes
// the exact, map-building path.

// keyHash is the hash summed into keyspace.sum; the seed is fixed per
// process, so sums compare across keyspaces.
var keySeed = maphash.MakeSeed()

func keyHash(k string) uint64 { return maphash.String(keySeed, k) }

// replaceSame makes keys/vals the whole desired table when the scan proves
// it may (see above); entries with errs[i] != nil are left out. New keys
// given twice keep their first value.
func (s *keyspace) replaceSame(keys, vals []string, errs []error) bool {
	type part struct {
		found   int
		sum     uint64
		changed []int // indexes whose key is new or whose value differs
	}
	workers := min(runtime.GOMAXPROCS(0), 1+len(keys)/4096)
	parts := make([]part, workers)
	chunk := (len(keys) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &parts[w]
			for i := w * chunk; i < min((w+1)*chunk, len(keys)); i++ {
				if errs[i] != nil {
					continue
				}
				d, ok := s.desired[keys[i]]
				if ok {
					p.found++
					p.sum += keyHash(keys[i])
					if d == vals[i] {
						continue
					}
				}
				p.changed = append(p.changed, i)
			}
		}()
	}
	wg.Wait()
	found, sum := 0, uint64(0)
	for _, p := range parts {
		found += p.found
		sum += p.sum
	}
	if found != len(s.desired) || sum != s.sum {
		return false
	}
	var added map[string]struct{}
	for _, p := range parts {
		for _, i := range p.changed {
			k := keys[i]
			if _, ok := s.desired[k]; !ok {
				if added == nil {
					added = map[string]struct{}{}
				}
				added[k] = struct{}{}
			} else if _, dup := added[k]; dup {
				continue // a new key given twice: the first stays
			}
			s.put(k, vals[i])
		}
	}
	return true
}
