package ofactortest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ofactor/ofactor/openflow"
)

// Client is a small synchronous OpenFlow client for tests: it dials a
// switch (this package's or a real one), completes HELLO, sends messages
// with fresh xids and reads what comes back. It is not safe for
// concurrent use.
type Client struct {
	nc      net.Conn
	br      *bufio.Reader
	version uint8
	xid     uint32
	// Timeout bounds each read (default 10 s): a switch that never
	// answers fails the test instead of hanging it.
	Timeout time.Duration
}

// Reply is one message the switch sent: its bytes and their decoding
// (openflow.Decode; *openflow.Unknown for what the codec does not know).
type Reply struct {
	Raw []byte
	Msg openflow.Message
}

// Dial connects to target ("unix:PATH", "tcp:HOST:PORT") and negotiates
// OpenFlow 1.3.
func Dial(target string) (*Client, error) {
	network, addr, ok := strings.Cut(target, ":")
	if !ok || network != "unix" && network != "tcp" {
		return nil, fmt.Errorf("ofactortest: dial %q: want unix:PATH or tcp:HOST:PORT", target)
	}
	nc, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("ofactortest: %w", err)
	}
	c, err := NewClient(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// NewClient completes HELLO at OpenFlow 1.3 on a connection made by other
// means (one end of net.Pipe whose other end is given to ServeConn).
func NewClient(nc net.Conn) (*Client, error) {
	c := &Client{nc: nc, br: bufio.NewReader(nc), version: openflow.Version13, xid: 0x100, Timeout: 10 * time.Second}
	if err := c.SendRaw(mustEncode(openflow.NewHello(openflow.Version13))); err != nil {
		return nil, err
	}
	f, err := c.Read()
	if err != nil {
		return nil, fmt.Errorf("ofactortest: hello: %w", err)
	}
	if openflow.Type(f[1]) != openflow.TypeHello {
		return nil, fmt.Errorf("ofactortest: hello: the switch sent type %d first", f[1])
	}
	return c, nil
}

func mustEncode(m openflow.Message) []byte {
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// Close closes the connection.
func (c *Client) Close() error { return c.nc.Close() }

// NextXID returns a fresh xid.
func (c *Client) NextXID() uint32 {
	c.xid++
	return c.xid
}

// Send writes messages in order. Each gets the connection's version and,
// if its xid is 0, a fresh one; the message inside a BundleAdd gets the
// outer version and xid too. It returns the xids.
func (c *Client) Send(msgs ...openflow.Message) ([]uint32, error) {
	var xids []uint32
	var b []byte
	for _, m := range msgs {
		h := m.Hdr()
		if h.Version == 0 {
			h.Version = c.version
		}
		if h.XID == 0 {
			h.XID = c.NextXID()
		}
		if ba, ok := m.(*openflow.BundleAdd); ok && ba.Message != nil {
			ih := ba.Message.Hdr()
			ih.Version, ih.XID = h.Version, h.XID
		}
		var err error
		if b, err = m.AppendBinary(b); err != nil {
			return nil, fmt.Errorf("ofactortest: send %T: %w", m, err)
		}
		xids = append(xids, h.XID)
	}
	return xids, c.SendRaw(b)
}

// SendRaw writes bytes as they are.
func (c *Client) SendRaw(b []byte) error {
	c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	_, err := c.nc.Write(b)
	return err
}

// Read reads the next frame, answering echo requests on the way.
func (c *Client) Read() ([]byte, error) {
	for {
		c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
		f, err := readFrame(c.br)
		if err != nil {
			return nil, err
		}
		if openflow.Type(f[1]) == openflow.TypeEchoRequest && f[0] == c.version && len(f) >= 8 {
			f[1] = byte(openflow.TypeEchoReply)
			if err := c.SendRaw(f); err != nil {
				return nil, err
			}
			continue
		}
		return f, nil
	}
}

// ErrClosed is returned by Exchange when the switch closed the
// connection before the barrier reply.
var ErrClosed = errors.New("ofactortest: connection closed before the barrier reply")

// Exchange sends msgs and a barrier, then reads until the barrier's
// reply, and returns everything that came before it: the replies and
// errors msgs caused, in the order the switch sent them.
func (c *Client) Exchange(msgs ...openflow.Message) ([]Reply, error) {
	barrier := &openflow.BarrierRequest{}
	xids, err := c.Send(append(msgs, barrier)...)
	if err != nil {
		return nil, err
	}
	end := xids[len(xids)-1]
	var out []Reply
	for {
		f, err := c.Read()
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrClosed, err)
		}
		if openflow.Type(f[1]) == openflow.TypeBarrierReply && binary.BigEndian.Uint32(f[4:]) == end {
			return out, nil
		}
		m, _ := openflow.Decode(f)
		out = append(out, Reply{Raw: f, Msg: m})
	}
}
