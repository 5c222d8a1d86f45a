package media

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// variant says what one kind of adversarial capture must yield. Every
// variant is checked against the same rules (codec, size, durations, A/V
// offset, decode, frame count, WebM structure); these fields say which
// numbers move and why.
type variant struct {
	suffix string
	// lossy: packets are really missing, so video frames are dropped
	// from a loss to the next keyframe. The decoded count must be the
	// clean original's count minus the frames inside the reported video
	// gaps (a gap of d drops d×30 frames, including frames of which no
	// packet arrived at all and which are therefore not in dropped_frames).
	lossy bool
	// gapsAllowed: the summary may report video gaps (the capture starts
	// mid-GOP, or packets are lost). Any other variant must lose nothing:
	// no video gap and every captured frame decoded.
	gapsAllowed bool
	// neverStarts: the video can never be decoded (its parameter sets
	// are nowhere), so `sfu mux` must write the audio and fail naming the
	// video track and the cause.
	neverStarts string
}

// variants lists every variant with what it must yield.
var variants = []variant{
	// A clean capture: every frame decodes, nothing is reported missing.
	{suffix: ""},
	// ~3% of packets lost plus a packet of two keyframes: frames from each
	// loss to the next keyframe are dropped and reported as gaps; what is
	// written decodes without error.
	{suffix: "_loss3", lossy: true, gapsAllowed: true},
	// Duplicates and reordering within 20 sequence numbers: the reorder
	// window absorbs all of it, so nothing is lost.
	{suffix: "_reorder"},
	// Sequence numbers and timestamps wrap halfway: 64-bit unwrapping
	// keeps the timeline continuous, nothing is lost.
	{suffix: "_wrap"},
	// New SSRCs at the keyframe at 6 s: the track continues on the same
	// timeline (aligned by sender reports), nothing is lost.
	{suffix: "_ssrc"},
	// Padding-only packets: they carry no media and change nothing.
	{suffix: "_padding"},
	// Opus DTX: audio packets missing in silences with contiguous sequence
	// numbers. Not a loss: audio keeps its RTP timeline (the silences stay
	// as time steps, not collapsed) and video is untouched.
	{suffix: "_dtx"},
	// Starts mid-GOP: the 30 delta frames before the first keyframe cannot
	// be decoded, so they are dropped as a wait_keyframe gap and video
	// starts ~1 s after audio; the other 240 frames decode.
	{suffix: "_midgop", gapsAllowed: true},
	// Three resolutions spliced: a new sample description at each change;
	// all 360 frames decode at their own size; the file reports the largest.
	{suffix: "_resize"},
	// An out-of-band capture whose sidecar lost the sprop parameters: no
	// frame of the video can be decoded.
	{suffix: "_nosprop", neverStarts: "no_parameter_sets"},
}

// variantOf returns the variant of a fixture name and its clean original.
func variantOf(name string) (variant, string) {
	for _, v := range variants[1:] {
		if base, ok := strings.CutSuffix(name, v.suffix); ok {
			return v, base
		}
	}
	return variants[0], name
}

// fixtureNames lists every capture under fixtureDir.
func fixtureNames(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.rtpdump"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures in %s: %v", fixtureDir, err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".rtpdump"))
	}
	return names
}

// TestFixtures runs `sfu mux` on every capture in both formats and judges
// the files with ffprobe, ffmpeg and mkvinfo.
func TestFixtures(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe", "mkvinfo")
	for _, name := range fixtureNames(t) {
		for _, format := range []string{"mp4", "webm"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				t.Parallel()
				checkFixture(t, name, format)
			})
		}
	}
}

// checkFixture muxes one capture into one format and judges the file.
func checkFixture(t *testing.T, name, format string) {
	sc, err := rtpdump.LoadSidecar(filepath.Join(fixtureDir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	codec := videoCodec(sc)
	out := filepath.Join(t.TempDir(), name+"."+format)
	if format == "webm" && codec.ffprobe == "hevc" {
		checkRefused(t, name, out)
		return
	}
	v, clean := variantOf(name)
	if v.neverStarts != "" {
		checkNeverStarts(t, name, format, out, v.neverStarts)
		return
	}
	sum := sfuMux(t, name, format, out)
	facts, err := analyzeCapture(name)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := judge.ProbeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkStreams(t, out, probe, codec, v, sum)
	if msg, err := judge.DecodeErrors(out, codec.ffprobe); err != nil || msg != "" {
		t.Errorf("decoding %s: %v %s", out, err, msg)
	}
	frames, err := decodeVideo([]string{"-i", out}, codec.ffprobe == "vp9")
	if err != nil {
		t.Fatal(err)
	}
	checkFrameCount(t, name, clean, v, facts, sum, len(frames))
	if v.suffix == "_resize" {
		checkResize(t, frames)
	}
	tl := fileTimeline(t, out, frames)
	checkTimeline(t, facts, sum, probe, tl)
	if format == "webm" {
		checkMKV(t, out, facts.Span())
	} else if codec.ffprobe == "h264" || codec.ffprobe == "hevc" {
		checkSyncSamples(t, name, out, codec.ffprobe)
	}
}

// checkRefused checks that `sfu mux -format webm` refuses an H.265 capture
// with a clear message and leaves no file behind.
func checkRefused(t *testing.T, name, out string) {
	_, stderr, err := runSFU("mux", "-format", "webm", "-o", out, "-json", capturePath(name))
	if err == nil {
		t.Fatalf("sfu mux -format webm %s succeeded; H.265 cannot go into WebM", name)
	}
	if !strings.Contains(stderr, "H265") || !strings.Contains(stderr, "webm") {
		t.Errorf("refusal does not name the codec and format: %q", stderr)
	}
	if !absent(out) {
		st, _ := os.Stat(out)
		t.Errorf("refused mux left %s behind (%d bytes)", out, st.Size())
	}
}
