package reconciler

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/ofactor/ofactor/messages"
)

// progressEvery bounds how often Progress is published during a round.
const progressEvery = 200 * time.Millisecond

// roundClock is what the actor times a round with: the pure round knows
// no clock.
type roundClock struct {
	start, commit, lastProgress time.Time
}

// startRound sends the first windows of a round's add phase.
func (a *reconcilerActor) startRound(ctx actor.Context) {
	now := time.Now()
	a.clock = roundClock{start: now, lastProgress: now}
	a.fill(ctx)
}

// fill sends windows of the add phase while fewer than maxWindows are
// unconfirmed; once every window is confirmed it sends the commit.
func (a *reconcilerActor) fill(ctx actor.Context) {
	r := a.round
	for r.moreAdds() && r.inFlight() < maxWindows {
		a.send(ctx, refAdd, r.nextWindow())
	}
	if r.phase == phaseAdd && r.addsDone() {
		a.clock.commit = time.Now()
		a.send(ctx, refCommit, r.commitPhase())
	}
}

// windowDone takes the barrier reply that closed a window.
func (a *reconcilerActor) windowDone(ctx actor.Context) {
	r := a.round
	if r.phase == phaseCommit {
		if r.inFlight() == 0 {
			a.endRound(ctx)
		}
		return
	}
	if now := time.Now(); now.Sub(a.clock.lastProgress) >= progressEvery {
		a.clock.lastProgress = now
		a.publish(ctx, &messages.Progress{Version: r.version, Sent: r.sent, Confirmed: r.confirmed, Total: len(r.all)})
	}
	a.fill(ctx)
}

// finished publishes RoundFinished for a round that reached its last
// barrier reply.
func (a *reconcilerActor) finished(ctx actor.Context, r *round, refused []*item) {
	now := time.Now()
	ev := r.stats
	ev.Duration = now.Sub(a.clock.start)
	if r.committed {
		ev.CommitLatency = now.Sub(a.clock.commit)
	}
	ev.Refused = len(refused)
	ev.Failed = r.failed
	for _, it := range refused {
		ev.ErrorNames = append(ev.ErrorNames, it.err)
	}
	a.publish(ctx, &messages.Progress{Version: r.version, Sent: r.sent, Confirmed: r.confirmed, Total: len(r.all)})
	a.publish(ctx, &ev)
}
