#!/usr/bin/env bash
# A private Open vSwitch in a directory, for trying ofactor by hand and for `make demo`: the
# shell twin of internal/ovstest (which the Go tests use). Dummy datapath, no kernel module, no
# system service.
#
#   scripts/ovs-sandbox.sh start DIR [BRIDGE]   start ovsdb-server and ovs-vswitchd (detached)
#                                               with BRIDGE (default br-int); prints the target
#   scripts/ovs-sandbox.sh stop DIR             stop both daemons
#
# While it runs, with OVS_RUNDIR=DIR exported:
#   ovs-ofctl -O OpenFlow13 dump-flows unix:DIR/br-int.mgmt
#   ovs-vsctl --db=unix:DIR/db.sock show
#   ovs-appctl -t DIR/ovs-vswitchd.ctl coverage/show
set -euo pipefail

PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin"
schema=/usr/share/openvswitch/vswitch.ovsschema

usage() {
	sed -n '2,14s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

fail() {
	cat "$1" >&2
	echo "ovs-sandbox: failed to start; logs in $(dirname "$1")" >&2
	exit 1
}

start() {
	local dir=$1 bridge=${2:-br-int}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
	if [ -e "$dir/conf.db" ]; then
		echo "ovs-sandbox: $dir/conf.db exists: stop that sandbox and remove the directory first" >&2
		exit 1
	fi
	ovsdb-tool create "$dir/conf.db" "$schema"
	# --detach returns once the daemon is ready to serve. What the daemons print before they
	# detach goes to DIR/NAME.out, shown only if they fail.
	ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:err \
		--remote="punix:$dir/db.sock" --unixctl="$dir/ovsdb-server.ctl" "$dir/conf.db" \
		2>>"$dir/ovsdb-server.out" || fail "$dir/ovsdb-server.out"
	ovs-vsctl --db="unix:$dir/db.sock" --no-wait init
	ovs-vswitchd --detach --no-chdir --pidfile --log-file -vconsole:err \
		--enable-dummy=override --disable-system --disable-system-route \
		--unixctl="$dir/ovs-vswitchd.ctl" "unix:$dir/db.sock" \
		2>>"$dir/ovs-vswitchd.out" || fail "$dir/ovs-vswitchd.out"
	# Without --no-wait, ovs-vsctl waits until ovs-vswitchd has made the bridge.
	ovs-vsctl --db="unix:$dir/db.sock" --timeout=60 add-br "$bridge" \
		-- set bridge "$bridge" datapath_type=dummy fail-mode=secure \
		protocols=OpenFlow13,OpenFlow14,OpenFlow15
	local i
	for ((i = 0; i < 600; i++)); do
		[ -S "$dir/$bridge.mgmt" ] && break
		sleep 0.1
	done
	if [ ! -S "$dir/$bridge.mgmt" ]; then
		echo "ovs-sandbox: $dir/$bridge.mgmt did not appear" >&2
		exit 1
	fi
	echo "unix:$dir/$bridge.mgmt"
}

# stop asks each daemon to exit and kills it if it has not after five seconds.
stop() {
	local dir=$1 name pid i
	for name in ovs-vswitchd ovsdb-server; do
		[ -f "$dir/$name.pid" ] || continue
		pid=$(cat "$dir/$name.pid")
		kill "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
}

[ $# -ge 2 ] || usage
case $1 in
start) start "$2" "${3:-}" ;;
stop) stop "$2" ;;
*) usage ;;
esac
