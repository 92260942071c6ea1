#!/usr/bin/env bash
# Regenerates testdata/audio: caller utterances for the speech tests
# (speech/*_test.go) and for sipp's rtp_stream in the voice channel's
# tests. Tests read these files only; they never run this script.
#
# For each phrase NAME:
#   NAME.wav    flite's slt voice, 16 kHz mono s16le, 0.5 s of silence before
#               and about 1 s after (so a VAD sees the end of speech)
#   NAME.g722   NAME.wav in G.722 at 64 kbit/s, headerless (rtp_stream PT 9)
#   NAME.pcmu   the rms voice, 8 kHz mu-law, headerless (rtp_stream PT 0)
#   NAME.pcma   the rms voice, 8 kHz A-law, headerless (rtp_stream PT 8)
#
# sipp (3.6 and 3.7) sends an rtp_stream file's bytes as they are, 160 bytes
# per 20 ms packet for PT 0, 8 and 9 - a WAV header would go out as audio -
# and wraps to the file's start to fill a short last packet, so every file
# here is headerless and a whole number of packets long.
#
# The 8 kHz files use rms, not slt: pocketsphinx's en-us model is a 16 kHz
# one, and slt squeezed through 8 kHz G.711 is recognised as nonsense while
# rms still gives the right words.
#
# Needs flite, sox and ffmpeg (with the g722 encoder). Output is
# byte-for-byte reproducible: sox runs without dither (-D).
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata/audio
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

phrases=(
	"human_agent|I want to speak to a human agent."
	"close_account|I want to close my account."
	"where_order|Where is my order?"
	"greeting|Hello, good morning. I have a question."
)

# pad_to IN OUT SAMPLES: adds 0.5 s of silence before and at least 1 s
# after IN, then enough to make its length a multiple of SAMPLES.
pad_to() {
	local rate n extra
	rate=$(soxi -r "$1")
	n=$(( $(soxi -s "$1") + rate * 3 / 2 ))
	extra=$(( ($2 - n % $2) % $2 ))
	sox -D "$1" "$3" pad 0.5 "$(( rate + extra ))s"
}

for p in "${phrases[@]}"; do
	name=${p%%|*}
	text=${p#*|}
	# 16 kHz: 320 samples = 20 ms = one 160-byte G.722 packet.
	flite -voice slt -t "$text" -o "$tmp/slt.wav"
	pad_to "$tmp/slt.wav" 320 "$out/$name.wav"
	ffmpeg -hide_banner -loglevel error -y -bitexact -i "$out/$name.wav" \
		-ar 16000 -ac 1 -c:a g722 -f g722 "$out/$name.g722"
	# 8 kHz: 160 samples = 20 ms = one 160-byte G.711 packet.
	flite -voice rms -t "$text" -o "$tmp/rms16.wav"
	sox -D "$tmp/rms16.wav" -r 8000 "$tmp/rms8.wav"
	pad_to "$tmp/rms8.wav" 160 "$tmp/rms8pad.wav"
	sox -D "$tmp/rms8pad.wav" -e u-law -t raw "$out/$name.pcmu"
	sox -D "$tmp/rms8pad.wav" -e a-law -t raw "$out/$name.pcma"
done

# One sentence said in two pieces with a pause in the middle, longer than
# the VAD's end of speech, as callers do: NAME.wav / NAME.g722, slt at
# 16 kHz, made like the phrases above. TRIM "yes" cuts flite's silence at
# the joint (sox silence, -50 dB) so the gap is the pause alone; without it
# flite's own silence adds about 0.4 s.
#   close_account_paused  "I want to close ... my account." (gap ~0.6 s)
#   return_sofa_paused    "Can I return ... a sofa?" (gap 0.32 s: the caller
#                         is heard going on within 300 ms of the VAD's end)
paused=(
	"close_account_paused|0.2|no|I want to close|my account."
	"return_sofa_paused|0.32|yes|Can I return|a sofa?"
)
for p in "${paused[@]}"; do
	IFS='|' read -r name pause trim first second <<<"$p"
	flite -voice slt -t "$first" -o "$tmp/first.wav"
	flite -voice slt -t "$second" -o "$tmp/second.wav"
	if [[ $trim == yes ]]; then
		sox -D "$tmp/first.wav" "$tmp/first_pause.wav" reverse silence 1 0.02 -50d reverse pad 0 "$pause"
		sox -D "$tmp/second.wav" "$tmp/second_cut.wav" silence 1 0.02 -50d
		mv "$tmp/second_cut.wav" "$tmp/second.wav"
	else
		sox -D "$tmp/first.wav" "$tmp/first_pause.wav" pad 0 "$pause"
	fi
	sox -D "$tmp/first_pause.wav" "$tmp/second.wav" "$tmp/joined.wav"
	pad_to "$tmp/joined.wav" 320 "$out/$name.wav"
	ffmpeg -hide_banner -loglevel error -y -bitexact -i "$out/$name.wav" \
		-ar 16000 -ac 1 -c:a g722 -f g722 "$out/$name.g722"
done

# Quiet line noise (-60 dBFS, below the VAD's speech threshold) for the
# load tests' callers: RTP flows both ways without waking the recogniser.
# -R makes sox's noise repeatable.
sox -R -D -n -r 8000 -e u-law -t raw "$out/noise.pcmu" synth 10 whitenoise vol 0.001

for f in "$out"/*.g722 "$out"/*.pcmu "$out"/*.pcma; do
	size=$(stat -c %s "$f")
	if (( size % 160 != 0 )); then
		echo "$f: $size bytes is not a whole number of 160-byte packets" >&2
		exit 1
	fi
done
ls -l "$out"
