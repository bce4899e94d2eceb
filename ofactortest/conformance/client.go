package conformance

import (
	"encoding/binary"
	"fmt"

	"github.com/ofactor/ofactor/ofactortest"
	"github.com/ofactor/ofactor/openflow"
)

// Client is a case's connection to its backend; what it receives goes
// into the transcript.
type Client struct {
	h    *H
	c    *ofactortest.Client
	name string
}

// Result is what one exchange brought back.
type Result struct {
	XIDs    []uint32 // of the messages sent, in order (the barrier's not included)
	Replies []ofactortest.Reply
}

// Exchange sends msgs and a barrier, waits for the barrier's reply and
// notes everything that came before it.
func (c *Client) Exchange(msgs ...openflow.Message) Result {
	c.h.Helper()
	rs, err := c.c.Exchange(msgs...)
	res := Result{Replies: rs}
	for i := range msgs {
		res.XIDs = append(res.XIDs, msgs[i].Hdr().XID)
	}
	c.note(res)
	if err != nil {
		c.h.Fatalf("%s: exchange: %v", c.name, err)
	}
	return res
}

// Send sends messages without waiting; their replies come with a later
// Exchange (whose Result then names them "@?").
func (c *Client) Send(msgs ...openflow.Message) []uint32 {
	c.h.Helper()
	xids, err := c.c.Send(msgs...)
	if err != nil {
		c.h.Fatalf("%s: send: %v", c.name, err)
	}
	return xids
}

// SendRaw sends bytes as they are; a message's xid is at b[4:8].
func (c *Client) SendRaw(b []byte) {
	c.h.Helper()
	if err := c.c.SendRaw(b); err != nil {
		c.h.Fatalf("%s: send: %v", c.name, err)
	}
}

// ExchangeRaw sends one raw message and a barrier and returns what came
// back; XIDs holds the raw message's xid.
func (c *Client) ExchangeRaw(b []byte) Result {
	c.h.Helper()
	c.SendRaw(b)
	rs, err := c.c.Exchange()
	res := Result{XIDs: []uint32{binary.BigEndian.Uint32(b[4:])}, Replies: rs}
	c.note(res)
	if err != nil {
		c.h.Fatalf("%s: exchange: %v", c.name, err)
	}
	return res
}

// Read reads the next message (for what comes unasked, or after a
// message that ends the connection); nil when the connection closed.
func (c *Client) Read() []byte {
	f, err := c.c.Read()
	if err != nil {
		c.h.Note("%s: closed", c.name)
		return nil
	}
	c.h.Note("%s: %s", c.name, describe(f))
	return f
}

// ReadReply reads the parts of the multipart reply to xid (everything
// else is a failure).
func (c *Client) ReadReply(xid uint32) [][]byte {
	c.h.Helper()
	var parts [][]byte
	for {
		f, err := c.c.Read()
		if err != nil {
			c.h.Fatalf("%s: read: %v", c.name, err)
		}
		if len(f) < 16 || binary.BigEndian.Uint32(f[4:]) != xid || openflow.Type(f[1]) != openflow.TypeMultipartReply {
			c.h.Fatalf("%s: waiting for the reply to %#x, got %s", c.name, xid, describe(f))
		}
		parts = append(parts, f)
		if binary.BigEndian.Uint16(f[10:])&openflow.MultipartMore == 0 {
			return parts
		}
	}
}

// XID is a fresh xid of this connection.
func (c *Client) XID() uint32 { return c.c.NextXID() }

func (c *Client) note(res Result) {
	for _, l := range res.Transcript() {
		c.h.Note("%s: %s", c.name, l)
	}
}

// Summary is one short line per reply, for a case's expectations:
// "@1 error OFPFMFC_OVERLAP", "@0 bundle OPEN_REPLY", "@2 flows 3",
// where @N is the index of the message sent whose xid the reply carries
// (@? for another xid). The parts of a multipart reply make one line.
func (r Result) Summary() []string {
	var out []string
	for _, g := range r.grouped() {
		out = append(out, fmt.Sprintf("%s %s", r.at(g[0]), summarize(g)))
	}
	return out
}

// Transcript is every reply in full, in ovs-ofctl's words where there are
// any, free of what legitimately differs between switches (datapath id,
// Ethernet addresses, durations).
func (r Result) Transcript() []string {
	var out []string
	for _, g := range r.grouped() {
		for i, l := range describeAll(g) {
			if i == 0 {
				l = r.at(g[0]) + " " + l
			} else {
				l = "    " + l
			}
			out = append(out, l)
		}
	}
	return out
}

func (r Result) at(f []byte) string {
	x := binary.BigEndian.Uint32(f[4:])
	for i, y := range r.XIDs {
		if x == y {
			return fmt.Sprintf("@%d", i)
		}
	}
	return "@?"
}

// grouped joins the consecutive parts of each multipart reply.
func (r Result) grouped() [][][]byte {
	var out [][][]byte
	for _, rp := range r.Replies {
		f := rp.Raw
		if n := len(out); n > 0 && isMultipartReply(f) {
			last := out[n-1]
			prev := last[len(last)-1]
			if isMultipartReply(prev) && binary.BigEndian.Uint32(prev[4:]) == binary.BigEndian.Uint32(f[4:]) &&
				binary.BigEndian.Uint16(prev[10:])&openflow.MultipartMore != 0 {
				out[n-1] = append(last, f)
				continue
			}
		}
		out = append(out, [][]byte{f})
	}
	return out
}

func isMultipartReply(f []byte) bool {
	return len(f) >= 16 && openflow.Type(f[1]) == openflow.TypeMultipartReply
}

// Errors lists the error names of a result's errors, in order, with the
// index of the message each answers: "@1 OFPFMFC_OVERLAP".
func (r Result) Errors() []string {
	var out []string
	for _, rp := range r.Replies {
		if e, ok := rp.Msg.(*openflow.Error); ok {
			out = append(out, r.at(rp.Raw)+" "+e.Err().Name)
		}
	}
	return out
}
