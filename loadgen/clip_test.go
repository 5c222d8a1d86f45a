package loadgen

import (
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// clipRecorder is a ClipWriter that keeps what it is given.
type clipRecorder struct {
	mu           sync.Mutex
	video, audio []rtp.Packet
	keyRequest   bool
}

func (r *clipRecorder) WriteRTP(p *rtp.Packet) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.video = append(r.video, *p)
	return nil
}

func (r *clipRecorder) WriteAudioRTP(p *rtp.Packet) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audio = append(r.audio, *p)
	return nil
}

func (r *clipRecorder) TakeVideoKeyframeRequest() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.keyRequest
	r.keyRequest = false
	return k
}

// makeClip encodes a short clip with ffmpeg (skipping without it).
func makeClip(t *testing.T) *Clip {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	dir := t.TempDir()
	ivf, ogg := filepath.Join(dir, "v.ivf"), filepath.Join(dir, "a.ogg")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "1", "-c:v", "libvpx", "-b:v", "300k", "-g", "15", ivf},
		{"-f", "lavfi", "-i", "sine=sample_rate=48000:duration=1", "-c:a", "libopus", "-frame_duration", "20", "-page_duration", "20000", ogg},
	} {
		if out, err := exec.Command("ffmpeg", append([]string{"-v", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
	}
	c, err := LoadClip(ivf, ogg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClipPlay(t *testing.T) {
	c := makeClip(t)
	if c.VideoFrames() != 30 || (c.Duration()-time.Second).Abs() > time.Millisecond {
		t.Fatalf("clip has %d frames, %v; want 30, 1 s", c.VideoFrames(), c.Duration())
	}
	r := &clipRecorder{keyRequest: false}
	var n ClipCounters
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	go func() { // a keyframe request half way through the first loop
		time.Sleep(500 * time.Millisecond)
		r.mu.Lock()
		r.keyRequest = true
		r.mu.Unlock()
	}()
	if err := c.Play(ctx, r, 0, &n); err == nil {
		t.Fatal("Play returned nil")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if got := uint64(len(r.video) + len(r.audio)); got != n.Packets.Load() || n.Errors.Load() != 0 {
		t.Fatalf("counted %d packets (%d errors), wrote %d", n.Packets.Load(), n.Errors.Load(), got)
	}
	if len(r.audio) < 70 || len(r.audio) > 80 {
		t.Errorf("%d audio packets in 1.5 s, want 75", len(r.audio))
	}
	if n.Restarts.Load() != 1 {
		t.Errorf("%d restarts, want 1", n.Restarts.Load())
	}
	keyframes, frames := 0, 0
	for i, p := range r.video {
		var d codecs.VP8Packet
		payload, err := d.Unmarshal(p.Payload)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if i > 0 && p.SequenceNumber != r.video[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.SequenceNumber, r.video[i-1].SequenceNumber)
		}
		if d.S == 1 {
			frames++
			if payload[0]&1 == 0 {
				keyframes++
			}
		}
	}
	// 45 frames in 1.5 s; keyframes at 0, at the request and every 15 frames.
	if frames < 42 || frames > 47 || keyframes < 3 {
		t.Errorf("%d frames, %d keyframes", frames, keyframes)
	}
}
