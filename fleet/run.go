package fleet

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// rejoinDelay is the pause between an expulsion and joining again.
const rejoinDelay = time.Second

// Run is a member for as long as ctx lives: it joins, and whenever the
// cluster expels it (paused or cut off from etcd longer than the failure
// timeout: the others took its bridges over), it stops its bridges and
// joins again as a new member. It returns nil when ctx is done (having left
// the cluster), or the error that kept it from joining the first time.
// started, when not nil, is called with each member once it has joined.
func Run(ctx context.Context, cfg Config, started func(*Member)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg = cfg.withDefaults()
	met, err := newFleetMetrics(cfg.Registerer)
	if err != nil {
		return err
	}
	first := true
	for {
		m, err := start(cfg, met)
		if err != nil {
			if first {
				return err
			}
			cfg.Logger.Error("cannot rejoin the cluster; retrying", zap.Error(err), zap.Duration("delay", rejoinDelay))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(rejoinDelay):
			}
			continue
		}
		first = false
		if started != nil {
			started(m)
		}
		select {
		case <-ctx.Done():
			m.Stop()
			return nil
		case <-m.Expelled():
			m.Stop()
			cfg.Logger.Warn("expelled from the cluster: rejoining as a new member", zap.Duration("delay", rejoinDelay))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(rejoinDelay):
			}
		}
	}
}
