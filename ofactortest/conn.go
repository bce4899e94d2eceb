package ofactortest

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"net"
	"sync"

	"github.com/ofactor/ofactor/openflow"
	"github.com/ofactor/ofactor/openflow/ofperr"
)

// conn is one controller connection (OVS's struct ofconn on a service
// socket): its negotiated version, its bundles, what it asked with
// SET_CONFIG, and the queue of what the switch sends it.
type conn struct {
	sw      *Switch
	nc      net.Conn
	epoch   uint64
	version uint8
	bundles map[uint32]*bundle
	// missSendLen is SET_CONFIG's miss_send_len: the connection's own.
	missSendLen uint16

	// The writer's queue: the switch never blocks on a slow reader.
	mu      sync.Mutex
	cond    *sync.Cond
	out     [][]byte
	closing bool // close after what is queued
	done    chan struct{}
	once    sync.Once
}

func newConn(s *Switch, nc net.Conn, epoch uint64) *conn {
	c := &conn{sw: s, nc: nc, epoch: epoch, bundles: map[uint32]*bundle{}, done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	return c
}

// serve runs the connection: HELLO, then one message at a time.
func (c *conn) serve() {
	defer c.sw.wg.Done()
	defer c.sw.dropConn(c)
	c.sw.wg.Add(1)
	go c.write()
	defer c.closeAfterQueued()
	if !c.gate() {
		return
	}
	br := bufio.NewReader(c.nc)
	if !c.handshake(br) {
		return
	}
	for {
		if !c.gate() {
			return
		}
		frame, err := readFrame(br)
		if err != nil {
			return
		}
		if !c.gate() {
			return
		}
		if !c.handle(frame) {
			return
		}
	}
}

// handshake sends the switch's HELLO and reads the peer's (vconn.c):
// anything else first ends the connection, no common version is answered
// OFPHFC_INCOMPATIBLE and ends it too.
func (c *conn) handshake(br *bufio.Reader) bool {
	hello := openflow.NewHello(c.sw.cfg.versions...)
	b, _ := hello.AppendBinary(nil)
	c.send(b)
	frame, err := readFrame(br)
	if err != nil || openflow.Type(frame[1]) != openflow.TypeHello {
		return false
	}
	var peer openflow.Hello
	peerVersions := uint32(0)
	if frame[0] != 0 && peer.UnmarshalBinary(frame) == nil {
		peerVersions = peer.VersionBitmap()
	}
	c.sw.mu.Lock()
	c.sw.recv[MsgHello]++
	c.sw.mu.Unlock()
	var ours uint32
	for _, v := range c.sw.cfg.versions {
		ours |= 1 << v
	}
	common := ours & peerVersions
	if common == 0 {
		v := uint8(openflow.Version10)
		if peerVersions != 0 {
			v = uint8(31 - bits.LeadingZeros32(peerVersions))
		}
		if v > openflow.Version15 {
			v = openflow.Version10 // OVS falls back to 1.0 for a version it does not know
		}
		// ofperr_encode_hello: xid 0, the text as data.
		msg := fmt.Sprintf("We support %s, you support %s, no common versions.",
			versionsText(ours), versionsText(peerVersions))
		e := openflow.NewError(openflow.Header{Version: v}, ofperr.NamedFor(v, "OFPHFC_INCOMPATIBLE"), []byte(msg))
		b, _ := e.AppendBinary(nil)
		c.send(b)
		return false
	}
	c.version = uint8(31 - bits.LeadingZeros32(common))
	return true
}

// versionsText is vconn.c's version_bitmap_to_string.
func versionsText(bm uint32) string {
	top := fmt.Sprintf("version 0x%02x", 31-bits.LeadingZeros32(bm))
	low := bm>>1 + 1
	switch {
	case bm == 0:
		return "no versions"
	case bm&(bm-1) == 0:
		return top
	case low&(low-1) == 0:
		return top + " and earlier"
	}
	s := "versions "
	for v := 0; v < 32; v++ {
		if bm&(1<<v) != 0 {
			s += fmt.Sprintf("0x%02x", v)
			if bm>>(v+1) != 0 {
				s += ", "
			}
		}
	}
	return s
}

// readFrame reads one OpenFlow frame. A length under the header's is a
// broken stream (OVS drops the connection).
func readFrame(br *bufio.Reader) ([]byte, error) {
	h := make([]byte, openflow.HeaderLen)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(h[2:]))
	if n < openflow.HeaderLen {
		return nil, fmt.Errorf("frame length %d", n)
	}
	b := make([]byte, n)
	copy(b, h)
	if _, err := io.ReadFull(br, b[openflow.HeaderLen:]); err != nil {
		return nil, err
	}
	return b, nil
}

// handle handles one frame under the switch's lock and queues what it
// answers. It reports whether the connection goes on.
func (c *conn) handle(frame []byte) bool {
	s := c.sw
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.epoch != s.epoch {
		return false
	}
	now := s.cfg.now()
	s.st.expire(now)
	r := &request{raw: frame, xid: binary.BigEndian.Uint32(frame[4:])}
	r.replies = c.expireBundles(now)
	name := nameOf(frame)
	s.count(name)
	cut, drop := s.fault.tick()
	if drop {
		c.queue(r.replies...)
		return false
	}
	switch t := openflow.Type(frame[1]); {
	case frame[0] != c.version && t > openflow.TypeEchoReply:
		// vconn_recv: only HELLO, ERROR and ECHO may have another
		// version; anything else is answered OFPBRC_BAD_VERSION.
		r.replyRaw(errorMessage(frame, "OFPBRC_BAD_VERSION"))
	case frame[0] != c.version && t == openflow.TypeEchoRequest:
		c.handleEcho(r)
	case frame[0] != c.version && t == openflow.TypeEchoReply:
	default:
		c.dispatch(r)
	}
	if cut {
		return false // handled, not answered
	}
	c.queue(r.replies...)
	return true
}

// count counts a received message by name. Call with s.mu held.
func (s *Switch) count(name string) { s.recv[name]++ }

// queue hands messages to the writer.
func (c *conn) queue(msgs ...[]byte) {
	if len(msgs) == 0 {
		return
	}
	c.mu.Lock()
	c.out = append(c.out, msgs...)
	c.mu.Unlock()
	c.cond.Signal()
}

// send queues one message.
func (c *conn) send(b []byte) { c.queue(b) }

// write writes the queue until the connection closes. It waits at the
// stall gate before each message.
func (c *conn) write() {
	defer c.sw.wg.Done()
	defer c.nc.Close()
	for {
		c.mu.Lock()
		for len(c.out) == 0 && !c.closing {
			c.cond.Wait()
		}
		if len(c.out) == 0 {
			c.mu.Unlock()
			return
		}
		b := c.out[0]
		c.out = c.out[1:]
		c.mu.Unlock()
		if !c.gate() {
			return
		}
		if _, err := c.nc.Write(b); err != nil {
			c.close()
			return
		}
	}
}

// gate waits while the switch is stalled; false when the connection
// closed meanwhile.
func (c *conn) gate() bool {
	for {
		c.sw.mu.Lock()
		ch := c.sw.fault.stall
		c.sw.mu.Unlock()
		if ch == nil {
			select {
			case <-c.done:
				return false
			default:
				return true
			}
		}
		select {
		case <-ch:
		case <-c.done:
			return false
		}
	}
}

// closeAfterQueued closes the connection once the writer has written
// what is queued.
func (c *conn) closeAfterQueued() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.cond.Signal()
}

// close closes the connection now, dropping what is queued.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.nc.Close()
		c.mu.Lock()
		c.out, c.closing = nil, true
		c.mu.Unlock()
		c.cond.Signal()
	})
}
