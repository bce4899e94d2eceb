package tests

import (
	"strings"
	"sync"
	"testing"

	"github.com/ofactor/ofactor/internal/fakeswitch"
	"github.com/ofactor/ofactor/internal/ovstest"
	"github.com/ofactor/ofactor/openflow"
)

// commitCutter is a proxy hook that cuts the connection at the first bundle
// COMMIT, after passing it on (the switch commits, the reply is lost) or
// before (the switch never sees it), and counts the commits that follow.
type commitCutter struct {
	verdict fakeswitch.Verdict
	mu      sync.Mutex
	cut     bool
	after   int // commits seen after the cut
}

func (c *commitCutter) hook(toSwitch bool, frame []byte) fakeswitch.Verdict {
	if !toSwitch {
		return fakeswitch.Forward
	}
	m, err := openflow.Decode(frame)
	if err != nil {
		return fakeswitch.Forward
	}
	bc, ok := m.(*openflow.BundleControl)
	if !ok || bc.Type != openflow.BundleCommitRequest {
		return fakeswitch.Forward
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.cut {
		c.cut = true
		return c.verdict
	}
	c.after++
	return fakeswitch.Forward
}

// An ambiguous commit: the connection dies right after a bundle COMMIT
// (committed, reply lost) or right before it (never committed). On
// reconnect the dump decides what is installed: the bridge converges, no
// GROUP_EXISTS or other refusal, and at most one more commit.
func TestFaultAmbiguousCommit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict fakeswitch.Verdict
		commits int // at most, after the cut
	}{
		{"CutAfterCommit", fakeswitch.CutAfter, 0},
		{"CutBeforeCommit", fakeswitch.CutBefore, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := ovstest.Start(t)
			cc := &commitCutter{verdict: tc.verdict}
			px, err := fakeswitch.StartProxy(sw.SocketPath(), cc.hook)
			if err != nil {
				t.Fatal(err)
			}
			defer px.Close()
			d := startDaemon(t, px.Target(), sampleArgs(t)...)
			if _, err := waitConverged(sw, sampleWant(t), convergeWithin); err != nil {
				t.Fatal(err)
			}
			cc.mu.Lock()
			cut, after := cc.cut, cc.after
			cc.mu.Unlock()
			if !cut {
				t.Fatal("no bundle COMMIT went through the proxy")
			}
			if after > tc.commits {
				t.Errorf("%d commits after the cut, want at most %d", after, tc.commits)
			}
			logs := d.logs()
			for _, bad := range []string{"GROUP_EXISTS", "METER_EXISTS", "refused"} {
				if strings.Contains(logs, bad) {
					t.Errorf("log mentions %s:\n%s", bad, tail(logs, 30))
				}
			}
		})
	}
}
