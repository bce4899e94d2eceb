package fakeswitch

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/ofactor/ofactor/openflow"
)

// Verdict is what a Proxy does with one frame.
type Verdict int

const (
	Forward   Verdict = iota // pass it on
	CutBefore                // drop it and cut the connection
	CutAfter                 // pass it on, then cut the connection
	Drop                     // drop it and carry on, as if it was never sent
)

// Hook sees every frame from the controller to the switch (toSwitch) and
// back, whole, and decides its fate. It is called from two goroutines.
type Hook func(toSwitch bool, frame []byte) Verdict

// Proxy sits between a controller and a real switch on a unix socket,
// frame by frame, so that a test can cut the connection at an exact
// message: after a bundle COMMIT and before its reply, say.
type Proxy struct {
	dir      string
	l        net.Listener
	upstream string // unix socket path of the switch
	hook     Hook
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

// StartProxy listens on a new unix socket and proxies each connection to
// the unix socket at upstream.
func StartProxy(upstream string, hook Hook) (*Proxy, error) {
	dir, err := os.MkdirTemp("", "fpx")
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "proxy.mgmt"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("proxy: %w", err)
	}
	p := &Proxy{dir: dir, l: l, upstream: upstream, hook: hook}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Target is the proxy's address as ofactor takes it.
func (p *Proxy) Target() string { return "unix:" + p.l.Addr().String() }

// Close stops the proxy and cuts every connection.
func (p *Proxy) Close() {
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	os.RemoveAll(p.dir)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", p.upstream)
		if err != nil {
			down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		cut := sync.OnceFunc(func() { down.Close(); up.Close() })
		p.wg.Add(2)
		go p.pipe(down, up, true, cut)
		go p.pipe(up, down, false, cut)
	}
}

// pipe copies frames from src to dst through the hook.
func (p *Proxy) pipe(src, dst net.Conn, toSwitch bool, cut func()) {
	defer p.wg.Done()
	defer cut()
	br := bufio.NewReader(src)
	var buf []byte
	for {
		f, err := openflow.ReadMessage(br, buf)
		if err != nil {
			return
		}
		buf = f[:0]
		v := Forward
		if p.hook != nil {
			v = p.hook(toSwitch, f)
		}
		if v == CutBefore {
			return
		}
		if v == Drop {
			continue
		}
		if _, err := dst.Write(f); err != nil {
			return
		}
		if v == CutAfter {
			return
		}
	}
}
