package connection

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/ofactor/ofactor/messages"
	"github.com/ofactor/ofactor/openflow"
)

// Failed dials are worded as ovs-ofctl words them, whatever Go calls the
// error.
func TestDialErrorWording(t *testing.T) {
	for _, tc := range []struct {
		target string
		err    error
		want   string
	}{
		{"unix:/x/br-int.mgmt", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)},
			"unix:/x/br-int.mgmt: failed to connect to socket (No such file or directory)"},
		{"tcp:127.0.0.1:1", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			"tcp:127.0.0.1:1: failed to connect to socket (Connection refused)"},
		{"tcp:10.0.0.1", &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded},
			"tcp:10.0.0.1: failed to connect to socket (Connection timed out)"},
		{"tcp:nowhere.invalid", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid"}},
			"tcp:nowhere.invalid: failed to connect to socket (no such host)"},
		{"ssl:10.0.0.1:6653", fmt.Errorf("ssl:10.0.0.1:6653: tls: %w", errors.New("remote error: tls: bad certificate")),
			"ssl:10.0.0.1:6653: failed to connect to socket (tls: remote error: tls: bad certificate)"},
	} {
		if got := DialError(tc.target, tc.err); got != tc.want {
			t.Errorf("%s %v:\n got %s\nwant %s", tc.target, tc.err, got, tc.want)
		}
	}
}

// A target that is not there: every attempt is published with its number
// and the dial error, the log says so at warn a few times only, and the
// count starts again after a connection.
func TestConnectFailedPublishedAndRateLimited(t *testing.T) {
	sys := newSystem()
	sw := newFakeSwitchAt(t, false)
	_, sink, logs := start(t, sys, Config{Target: sw.target(), Backoff: constBackoff(2 * time.Millisecond)})
	const attempts = 30
	for n := 1; n <= attempts; n++ {
		f := expect[*messages.ConnectFailed](t, sink)
		want := sw.target() + ": failed to connect to socket (No such file or directory)"
		if f.Attempt != n || f.Err != want || f.Target != sw.target() {
			t.Fatalf("attempt %d: %+v, want Err %q", n, f, want)
		}
	}
	warned := logs.FilterMessage("connect failed").FilterLevelExact(zapcore.WarnLevel).Len()
	if warned == 0 || warned > 4 {
		t.Errorf("%d warnings for %d failed dials, want 1 to 4", warned, attempts)
	}

	sw.listen()
	c := sw.accept()
	c.handshake(openflow.Version13)
	for {
		m := sink.next(t)
		if _, ok := m.(*messages.Connected); ok {
			break
		}
		if _, ok := m.(*messages.ConnectFailed); !ok {
			t.Fatalf("got %T %+v before Connected", m, m)
		}
	}
	sw.ln.Close() // removes the socket file
	c.nc.Close()
	expect[*messages.Disconnected](t, sink)
	if f := expect[*messages.ConnectFailed](t, sink); f.Attempt != 1 {
		t.Errorf("after a connection: %+v, want attempt 1", f)
	}
}
