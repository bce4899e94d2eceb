package connection

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.uber.org/zap"
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
	return nc, nil
}

// logLevel picks how loud a failed connection attempt is: a switch that is
// not up yet is routine (Info), a TLS failure (wrong CA, certificate
// refused) is a configuration error that retrying will not fix (Warn).
func (a *connActor) logLevel(err error) func(string, ...zap.Field) {
	if err != nil && (errors.Is(err, errNoTLS) || strings.Contains(err.Error(), "tls: ")) {
		return a.log.Warn
	}
	return a.log.Info
}
