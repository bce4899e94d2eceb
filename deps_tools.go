//go:build tools

// This file pins the dependencies the packages being written will import,
// so that go.mod and go.sum stay complete meanwhile. It builds only with the
// "tools" tag.
package ofactor

import (
	_ "github.com/asynkron/protoactor-go/actor"
	_ "github.com/cenkalti/backoff/v4"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "go.uber.org/zap"
	_ "go.uber.org/zap/exp/zapslog"
	_ "gopkg.in/yaml.v3"
)
