package media

import (
	"math"
	"time"
)

// VADEvent is what one frame changed about the caller's speech.
type VADEvent int

const (
	// VADNone: nothing changed; InSpeech says which side of it we are.
	VADNone VADEvent = iota
	// VADSpeechStart: the caller started talking. The frame that brings
	// it is MinSpeech after the onset, so keep some audio from before.
	VADSpeechStart
	// VADSpeechEnd: the utterance is over, after EndSilence of quiet or
	// at MaxUtterance.
	VADSpeechEnd
)

func (e VADEvent) String() string {
	switch e {
	case VADSpeechStart:
		return "speech-start"
	case VADSpeechEnd:
		return "speech-end"
	default:
		return "none"
	}
}

// VADConfig tunes end-pointing; zero fields take the defaults.
type VADConfig struct {
	// EndSilence is how long the caller must be quiet for an utterance
	// to end (default 500 ms): longer makes the agent slow to answer,
	// shorter ends utterances at the pauses inside sentences, whose pieces
	// a caller must then join (the voice channel runs it short and joins a
	// piece to the next when the caller is heard resuming at once).
	EndSilence time.Duration
	// MinSpeech is how long sound must last to count as speech (default
	// 120 ms), so coughs and clicks do not start an utterance.
	MinSpeech time.Duration
	// MaxUtterance ends an utterance that goes on too long (default 15 s),
	// for a caller who never pauses or a line that never goes quiet.
	MaxUtterance time.Duration
	// Margin is how far above the noise floor, in dB, a frame must be to
	// count as speech (default 10).
	Margin float64
}

const (
	// A frame must also clear minSpeechLevel (dBFS): a line that is
	// digitally silent and then hisses quietly is not someone talking.
	minSpeechLevel = -55.0
	// Frames below silentLevel (dBFS) are digital silence - concealed
	// packet loss, a muted phone - and say nothing about the line's noise.
	silentLevel = -85.0
	// hysteresis (dB) lowers the bar inside an utterance, so its quiet
	// consonants and trailing syllables still count as speech.
	hysteresis = 3.0
	// Per 20 ms of audio: the floor falls halfway to a quieter frame, rises
	// towards a quiet non-speech frame by 5%, and creeps up by at most
	// 0.05 dB (2.5 dB/s) through speech or louder sound, so a lasting rise
	// in noise is learnt without speech pulling the floor up with it.
	floorFall  = 0.5
	floorRise  = 0.05
	floorCreep = 0.05
	// Speech rises and falls by syllable; a fan, a car or a hum switched
	// on does not. Louder sound whose level (smoothed over about 0.4 s)
	// varies by less than steadyDB is treated as the new noise floor, so
	// that it ends a false utterance in seconds rather than at MaxUtterance.
	levelSmooth = 0.05
	steadyDB    = 1.5
)

// VAD finds the start and end of utterances in a stream of PCM frames by
// their energy against an adaptive estimate of the line's noise floor. It
// is not safe for concurrent use: one call's audio loop owns it.
type VAD struct {
	rate int
	cfg  VADConfig
	// durations in samples
	minSpeech, endSilence, maxUtterance int

	floor    float64 // noise floor estimate, dBFS
	primed   bool    // floor has been set from a first frame
	mean     float64 // smoothed frame level, dBFS
	variance float64 // smoothed squared deviation from mean, dB²
	inSpeech bool
	onset    int // samples of consecutive speech before a start
	quiet    int // samples of consecutive quiet inside an utterance
	length   int // samples since the utterance started
}

// NewVAD returns a VAD for PCM at rate Hz (8000 or 16000; anything
// non-positive is taken as 8000).
func NewVAD(rate int, cfg VADConfig) *VAD {
	if rate <= 0 {
		rate = 8000
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.EndSilence, 500*time.Millisecond)
	def(&cfg.MinSpeech, 120*time.Millisecond)
	def(&cfg.MaxUtterance, 15*time.Second)
	if cfg.Margin <= 0 {
		cfg.Margin = 10
	}
	samples := func(d time.Duration) int { return int(d * time.Duration(rate) / time.Second) }
	return &VAD{
		rate: rate, cfg: cfg,
		minSpeech:    samples(cfg.MinSpeech),
		endSilence:   samples(cfg.EndSilence),
		maxUtterance: samples(cfg.MaxUtterance),
	}
}

// InSpeech reports whether the last frame was inside an utterance,
// including the one that started it and not the one that ended it.
func (v *VAD) InSpeech() bool { return v.inSpeech }

// NoiseFloor is the current noise floor estimate in dBFS.
func (v *VAD) NoiseFloor() float64 { return v.floor }

// Reset drops any utterance in progress without an event, as after the
// caller has been heard by other means (DTMF). The noise floor is kept:
// the line has not changed.
func (v *VAD) Reset() {
	v.inSpeech = false
	v.onset, v.quiet, v.length = 0, 0, 0
}

// Process takes the next frame (any length; 20 ms is usual) and returns
// what it changed.
func (v *VAD) Process(frame []int16) VADEvent {
	if len(frame) == 0 {
		return VADNone
	}
	level := Level(frame)
	threshold := v.floor + v.cfg.Margin
	if v.inSpeech {
		threshold -= hysteresis
	}
	speech := v.primed && level > threshold && level > minSpeechLevel
	v.trackFloor(level, speech, len(frame))

	n := len(frame)
	if !v.inSpeech {
		if !speech {
			v.onset = 0
			return VADNone
		}
		v.onset += n
		if v.onset < v.minSpeech {
			return VADNone
		}
		v.inSpeech, v.length, v.quiet, v.onset = true, v.onset, 0, 0
		return VADSpeechStart
	}
	v.length += n
	if speech {
		v.quiet = 0
	} else {
		v.quiet += n
	}
	if v.quiet >= v.endSilence || v.length >= v.maxUtterance {
		v.Reset()
		return VADSpeechEnd
	}
	return VADNone
}

// trackFloor moves the noise floor: quickly down, slowly up (see the
// constants), scaled to the frame's length.
func (v *VAD) trackFloor(level float64, speech bool, n int) {
	if level < silentLevel {
		return
	}
	if !v.primed {
		v.floor, v.mean, v.primed = level, level, true
		return
	}
	frames := float64(n) / (0.020 * float64(v.rate)) // in 20 ms frames
	dev := level - v.mean
	v.mean += dev * rate(levelSmooth, frames)
	v.variance += (dev*dev - v.variance) * rate(levelSmooth, frames)

	diff := level - v.floor
	switch {
	case diff < 0:
		v.floor += diff * rate(floorFall, frames)
	case !speech && !v.inSpeech, v.variance < steadyDB*steadyDB:
		v.floor += diff * rate(floorRise, frames)
	default:
		v.floor += min(diff, floorCreep*frames)
	}
}

// rate turns a per-20-ms smoothing factor into one for frames of that
// many 20 ms.
func rate(per20ms, frames float64) float64 { return 1 - math.Pow(1-per20ms, frames) }

// Level is the frame's power in dBFS, DC removed (some phones and
// gateways add an offset that would otherwise read as sound).
func Level(frame []int16) float64 {
	var sum float64
	for _, s := range frame {
		sum += float64(s)
	}
	mean := sum / float64(len(frame))
	var power float64
	for _, s := range frame {
		d := float64(s) - mean
		power += d * d
	}
	power /= float64(len(frame)) * 32768 * 32768
	return 10 * math.Log10(max(power, 1e-12))
}
