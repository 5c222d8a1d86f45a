package media

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	gomp4 "github.com/abema/go-mp4"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// avTolerance is how far audio timing and the A/V offset may be off.
const avTolerance = 20 * time.Millisecond

// maxClusterSpan is WebM's limit on a cluster's length (16-bit signed block
// offsets in milliseconds).
const maxClusterSpan = 32767 * time.Millisecond

// codecNames is a capture's video codec as ffprobe names it.
type codecNames struct{ ffprobe string }

// videoCodec returns the capture's video codec.
func videoCodec(sc rtpdump.Sidecar) codecNames {
	names := map[mux.Codec]string{mux.VP8: "vp8", mux.VP9: "vp9", mux.AV1: "av1", mux.H264: "h264", mux.H265: "hevc"}
	for _, st := range sc.Streams {
		if st.Codec.Kind() == mux.Video {
			return codecNames{ffprobe: names[st.Codec]}
		}
	}
	return codecNames{}
}

// checkStreams checks the codecs and the sizes. The file reports the
// largest frame size of the capture (1280x720 after the resize fixtures'
// last change): the summary always, and in MP4 the track header (tkhd).
// ffprobe reports, depending on the codec, the size of the first sample
// description or the track header (MP4), or the track's PixelWidth and
// PixelHeight, which mux/webm sets from the first keyframe (WebM); so for a
// resize capture it may say either. Later sizes are in-band, and
// checkResize decodes them.
func checkStreams(t *testing.T, path string, p *judge.Probe, c codecNames, v variant, sum muxSummary) {
	t.Helper()
	firstW, firstH, wantW, wantH := 640, 480, 640, 480
	if v.suffix == "_resize" {
		wantW, wantH = 1280, 720
	}
	vs, ok := p.Stream("video")
	first, largest := vs.Width == firstW && vs.Height == firstH, vs.Width == wantW && vs.Height == wantH
	if !ok || vs.CodecName != c.ffprobe || !(first || largest) {
		t.Errorf("video stream %+v, want %s %dx%d or %dx%d", vs, c.ffprobe, firstW, firstH, wantW, wantH)
	}
	if sum.Width != wantW || sum.Height != wantH {
		t.Errorf("summary says %dx%d, want %dx%d", sum.Width, sum.Height, wantW, wantH)
	}
	if filepath.Ext(path) == ".mp4" {
		if w, h := trackHeaderSize(t, path); w != wantW || h != wantH {
			t.Errorf("tkhd says %dx%d, want %dx%d", w, h, wantW, wantH)
		}
	}
	if as, ok := p.Stream("audio"); !ok || as.CodecName != "opus" {
		t.Errorf("audio stream %+v, want opus", as)
	}
	if len(p.Streams) != 2 || p.Streams[0].CodecType != "video" {
		t.Errorf("streams %+v, want video first and audio second", p.Streams)
	}
}

// trackHeaderSize reads the first track's tkhd size with go-mp4's parser.
func trackHeaderSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	boxes, err := gomp4.ExtractBoxWithPayload(f, nil, gomp4.BoxPath{gomp4.BoxTypeMoov(), gomp4.BoxTypeTrak(), gomp4.BoxTypeTkhd()})
	if err != nil || len(boxes) == 0 {
		t.Fatalf("read tkhd of %s: %d boxes, %v", path, len(boxes), err)
	}
	tkhd, ok := boxes[0].Payload.(*gomp4.Tkhd)
	if !ok {
		t.Fatalf("tkhd payload %T", boxes[0].Payload)
	}
	return int(tkhd.GetWidthInt()), int(tkhd.GetHeightInt())
}

// checkFrameCount checks the decoded frame count against the capture: every
// captured frame, or for lossy captures the clean original's frames minus
// the frames inside the reported video gaps and those lost whole after the
// capture's last video packet (no receiver can know of them).
func checkFrameCount(t *testing.T, name, clean string, v variant, facts captureFacts, sum muxSummary, decoded int) {
	t.Helper()
	if decoded != sum.VideoFrames {
		t.Errorf("decoded %d video frames, the summary says %d were written", decoded, sum.VideoFrames)
	}
	gap := sum.videoGapTime()
	if !v.gapsAllowed && (gap > 0 || sum.FramesDropped > 0) {
		t.Errorf("%s must lose nothing, but the summary reports %v of video gaps and %d dropped frames: %+v",
			name, gap, sum.FramesDropped, sum.Gaps)
	}
	base, tail := facts.VideoFrames, 0
	if v.lossy {
		cf, err := analyzeCapture(clean)
		if err != nil {
			t.Fatal(err)
		}
		base = cf.VideoFrames
		tail = framesLostAtEnd(t, clean, name)
	}
	missing := int(math.Round(float64(gap) / float64(frameDur)))
	if want := base - missing - tail; decoded != want {
		t.Errorf("decoded %d video frames, want %d (%d captured, %d inside %v of reported gaps, %d lost whole at the end)",
			decoded, want, base, missing, gap, tail)
	}
	if sum.FramesDropped > missing {
		t.Errorf("%d frames dropped, more than the %d inside the gaps", sum.FramesDropped, missing)
	}
}

// framesLostAtEnd counts the video frames of the clean capture whose RTP
// timestamps come after the last video packet of the lossy one (the loss
// transform keeps timestamps): they were lost whole, and no receiver can
// know of them.
func framesLostAtEnd(t *testing.T, clean, lossy string) int {
	t.Helper()
	cleanTS, _ := videoTimestamps(t, clean)
	_, last := videoTimestamps(t, lossy)
	n := 0
	for _, ts := range cleanTS {
		if int32(ts-last) > 0 {
			n++
		}
	}
	return n
}

// videoTimestamps returns the distinct RTP timestamps of a capture's video
// packets in file order, and the last one.
func videoTimestamps(t *testing.T, name string) ([]uint32, uint32) {
	t.Helper()
	c, err := rtpdump.Open(capturePath(name))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var (
		out  []uint32
		last uint32
		pkt  rtp.Packet
	)
	seen := map[uint32]bool{}
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			return out, last
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.RTCP || p.UnmarshalRTP(&pkt) != nil {
			continue
		}
		if st, ok := c.Sidecar.Stream(pkt.SSRC); ok && st.TrackInfo().Kind() == mux.Video {
			last = pkt.Timestamp
			if !seen[last] {
				seen[last] = true
				out = append(out, last)
			}
		}
	}
}

// checkResize checks that all three sizes of a resize capture decode, in
// order, ending at the largest.
func checkResize(t *testing.T, frames []decodedFrame) {
	t.Helper()
	var sizes []int
	for _, f := range frames {
		if len(sizes) == 0 || sizes[len(sizes)-1] != f.Bytes {
			sizes = append(sizes, f.Bytes)
		}
	}
	yuv := func(w, h int) int { return w * h * 3 / 2 }
	want := []int{yuv(640, 480), yuv(320, 240), yuv(1280, 720)}
	if !slices.Equal(sizes, want) {
		t.Errorf("decoded picture sizes %v, want %v (640x480, 320x240, 1280x720)", sizes, want)
	}
}

// checkMKV checks the WebM structure as mkvinfo sees it; span is the
// file's media length (the end of its last cluster).
func checkMKV(t *testing.T, path string, span time.Duration) {
	t.Helper()
	m, err := judge.MKVInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.UnknownSize || !m.HasCues || !m.HasSeekHead || !m.HasDuration || len(m.Clusters) == 0 {
		t.Errorf("mkvinfo: unknown size %v, cues %v, seek head %v, duration %v, %d clusters",
			m.UnknownSize, m.HasCues, m.HasSeekHead, m.HasDuration, len(m.Clusters))
	}
	if len(m.Clusters) == 0 {
		return
	}
	ends := append(m.Clusters[1:len(m.Clusters):len(m.Clusters)], m.Clusters[0]+span)
	for i, start := range m.Clusters {
		if ends[i]-start >= maxClusterSpan {
			t.Errorf("cluster %d at %v spans %v", i, start, ends[i]-start)
		}
		if m.ClusterHasVideo[i] && !m.FirstVideoBlockIsKey[i] {
			t.Errorf("cluster %d at %v does not start on a video keyframe", i, start)
		}
	}
}
