#!/usr/bin/env bash
# scripts/webload.sh sqlite|postgres: the web chat load test of make bench.
# Starts a gateway on loopback with the shipped config (its rate limits
# raised so one address may open thousands of conversations), runs
# bin/sbload against it, stops it, and prints the command and the results as
# a markdown code block. Progress goes to stderr.
#
#   LOAD_CONVERSATIONS  conversations held at once (default 5000)
#   LOAD_DURATION       how long they send messages (default 60s)
#   LOAD_INTERVAL       mean time between one conversation's messages (default 10s)
#   TEST_DATABASE_URL   PostgreSQL for the postgres store; the run gets a fresh
#                       schema in it, dropped at the end
#   LOAD_DEBUG          a loopback address (127.0.0.1:6060) to serve the
#                       gateway's profiles on (switchboard serve --debug)
#   LOAD_GODEBUG        GODEBUG for the gateway alone, e.g. gctrace=1 (its
#                       lines go to the gateway's log)
#   LOAD_LOG            a file to keep the gateway's log in
#   LOAD_GATEWAY        a switchboard binary to run instead of building one
#                       (to compare two builds)
#
# The exit status is sbload's: 0 when the run had no errors, 1 with errors,
# 2 when it could not run.
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:-}
case $store in
sqlite | postgres) ;;
*)
	echo "usage: scripts/webload.sh sqlite|postgres" >&2
	exit 2
	;;
esac
conversations=${LOAD_CONVERSATIONS:-5000}
duration=${LOAD_DURATION:-60s}
interval=${LOAD_INTERVAL:-10s}
ramp=500 # conversations opened per second
[[ $conversations =~ ^[1-9][0-9]*$ ]] || {
	echo "webload: LOAD_CONVERSATIONS=$conversations is not a number of conversations" >&2
	exit 2
}
for d in "$duration" "$interval"; do
	[[ $d =~ ^[0-9]+(ms|s|m|h)$ ]] || {
		echo "webload: $d: give durations as a whole number of ms, s, m or h" >&2
		exit 2
	}
done
pg_url=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}

tmp=$(mktemp -d)
pid=
schema=
stop_gateway() {
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 150); do # it drains for up to 10 s
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}
cleanup() {
	stop_gateway
	[ -z "${LOAD_LOG:-}" ] || cp "$tmp/gateway.log" "$LOAD_LOG" 2>/dev/null || true
	[ -z "$schema" ] || psql "$pg_url" -qX -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "webload $store: building" >&2
gateway=${LOAD_GATEWAY:-bin/switchboard}
[ -n "${LOAD_GATEWAY:-}" ] || go build -o bin/switchboard ./cmd/switchboard
go build -o bin/sbload ./cmd/sbload

# The shipped config, with limits for one loopback address opening
# thousands of conversations, the store asked for, and JSON logs (the
# bound address is read from them).
cfg=$tmp/switchboard.yaml
sed -E \
	-e 's/^( +per_ip:) .*/\1 {per_second: 100000, burst: 100000}/' \
	-e 's/^( +max_per_client:) .*/\1 0/' \
	-e 's/^( +per_conversation:) .*/\1 {per_second: 10, burst: 20}/' \
	-e "s/^( +driver:) sqlite( .*)?\$/\\1 $store/" \
	-e 's/^( +format:) auto( .*)?$/\1 json/' \
	configs/switchboard.yaml >"$cfg"
cp configs/knowledge.yaml "$tmp/"
for want in 'per_ip: {per_second: 100000' 'max_per_client: 0' 'per_conversation: {per_second: 10,' "driver: $store" 'format: json'; do
	grep -q "$want" "$cfg" || {
		echo "webload: configs/switchboard.yaml changed shape; could not set $want" >&2
		exit 2
	}
done
"$gateway" check-config "$cfg" >&2

if [ "$store" = postgres ]; then
	schema=sbload_$$
	psql "$pg_url" -qX -v ON_ERROR_STOP=1 -c "CREATE SCHEMA $schema" >/dev/null
	case $pg_url in *\?*) sep='&' ;; *) sep='?' ;; esac
	export SWITCHBOARD_DATABASE_URL="$pg_url${sep}search_path=$schema"
fi
SWITCHBOARD_AGENT_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export SWITCHBOARD_AGENT_TOKEN

echo "webload $store: starting the gateway" >&2
mkdir "$tmp/data"
debug=()
[ -z "${LOAD_DEBUG:-}" ] || debug=(--debug "$LOAD_DEBUG")
GODEBUG=${LOAD_GODEBUG:-${GODEBUG:-}} \
	"$gateway" serve --config "$cfg" --http 127.0.0.1:0 --sip 127.0.0.1:0 --data "$tmp/data" "${debug[@]}" 2>"$tmp/gateway.log" &
pid=$!
addr=
for _ in $(seq 600); do # 60 s to train the policy and open the store
	addr=$(grep -m1 '"msg":"switchboard started"' "$tmp/gateway.log" | grep -o '"http":"[^"]*"' | cut -d'"' -f4 || true)
	[ -n "$addr" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done

ready() { # GET /readyz answers 200
	local status=
	exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}" || return 1
	printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$addr" >&3
	read -r -t 5 _ status _ <&3 || true
	exec 3>&-
	[ "$status" = 200 ]
}
if [ -n "$addr" ]; then
	for _ in $(seq 100); do
		ready 2>/dev/null && break
		sleep 0.1
	done
fi

cmd="LOAD_CONVERSATIONS=$conversations LOAD_DURATION=$duration scripts/webload.sh $store"
echo '```'
echo "\$ $cmd"
if [ -z "$addr" ] || ! ready 2>/dev/null; then
	echo "the gateway did not become ready; its log ends with:"
	tail -n 20 "$tmp/gateway.log"
	echo '```'
	exit 2
fi
echo "webload $store: gateway at $addr (pid $pid); running sbload" >&2
echo "  bin/sbload -url http://$addr -conversations $conversations -duration $duration -interval $interval -ramp $ramp"
# A ceiling far past the run's own end, in case something hangs.
seconds() { awk -v d="$1" 'BEGIN { n = d + 0; u = substr(d, length(d)); print int(n * (u == "h" ? 3600 : u == "m" ? 60 : 1)) }'; }
limit=$((conversations / ramp + $(seconds "$duration") + 120))
status=0
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
timeout --signal=INT --kill-after=10 "$limit" \
	bin/sbload -url "http://$addr" -conversations "$conversations" -duration "$duration" -interval "$interval" -ramp "$ramp" || status=$?
echo "gateway        peak RSS $(awk '/VmHWM/ {printf "%.0f MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo unknown), store $store"
echo "machine        load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end (1, 5, 15 min; $(nproc) cores)"
warnings=$(grep -c '"level":"\(WARN\|ERROR\)"' "$tmp/gateway.log" || true)
if [ "$warnings" -gt 0 ]; then
	echo "gateway log    $warnings warnings and errors; the first:"
	grep -m3 '"level":"\(WARN\|ERROR\)"' "$tmp/gateway.log" | cut -c1-200
fi
echo '```'
stop_gateway
exit "$status"
