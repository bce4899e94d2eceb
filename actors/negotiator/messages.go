package negotiator

import "github.com/ofactor/ofactor/messages"

// The actor shell's interface: every message the negotiator actor receives
// or sends. They are the bridge's messages (package messages), named here so
// that the shell's whole protocol reads in one place.
//
// From the connection actor (the negotiator subscribes when it starts):
type (
	Connected          = messages.Connected          // a new connection: Start
	Disconnected       = messages.Disconnected       // connection lost: Disconnected
	Sent               = messages.Sent               // our Send went out with FirstXID...: Negotiator.Sent
	SendFailed         = messages.SendFailed         // our Send was not written
	Reply              = messages.Reply              // a reply with one of our xids: Step
	TransactionsFailed = messages.TransactionsFailed // our xids will get no reply (Disconnected follows)
	Unsolicited        = messages.Unsolicited        // for other subscribers; ignored
	ConnectFailed      = messages.ConnectFailed      // for other subscribers; ignored
)

// To the connection actor:
type (
	Send        = messages.Send        // what Ready holds, with ReplyTo the negotiator
	Subscribe   = messages.Subscribe   // sent on Started; also accepted from our own subscribers
	Unsubscribe = messages.Unsubscribe // accepted from our own subscribers
)

// To the reconciler (every connection's result) and the subscribers (the
// first result and each change):
type GeneveFieldAssigned = messages.GeneveFieldAssigned
