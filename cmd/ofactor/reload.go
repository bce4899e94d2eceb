package main

import (
	"context"
	"strings"

	"go.uber.org/zap"

	"github.com/ofactor/ofactor/internal/httpapi"
)

// reload is SIGHUP. Without --config it reads every bridge's files again.
// With it, it reads the configuration file again and applies it: bridges
// added are started, bridges removed stopped, a bridge whose options
// changed is restarted with them (a new connection: the switch is read and
// only the difference installed, nothing is cleared), and every other bridge
// reads its files again; log_level and metrics_addr are applied unless the
// command line gave them. A configuration that does not load changes
// nothing.
func (d *daemon) reload(ctx context.Context) {
	if d.o.config == "" {
		d.log.Info("SIGHUP: reading the files again")
		for _, r := range d.bridges {
			r.reloadFiles()
		}
		return
	}
	next := *d.o
	next.bridges, next.logLevel = nil, d.o.flagLogLevel
	err := next.loadConfig()
	if err == nil {
		if !next.set["metrics-addr"] && next.metricsAddr == "" {
			next.metricsAddr = httpapi.DefaultAddr
		}
		if next.metricsAddr == "off" {
			next.metricsAddr = ""
		}
	}
	lvl, lerr := parseLevel(next.logLevel)
	if err == nil {
		err = lerr
	}
	if err != nil {
		d.log.Error("SIGHUP: configuration not applied; the running one stays", zap.String("config", d.o.config),
			zap.Error(err))
		return
	}

	old := map[string]*bridgeRunner{}
	for _, r := range d.bridges {
		old[r.o.name] = r
	}
	var added, removed, restarted []string
	bridges := make([]*bridgeRunner, 0, len(next.bridges))
	var start []*bridgeRunner
	wanted := map[string]bool{}
	for _, bo := range next.bridges {
		wanted[bo.name] = true
	}
	for _, r := range d.bridges {
		if !wanted[r.o.name] {
			r.stopWatch()
			d.stopBridge(r)
			removed = append(removed, r.o.name)
		}
	}
	for _, bo := range next.bridges {
		r, ok := old[bo.name]
		if ok && r.o == bo {
			r.reloadFiles()
			bridges = append(bridges, r)
			continue
		}
		if ok {
			r.stopWatch()
			d.stopBridge(r)
			restarted = append(restarted, bo.name)
		} else {
			added = append(added, bo.name)
		}
		nr, err := d.spawnBridge(bo)
		if err != nil {
			d.log.Error("SIGHUP: bridge not started", zap.String("bridge", bo.name), zap.Error(err))
			continue
		}
		bridges = append(bridges, nr)
		start = append(start, nr)
	}
	d.bridges = bridges
	for _, r := range start {
		put, err := r.load()
		if err != nil {
			// It starts with no desired state: nothing is sent until the
			// files parse.
			r.log.Error("files not applied; nothing is desired until they parse", zap.Error(err))
			r.mb.FileError(err)
			put = nil
		}
		d.startWatch(ctx, r, put)
	}
	d.level.SetLevel(lvl)
	if next.metricsAddr != d.httpAddr {
		d.listen(next.metricsAddr)
	}
	next.bridges = nil
	for _, r := range d.bridges {
		next.bridges = append(next.bridges, r.o)
	}
	d.o = &next
	d.log.Info("SIGHUP: configuration reloaded", zap.String("config", d.o.config),
		zap.String("added", strings.Join(added, " ")), zap.String("removed", strings.Join(removed, " ")),
		zap.String("restarted", strings.Join(restarted, " ")))
}
