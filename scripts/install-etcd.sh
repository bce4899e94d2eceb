#!/usr/bin/env bash
# Installs etcd (Debian's etcd-server) when it is missing, for the fleet tests and benchmark,
# which start private etcd processes of their own on loopback ports in temporary directories
# (internal/etcdtest). The system service is never left running: nothing here needs it, and it
# would hold the default ports 2379/2380.
#
# Idempotent and quiet: prints nothing when etcd is already installed, and then touches nothing.
set -euo pipefail

have() { PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin" command -v "$1" >/dev/null 2>&1; }

stop_system_service() {
	if [ -d /run/systemd/system ] && have systemctl; then
		$sudo systemctl stop etcd >/dev/null 2>&1 || true
		$sudo systemctl disable etcd >/dev/null 2>&1 || true
	fi
}

sudo=
if [ "$(id -u)" -ne 0 ]; then
	if ! have sudo; then
		echo "install-etcd.sh: etcd is missing and we are not root (no sudo)" >&2
		exit 1
	fi
	sudo=sudo
fi

# An etcd that is already here is left alone, service and all: it may be someone's real one.
# ETCD_FORCE_INSTALL=1 runs the install path anyway (apt-get then does nothing), to test it.
if have etcd && [ "${ETCD_FORCE_INSTALL:-}" != 1 ]; then
	exit 0
fi

echo "install-etcd.sh: installing etcd-server" >&2
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
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends etcd-server; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-etcd.sh: apt-get failed" >&2
	exit 1
fi
stop_system_service

if ! have etcd; then
	echo "install-etcd.sh: installed etcd-server, but etcd is still missing" >&2
	exit 1
fi
