// Package httpapi serves ofactor's operational endpoints on --metrics-addr:
//
//	/metrics          Prometheus text format (prefix ofactor_)
//	/status           JSON: {"bridges": [Status, ...]}
//	/status/BRIDGE    JSON: one bridge's Status
//	/healthz          200 "ok" while every bridge's actors answer, else 503
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

// Server is the endpoints listening on one address.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen binds addr and serves the endpoints in the background.
func Listen(addr string, m *metrics.Metrics, log *zap.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	s := &Server{ln: ln, srv: &http.Server{Handler: Handler(m), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", zap.Error(err))
		}
	}()
	log.Info("serving /metrics, /status, /healthz", zap.String("addr", ln.Addr().String()))
	return s, nil
}

// Addr is the address actually bound (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server, letting requests in flight finish for a second.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
