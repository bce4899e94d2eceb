// Package ofactor keeps an Open vSwitch bridge's OpenFlow tables equal to a
// desired state, as OVN's ofctrl does for br-int, built as an actor subtree
// on protoactor-go.
//
// One bridge is one subtree: a supervisor with three sibling actors,
//
//	connection  owns the socket: dial, HELLO, echo, inactivity probe, xids,
//	            routing of replies to the actor holding each transaction,
//	            reconnection with exponential backoff
//	negotiator  maps the Geneve option to a tun_metadata field
//	            (NXT_TLV_TABLE_REQUEST/MOD, retried on a race)
//	reconciler  reads what the switch holds, diffs it with the desired
//	            tables and sends the minimal changes in one atomic bundle
//
// Spawn a bridge with Spawn (or Props under a parent of your own), send it
// messages.PutDesired or messages.UpdateFlows, and subscribe to its events
// (messages.VersionInstalled, messages.Rejected, ...) with Config.Subscribers
// or messages.Subscribe. The desired state lives in Config.State, so a bridge
// that is restarted, or spawned again with the same State, loses nothing.
package ofactor
