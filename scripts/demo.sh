#!/usr/bin/env bash
# make demo: start a private Open vSwitch (dummy datapath) in a temporary directory, let
# `ofactor run --once` install examples/{flows,groups,meters}.txt on its bridge, print what the
# bridge then holds, and stop the switch. DEMO_KEEP=1 keeps the switch running and says how to
# stop it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin"

scripts/install-ovs.sh
if [ ! -x bin/ofactor ]; then
	go build -o bin/ofactor ./cmd/ofactor
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/ofdemo.XXXXXX")
cleanup() {
	if [ "${DEMO_KEEP:-}" = 1 ]; then
		echo
		echo "switch left running in $dir; stop it with: scripts/ovs-sandbox.sh stop $dir && rm -r $dir"
		return
	fi
	scripts/ovs-sandbox.sh stop "$dir"
	rm -rf "$dir"
}
trap cleanup EXIT

target=$(scripts/ovs-sandbox.sh start "$dir" br-int)
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir

echo "== ofactor run --once --switch $target"
bin/ofactor run --once --switch "$target" \
	--flows examples/flows.txt --groups examples/groups.txt --meters examples/meters.txt

for what in dump-flows dump-groups dump-meters dump-tlv-map; do
	echo
	echo "== ovs-ofctl -O OpenFlow13 $what"
	case $what in
	dump-flows) ovs-ofctl -O OpenFlow13 --no-stats dump-flows "$target" ;;
	*) ovs-ofctl -O OpenFlow13 "$what" "$target" ;;
	esac
done

echo
if diff <(ovs-ofctl -O OpenFlow13 --no-stats dump-flows "$target" | sed 's/^ //' | LC_ALL=C sort) \
	<(LC_ALL=C sort examples/flows.txt) >/dev/null; then
	echo "== the bridge holds exactly examples/flows.txt"
else
	echo "== the bridge's flows differ from examples/flows.txt:"
	diff <(ovs-ofctl -O OpenFlow13 --no-stats dump-flows "$target" | sed 's/^ //' | LC_ALL=C sort) \
		<(LC_ALL=C sort examples/flows.txt) || true
	exit 1
fi
