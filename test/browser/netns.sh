#!/usr/bin/env bash
# netns.sh COMMAND [ARGS...]
#
# Runs COMMAND inside a private network namespace (needs root): only `lo`
# (127.0.0.1) and a veth pair v0/v1 with 198.18.0.1/24 and 198.18.0.2/24
# exist, and there is no route anywhere else, so nothing the command does
# can reach another host. WebRTC tests use it because Chromium gathers no
# loopback ICE candidates: the SFU announces 198.18.0.1 and media flows
# between the two veth addresses, while pages and signaling use 127.0.0.1.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: netns.sh COMMAND [ARGS...]" >&2
	exit 2
fi
if [[ ${KIROKU_NETNS_INSIDE:-} == 1 ]]; then
	ip link set lo up
	ip link add v0 type veth peer name v1
	ip addr add 198.18.0.1/24 dev v0
	ip addr add 198.18.0.2/24 dev v1
	ip link set v0 up
	ip link set v1 up
	export KIROKU_NETNS=1
	unset KIROKU_NETNS_INSIDE
	exec "$@"
fi
KIROKU_NETNS_INSIDE=1 exec unshare --net -- "$0" "$@"
