package ovstest

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
)

// ReadLines returns the non-empty lines of a file (a flows file, a dump
// written out), failing t if it cannot be read.
func ReadLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// SyncBuffer is a bytes.Buffer that a process's output goroutines may write
// while a test reads it: where a test catches a daemon's log.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
