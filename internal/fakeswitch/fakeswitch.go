// Package fakeswitch is a scriptable fake OpenFlow switch for fault tests:
// it listens on a unix socket, and each connection a controller makes runs
// a Script that may complete HELLO and then misbehave (truncated, oversized,
// mis-versioned or random frames, silence). It speaks through the real
// codec where it speaks OpenFlow at all.
package fakeswitch

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Script is what the switch does on one accepted connection; n counts the
// connections from 0. The connection is closed when it returns.
type Script func(c *Conn, n int) error

// Switch is a listening fake switch.
type Switch struct {
	dir string
	l   net.Listener
	run Script
	wg  sync.WaitGroup

	mu       sync.Mutex
	accepted []time.Time
	errs     []error
	conns    map[*Conn]bool
}

// Start listens on a unix socket in a new temporary directory and runs
// script on every connection.
func Start(script Script) (*Switch, error) {
	dir, err := os.MkdirTemp("", "fsw")
	if err != nil {
		return nil, fmt.Errorf("fakeswitch: %w", err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "br.mgmt"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("fakeswitch: %w", err)
	}
	s := &Switch{dir: dir, l: l, run: script, conns: map[*Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Target is the switch's address as ofactor takes it.
func (s *Switch) Target() string { return "unix:" + s.l.Addr().String() }

// Accepted returns when each connection was accepted.
func (s *Switch) Accepted() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.accepted...)
}

// Errors returns what the scripts returned, other than nil and io errors
// from the peer closing.
func (s *Switch) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Close stops listening, closes every connection and waits for the scripts.
func (s *Switch) Close() {
	s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	os.RemoveAll(s.dir)
}

func (s *Switch) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		c := &Conn{nc: nc, br: bufio.NewReader(nc)}
		s.mu.Lock()
		n := len(s.accepted)
		s.accepted = append(s.accepted, time.Now())
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			err := s.run(c, n)
			nc.Close()
			s.mu.Lock()
			delete(s.conns, c)
			if err != nil && !isClosed(err) {
				s.errs = append(s.errs, fmt.Errorf("connection %d: %w", n, err))
			}
			s.mu.Unlock()
		}()
	}
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, errPeerClosed)
}

var errPeerClosed = errors.New("peer closed the connection")

// Conn is one accepted connection.
type Conn struct {
	nc      net.Conn
	br      *bufio.Reader
	buf     []byte
	Version uint8 // negotiated by Handshake
}

// Read reads one frame (a copy), failing after timeout.
func (c *Conn) Read(timeout time.Duration) ([]byte, error) {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	f, err := openflow.ReadMessage(c.br, c.buf)
	if err != nil {
		return nil, errPeerClosed
	}
	c.buf = f[:0]
	return append([]byte(nil), f...), nil
}

// Write writes raw bytes.
func (c *Conn) Write(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

// Send encodes and writes a message.
func (c *Conn) Send(m openflow.Message) error {
	b, err := m.AppendBinary(nil)
	if err != nil {
		return err
	}
	return c.Write(b)
}

// Handshake sends HELLO offering version and reads the peer's HELLO.
func (c *Conn) Handshake(version uint8) error {
	if err := c.Send(openflow.NewHello(version)); err != nil {
		return err
	}
	f, err := c.Read(5 * time.Second)
	if err != nil {
		return err
	}
	if openflow.Type(f[1]) != openflow.TypeHello {
		return fmt.Errorf("handshake: peer sent type %d first", f[1])
	}
	c.Version = version
	return nil
}

// Drain reads and discards frames, answering echo requests, until d has
// passed or the peer closes; it reports whether the peer closed.
func (c *Conn) Drain(d time.Duration) bool {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		f, err := c.Read(time.Until(end))
		if err != nil {
			return time.Now().Before(end)
		}
		if openflow.Type(f[1]) == openflow.TypeEchoRequest {
			f[1] = byte(openflow.TypeEchoReply)
			c.Write(f)
		}
	}
	return false
}

// Garbage kinds, each a way a broken or hostile switch may write.
const (
	Truncated    = "truncated"     // a header promising more bytes than ever come
	ShortLength  = "short-length"  // a length field below the 8-byte header
	Oversized    = "oversized"     // the largest frame (65535 bytes), a multipart reply of random bytes: legal framing
	MisVersioned = "mis-versioned" // a well-formed frame of another version
	Random       = "random"        // 4 KiB of random bytes
	BadHello     = "bad-hello"     // HELLO with no common version, then junk
	Silent       = "silent"        // accepts and never says anything
)

// Kinds lists every garbage kind.
var Kinds = []string{Truncated, ShortLength, Oversized, MisVersioned, Random, BadHello, Silent}

// Garbage returns the bytes of a kind, to write after a successful
// handshake at version v (BadHello and Silent: before any).
func Garbage(kind string, v uint8) []byte {
	hdr := func(ver uint8, t openflow.Type, length int) []byte {
		b := make([]byte, 8)
		b[0], b[1] = ver, byte(t)
		binary.BigEndian.PutUint16(b[2:], uint16(length))
		binary.BigEndian.PutUint32(b[4:], 0xfeed)
		return b
	}
	switch kind {
	case Truncated:
		return append(hdr(v, openflow.TypeFeaturesReply, 200), make([]byte, 40)...)
	case ShortLength:
		return hdr(v, openflow.TypeBarrierReply, 4)
	case Oversized:
		b := hdr(v, openflow.TypeMultipartReply, 65535)
		junk := make([]byte, 65535-8)
		rand.Read(junk)
		return append(b, junk...)
	case MisVersioned:
		return hdr(v+1, openflow.TypeBarrierReply, 8)
	case Random:
		junk := make([]byte, 4096)
		rand.Read(junk)
		return junk
	case BadHello:
		h := hdr(0x7f, openflow.TypeHello, 16)
		// One version bitmap element naming only version 0x7f's bit 31.
		h = append(h, 0, 1, 0, 8, 0x80, 0, 0, 0)
		return append(h, 0xde, 0xad, 0xbe, 0xef)
	}
	return nil
}

// GarbageScript completes HELLO at version v (except for BadHello and
// Silent), writes the garbage of kinds[n%len(kinds)], then waits up to
// wait for the peer to drop the connection.
func GarbageScript(v uint8, wait time.Duration, kinds ...string) Script {
	return func(c *Conn, n int) error {
		kind := kinds[n%len(kinds)]
		switch kind {
		case Silent:
			c.Drain(wait)
			return nil
		case BadHello:
		default:
			if err := c.Handshake(v); err != nil {
				return err
			}
		}
		if err := c.Write(Garbage(kind, v)); err != nil && !isClosed(err) {
			return nil // the peer may close while we write: fine
		}
		c.Drain(wait)
		return nil
	}
}
