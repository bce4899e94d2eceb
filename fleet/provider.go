package fleet

import (
	"github.com/asynkron/protoactor-go/cluster"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/etcd"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// lazyProvider is protoactor's etcd provider, made only when the cluster
// starts it. protoactor's remote sets grpc's global logger when it starts
// (remote.Start: grpclog.SetLoggerV2), which races with the grpc
// goroutines of an etcd client already dialling; the cluster starts its
// remote before its provider, so a provider made then has none running.
// A provider that cannot start is remembered in err (protoactor panics on
// it): the caller checks after StartMember.
type lazyProvider struct {
	cfg clientv3.Config
	p   *etcd.Provider
	err error
	// beforeStart, when set, runs just before the member's provider
	// starts (the remote is up): a member's own etcd client and join lock.
	beforeStart func() error
}

func (l *lazyProvider) make() error {
	if l.p == nil && l.err == nil {
		l.p, l.err = etcd.NewWithConfig(providerPrefix, l.cfg)
	}
	return l.err
}

func (l *lazyProvider) StartMember(c *cluster.Cluster) error {
	if err := l.make(); err != nil {
		return nil
	}
	if l.beforeStart != nil {
		if l.err = l.beforeStart(); l.err != nil {
			return nil
		}
	}
	if err := l.p.StartMember(c); err != nil {
		l.err = err
	}
	return nil
}

func (l *lazyProvider) StartClient(c *cluster.Cluster) error {
	if err := l.make(); err != nil {
		return nil
	}
	if err := l.p.StartClient(c); err != nil {
		l.err = err
	}
	return nil
}

func (l *lazyProvider) Shutdown(graceful bool) error {
	if l.p == nil {
		return nil
	}
	return l.p.Shutdown(graceful)
}
