package judge

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// makeClip encodes a short test clip with ffmpeg; the judge is only as good
// as its reading of files whose truth we know.
func makeClip(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	base := []string{"-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
		"-f", "lavfi", "-i", "sine=f=440:sample_rate=48000", "-t", "2"}
	cmd := exec.Command("ffmpeg", append(append(base, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	return out
}

func TestJudgeReadsKnownWebM(t *testing.T) {
	path := makeClip(t, "clip.webm", "-c:v", "libvpx", "-g", "15", "-c:a", "libopus")
	p, err := ProbeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := p.Stream("video")
	if !ok || v.CodecName != "vp8" || v.Width != 320 || v.Height != 240 {
		t.Fatalf("video stream = %+v", v)
	}
	if a, ok := p.Stream("audio"); !ok || a.CodecName != "opus" || a.Channels != 1 {
		t.Fatalf("audio stream = %+v", a)
	}
	if d := p.Format.Length(); d < 1900*time.Millisecond || d > 2100*time.Millisecond {
		t.Errorf("duration = %v", d)
	}
	if n, err := FrameCount(path, "v", "vp8"); err != nil || n != 60 {
		t.Errorf("video frames = %d, %v; want 60", n, err)
	}
	if msg, err := DecodeErrors(path, "vp8"); err != nil || msg != "" {
		t.Errorf("decode errors = %q, %v", msg, err)
	}
	times, err := PacketTimes(path, "v")
	if err != nil || len(times) != 60 || times[1]-times[0] < 30*time.Millisecond {
		t.Errorf("packet times = %v, %v", times, err)
	}
	m, err := MKVInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.UnknownSize || !m.HasCues || !m.HasSeekHead || !m.HasDuration {
		t.Errorf("mkvinfo = unknown %v cues %v seekhead %v duration %v", m.UnknownSize, m.HasCues, m.HasSeekHead, m.HasDuration)
	}
	if len(m.Clusters) == 0 || !m.FirstVideoBlockIsKey[0] {
		t.Errorf("clusters = %v, first video block key = %v", m.Clusters, m.FirstVideoBlockIsKey)
	}
}

func TestJudgeSeesUnknownSizesAndDecodeErrors(t *testing.T) {
	live := filepath.Join(t.TempDir(), "live.webm")
	cmd := exec.Command("sh", "-c", "ffmpeg -nostdin -v error -f lavfi -i testsrc2=size=160x120:rate=30 -t 1 -c:v libvpx -f webm -live 1 - > "+live)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	m, err := MKVInfo(live)
	if err != nil {
		t.Fatal(err)
	}
	if !m.UnknownSize {
		t.Error("a live WebM's unknown-size segment was not reported")
	}
	path := makeClip(t, "clip.mp4", "-c:v", "libx264", "-bf", "0", "-c:a", "aac")
	if _, err := DecodeErrors(path+".missing", ""); err == nil {
		t.Error("decoding a missing file reported no error")
	}
}
