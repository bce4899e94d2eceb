// Package messages holds the typed messages between the actors of one bridge
// subtree and the events they publish to subscribers. Commands are
// imperative (Send, PutDesired, UpdateFlows), events past tense (Connected,
// VersionInstalled). Replies from the switch carry their xid and go to
// whichever actor holds that transaction.
package messages

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/openflow"
)

// Connected is published by the connection actor once HELLO is exchanged.
// Seq numbers connections of one bridge; it grows by one per connection, so
// that a reply or event from an older connection can be recognised and
// dropped.
type Connected struct {
	Seq     uint64
	Version uint8 // negotiated OpenFlow version
	Target  string
}

// Disconnected is published when connection Seq is lost. Every transaction
// still pending on it has been failed to its holder with TransactionsFailed
// before this is sent.
type Disconnected struct {
	Seq uint64
	Err string
}

// ConnectFailed is published by the connection actor for each attempt to
// connect that fails before HELLO completes: the target does not exist,
// refuses the connection, or the TLS handshake or HELLO fails. Err words it
// as ovs-ofctl does: "unix:/x/br-int.mgmt: failed to connect to socket (No
// such file or directory)". The actor tries again after its backoff;
// Attempt counts the failures since the last connection (1 for the first).
type ConnectFailed struct {
	Target  string
	Err     string
	Attempt int
}

// Send asks the connection actor to write Msgs, in order. The connection
// gives every message a fresh xid (consecutive: FirstXID, FirstXID+1, ...;
// a bundle ADD_MESSAGE's inner message shares its xid) and routes every
// reply with one of those xids to ReplyTo. It acknowledges with Sent to
// ReplyTo before any reply to these messages can be routed, or with
// SendFailed.
//
// Seq, when non-zero, is the connection the sender means: if it is no longer
// current, nothing is sent and SendFailed says so.
//
// Routing, when not nil, says for each message how long replies to its xid
// are routed (see Routing); nil means RouteDefault for every message. The
// connection never looks inside a message to decide it.
type Send struct {
	Ref     uint64 // the sender's own tag, echoed in Sent/SendFailed
	Seq     uint64
	Msgs    []openflow.Message
	Routing []Routing
	ReplyTo *actor.PID
}

// Routing is how long the connection routes replies to a message's xid to
// its holder.
type Routing uint8

const (
	// RouteDefault: until the message's final reply, or the reply to a
	// later barrier of the same holder (the switch has then processed it,
	// OpenFlow 1.3.5 §6.2). An error reply does not end it.
	RouteDefault Routing = iota
	// RouteUntilRelease: past barriers and past its own final reply, until
	// the reply to a barrier sent after a RouteRelease message of the same
	// holder. A bundle ADD_MESSAGE is one: OVS reports a message that
	// fails at COMMIT with the xid of its ADD_MESSAGE; and a bundle OPEN:
	// OVS reports a bundle it expired (OFPBFC_TIMEOUT) with the OPEN's.
	RouteUntilRelease
	// RouteRelease: as RouteDefault, and once a barrier after it is
	// answered, every RouteUntilRelease message of the holder sent before
	// it ends too (a bundle COMMIT or DISCARD).
	RouteRelease
	// RouteParts: as RouteDefault, and a multipart reply is handed over
	// part by part as it arrives (Reply.More), not reassembled: a reply of
	// any size (a flow dump of a million flows) costs one part at a time.
	RouteParts
)

// Sent acknowledges a Send: Msgs[i] went out with xid FirstXID+i.
type Sent struct {
	Ref      uint64
	Seq      uint64
	FirstXID uint32
	N        int
}

// XID returns the xid the i-th message of the Send went out with.
func (s *Sent) XID(i int) uint32 { return s.FirstXID + uint32(i) }

// SendFailed says a Send was not written: no connection, a stale Seq, or a
// message that could not be encoded (Index >= 0 names it).
type SendFailed struct {
	Ref   uint64
	Seq   uint64
	Index int
	Err   string
}

// Reply is a message from the switch with the xid of a transaction that
// ReplyTo's Send opened: barrier reply, error, TLV table reply, a whole
// (reassembled) multipart reply, bundle control reply, echo reply. A flow
// stats reply comes shallow (openflow.FlowStatsReply.Shallow): its entries'
// bytes, decoded on demand by FlowStats.Decode.
type Reply struct {
	Seq uint64
	XID uint32
	Msg openflow.Message
	// More says more parts of this multipart reply follow (RouteParts).
	More bool
}

// TransactionsFailed tells a holder that its transactions with these xids
// will get no reply: the connection Seq was lost.
type TransactionsFailed struct {
	Seq  uint64
	XIDs []uint32
	Err  string
}

// Unsolicited is a message from the switch that answers no transaction
// (packet-in, port status, flow removed, ...), delivered to subscribers.
type Unsolicited struct {
	Seq uint64
	Msg openflow.Message
}

// Drop asks the connection actor to drop connection Seq for the reason
// Err (Disconnected carries it) and to reconnect with its backoff, as for
// a lost connection: a peer that does not answer what it must (the
// negotiator's TLV request, say).
type Drop struct {
	Seq uint64
	Err string
}

// Renegotiate asks the negotiator to negotiate the Geneve option again on
// connection Seq (the switch's TLV map lost it).
type Renegotiate struct{ Seq uint64 }

// Subscribe asks an actor to deliver its events (and, for the connection
// actor, Unsolicited messages) to PID. Unsubscribe undoes it.
type Subscribe struct{ PID *actor.PID }

// Unsubscribe stops delivering events to PID.
type Unsubscribe struct{ PID *actor.PID }
