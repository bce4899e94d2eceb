package ofactor

import (
	"log/slog"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
)

// WithZap is the actor system option that sends protoactor's own logging
// (log/slog) to log, named "protoactor", so that a program has one log:
//
//	system := actor.NewActorSystem(ofactor.WithZap(logger))
func WithZap(log *zap.Logger) actor.ConfigOption {
	core := log.Named("protoactor").Core()
	return actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(zapslog.NewHandler(core))
	})
}
