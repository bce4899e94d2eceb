package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/ofactor/ofactor/messages"
)

// progressBar draws one bridge's install progress on a terminal, the way
// curl or apt do: one line, redrawn in place.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	drawn bool
}

const barWidth = 30

func (p *progressBar) draw(m *messages.Progress) {
	if p == nil || m.Total == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	done := m.Confirmed * barWidth / m.Total
	sent := m.Sent*barWidth/m.Total - done
	bar := strings.Repeat("=", done) + strings.Repeat("-", max(sent, 0))
	fmt.Fprintf(p.w, "\r[%-*s] %d/%d sent, %d confirmed (version %d)\x1b[K",
		barWidth, bar, m.Sent, m.Total, m.Confirmed, m.Version)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// isTerminal reports whether f is a character device (a terminal), which
// is all the progress bar needs to know.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}
