package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
)

// Clip is real media held in memory for publishers to play in a loop:
// VP8 frames read from an IVF file and Opus packets from an Ogg file (one
// packet a page, as ffmpeg writes with -page_duration 20000). Its first
// video frame must be a keyframe: the loop and every keyframe request
// start there again (see [Clip.Play]). A Clip is read-only and may be
// played by any number of publishers at once.
type Clip struct {
	video      [][]byte
	frameTime  time.Duration // one video frame's duration
	frameTicks uint32        // the same in 90 kHz RTP units
	audio      [][]byte
}

// audioPacketTime is the duration of one Opus packet of a clip.
const audioPacketTime = 20 * time.Millisecond

// LoadClip reads a VP8 IVF file and an Opus Ogg file (20 ms a packet).
func LoadClip(ivfPath, oggPath string) (*Clip, error) {
	c := &Clip{}
	if err := c.readIVF(ivfPath); err != nil {
		return nil, err
	}
	if err := c.readOgg(oggPath); err != nil {
		return nil, err
	}
	return c, nil
}

// VideoFrames is the number of video frames in one loop.
func (c *Clip) VideoFrames() int { return len(c.video) }

// Duration is how long one loop of the video lasts.
func (c *Clip) Duration() time.Duration { return time.Duration(len(c.video)) * c.frameTime }

func (c *Clip) readIVF(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("loadgen: clip: %w", err)
	}
	r, h, err := ivfreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("loadgen: clip %s: %w", path, err)
	}
	if string(h.FourCC[:]) != "VP80" || h.TimebaseNumerator == 0 || h.TimebaseDenominator == 0 {
		return fmt.Errorf("loadgen: clip %s: want VP8 with a time base, got %q %d/%d", path,
			h.FourCC[:], h.TimebaseNumerator, h.TimebaseDenominator)
	}
	// ffmpeg writes the frame rate's time base (1/30), one tick a frame.
	c.frameTime = time.Duration(float64(time.Second) * float64(h.TimebaseNumerator) / float64(h.TimebaseDenominator))
	c.frameTicks = uint32(90000 * uint64(h.TimebaseNumerator) / uint64(h.TimebaseDenominator))
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("loadgen: clip %s frame %d: %w", path, len(c.video), err)
		}
		c.video = append(c.video, frame)
	}
	if len(c.video) == 0 || !vp8Keyframe(c.video[0]) {
		return fmt.Errorf("loadgen: clip %s does not start with a VP8 keyframe", path)
	}
	return nil
}

func (c *Clip) readOgg(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("loadgen: clip: %w", err)
	}
	r, _, err := oggreader.NewWith(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("loadgen: clip %s: %w", path, err)
	}
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("loadgen: clip %s page: %w", path, err)
		}
		if bytes.HasPrefix(page, []byte("OpusHead")) || bytes.HasPrefix(page, []byte("OpusTags")) || len(page) == 0 {
			continue
		}
		c.audio = append(c.audio, page)
	}
	if len(c.audio) == 0 {
		return fmt.Errorf("loadgen: clip %s holds no Opus packets", path)
	}
	return nil
}

// vp8Keyframe reports whether a VP8 frame is a keyframe (RFC 6386 9.1:
// the frame tag's lowest bit is 0).
func vp8Keyframe(frame []byte) bool { return len(frame) > 0 && frame[0]&1 == 0 }
