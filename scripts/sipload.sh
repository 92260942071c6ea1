#!/usr/bin/env bash
# Part of make bench: SIP load with sipp against the gateway on loopback.
# Starts the gateway (shipped config; its own data dir, a wide RTP range),
# runs three phases and prints a Markdown section on stdout:
#   1. concurrent calls with RTP both ways for 60 s (first, so that the
#      memory per call is measured from a fresh process);
#   2. call setup rate: INVITE -> 200 -> ACK -> 3 s of greeting -> BYE;
#   3. handoff decision -> REFER on the wire, callers pressing 0.
# Knobs: CONCURRENT (1), HOLD_S (1), RATE (2), CALLS (2), REFER_CALLS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-300}
CALLS=${CALLS:-6000}
CONCURRENT=${CONCURRENT:-1000}
HOLD_S=${HOLD_S:-60}
REFER_CALLS=${REFER_CALLS:-1000}
SIP=127.0.0.1:15060
HTTP=127.0.0.1:18080
repo=$(pwd)
tmp=$(mktemp -d)
gw=
cleanup() {
	[ -n "$gw" ] && kill "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/switchboard" ./cmd/switchboard
cp -r configs "$tmp/configs"
sed -i -e 's/rtp_ports: {min: 20000, max: 29998}/rtp_ports: {min: 30000, max: 59998}/' \
	-e 's/max_calls: 1000 /max_calls: 5000 /' "$tmp/configs/switchboard.yaml"
# The load comes from one address: lift its per-source limits.
sed -i -E 's/^( +)(invite|other): [{]per_second: [0-9]+, burst: [0-9]+[}]/\1\2: {per_second: 100000, burst: 100000}/' "$tmp/configs/switchboard.yaml"
grep -q 'invite: {per_second: 100000' "$tmp/configs/switchboard.yaml" || { echo "sipload: could not lift channels.voice.limits" >&2; exit 2; }
"$tmp/switchboard" serve --config "$tmp/configs/switchboard.yaml" --http "$HTTP" --sip "$SIP" \
	--data "$tmp/data" >"$tmp/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 100); do curl -sf "http://$HTTP/readyz" >/dev/null && break; sleep 0.1; done

metric() { # metric NAME [LABELS]: the sum of a metric's samples
	curl -s "http://$HTTP/metrics" | awk -v n="$1" -v l="${2:-}" \
		'$1 ~ "^"n"({|$)" && index($1, l) { s += $2 } END { printf "%.0f", s }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gw/stat"; }
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$gw/status"; }
udp_snd_errors() { awk '/^Udp:/ && $2 ~ /^[0-9]/ { print $7 }' /proc/net/snmp; } # SndbufErrors
sipp_run() { # sipp_run NAME ARGS...: sipp from testdata/audio, its stats CSV in $tmp/NAME.csv
	local name=$1
	shift
	(cd testdata/audio && sipp "$SIP" -s support -i 127.0.0.1 -nostdin -timeout 600s \
		-trace_stat -stf "$tmp/$name.csv" -fd 1 "$@" >"$tmp/$name.out" 2>&1) || true
}
csv() { # csv NAME COLUMN: the column of the CSV's last line
	awk -F';' -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i } END { print $k }' "$tmp/$1.csv"
}

echo "Gateway: \`$tmp/switchboard serve\` with the shipped config (SQLite, embedded responder, flite);"
echo "sipp (Debian sip-tester $(dpkg-query -W -f='${Version}' sip-tester 2>/dev/null)) on the same 2 cores, loopback."
echo
echo "### 1. Concurrent calls with RTP both ways (first, on a fresh process)"
echo
sent0=$(metric switchboard_voice_rtp_packets_total 'kind="sent"')
recv0=$(metric switchboard_voice_rtp_packets_total 'kind="received"')
lost0=$(metric switchboard_voice_rtp_packets_total 'kind="lost"')
drops0=$(udp_snd_errors)
rss1=$(rss_kib)
heap1=$(metric go_memstats_heap_inuse_bytes)
sipp_run media -sf "$repo/testdata/sipp/load_call.xml" -p 14062 -mp 16000 -r 100 -m "$CONCURRENT" \
	-l "$CONCURRENT" -d $((HOLD_S * 1000)) &
sippm=$!
# Sample once every call is up: ramp-up is CONCURRENT/100 s.
sleep $((CONCURRENT / 100 + 5))
active=$(metric switchboard_sip_active_calls)
rss2=$(rss_kib)
heap2=$(metric go_memstats_heap_inuse_bytes)
stack2=$(metric go_memstats_stack_inuse_bytes)
t0=$(cpu_ticks)
sleep 30
t1=$(cpu_ticks)
wait "$sippm"
sleep 2 # calls end just after sipp sees their BYE answered
ok=$(csv media 'SuccessfulCall(C)')
failed=$(csv media 'FailedCall(C)')
sent=$(($(metric switchboard_voice_rtp_packets_total 'kind="sent"') - sent0))
recv=$(($(metric switchboard_voice_rtp_packets_total 'kind="received"') - recv0))
lost=$(($(metric switchboard_voice_rtp_packets_total 'kind="lost"') - lost0))
drops=$(($(udp_snd_errors) - drops0))
hz=$(getconf CLK_TCK)
echo "\`sipp -sf testdata/sipp/load_call.xml -r 100 -m $CONCURRENT -l $CONCURRENT -d $((HOLD_S * 1000))\`:"
echo "$ok calls succeeded, $failed failed; $active calls up at once when sampled."
awk -v s="$sent" -v r="$recv" -v l="$lost" -v d="$drops" -v e="$((CONCURRENT * HOLD_S * 50))" 'BEGIN {
	printf "- RTP in (caller -> gateway): %d packets received, %d lost (sequence gaps never filled, kernel drops on its\n", r, l
	printf "  own sockets included): **%.3f%% loss**.\n", (r + l) ? 100 * l / (r + l) : 0
	printf "- RTP out (gateway -> caller): %d packets sent of %d due (%d calls x %d s x 50/s, 20 ms paced): %.2f%%;\n", s, e, e / 50 / '"$HOLD_S"', '"$HOLD_S"', e ? 100 * s / e : 0
	printf "  sends the kernel refused (UDP SndbufErrors, whole host): %d. sipp 3.6 rtp_stream does not read what it\n", d
	printf "  receives, so the caller side cannot report loss of these.\n" }'
awk -v a="$active" -v r1="$rss1" -v r2="$rss2" -v h1="$heap1" -v h2="$heap2" -v st="$stack2" \
	-v t="$((t1 - t0))" -v hz="$hz" 'BEGIN {
	printf "- Memory per call: RSS %.0f KiB (%d MiB -> %d MiB at %d calls), Go heap in use %.0f KiB (garbage not yet\n", (r2 - r1) / a, r1 / 1024, r2 / 1024, a, (h2 - h1) / a / 1024
	printf "  collected included); goroutine stacks in all %d MiB.\n", st / 1048576
	printf "- CPU: the gateway used %.2f cores over 30 s at %d calls: %.2f%% of a core per call.\n", t / hz / 30, a, 100 * t / hz / 30 / a }'
echo
echo "### 2. Call setup rate"
echo
ans0=$(metric switchboard_voice_calls_answered_total)
sipp_run setup -sf "$repo/testdata/sipp/load_call.xml" -p 14060 -mp 16000 -r "$RATE" -m "$CALLS" -l 3000 -d 3000
ok=$(csv setup 'SuccessfulCall(C)')
failed=$(csv setup 'FailedCall(C)')
elapsed=$(csv setup 'ElapsedTime(C)')
echo "\`sipp -sf testdata/sipp/load_call.xml -r $RATE -m $CALLS -d 3000\` (PCMU; the caller streams quiet line noise):"
echo "$ok calls succeeded, **$failed failed**, sipp elapsed $elapsed (target: $RATE calls/s, none failed)."
echo "The gateway answered $(($(metric switchboard_voice_calls_answered_total) - ans0)) of them with the AI; SIP calls by result since start:" \
	"$(curl -s "http://$HTTP/metrics" | grep '^switchboard_sip_calls_total' | tr '\n' ' ')"
echo
echo "### 3. Handoff decision to REFER on the wire"
echo
sipp_run refer -sf "$repo/testdata/sipp/load_press_zero.xml" -p 14064 -mp 16000 -r 50 -m "$REFER_CALLS" -l 1000
ok=$(csv refer 'SuccessfulCall(C)')
failed=$(csv refer 'FailedCall(C)')
echo "\`sipp -sf testdata/sipp/load_press_zero.xml -r 50 -m $REFER_CALLS\`: callers press 0 a second after the answer"
echo "and accept the REFER. $ok calls succeeded, $failed failed."
echo "switchboard_voice_transfer_start_seconds (decision recorded -> REFER written to the socket), cumulative:"
echo
echo '```'
curl -s "http://$HTTP/metrics" | grep '^switchboard_voice_transfer_start_seconds_bucket{method="refer"' |
	sed -E 's/.*le="([^"]+)"} (.*)/le \1 s: \2/'
echo '```'
curl -s "http://$HTTP/metrics" | awk '/^switchboard_voice_transfer_start_seconds_bucket\{method="refer"/ {
	match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n++; les[n] = le; cs[n] = $2 }
	END { total = cs[n]; for (i = 1; i <= n; i++) if (cs[i] >= 0.99 * total) { printf "p99 <= %s s over %d handoffs (target: under 5 ms).\n", les[i], total; exit } }'
echo
if grep -q '"level":"ERROR"' "$tmp/gateway.log"; then
	echo "Gateway errors during the run: $(grep -c '"level":"ERROR"' "$tmp/gateway.log") (first: $(grep -m1 '"level":"ERROR"' "$tmp/gateway.log" | cut -c1-200))"
fi
