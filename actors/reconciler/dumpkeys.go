package reconciler

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/ofactor/ofactor/openflow"
)

// flowStatsInto adds dumped flows to m by their canonical bytes, on every
// core.
//
// Normalizing a match is the dear part of canonical bytes, and a switch
// that holds what we sent reports our own canonical matches back. So each
// flow is first encoded as it came: if that key is desired with that very
// value, it is canonical (normalizing canonical bytes gives them back) and
// the desired strings are shared. Only the other flows are normalized.
func flowStatsInto(m map[string]string, stats []openflow.FlowStats, desired map[string]string) string {
	type kv struct{ k, v string }
	out := make([]kv, len(stats))
	errs := make([]error, len(stats))
	workers := min(runtime.GOMAXPROCS(0), 1+len(stats)/1024)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(stats); i += workers {
				out[i].k, out[i].v, errs[i] = dumpedKeyVal(&stats[i], desired)
			}
		}()
	}
	wg.Wait()
	for i := range out {
		if errs[i] != nil {
			return fmt.Sprintf("flow %d: %v", i, errs[i])
		}
		m[out[i].k] = out[i].v
	}
	return ""
}

// dumpedKeyVal is FlowStatsKey with the fast path of flowStatsInto. It
// only reads desired, which no one writes while the dump is read.
func dumpedKeyVal(fs *openflow.FlowStats, desired map[string]string) (string, string, error) {
	b, kl, err := encodeKeyVal(fs.TableID, fs.Priority, &fs.Match, fs.Cookie,
		fs.IdleTimeout, fs.HardTimeout, fs.Flags, fs.Importance, fs.Instructions)
	if err == nil {
		if d, ok := desired[string(b[:kl])]; ok && d == string(b[kl:]) {
			return string(b[:kl]), d, nil
		}
	}
	return FlowStatsKey(fs)
}

// flowEntries is flowEntry for many flows, on every core: a full desired
// table of 100k flows costs its canonical bytes once, and that is most of
// the work of taking it.
//
// As for a dump, a flow whose match encodes as it is to a key already
// desired is canonical (the value is never normalized), so a full-set put
// that changes little normalizes only its new flows.
func flowEntries(fms []*openflow.FlowMod, desired map[string]string) (keys, vals []string, errs []error) {
	keys, vals, errs = make([]string, len(fms)), make([]string, len(fms)), make([]error, len(fms))
	workers := min(runtime.GOMAXPROCS(0), 1+len(fms)/1024)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(fms); i += workers {
				keys[i], vals[i], errs[i] = knownEntry(fms[i], desired)
			}
		}()
	}
	wg.Wait()
	return keys, vals, errs
}

// knownEntry is flowEntry with the fast path of flowEntries: a flow whose
// match, encoded as given, is a desired key needs no normalizing.
func knownEntry(fm *openflow.FlowMod, desired map[string]string) (string, string, error) {
	b, kl, err := encodeKeyVal(fm.TableID, fm.Priority, &fm.Match, fm.Cookie,
		fm.IdleTimeout, fm.HardTimeout, fm.Flags, fm.Importance, fm.Instructions)
	if err == nil {
		// The lookup converts without allocating: a new flow leaves no
		// garbage string behind among the table's live ones.
		if _, ok := desired[string(b[:kl])]; ok {
			kv := string(b)
			if k, v := kv[:kl], kv[kl:]; fitsBundle(k, v) {
				return k, v, nil
			}
		}
	}
	return flowEntry(fm)
}
