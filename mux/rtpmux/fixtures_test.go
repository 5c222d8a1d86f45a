package rtpmux_test

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
)

// captureFacts is what a capture holds, counted independently of the
// pipeline: what a perfect recorder of it would report.
type captureFacts struct {
	packets    int               // RTP packets of listed streams, copies included
	distinct   int               // distinct (SSRC, sequence number)
	holes      int               // sequence numbers missing inside each stream
	frames     map[mux.Kind]int  // distinct timestamps (video) / packets (audio) with payload
	firstTS    map[uint32]uint32 // first timestamp per SSRC
	ssrcChange bool
}

// factsOf reads a capture and counts what is in it.
func factsOf(t *testing.T, name string) captureFacts {
	t.Helper()
	capt, err := rtpdump.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	_, kinds := muxConfig(capt.Sidecar)
	f := captureFacts{frames: map[mux.Kind]int{}, firstTS: map[uint32]uint32{}}
	type key struct {
		ssrc uint32
		n    uint32
	}
	seen, stamps := map[key]bool{}, map[key]bool{}
	seqs := map[uint32][]int{}
	var pkt rtp.Packet
	for {
		p, err := capt.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.RTCP || p.UnmarshalRTP(&pkt) != nil {
			continue
		}
		k, ok := kinds[pkt.SSRC]
		if !ok {
			continue
		}
		f.packets++
		if seen[key{pkt.SSRC, uint32(pkt.SequenceNumber)}] {
			continue
		}
		seen[key{pkt.SSRC, uint32(pkt.SequenceNumber)}] = true
		f.distinct++
		seqs[pkt.SSRC] = append(seqs[pkt.SSRC], unwrapNear(seqs[pkt.SSRC], pkt.SequenceNumber))
		if _, ok := f.firstTS[pkt.SSRC]; !ok {
			f.firstTS[pkt.SSRC] = pkt.Timestamp
		}
		if len(pkt.Payload) == 0 {
			continue
		}
		if k == mux.Audio || !stamps[key{pkt.SSRC, pkt.Timestamp}] {
			f.frames[k]++
		}
		stamps[key{pkt.SSRC, pkt.Timestamp}] = true
	}
	for _, s := range seqs {
		f.holes += slices.Max(s) - slices.Min(s) + 1 - len(s)
	}
	f.ssrcChange = len(seqs) > 2
	return f
}

// unwrapNear extends seq to the number closest to the previous one.
func unwrapNear(prev []int, seq uint16) int {
	if len(prev) == 0 {
		return int(seq)
	}
	last := prev[len(prev)-1]
	return last + int(int16(seq-uint16(last)))
}

// TestReplayFixtures records real encoder output through the real codecs
// and writers and holds the result to the capture's own counts and to a
// full ffmpeg decode.
func TestReplayFixtures(t *testing.T) {
	tests := []struct {
		name      string
		c         container
		lossless  bool         // every frame must be recorded
		wantCause mux.GapCause // a gap of this cause must be reported
	}{
		{"vp8_opus", webmFiles, true, ""},
		{"vp9_opus", webmFiles, true, ""},
		{"h264_cb_opus", mp4Files, true, ""},
		{"h264_high_opus", mp4Files, true, ""},
		{"h265_opus", mp4Files, true, ""},
		{"vp8_opus_dtx", webmFiles, true, ""},
		{"vp8_opus_padding", webmFiles, true, ""},
		{"vp8_opus_reorder", webmFiles, true, ""},
		{"vp8_opus_ssrc", webmFiles, true, ""},
		{"vp8_opus_wrap", webmFiles, true, ""},
		{"h264_cb_opus_reorder", mp4Files, true, ""},
		{"h264_cb_opus_ssrc", mp4Files, true, ""},
		{"h265_opus_wrap", mp4Files, true, ""},
		{"vp9_opus_padding", mp4Files, true, ""},
		{"vp8_opus_resize", webmFiles, true, ""},
		{"h264_cb_opus_resize", mp4Files, true, ""},
		{"av1_opus", mp4Files, true, ""},
		{"av1_opus_reorder", webmFiles, true, ""},
		{"vp8_opus_loss3", webmFiles, false, mux.GapLoss},
		{"h264_cb_opus_loss3", mp4Files, false, mux.GapLoss},
		{"vp8_opus_midgop", webmFiles, false, mux.GapWaitKeyframe},
		{"h265_opus_midgop", mp4Files, false, mux.GapWaitKeyframe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts := factsOf(t, tc.name)
			rec := replay(t, tc.name, tc.c, nil)
			sum := rec.last
			if len(rec.files) != 1 || sum.PacketsReceived != facts.packets ||
				sum.PacketsDuplicate != facts.packets-facts.distinct || sum.PacketsLost != facts.holes {
				t.Errorf("%d files, summary %+v; capture %+v", len(rec.files), sum, facts)
			}
			if sum.AudioFrames != facts.frames[mux.Audio] {
				t.Errorf("%d audio frames, capture has %d", sum.AudioFrames, facts.frames[mux.Audio])
			}
			if tc.lossless && (sum.VideoFrames != facts.frames[mux.Video] || sum.FramesDropped != 0) {
				t.Errorf("%d video frames (%d dropped), capture has %d", sum.VideoFrames, sum.FramesDropped, facts.frames[mux.Video])
			}
			if !tc.lossless && sum.VideoFrames+sum.FramesDropped > facts.frames[mux.Video] {
				t.Errorf("%d video frames + %d dropped, capture has %d", sum.VideoFrames, sum.FramesDropped, facts.frames[mux.Video])
			}
			if strings.HasSuffix(tc.name, "_resize") && sum.ConfigChanges != 2 {
				t.Errorf("%d configuration changes, want 2", sum.ConfigChanges)
			}
			checkGaps(t, sum, tc.wantCause, facts.ssrcChange)
			checkDecode(t, rec.files[0], rec.video, sum)
		})
	}
}

// checkGaps checks that the gaps are the expected ones and lie in the file.
func checkGaps(t *testing.T, sum mux.Summary, want mux.GapCause, ssrcChange bool) {
	t.Helper()
	found := want == ""
	for _, g := range sum.Gaps {
		found = found || g.Cause == want
		switch {
		case g.Offset < 0 || g.Offset+g.Duration > sum.Duration+sum.Duration/10:
			t.Errorf("gap %+v outside the file (%v)", g, sum.Duration)
		case want == "" && g.Cause != mux.GapSSRCChange:
			t.Errorf("unexpected gap %+v", g)
		case g.Cause == mux.GapSSRCChange && !ssrcChange:
			t.Errorf("SSRC change gap %+v in a capture without one", g)
		}
	}
	if !found {
		t.Errorf("no %s gap in %+v", want, sum.Gaps)
	}
}

// checkDecode decodes the file and compares frame counts with the summary.
func checkDecode(t *testing.T, path, videoCodec string, sum mux.Summary) {
	t.Helper()
	decodeClean(t, path, videoCodec)
	streams := perStream(frameCRCs(t, []string{"-i", path}, videoCodec, false))
	if len(streams[0]) != sum.VideoFrames || len(streams[1]) != sum.AudioFrames {
		t.Errorf("decoded %d video and %d audio frames, summary says %d and %d",
			len(streams[0]), len(streams[1]), sum.VideoFrames, sum.AudioFrames)
	}
}
