package reconciler

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/openflow"
)

// flowStatsInto adds dumped flows to m by their bytes as the switch sent
// them (FlowStats.RawMatch and RawInstructions), not normalized: a switch
// that holds what we sent reports our own canonical bytes back, so the
// dump costs a copy a flow, and canonicalize later normalizes only the
// flows that then differ from the desired ones. A flow not read from the
// wire is encoded as it is.
func flowStatsInto(m map[string]string, stats []openflow.FlowStats) string {
	for i := range stats {
		fs := &stats[i]
		var (
			k, v string
			err  error
		)
		if fs.RawMatch != nil {
			k, v = rawKeyVal(fs)
		} else {
			k, v, err = flowkey.KeyVal(fs.TableID, fs.Priority, &fs.Match, fs.Cookie,
				fs.IdleTimeout, fs.HardTimeout, fs.Flags, fs.Importance, fs.Instructions)
		}
		if err != nil {
			return fmt.Sprintf("flow %d: %v", i, err)
		}
		m[k] = v
	}
	return ""
}

// rawKeyVal lays out a dumped flow's key and value (package flowkey) from
// its bytes as received, in one allocation.
func rawKeyVal(fs *openflow.FlowStats) (string, string) {
	b := make([]byte, keyFixed, keyFixed+len(fs.RawMatch)+valFixed+len(fs.RawInstructions))
	b[0] = fs.TableID
	binary.BigEndian.PutUint16(b[1:], fs.Priority)
	b = append(b, fs.RawMatch...)
	kl := len(b)
	b = binary.BigEndian.AppendUint64(b, fs.Cookie)
	b = binary.BigEndian.AppendUint16(b, fs.IdleTimeout)
	b = binary.BigEndian.AppendUint16(b, fs.HardTimeout)
	b = binary.BigEndian.AppendUint16(b, fs.Flags)
	b = binary.BigEndian.AppendUint16(b, fs.Importance)
	b = append(b, fs.RawInstructions...)
	kv := string(b)
	return kv[:kl], kv[kl:]
}

// canonicalKeyVal normalizes a dumped flow's bytes: decoded and encoded
// again with its match normalized. ok is false when they do not decode; the
// flow is then kept as it came (deleting it by those bytes still works).
func canonicalKeyVal(version uint8, k, v string) (string, string, bool) {
	fm, err := flowkey.Decode(version, k, v)
	if err != nil {
		return "", "", false
	}
	f, err := flowkey.Of(fm)
	if err != nil {
		return "", "", false
	}
	return f.Key(), f.Value(), true
}

// flowEntries is FlowModKey for many flows, on every core: a full desired
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

// knownEntry is FlowModKey with the fast path of flowEntries: a flow whose
// match, encoded as given, is a desired key needs no normalizing.
func knownEntry(fm *openflow.FlowMod, desired map[string]string) (string, string, error) {
	b, kl, err := flowkey.Encode(fm.TableID, fm.Priority, &fm.Match, fm.Cookie,
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
	return FlowModKey(fm)
}
