package connection

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/messages"
)

// errNoTLS is an ssl: target without Config.TLS: retrying cannot help, but
// the actor keeps its backoff (and logs each attempt) rather than dying.
var errNoTLS = errors.New("ssl target without TLS configuration (--private-key, --certificate, --ca-cert)")

// dialTarget dials Config.Target. For ssl: the TLS handshake completes here,
// before HELLO, so that a refused certificate is a failed dial naming the
// reason, and no OpenFlow byte ever goes out in clear.
func (s *shared) dialTarget(ctx context.Context, target string) (net.Conn, error) {
	network, addr, err := ParseTarget(target)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(target, "ssl:") {
		var dl net.Dialer
		return dl.DialContext(ctx, network, addr)
	}
	if s.cfg.TLS == nil {
		return nil, fmt.Errorf("%s: %w", target, errNoTLS)
	}
	dl := tls.Dialer{Config: s.cfg.TLS}
	nc, err := dl.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("%s: tls: %w", target, err)
	}
	return verdict(ctx, target, nc.(*tls.Conn))
}

// verdictWait bounds the wait for the switch's first record after a TLS
// 1.3 handshake.
const verdictWait = 2 * time.Second

// verdict waits for the switch's first record after the handshake. In TLS
// 1.3 our side of the handshake is done before the switch has judged our
// certificate: a switch that refuses it says so (an alert) as the first
// thing it sends, and our HELLO would otherwise fail with a bare "Broken
// pipe". OVS sends its own HELLO at once; a switch that sends nothing
// within verdictWait is taken as it is.
func verdict(ctx context.Context, target string, tc *tls.Conn) (net.Conn, error) {
	if tc.ConnectionState().Version < tls.VersionTLS13 {
		return tc, nil
	}
	deadline := time.Now().Add(verdictWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	tc.SetReadDeadline(deadline)
	var b [1]byte
	n, err := tc.Read(b[:])
	tc.SetReadDeadline(time.Time{})
	var ne net.Error
	if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		tc.Close()
		return nil, fmt.Errorf("%s: tls: %w", target, err)
	}
	return &firstByteConn{Conn: tc, first: b[:n]}, nil
}

// firstByteConn gives back what verdict read before the rest.
type firstByteConn struct {
	net.Conn
	first []byte
}

func (c *firstByteConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 && len(p) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// connectFailed reports a failed attempt to connect: logged at Warn,
// rate-limited (a switch that is down fails every attempt), and published
// as messages.ConnectFailed.
func (a *connActor) connectFailed(ctx actor.Context, err error) {
	n := int(a.sh.failures.Add(1))
	msg := DialError(a.sh.cfg.Target, err)
	if ok, suppressed := a.logDial.allow(time.Now()); ok {
		a.log.Warn("connect failed", zap.String("error", msg), zap.Int("attempt", n),
			zap.Int("suppressed", suppressed))
	}
	a.publish(ctx, &messages.ConnectFailed{Target: a.sh.cfg.Target, Err: msg, Attempt: n})
}

// DialError words a failed attempt to connect to target as ovs-ofctl does
// (ovs-ofctl.c open_vconn_socket): "unix:/x/br-int.mgmt: failed to connect
// to socket (No such file or directory)", a system error as C's strerror
// spells it.
func DialError(target string, err error) string {
	return fmt.Sprintf("%s: failed to connect to socket (%s)", target, reason(target, err))
}

func reason(target string, err error) string {
	var errno syscall.Errno
	var dns *net.DNSError
	switch {
	case errors.As(err, &errno):
		return strerror(errno)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return strerror(syscall.ETIMEDOUT)
	case errors.As(err, &dns):
		return dns.Err
	}
	// Our own errors (TLS, HELLO) may name the target already.
	return strings.TrimPrefix(err.Error(), target+": ")
}

// strerror is glibc's wording of errno: Go's is the same but for the
// capital letter ("no such file or directory").
func strerror(errno syscall.Errno) string {
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
