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
#   sentences-VOICE-NN.s16  16 kHz mono s16le: 0.5 s of line noise, then
#                       three contact-centre sentences spoken by flite's
#                       VOICE (slt, rms, awb, kal16), 1.5 s apart, and 1 s
#                       of line noise after the last; white noise at -NN dBFS RMS (60 or
#                       45) throughout. Each voice says six sentences, three
#                       at each noise level, 24 in all.
#   sentences-VOICE-NN.txt  one line per sentence, in samples at 16 kHz:
#                       "ONSET OFFSET [PAUSE_START PAUSE_END]..."
#
# A sentence is one flite utterance, or phrases synthesised one by one and
# joined by a pause ("/150/" in the text below: 150 ms of silence), the
# ordinary break a caller makes inside a sentence. Its times come from the
# synthesis, not from the audio's energy: flite -psdur prints the end time
# of every segment; a phrase is cut from the end of its leading pause to
# the end of its last phoneme (flite's pauses there are below -60 dBFS), so
# ONSET is where the first phoneme starts and OFFSET where the last one
# ends. The pauses listed are the joins and flite's own pauses inside a
# phrase (at commas, before "and", at clause breaks: 80-220 ms).
#
# Needs flite and sox. Output is byte-for-byte reproducible: sox runs
# without dither (-D) and with a fixed noise seed (-R). Silence and noise
# come from sox's null input, which must be told its rate (-r 16000 before
# -n): otherwise it is 48 kHz, "synth Ns" makes a third of the samples
# asked for, and its noise loses 5 dB to the rate conversion.
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
	sox -D -R -r 16000 -n "${raw[@]}" "$tmp/$1.raw" trim 0 "$2"
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
# Known fault, kept so that the committed file is what this makes: without
# -r 16000 before -n this noise is made at 48 kHz, so it covers only the
# first third of the recording (to 1.96 s) and at about -50 dBFS, not -45.
# TestVADFindsTwoUtterancesInNoise is calibrated on that file.
sox -D -R -n "${raw[@]}" "$tmp/noise.raw" synth "${total}s" whitenoise vol 0.01
sox -D -R -m -v 1 "${raw[@]}" "$tmp/clean.raw" -v 1 "${raw[@]}" "$tmp/noise.raw" \
	"${raw[@]}" "$out/two-utterances.s16"
printf '%d %d\n%d %d\n' "$s1" "$e1" "$s2" "$e2" >"$out/two-utterances.txt"

# phrase TEXT VOICE FILE: FILE.raw is TEXT from its first phoneme to the
# end of its last; FILE.seg has "START END" of each pause inside it, in
# samples from its start.
phrase() {
	local segs on off
	segs=$(flite -voice "$2" -psdur -t "$1" -o "$tmp/phrase.wav")
	if [[ $(soxi -r "$tmp/phrase.wav") != 16000 ]]; then
		echo "flite voice $2 is not 16 kHz" >&2
		exit 1
	fi
	# "pau:0.164 hh:0.255 ..." -> onset, offset and inner pauses, in samples
	read -r on off < <(echo "$segs" | awk '{
		n = split($0, seg, " ")
		for (i = 1; i <= n; i++) {
			split(seg[i], f, ":"); t = int(f[2] * 16000 + 0.5)
			if (f[1] == "pau" && i == 1) on = t
			else if (f[1] != "pau") off = t
		}
		print on, off }')
	echo "$segs" | awk -v on="$on" -v off="$off" '{
		n = split($0, seg, " "); prev = 0
		for (i = 1; i <= n; i++) {
			split(seg[i], f, ":"); t = int(f[2] * 16000 + 0.5)
			if (f[1] == "pau" && prev > on && t < off) print prev - on, t - on
			prev = t
		} }' >"$3.seg"
	sox -D "$tmp/phrase.wav" "${raw[@]}" "$3.raw" trim "${on}s" "$((off - on))s"
}

# fixture NAME VOICE NOISE_VOL SENTENCE...: uniform white noise of
# amplitude A has an RMS of A/sqrt(3), so 0.001732 is -60 dBFS and 0.009740
# is -45 dBFS.
fixture() {
	local name=$1 voice=$2 vol=$3 s parts i at onset line
	shift 3
	silence lead 0.5
	silence gap 1.5
	cp "$tmp/lead.raw" "$tmp/clean.raw"
	: >"$out/$name.txt"
	for s in "$@"; do
		IFS=/ read -ra parts <<<"$s"
		onset=$(samples "$tmp/clean.raw")
		line=""
		for ((i = 0; i < ${#parts[@]}; i++)); do
			at=$(samples "$tmp/clean.raw")
			if ((i % 2 == 1)); then # a pause between phrases, in ms
				silence pause "$(printf "0.%03d" "${parts[i]}")"
				cat "$tmp/pause.raw" >>"$tmp/clean.raw"
				line+=" $at $((at + $(samples "$tmp/pause.raw")))"
				continue
			fi
			phrase "${parts[i]}" "$voice" "$tmp/p"
			cat "$tmp/p.raw" >>"$tmp/clean.raw"
			while read -r ps pe; do line+=" $((at + ps)) $((at + pe))"; done <"$tmp/p.seg"
		done
		echo "$onset $(samples "$tmp/clean.raw")$line" >>"$out/$name.txt"
		cat "$tmp/gap.raw" >>"$tmp/clean.raw"
	done
	head -c -16000 "$tmp/clean.raw" >"$tmp/trimmed.raw" # 1 s after the last
	mv "$tmp/trimmed.raw" "$tmp/clean.raw"
	sox -D -R -r 16000 -n "${raw[@]}" "$tmp/noise.raw" synth "$(samples "$tmp/clean.raw")s" whitenoise vol "$vol"
	sox -D -R -m -v 1 "${raw[@]}" "$tmp/clean.raw" -v 1 "${raw[@]}" "$tmp/noise.raw" \
		"${raw[@]}" "$out/$name.s16"
}

quiet=0.001732 # -60 dBFS
noisy=0.009740 # -45 dBFS
fixture sentences-slt-60 slt $quiet \
	"Hi, I'm calling about my bill/180/from last month." \
	"I was charged twice, and I'd like a refund." \
	"My account number is/150/four five seven,/120/two two nine."
fixture sentences-slt-45 slt $noisy \
	"I moved last week/200/and I need to update my address." \
	"Can you tell me, please, when my order will arrive?" \
	"Yes,/100/that's right,/160/the one ending in eight."
fixture sentences-rms-60 rms $quiet \
	"I've waited an hour,/170/and nobody called back." \
	"The internet keeps dropping/140/every evening/190/around seven." \
	"I'd like to cancel my subscription, please."
fixture sentences-rms-45 rms $noisy \
	"Well,/200/I'm not sure,/120/maybe the blue one." \
	"I reset my password, but the link doesn't work." \
	"My card was declined/150/but I have money."
fixture sentences-awb-60 awb $quiet \
	"Could you check/130/whether the payment went through?" \
	"So, the technician came, and it still isn't fixed." \
	"I want to speak to someone/200/about a complaint."
fixture sentences-awb-45 awb $noisy \
	"My name is John Smith,/110/S M I T H." \
	"The box was damaged/180/when it came,/140/so I sent it back." \
	"Is there a cheaper plan, or a discount for students?"
fixture sentences-kal16-60 kal16 $quiet \
	"I need to change my flight/150/to Thursday morning." \
	"First, I called on Tuesday, and then again on Friday." \
	"Sorry,/120/could you repeat that?"
fixture sentences-kal16-45 kal16 $noisy \
	"I don't have the reference number/200/but I have the email." \
	"The app crashes when I open it, and I can't log in." \
	"Okay,/150/thank you,/100/that's all I needed."

ls -l "$out"
cat "$out/two-utterances.txt"
