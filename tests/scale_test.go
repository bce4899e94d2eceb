package tests

import (
	"context"
	"encoding/binary"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/flowkey"
	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// oneTableFlows parses n flowgen.OneTable flows into canonical form for
// OpenFlow 1.5 (what OVS negotiates with the default offer), on every
// core.
func oneTableFlows(t testing.TB, n int) []flowkey.Flow {
	t.Helper()
	out := make([]flowkey.Flow, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := &ofctl.Context{Version: openflow.Version15}
			ctx.OXM.Geneve = -1
			for i := w; i < n; i += workers {
				fm, err := ofctl.ParseFlow(flowgen.OneTable(i), ctx)
				if err == nil {
					out[i], err = flowkey.OfCanonical(fm)
				}
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("flow %d: %v", i, err)
		}
	}
	return out
}

// cutter is a proxy hook that counts the mods a controller sends (flow,
// group and meter mods, bare or in a bundle) and cuts the connection at
// the next frame once armed.
type cutter struct {
	modCounter
	armed atomic.Bool
}

func (c *cutter) hook(toSwitch bool, frame []byte) fakeswitch.Verdict {
	c.modCounter.hook(toSwitch, frame)
	if c.armed.CompareAndSwap(true, false) {
		return fakeswitch.CutBefore
	}
	return fakeswitch.Forward
}

// waitStatus polls a bridge's status until ok says so.
func waitStatus(t *testing.T, b *ofactor.Bridge, within time.Duration, what string, ok func(*messages.Status) bool) *messages.Status {
	t.Helper()
	var st *messages.Status
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := b.Status(ctx)
		cancel()
		if err == nil {
			if st = s; ok(s) {
				return s
			}
		}
	}
	t.Fatalf("not %s within %v: %+v", what, within, st)
	return nil
}

// A table larger than one dump reply, in one table (the hostile
// operator's table 0), installed through the library; the connection is
// then cut, and the reconnected bridge reads the whole table back part by
// part, finds it right, sends no mod at all and is in sync again. The long
// form is TestSoakMillionOneTable.
func TestScaleOneTable(t *testing.T) {
	n := 200_000
	if raceEnabled {
		n = 50_000 // the race detector makes parsing ~10× slower
	}
	start := time.Now()
	scaleOneTable(t, n, 5*time.Minute)
	t.Logf("%d flows in one table: installed, reconnected and found right in %v", n, time.Since(start).Round(time.Millisecond))
}

func scaleOneTable(t *testing.T, n int, within time.Duration) {
	sw := ovstest.Start(t)
	c := &cutter{modCounter: modCounter{n: map[string]int{}}}
	proxy, err := fakeswitch.StartProxy(sw.SocketPath(), c.hook)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	flows := oneTableFlows(t, n)
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	// Audits make frames flow while nothing else does, for the cut (an
	// inactivity probe would not do: OVS builds a whole dump before it
	// sends its first part, and answers no echo meanwhile).
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: proxy.Target(), Geneve: ofactor.GeneveOff,
		AuditInterval: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	v, err := b.Put(ctx, &messages.PutDesired{Canonical: flows, Version: openflow.Version15})
	if err == nil {
		err = b.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	if out, err := sw.Ofctl("dump-aggregate", "table=0"); err != nil || !strings.Contains(out, "flow_count="+strconv.Itoa(n)) {
		t.Fatalf("table 0 after the install: %s %v", out, err)
	}
	if sent := c.take(); sent["flow_mod"] != n {
		t.Fatalf("the install sent %v, want %d flow_mods", sent, n)
	}
	before := waitStatus(t, b, within, "in sync", func(s *messages.Status) bool { return s.InSync }).Seq
	c.armed.Store(true)
	st := waitStatus(t, b, within, "in sync on a new connection", func(s *messages.Status) bool {
		return s.Seq > before && s.InSync
	})
	if st.InstalledFlows != n || !st.InstalledKnown {
		t.Fatalf("after the reconnect: %d flows installed (known %v), want %d", st.InstalledFlows, st.InstalledKnown, n)
	}
	if again := c.take(); len(again) != 0 {
		t.Fatalf("the reconnect to a switch holding the table sent %v", again)
	}
}

// A dump that cannot be read (a part of the flow stats reply that does not
// decode) is an error in the bridge's status, never a silent hang: the
// connection is dropped and dialled again, last_error says why, the bridge
// is not in sync and keeps trying; once the switch sends readable parts it
// is in sync.
func TestDumpUnreadable(t *testing.T) {
	sw := ovstest.Start(t)
	lines := flowgen.Flows(3000)
	writeAndAdd(t, sw, lines)
	var corrupt atomic.Bool
	corrupt.Store(true)
	proxy, err := fakeswitch.StartProxy(sw.SocketPath(), func(toSwitch bool, f []byte) fakeswitch.Verdict {
		// Each part of a flow stats reply (OFPMP_FLOW): its first entry's
		// length made shorter than an entry can be.
		if !toSwitch && corrupt.Load() && openflow.Type(f[1]) == openflow.TypeMultipartReply && len(f) > 24 &&
			binary.BigEndian.Uint16(f[8:]) == 1 {
			binary.BigEndian.PutUint16(f[16:], 7)
		}
		return fakeswitch.Forward
	})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: proxy.Target(), Geneve: ofactor.GeneveOff,
		Versions: []uint8{openflow.Version13}}) // canonicalFlows' version
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Put(ctx, &messages.PutDesired{Canonical: canonicalFlows(t, lines)}); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, b, 30*time.Second, "reporting the unreadable dump", func(s *messages.Status) bool {
		return strings.Contains(s.LastError, "undecodable") && strings.Contains(s.LastError, "MULTIPART_REPLY")
	})
	// It keeps trying, and is never in sync meanwhile.
	waitStatus(t, b, 30*time.Second, "dialling again", func(s *messages.Status) bool {
		if s.InSync {
			t.Fatalf("in sync with an unreadable dump: %+v", s)
		}
		return s.Seq > st.Seq
	})
	corrupt.Store(false)
	waitStatus(t, b, time.Minute, "in sync once the dumps read", func(s *messages.Status) bool {
		return s.InSync && s.InstalledFlows == len(lines)
	})
}

// writeAndAdd installs lines with ovs-ofctl --bundle add-flows.
func writeAndAdd(t *testing.T, sw *ovstest.Switch, lines []string) {
	t.Helper()
	path := t.TempDir() + "/flows.txt"
	writeLines(t, path, lines)
	if _, err := sw.Ofctl("--bundle", "add-flows", path); err != nil {
		t.Fatal(err)
	}
}

// OVS expires a bundle that takes no message for its idle timeout, and an
// ADD_MESSAGE after that opens a new one: a put in parts whose next part
// comes late must not commit only the parts after the gap. Here the switch
// expires bundles after 1 s (faster than the reconciler's keepalive, every
// 4 s) and the second part comes 3 s after the first: the expired bundle
// is reported (OFPBFC_TIMEOUT), discarded, and the whole put installed by
// the retry.
func TestBundleExpiredMidPut(t *testing.T) {
	sw := ovstest.Start(t)
	if _, err := sw.Vsctl("set", "Open_vSwitch", ".", "other_config:bundle-idle-timeout=1"); err != nil {
		t.Fatal(err)
	}
	lines := flowgen.Flows(2000)
	flows := canonicalFlows(t, lines)
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Target: sw.Target(), Geneve: ofactor.GeneveOff,
		Versions: []uint8{openflow.Version13}}) // canonicalFlows' version
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitStatus(t, b, 30*time.Second, "connected and read", func(s *messages.Status) bool { return s.InstalledKnown })
	if _, err := b.Put(ctx, &messages.PutDesired{Canonical: flows[:1000], More: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	v, err := b.Put(ctx, &messages.PutDesired{Canonical: flows[1000:], Continue: true})
	if err == nil {
		err = b.WaitInstalled(ctx, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	waitSame(t, sw, lines)
	st := waitStatus(t, b, 10*time.Second, "in sync", func(s *messages.Status) bool { return s.InSync })
	if !strings.Contains(st.LastError, "OFPBFC_TIMEOUT") {
		t.Errorf("last_error %q: the expired bundle went unnoticed", st.LastError)
	}
}

// ofactor run --once of a file of several parts (8192 lines each) installs
// it whole, in the version the connection speaks: a part encoded for
// another version would give the put up and leave the run waiting for a
// version that never comes.
func TestOnceInParts(t *testing.T) {
	sw := ovstest.Start(t)
	lines := flowgen.Flows(20_000)
	path := t.TempDir() + "/flows.txt"
	writeLines(t, path, lines)
	res := runOnce(t, sw.Target(), "--flows", path)
	if res.code != 0 || !strings.Contains(res.stdout, "installed") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	waitSame(t, sw, lines)
}
