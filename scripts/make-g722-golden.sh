#!/usr/bin/env bash
# Regenerates media/testdata/g722: a 16 kHz test signal and FFmpeg's G.722
# encoding and decoding of it, the reference media/g722's tests compare
# against. Tests read these files only; they never run FFmpeg.
#
#   speech.s16      input: ~1 s of flite speech then a 0.25 s sweep to 7.9 kHz
#                   (s16le, 16 kHz, mono) so both sub-bands are exercised
#   speech.g722     ffmpeg -c:a g722 of speech.s16 (64 kbit/s, no trellis)
#   speech.dec.s16  ffmpeg's decoding of speech.g722 (s16le, 16 kHz, mono)
#
# Needs flite, sox and ffmpeg (with the g722 encoder and decoder).
set -euo pipefail
cd "$(dirname "$0")/.."
out=media/testdata/g722
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

flite -voice slt -t "Hello, I would like to speak to someone." -o "$tmp/say.wav"
# 1.00 s of speech from its onset, then the sweep; exactly 20000 samples so
# FFmpeg needs no padding of an odd last sample.
sox -D -R "$tmp/say.wav" -r 16000 -c 1 -b 16 "$tmp/speech.wav" silence 1 0.02 0.5% trim 0 1.0
sox -D -R -n -r 16000 -c 1 -b 16 "$tmp/sweep.wav" synth 0.25 sine 100-7900 vol 0.5
sox -D -R "$tmp/speech.wav" "$tmp/sweep.wav" -t raw -e signed -b 16 -L "$out/speech.s16"

ff=(ffmpeg -hide_banner -loglevel error -y -bitexact)
"${ff[@]}" -f s16le -ar 16000 -ac 1 -i "$out/speech.s16" -c:a g722 -f g722 "$out/speech.g722"
"${ff[@]}" -f g722 -i "$out/speech.g722" -c:a pcm_s16le -f s16le "$out/speech.dec.s16"

ls -l "$out"
