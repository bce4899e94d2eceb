// Package httpapi serves ofactor's operational endpoints on --metrics-addr:
//
//	/metrics          Prometheus text format (prefix ofactor_)
//	/status           JSON: {"bridges": [Status, ...]}
//	/status/BRIDGE    JSON: one bridge's Status
//	/healthz          200 "ok" while every bridge's actors answer, else 503
//
// Only GET and HEAD are answered. Slow and idle clients are cut off and
// the connections capped (MaxConns), so that idle keep-alive connections
// can never make /healthz unreachable.
//
// /healthz is liveness, not readiness: a switch that is down does not make
// ofactor unhealthy (restarting ofactor would not bring the switch back);
// /status and ofactor_connected say whether it is connected.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/ofactor/ofactor/internal/metrics"
)

// DefaultAddr is where the endpoints listen unless told otherwise: the
// loopback only, since /status shows the bridges' configuration.
const DefaultAddr = "127.0.0.1:9810"

// statusTimeout bounds the wait for each bridge's reconciler.
const statusTimeout = 2 * time.Second

// Handler returns the endpoints' handler.
func Handler(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Bridges []metrics.Status `json:"bridges"`
		}{Bridges: statuses(m.Bridges())}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/status/")
		b := m.Bridge(name)
		if b == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no bridge %q", name)})
			return
		}
		writeJSON(w, http.StatusOK, b.Status(statusTimeout))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		var bad []string
		for _, s := range statuses(m.Bridges()) {
			if s.State == "unresponsive" {
				bad = append(bad, s.Bridge)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if len(bad) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unresponsive: %s\n", strings.Join(bad, " "))
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "ofactor: /metrics /status /status/BRIDGE /healthz\n")
	})
	return mux
}

// statuses asks every bridge at once, so that one stalled bridge costs one
// timeout.
func statuses(bs []*metrics.Bridge) []metrics.Status {
	out := make([]metrics.Status, len(bs))
	done := make(chan struct{}, len(bs))
	for i, b := range bs {
		go func() {
			out[i] = b.Status(statusTimeout)
			done <- struct{}{}
		}()
	}
	for range bs {
		<-done
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Limits of the HTTP server: the endpoints are small documents for
// scrapers and probes, so a client that is slow to send its request or to
// read the answer, or that keeps a connection idle, is cut off before it
// can hold file descriptors the switch connections need.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 30 * time.Second // a scrape waits up to statusTimeout per bridge, in parallel
	IdleTimeout       = 60 * time.Second
	// MaxConns caps the open connections. At the cap, the connection
	// idle the longest is closed for a new one; with none idle, a new
	// connection waits in the listen backlog until one ends.
	MaxConns = 64
)

// Server is the endpoints listening on one address.
type Server struct {
	srv *http.Server
	ln  *limitListener
}

// Listen binds addr and serves the endpoints in the background.
func Listen(addr string, m *metrics.Metrics, log *zap.Logger) (*Server, error) {
	return listen(addr, m, log, MaxConns)
}

func listen(addr string, m *metrics.Metrics, log *zap.Logger, maxConns int) (*Server, error) {
	inner, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ln := newLimitListener(inner, maxConns)
	s := &Server{ln: ln, srv: &http.Server{
		Handler:           onlyGet(Handler(m)),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    16 << 10,
		ConnState:         ln.connState,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", zap.Error(err))
		}
	}()
	log.Info("serving /metrics, /status, /healthz", zap.String("addr", inner.Addr().String()))
	return s, nil
}

// onlyGet answers GET and HEAD, and 405 to every other method: the
// endpoints change nothing.
func onlyGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the endpoints are read-only", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Addr is the address actually bound (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in flight finish for a second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
}
