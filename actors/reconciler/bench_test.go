package reconciler

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// The Go benchmarks of `make bench` (row 5 of cmd/ofbench): parse 100k
// lines, encode 100k flow_mods, diff 1M unchanged flows, diff one change.

const benchFlows = 100_000

func benchContext() *ofctl.Context {
	ctx := &ofctl.Context{Version: openflow.Version13}
	ctx.OXM.Geneve = -1
	return ctx
}

// BenchmarkParse100k parses 100k generated OVN-like lines (ofctl.ParseFlows).
func BenchmarkParse100k(b *testing.B) {
	text := strings.Join(flowgen.Flows(benchFlows), "\n")
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for range b.N {
		lines, err := ofctl.ParseFlows("bench", strings.NewReader(text), benchContext())
		if err != nil || len(lines) != benchFlows {
			b.Fatalf("%d lines: %v", len(lines), err)
		}
	}
}

func parsedFlows(b testing.TB, n int) []*openflow.FlowMod {
	b.Helper()
	ctx := benchContext()
	out := make([]*openflow.FlowMod, n)
	for i := range out {
		fm, err := ofctl.ParseFlow(flowgen.Flow(i, 0), ctx)
		if err != nil {
			b.Fatalf("flow %d: %v", i, err)
		}
		out[i] = fm
	}
	return out
}

// BenchmarkEncode100k turns 100k parsed flows into canonical bytes and the
// bundled flow_mods a cold install sends.
func BenchmarkEncode100k(b *testing.B) {
	fms := parsedFlows(b, benchFlows)
	b.ResetTimer()
	for range b.N {
		var buf []byte
		for _, fm := range fms {
			f, err := flowkey.Of(fm)
			if err != nil {
				b.Fatal(err)
			}
			add := &openflow.BundleAdd{Header: openflow.Header{Version: openflow.Version13}, BundleID: 1,
				Flags: bundleFlags, Message: f.Message(openflow.Version13, openflow.FlowAdd)}
			if buf, err = add.AppendBinary(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// syntheticTable returns n distinct canonical key/value pairs of OVN-like
// sizes without the cost of parsing a million lines.
func syntheticTable(b testing.TB, n int) (keys, vals []string) {
	b.Helper()
	base := parsedFlows(b, 256)
	bk, bv := make([]string, len(base)), make([]string, len(base))
	for i, fm := range base {
		f, err := flowkey.Of(fm)
		if err != nil {
			b.Fatal(err)
		}
		bk[i], bv[i] = f.Key(), f.Value()
	}
	keys, vals = make([]string, n), make([]string, n)
	for i := range n {
		kb := []byte(bk[i%len(base)])
		// Distinct keys of the same sizes: vary the last match bytes.
		kb[len(kb)-1] ^= byte(i >> 8)
		kb[len(kb)-2] ^= byte(i >> 16)
		kb[len(kb)-3] ^= byte(i)
		keys[i], vals[i] = string(kb), bv[i%len(base)]
	}
	return keys, vals
}

// syncedKeyspace returns a keyspace whose desired and installed tables are
// both keys/vals, with nothing left to plan.
func syncedKeyspace(keys, vals []string) *keyspace {
	s := newKeyspace()
	next := make(map[string]string, len(keys))
	for i := range keys {
		next[keys[i]] = vals[i]
	}
	s.setInstalled(maps.Clone(next))
	s.replace(next)
	s.plan(true) // the setup's own dirty keys
	return s
}

// BenchmarkDiff1MUnchanged puts a full desired set equal to the installed
// one (1M canonical flows, as State.put has them after computing their
// bytes) and plans: nothing to send.
func BenchmarkDiff1MUnchanged(b *testing.B) {
	keys, vals := syntheticTable(b, 1_000_000)
	errs := make([]error, len(keys))
	s := syncedKeyspace(keys, vals)
	b.ResetTimer()
	for range b.N {
		if !s.replaceSame(keys, vals, errs) {
			b.Fatal("refused")
		}
		if a, m, d := s.plan(true); len(a)+len(m)+len(d) != 0 {
			b.Fatal("not empty")
		}
	}
}

// BenchmarkDiff1MFewChanged puts a full desired set of 1M flows with 1%
// of their values changed (a full recompute that changed a little): the
// key-hash sum proves nothing was removed without a map of the new set.
func BenchmarkDiff1MFewChanged(b *testing.B) {
	keys, vals := syntheticTable(b, 1_000_000)
	errs := make([]error, len(keys))
	alt := slices.Clone(vals)
	for i := 0; i < len(alt); i += 100 {
		alt[i] += "x"
	}
	s := syncedKeyspace(keys, vals)
	b.ResetTimer()
	for i := range b.N {
		v := alt
		if i%2 == 1 {
			v = vals
		}
		if !s.replaceSame(keys, v, errs) {
			b.Fatal("refused")
		}
		if a, m, d := s.plan(true); len(a)+len(d) != 0 || len(m) != 10_000 {
			b.Fatalf("plan %d %d %d", len(a), len(m), len(d))
		}
		for j := 0; j < len(keys); j += 100 {
			s.installedAs(keys[j], holding(v[j]))
		}
		s.plan(true)
	}
}

// BenchmarkDiff1Change changes one flow of 1M through the delta API and
// plans it.
func BenchmarkDiff1Change(b *testing.B) {
	keys, vals := syntheticTable(b, 1_000_000)
	s := syncedKeyspace(keys, vals)
	alt := vals[7] + "x"
	b.ResetTimer()
	for i := range b.N {
		v := alt
		if i%2 == 1 {
			v = vals[7]
		}
		s.put(keys[7], v)
		a, m, d := s.plan(true)
		if len(a)+len(m)+len(d) != 1 {
			b.Fatal("want one change")
		}
		s.installedAs(m[0].Key, holding(m[0].Val))
	}
}

// BenchmarkUpdateFlows1Change is the delta API as an embedder uses it: one
// FlowMod with new actions in an UpdateFlows on a 1M-flow desired table,
// then the plan that sends it.
func BenchmarkUpdateFlows1Change(b *testing.B) {
	keys, vals := syntheticTable(b, 1_000_000)
	st := NewState()
	for i := range keys {
		st.flows.put(keys[i], vals[i])
	}
	ctx := benchContext()
	var fms [2]*openflow.FlowMod
	for v := range fms {
		fm, err := ofctl.ParseFlow(flowgen.Flow(benchFlows+1, v), ctx)
		if err != nil {
			b.Fatal(err)
		}
		fms[v] = fm
	}
	st.update(&messages.UpdateFlows{Add: fms[:1]})
	st.flows.plan(true)
	b.ResetTimer()
	for i := range b.N {
		st.update(&messages.UpdateFlows{Add: fms[1-i%2 : 2-i%2]})
		a, m, d := st.flows.plan(true)
		if len(a)+len(m)+len(d) != 1 {
			b.Fatalf("plan %d %d %d", len(a), len(m), len(d))
		}
		c := append(a, m...)[0]
		st.flows.installedAs(c.Key, holding(c.Val))
	}
}

// fakeWire answers a machine's sends as an empty, accepting switch would
// (xids in order, every barrier and bundle control answered, every dump
// empty), with no socket: what BenchmarkStreamedInstall measures is the
// machine's own work.
type fakeWire struct {
	m       *Machine
	xid     uint32
	replies []any
	now     time.Time
	done    uint64 // the last version installed
}

func (w *fakeWire) step(b *testing.B, in any) {
	w.now = w.now.Add(time.Microsecond)
	if err := w.m.Step(w.now, in); err != nil {
		b.Fatal(err)
	}
	for w.m.HasReady() {
		rd := w.m.Ready()
		w.m.Advance()
		for _, ev := range rd.Events {
			if vi, ok := ev.(*messages.VersionInstalled); ok {
				w.done = vi.Version
			}
		}
		for _, s := range rd.Sends {
			first := w.xid + 1
			w.xid += uint32(len(s.Msgs))
			if err := w.m.Step(w.now, &messages.Sent{Ref: s.Ref, Seq: s.Seq, FirstXID: first, N: len(s.Msgs)}); err != nil {
				b.Fatal(err)
			}
			for i, msg := range s.Msgs {
				h := openflow.Header{Version: msg.Hdr().Version, XID: first + uint32(i)}
				var r openflow.Message
				switch msg := msg.(type) {
				case *openflow.BarrierRequest:
					br := &openflow.BarrierReply{}
					br.Version, br.XID = h.Version, h.XID
					r = br
				case *openflow.BundleControl:
					r = &openflow.BundleControl{Header: h, BundleID: msg.BundleID, Type: msg.Type + 1, Flags: msg.Flags}
				case *openflow.FlowStatsRequest:
					r = &openflow.FlowStatsReply{Header: h}
				case *openflow.GroupDescRequest:
					r = &openflow.GroupDescReply{Header: h}
				case *openflow.MeterConfigRequest:
					r = &openflow.MeterConfigReply{Header: h}
				}
				if r != nil {
					w.replies = append(w.replies, &messages.Reply{Seq: s.Seq, XID: h.XID, Msg: r})
				}
			}
		}
	}
}

// drain answers everything sent so far, and what that sends, until quiet.
func (w *fakeWire) drain(b *testing.B) {
	for len(w.replies) > 0 {
		r := w.replies[0]
		w.replies = w.replies[1:]
		w.step(b, r)
	}
}

// BenchmarkStreamedInstall is a first install of 1M flows in parts of
// 8192 (as the daemon sends a file) onto an empty switch, through the
// machine alone: parts, windows, barriers, commit. With the put's size
// said in its first part (SizeHint) the tables and the round's index are
// made that large at once.
func BenchmarkStreamedInstall(b *testing.B) {
	const n = 1_000_000
	keys, vals := syntheticTable(b, n)
	flows := make([]flowkey.Flow, n)
	for i := range flows {
		flows[i] = flowkey.FromStrings(keys[i], vals[i])
	}
	for _, hint := range []bool{false, true} {
		b.Run(map[bool]string{false: "grown", true: "sized"}[hint], func(b *testing.B) {
			for range b.N {
				w := &fakeWire{m: NewMachine(MachineConfig{GeneveOff: true, NoFlowMonitor: true, AuditInterval: -1}, nil),
					now: time.Unix(0, 0)}
				w.step(b, &messages.Connected{Seq: 1, Version: openflow.Version13})
				w.drain(b)
				for lo := 0; lo < n; lo += 8192 {
					p := &messages.PutDesired{Canonical: flows[lo:min(lo+8192, n)], More: lo+8192 < n, Continue: lo > 0,
						Version: openflow.Version13}
					if lo == 0 && hint {
						p.SizeHint = n
					}
					w.step(b, p)
					w.drain(b)
				}
				if w.done != 1 {
					b.Fatalf("version %d installed, want 1", w.done)
				}
			}
		})
	}
}
