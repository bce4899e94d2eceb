package httpapi

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// limitListener caps the connections a server holds open. At the cap, the
// connection that has been idle (between keep-alive requests) the longest
// is closed to make room; when none is idle, Accept waits for one to end.
// Waiting leaves the new connection in the kernel's backlog, holding none
// of the process's file descriptors.
type limitListener struct {
	net.Listener
	slots  chan struct{} // one token per open connection
	closed chan struct{}
	once   sync.Once

	mu   sync.Mutex
	idle map[net.Conn]time.Time // since when each idle connection is idle
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{}),
		idle: map[net.Conn]time.Time{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
			c, err := l.Listener.Accept()
			if err != nil {
				<-l.slots
				return nil, err
			}
			return &limitedConn{Conn: c, l: l}, nil
		default:
		}
		if l.closeIdlest() {
			continue
		}
		select {
		case l.slots <- struct{}{}:
			<-l.slots // a slot is free: take it at the top
		case <-l.closed:
			return nil, net.ErrClosed
		}
	}
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// closeIdlest closes the connection idle the longest, if any; its slot is
// free when it returns true.
func (l *limitListener) closeIdlest() bool {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	oldest.Close()
	return true
}

// connState is the server's http.Server.ConnState: it tells which
// connections are idle.
func (l *limitListener) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
}

// open is how many connections hold a slot.
func (l *limitListener) open() int { return len(l.slots) }

// limitedConn gives its slot back when closed, once, whoever closes it.
type limitedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.slots })
	return err
}
