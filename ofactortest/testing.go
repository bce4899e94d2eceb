package ofactortest

import (
	"os"
	"path/filepath"
	"testing"
)

// Start makes a switch listening on a unix socket in a new temporary
// directory (WithBridge names the socket <bridge>.mgmt, as OVS names its
// management socket) and closes it when the test ends. It fails the test
// if the socket cannot be made.
func Start(t testing.TB, opts ...Option) *Switch {
	t.Helper()
	s := New(opts...)
	// t.TempDir's path may be too long for a unix socket (108 bytes).
	dir, err := os.MkdirTemp("", "oft")
	if err != nil {
		t.Fatalf("ofactortest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := s.ListenUnix(filepath.Join(dir, s.cfg.bridge+".mgmt")); err != nil {
		t.Fatalf("ofactortest: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
