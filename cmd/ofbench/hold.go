package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor"
	"github.com/ofactor/ofactor/internal/flowgen"
	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofctl"
)

// holdCmd is the memory row's child process: an ofactor bridge (the
// library the daemon runs) installs n generated flows on a fake switch,
// then the process reports its resident set. Flows go in through the delta
// API in batches, so that parsed flows never pile up: what stays is what
// the bridge keeps.
//
//	ofbench hold -n N      prints "rss_bytes=R flows=F heap_bytes=H live_bytes=L"
func holdCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1_000_000, "flows")
	batch := fs.Int("batch", 20_000, "flows per UpdateFlows")
	memprofile := fs.String("memprofile", "", "write a heap profile here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := os.MkdirTemp("", "ofbh")
	if err != nil {
		fmt.Fprintln(stderr, "ofbench hold:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "fake.sock")
	fake, err := startFake(sock)
	if err != nil {
		fmt.Fprintln(stderr, "ofbench hold:", err)
		return 1
	}
	defer fake.close()

	sys := actor.NewActorSystem()
	installed := make(chan *messages.VersionInstalled, 64)
	sink := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*messages.VersionInstalled); ok {
			installed <- m
		}
	}))
	b, err := ofactor.Spawn(sys.Root, ofactor.Config{Bridge: "br-bench", Target: "unix:" + sock,
		Subscribers: []*actor.PID{sink}})
	if err != nil {
		fmt.Fprintln(stderr, "ofbench hold:", err)
		return 1
	}
	var last uint64
	for lo := 0; lo < *n; lo += *batch {
		fms, err := parseRange(lo, min(lo+*batch, *n))
		if err != nil {
			fmt.Fprintln(stderr, "ofbench hold:", err)
			return 1
		}
		res, err := sys.Root.RequestFuture(b.PID, &messages.UpdateFlows{Add: fms}, time.Minute).Result()
		if err != nil {
			fmt.Fprintln(stderr, "ofbench hold: update:", err)
			return 1
		}
		last = res.(*messages.DesiredAccepted).Version
	}
	deadline := time.After(5 * time.Minute)
	for done := false; !done; {
		select {
		case m := <-installed:
			done = m.Version >= last && m.Flows == *n
		case <-deadline:
			fmt.Fprintln(stderr, "ofbench hold: not installed in 5 minutes")
			return 1
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if *memprofile != "" {
		if f, err := os.Create(*memprofile); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	fmt.Fprintf(stdout, "rss_bytes=%d flows=%d heap_bytes=%d live_bytes=%d\n", rssOf(os.Getpid()), *n, ms.HeapInuse, ms.HeapAlloc)
	return 0
}

// parseRange parses generated flows lo..hi-1 on every core.
func parseRange(lo, hi int) ([]*openflow.FlowMod, error) {
	out := make([]*openflow.FlowMod, hi-lo)
	errs := make([]error, hi-lo)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := &ofctl.Context{Version: openflow.Version13}
			ctx.OXM.Geneve = -1
			for i := w; i < len(out); i += workers {
				out[i], errs[i] = ofctl.ParseFlow(flowgen.Flow(lo+i, 0), ctx)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", lo+i, err)
		}
	}
	return out, nil
}

// rssOf returns a process's resident set in bytes (VmRSS), or 0.
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
