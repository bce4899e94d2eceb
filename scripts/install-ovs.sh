#!/usr/bin/env bash
# Installs Open vSwitch (Debian's openvswitch-switch) when its programs are missing, for the
# tests and `make demo`, which run private ovs-vswitchd/ovsdb-server processes of their own
# (internal/ovstest, scripts/demo.sh). The system service is never left running: it would load
# the kernel module and own /var/run/openvswitch, and nothing here needs it.
#
# Idempotent and quiet: prints nothing when OVS is already installed, and then touches nothing.
set -euo pipefail

need=(ovs-vswitchd ovsdb-server ovsdb-tool ovs-vsctl ovs-ofctl ovs-appctl)
schema=/usr/share/openvswitch/vswitch.ovsschema

have() { PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" >/dev/null 2>&1; }

missing() {
	local p
	for p in "${need[@]}"; do
		have "$p" || return 0
	done
	[ -f "$schema" ] || return 0
	return 1
}

# stop_system_service stops a system OVS that apt (or anyone) started; our tests use their own.
stop_system_service() {
	if [ -d /run/systemd/system ] && have systemctl; then
		$sudo systemctl stop openvswitch-switch ovs-vswitchd ovsdb-server >/dev/null 2>&1 || true
		$sudo systemctl disable openvswitch-switch >/dev/null 2>&1 || true
	fi
	local ctl=/usr/share/openvswitch/scripts/ovs-ctl
	if [ -x "$ctl" ] && { [ -e /var/run/openvswitch/ovs-vswitchd.pid ] || [ -e /var/run/openvswitch/ovsdb-server.pid ]; }; then
		$sudo "$ctl" stop >/dev/null 2>&1 || true
	fi
}

sudo=
if [ "$(id -u)" -ne 0 ]; then
	if ! have sudo; then
		echo "install-ovs.sh: Open vSwitch is missing and we are not root (no sudo)" >&2
		exit 1
	fi
	sudo=sudo
fi

# An OVS that is already here is left alone, service and all: it may be someone's real switch.
# OVS_FORCE_INSTALL=1 runs the install path anyway (apt-get then does nothing), to test it.
if ! missing && [ "${OVS_FORCE_INSTALL:-}" != 1 ]; then
	exit 0
fi

echo "install-ovs.sh: installing openvswitch-switch" >&2
log=$(mktemp)
policy=/usr/sbin/policy-rc.d
made_policy=
cleanup() {
	[ -n "$made_policy" ] && $sudo rm -f "$policy"
	rm -f "$log"
}
trap cleanup EXIT

# Without systemd, invoke-rc.d asks policy-rc.d whether to start the service: 101 says no.
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends openvswitch-switch; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-ovs.sh: apt-get failed" >&2
	exit 1
fi
stop_system_service

if missing; then
	echo "install-ovs.sh: installed openvswitch-switch, but still missing one of ${need[*]} or $schema" >&2
	exit 1
fi
