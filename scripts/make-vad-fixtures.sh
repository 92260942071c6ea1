#!/usr/bin/env bash
# Regenerates media/testdata/vad, the recordings media/vad_test.go runs the
# voice activity detector over. Tests read these files only.
#
#   two-utterances.s16  16 kHz mono s16le: 0.6 s of silence, a flite
#                       utterance, 1 s of silence, another utterance, 0.8 s
#                       of silence, with white noise at about -45 dBFS RMS
#                       mixed in throughout
#   two-utterances.txt  where each utterance starts and ends, in samples
#                       ("START END" per line), measured after trimming
#                       flite's own leading and trailing silence
#
# Needs flite and sox. Output is byte-for-byte reproducible: sox runs
# without dither (-D) and with a fixed noise seed (-R).
set -euo pipefail
cd "$(dirname "$0")/.."
out=media/testdata/vad
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

raw=(-t raw -r 16000 -c 1 -e signed -b 16 -L)
# utterance N TEXT: flite's speech without its leading and trailing
# silence (anything under 0.3% of full scale, about -50 dBFS).
utterance() {
	flite -voice slt -t "$2" -o "$tmp/say$1.wav"
	sox -D -R "$tmp/say$1.wav" "${raw[@]}" "$tmp/u$1.raw" \
		silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse
}
silence() { # silence NAME SECONDS
	sox -D -R -n "${raw[@]}" "$tmp/$1.raw" trim 0 "$2"
}
samples() { echo $(($(stat -c %s "$1") / 2)); }

utterance 1 "Hello, I need some help."
utterance 2 "Can I talk to a person?"
silence lead 0.6
silence gap 1.0
silence tail 0.8

cat "$tmp/lead.raw" "$tmp/u1.raw" "$tmp/gap.raw" "$tmp/u2.raw" "$tmp/tail.raw" >"$tmp/clean.raw"
s1=$(samples "$tmp/lead.raw")
e1=$((s1 + $(samples "$tmp/u1.raw")))
s2=$((e1 + $(samples "$tmp/gap.raw")))
e2=$((s2 + $(samples "$tmp/u2.raw")))
total=$(samples "$tmp/clean.raw")

# Uniform white noise of amplitude 0.01 has an RMS of 0.01/sqrt(3): -45 dBFS.
sox -D -R -n "${raw[@]}" "$tmp/noise.raw" synth "${total}s" whitenoise vol 0.01
sox -D -R -m -v 1 "${raw[@]}" "$tmp/clean.raw" -v 1 "${raw[@]}" "$tmp/noise.raw" \
	"${raw[@]}" "$out/two-utterances.s16"
printf '%d %d\n%d %d\n' "$s1" "$e1" "$s2" "$e2" >"$out/two-utterances.txt"

ls -l "$out"
cat "$out/two-utterances.txt"
