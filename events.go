package ofactor

import (
	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/messages"
)

// IsEvent reports whether m is one of the events a bridge publishes to its
// subscribers: messages.Connected, ConnectFailed, Disconnected,
// GeneveFieldAssigned, VersionInstalled, InSync, OutOfSync, Rejected,
// Progress, RoundFinished, Drift, Conflict, Audited, Planned and Checked
// (diff and check modes), and Unsolicited (what the switch sends on its
// own: packet-ins, port status, flow removed, flow monitor updates, ...).
func IsEvent(m any) bool {
	switch m.(type) {
	case *messages.Connected, *messages.ConnectFailed, *messages.Disconnected, *messages.GeneveFieldAssigned,
		*messages.VersionInstalled, *messages.InSync, *messages.OutOfSync, *messages.Rejected,
		*messages.Progress, *messages.RoundFinished, *messages.Drift, *messages.Conflict,
		*messages.Audited, *messages.Planned, *messages.Checked, *messages.Unsolicited:
		return true
	}
	return false
}

// EventFunc returns the props of a subscriber actor that calls f with each
// event it receives (see IsEvent) and ignores every other message. f runs
// inside the actor, one event at a time, in the order the bridge published
// them: it must not block for long, or events queue up in the mailbox.
//
//	pid := system.Root.Spawn(ofactor.EventFunc(func(ev any) { log.Printf("%T", ev) }))
//	ofactor.Spawn(system.Root, ofactor.Config{Subscribers: []*actor.PID{pid}})
func EventFunc(f func(event any)) *actor.Props {
	return actor.PropsFromFunc(func(c actor.Context) {
		if m := c.Message(); IsEvent(m) {
			f(m)
		}
	})
}
