package connection

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Self-messages from the socket goroutines. Each names the *conn it comes
// from, so that the actor drops what an older connection (or an older
// incarnation of the actor) left in its mailbox.
type (
	// inbound is one decoded frame.
	inbound struct {
		c     *conn
		frame []byte
		msg   openflow.Message
	}
	// connFailed is a read or write error, EOF or an undecodable frame.
	connFailed struct {
		c   *conn
		err error
	}
)

// batch is the frames of one Send, encoded back to back.
type batch struct {
	buf    []byte
	frames int
}

const (
	writeChunk   = 64 << 10 // bytes written between two looks at the priority lane
	prioLaneLen  = 64
	flushTimeout = time.Second
	readBufLen   = 64 << 10
)

// conn is one socket and its two goroutines. The reader answers echo
// requests itself, on the priority lane, so that they are answered even
// while the actor is busy and thousands of frames wait in the queue.
type conn struct {
	nc     net.Conn
	prio   chan []byte  // echo replies, HELLO, errors: written before queue
	queued atomic.Int64 // frames enqueued and not yet written: the actor keeps it <= MaxQueue

	mu      sync.Mutex
	pending []batch       // the queue, oldest first
	wake    chan struct{} // one token: pending may be non-empty
	// lastRecv is the UnixNano of the last frame read, for the probe.
	lastRecv atomic.Int64

	once  sync.Once
	done  chan struct{} // closed: stop now, drop what is queued
	flush chan struct{} // closed: write the priority lane, then close
	dead  atomic.Bool   // torn down: goroutines report nothing more
	// writerDone is closed when the writer has stopped (and closed nc).
	writerDone chan struct{}
	wg         *sync.WaitGroup
	send       func(msg any) // to the actor's mailbox; never blocks
}

var errPrioFull = errors.New("priority lane full: peer sends echo requests faster than it reads")

func newConn(nc net.Conn, wg *sync.WaitGroup, send func(any)) *conn {
	c := &conn{
		nc:         nc,
		wake:       make(chan struct{}, 1),
		prio:       make(chan []byte, prioLaneLen),
		done:       make(chan struct{}),
		flush:      make(chan struct{}),
		writerDone: make(chan struct{}),
		wg:         wg,
		send:       send,
	}
	c.lastRecv.Store(time.Now().UnixNano())
	wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// close tears the connection down now; queued frames are dropped.
func (c *conn) close() {
	c.once.Do(func() {
		c.dead.Store(true)
		close(c.done)
		c.nc.Close()
	})
}

// closeAfterFlush tears the connection down once the priority lane is
// written (an error message the peer should see), within flushTimeout.
func (c *conn) closeAfterFlush() {
	c.once.Do(func() {
		c.dead.Store(true)
		c.nc.SetWriteDeadline(time.Now().Add(flushTimeout))
		close(c.flush)
	})
}

// fail reports err to the actor unless the connection is already torn down.
func (c *conn) fail(err error) {
	if !c.dead.Load() {
		c.send(&connFailed{c: c, err: err})
	}
}

// priority queues a frame ahead of the queue; false if the lane is full.
func (c *conn) priority(b []byte) bool {
	select {
	case c.prio <- b:
		return true
	default:
		return false
	}
}

// enqueue queues a Send's frames; the actor checks room first (MaxQueue).
func (c *conn) enqueue(b batch) {
	c.queued.Add(int64(b.frames))
	c.mu.Lock()
	c.pending = append(c.pending, b)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// dequeue takes the oldest batch, if any.
func (c *conn) dequeue() (batch, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return batch{}, false
	}
	b := c.pending[0]
	c.pending[0] = batch{}
	c.pending = c.pending[1:]
	return b, true
}

func (c *conn) readLoop() {
	defer c.wg.Done()
	br := bufio.NewReaderSize(c.nc, readBufLen)
	var buf []byte
	for {
		f, err := openflow.ReadMessage(br, buf)
		if err != nil {
			c.fail(err)
			return
		}
		buf = f[:0]
		b := append([]byte(nil), f...) // handed on: ReadMessage reuses buf
		c.lastRecv.Store(time.Now().UnixNano())
		if openflow.Type(b[1]) == openflow.TypeEchoRequest {
			if !c.priority(echoReplyFor(b)) {
				c.fail(errPrioFull)
				return
			}
			continue
		}
		// Flow dumps are read by their bytes (the reconciler compares
		// canonical bytes): their entries are not decoded here.
		m, err := openflow.DecodeShallow(b)
		if err != nil {
			c.fail(fmt.Errorf("undecodable %s xid %d: %w", typeName(openflow.Type(b[1])), openflow.FrameXID(b), err))
			return
		}
		if c.dead.Load() {
			return
		}
		c.send(&inbound{c: c, frame: b, msg: m})
	}
}

func (c *conn) writeLoop() {
	defer c.wg.Done()
	defer close(c.writerDone)
	// A writer that stops for any reason closes the socket, which also
	// unblocks the reader.
	defer c.nc.Close()
	for {
		if !c.writePrio() {
			return
		}
		select {
		case b := <-c.prio:
			if !c.write(b) {
				return
			}
		case <-c.wake:
			for b, ok := c.dequeue(); ok; b, ok = c.dequeue() {
				if !c.writeBatch(b) {
					return
				}
			}
		case <-c.flush:
			c.writePrio()
			return
		case <-c.done:
			return
		}
	}
}

// writePrio writes whatever waits on the priority lane.
func (c *conn) writePrio() bool {
	for {
		select {
		case b := <-c.prio:
			if !c.write(b) {
				return false
			}
		default:
			return true
		}
	}
}

// writeBatch writes a Send's frames in chunks of about writeChunk bytes cut
// at frame boundaries, looking at the priority lane between chunks.
func (c *conn) writeBatch(b batch) bool {
	buf := b.buf
	for len(buf) > 0 {
		n, frames := 0, 0
		for n < len(buf) && (n == 0 || n+int(binary.BigEndian.Uint16(buf[n+2:])) <= writeChunk) {
			n += int(binary.BigEndian.Uint16(buf[n+2:]))
			frames++
		}
		if !c.write(buf[:n]) {
			return false
		}
		c.queued.Add(-int64(frames))
		buf = buf[n:]
		if !c.writePrio() {
			return false
		}
	}
	return true
}

func (c *conn) write(b []byte) bool {
	if _, err := c.nc.Write(b); err != nil {
		c.fail(err)
		return false
	}
	return true
}
