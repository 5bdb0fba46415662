#!/usr/bin/env bash
# cluster.sh measures a three-node wsgw cluster on this machine (127.0.0.1
# only): nats-server and three `wsgw serve --cluster` of load.yaml, driven by
# wsgw-bench -mode load. Usage, from the repository's root:
#
#   go build -o /tmp/wsgw ./cmd/wsgw && go build -o /tmp/wsgw-bench ./cmd/wsgw-bench
#   WSGW=/tmp/wsgw BENCH=/tmp/wsgw-bench bash cmd/wsgw-bench/cluster.sh latency|load|soak|memory
#
#   latency  posts through the node holding the connection (local) and through
#            another node (cross-node), -route post, three runs of each
#   load     connections spread over the three nodes, posts and echoes, the
#            backend posting through a node picked at random, 30 s
#   soak     the same for 5 minutes
#   single   the soak's load on one node without clustering, for comparison
#   memory   idle connections on one node, clustering on and off
set -euo pipefail
WSGW=${WSGW:-wsgw}
BENCH=${BENCH:-wsgw-bench}
NATS=${NATS:-nats-server}
NATS_PORT=${NATS_PORT:-14222}
BASE=${BASE:-13001} # nodes on BASE, BASE+1, BASE+2
BACKEND=${BACKEND:-127.0.0.1:19300}
TEMPLATE=$(dirname "${BASH_SOURCE[0]}")/load.yaml
RUNS=${RUNS:-3}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { # wait until 127.0.0.1:$1 accepts connections
	for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
	echo "nothing listens on $1" >&2; exit 1
}

start_nats() {
	"$NATS" -a 127.0.0.1 -p "$NATS_PORT" >/dev/null 2>&1 &
	pids+=($!)
	wait_port "$NATS_PORT"
}

# start_node PORT [--cluster URL --node NAME]: a node, its banner in /tmp/wsgw-node-PORT.out
start_node() {
	local port=$1; shift
	"$WSGW" serve --addr 127.0.0.1:"$port" --no-watch --no-tls --no-throttle \
		--param BackendUrl=http://"$BACKEND" "$@" "$TEMPLATE" >/tmp/wsgw-node-"$port".out 2>/tmp/wsgw-node-"$port".err &
	pids+=($!)
	wait_port "$port"
	last_pid=$!
}

cluster=(--cluster nats://127.0.0.1:"$NATS_PORT")
A=ws://127.0.0.1:$BASE/load
B=ws://127.0.0.1:$((BASE + 1))/load
C=ws://127.0.0.1:$((BASE + 2))/load
VIA_A=http://127.0.0.1:$BASE/load/@connections
VIA_B=http://127.0.0.1:$((BASE + 1))/load/@connections

three_nodes() {
	start_nats
	start_node "$BASE" "${cluster[@]}" --node a
	start_node $((BASE + 1)) "${cluster[@]}" --node b
	start_node $((BASE + 2)) "${cluster[@]}" --node c
	head -1 /tmp/wsgw-node-"$BASE".out
}

bench() { echo "+ wsgw-bench $*"; "$BENCH" -mode load -backend-listen "$BACKEND" "$@"; echo; }

case ${1:-} in
latency)
	three_nodes
	for rate in ${RATES:-500 2000}; do
		for i in $(seq "$RUNS"); do
			bench -gateway "$A" -post-via "$VIA_A" -route post -conns 100 -rate "$rate" -duration 10s -warmup 2s
			bench -gateway "$A" -post-via "$VIA_B" -route post -conns 100 -rate "$rate" -duration 10s -warmup 2s
		done
	done
	;;
load | soak)
	three_nodes
	d=30s
	[ "$1" = soak ] && d=${SOAK:-5m}
	bench -gateway "$A,$B,$C" -route mix -conns ${CONNS:-1500} -rate ${RATE:-1000} -duration "$d" -warmup 2s
	;;
single) # the soak's load on one node without --cluster, for comparison
	start_node "$BASE"
	bench -gateway "$A" -route mix -conns "${CONNS:-1500}" -rate "${RATE:-1000}" -duration "${SOAK:-5m}" -warmup 2s
	;;
memory)
	start_nats
	for i in $(seq "$RUNS"); do
		start_node "$BASE"
		bench -gateway "$A" -gateway-pid "$last_pid" -conns 5000 -rate 0 -duration 2s -warmup 0s
		kill "$last_pid"; wait "$last_pid" 2>/dev/null || true
		start_node "$BASE" "${cluster[@]}" --node a
		bench -gateway "$A" -gateway-pid "$last_pid" -conns 5000 -rate 0 -duration 2s -warmup 0s
		kill "$last_pid"; wait "$last_pid" 2>/dev/null || true
	done
	;;
*)
	sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
