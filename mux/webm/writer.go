// Package webm writes WebM files that survive a crash of the process
// writing them: the Segment and each Cluster are written with reserved
// 8-byte sizes that are patched in place, media reaches the file at least
// every FlushInterval, and Recover turns a file left by a killed process
// into a finished one without copying its media.
//
// A finished file has an EBML header, a Segment of known size holding a
// SeekHead (Info, Tracks, Cues), Info (1 ms timecodes, Duration), Tracks
// (video is track 1, audio track 2), Clusters of SimpleBlocks that start on
// video keyframes and last under 32.767 s, and Cues — no element of unknown
// size.
//
// Choices worth knowing:
//   - PixelWidth/PixelHeight are the first keyframe's size. VP8, VP9, AV1
//     and H.264 carry later sizes in-band, so a resolution change needs no
//     new track; FileStats reports the largest size seen.
//   - H.264 keeps the first configuration's avcC as CodecPrivate; every
//     keyframe of a later, different configuration carries its SPS/PPS
//     in-band (prepended, length-prefixed), which Chrome and ffmpeg decode.
//   - A cluster starts on every video keyframe, every 5 s while it holds no
//     video, and, as a last resort counted by ForcedClusters, on any block
//     that would leave the 16-bit block timecode range. RequestKeyframe is
//     called 30 s into a cluster with video so that this rarely happens.
//   - Close and Recover share the finishing code, so a recovered file has
//     the same layout as a closed one.
package webm

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/at-wat/ebml-go/webm"

	"github.com/kiroku-sfu/kiroku/mux"
)

// ErrClosed reports a call on a Writer that was already closed.
var ErrClosed = errors.New("webm: writer closed")

// ErrNeedKeyframe reports a video track whose first frame is not a
// keyframe carrying a configuration; such a frame is not written.
var ErrNeedKeyframe = errors.New("webm: video must start with a keyframe that carries its configuration")

var _ mux.Writer = (*Writer)(nil)

// Writer writes one WebM file. It implements mux.Writer. A Writer is not
// safe for concurrent use.
type Writer struct {
	out          *seekWriter
	opts         Options
	video, audio *mux.TrackInfo
	lay          layout
	flushMs      int64

	buf      []byte // encoded bytes not yet written; they start at out.end
	bufStart int64  // time (ms) of the first block in buf, -1 when none

	cl   openCluster
	cues []cuePoint
	ends [2]trackEnd // per track: video, audio
	pts  [2]time.Duration

	vid   videoState
	stats mux.FileStats

	forced int
	closed bool
	err    error // sticky write error
}

// NewWriter writes the head of a WebM file to ws, which must be empty and
// positioned at its start. video and audio describe the tracks; nil means
// the track is absent. Codecs WebM cannot hold for us (H.265) yield an
// error wrapping mux.ErrUnsupported.
func NewWriter(ws io.WriteSeeker, video, audio *mux.TrackInfo, opts Options) (*Writer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if video == nil && audio == nil {
		return nil, errors.New("webm: a file needs at least one track")
	}
	w := &Writer{out: newSeekWriter(ws), opts: opts, video: video, audio: audio,
		flushMs: opts.FlushInterval.Milliseconds(), bufStart: -1}
	entries, err := w.entries()
	if err != nil {
		return nil, err
	}
	head, lay, err := buildHead(entries)
	if err != nil {
		return nil, err
	}
	w.lay = lay
	if _, err := ws.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("webm: seek to start: %w", err)
	}
	if err := w.out.append(head); err != nil {
		return nil, err
	}
	return w, nil
}

// entries returns the TrackEntries as far as they are known: the video
// entry gets its CodecPrivate and size with the first keyframe.
func (w *Writer) entries() ([]webm.TrackEntry, error) {
	var out []webm.TrackEntry
	if w.video != nil {
		e, err := videoEntry(w.video, w.vid.first)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if w.audio != nil {
		e, err := audioEntry(w.audio, w.opts.OpusPreSkip)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// WriteFrame appends a frame to the track of kind k. Frames of a track
// must come in PTS order. A frame that is rejected (unknown track, PTS
// going back, video not starting with a keyframe) changes nothing; after
// a write error every later call fails with it.
func (w *Writer) WriteFrame(k mux.Kind, f mux.Frame) error {
	if err := w.usable(); err != nil {
		return err
	}
	idx, err := w.trackIndex(k)
	if err != nil {
		return err
	}
	if w.ends[idx].n > 0 && f.PTS < w.pts[idx] {
		return fmt.Errorf("webm: %s PTS %v before previous %v", k, f.PTS, w.pts[idx])
	}
	if f.PTS < 0 {
		return fmt.Errorf("webm: negative %s PTS %v", k, f.PTS)
	}
	var prefix []byte
	key := true
	if k == mux.Video {
		key = f.Keyframe
		if prefix, err = w.videoFrame(&f); err != nil {
			return err
		}
	}
	ms := roundMs(f.PTS)
	if err := w.placeBlock(k, ms, key); err != nil {
		return w.fail(err)
	}
	w.appendBlock(uint8(idx+1), ms, key, prefix, f.Data)
	w.pts[idx] = f.PTS
	w.ends[idx].add(ms)
	w.count(k, key)
	if ms-w.bufStart >= w.flushMs || len(w.buf) >= maxBuffered {
		return w.fail(w.flushBuf())
	}
	return nil
}

// Flush writes every frame written so far to the file, where Recover
// finds it after a crash. It does not sync the file to stable storage;
// the owner of the file does that when it needs to survive power loss.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	return w.fail(w.flushBuf())
}

// Close finishes the file: it ends the open cluster and writes Cues, the
// SeekHead, Tracks, Duration and the Segment size. end is the file's end
// on its timeline; when it is not after the last frame, the last frame
// lasts as long as its predecessor. Width and Height in the result are the
// largest seen; the track header carries the first keyframe's size.
func (w *Writer) Close(end time.Duration) (mux.FileStats, error) {
	if err := w.usable(); err != nil {
		return mux.FileStats{}, err
	}
	w.closed = true
	if err := w.endCluster(); err != nil {
		return mux.FileStats{}, err
	}
	if err := w.flushBuf(); err != nil {
		return mux.FileStats{}, err
	}
	entries, err := w.entries()
	if err != nil {
		return mux.FileStats{}, err
	}
	durMs, last := mediaEnd(&w.ends)
	if roundMs(end) > last {
		durMs = roundMs(end)
	}
	entries = dropEmptyVideo(entries, w.stats.VideoFrames, w.stats.AudioFrames)
	f := finisher{lay: w.lay, entries: entries, mediaEnd: w.out.end, cues: w.cues, durationMs: float64(durMs)}
	ps, size, err := f.plan()
	if err != nil {
		return mux.FileStats{}, err
	}
	if err := apply(w.out, ps); err != nil {
		return mux.FileStats{}, err
	}
	st := w.stats
	st.Bytes = size
	st.Duration = time.Duration(durMs) * time.Millisecond
	return st, nil
}

// ForcedClusters returns how many clusters had to start on a video
// non-keyframe because no keyframe came within the 32.767 s limit.
func (w *Writer) ForcedClusters() int { return w.forced }

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// fail makes a write error sticky: the file's tail is then unknown.
func (w *Writer) fail(err error) error {
	if err != nil && w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) trackIndex(k mux.Kind) (int, error) {
	switch {
	case k == mux.Video && w.video != nil:
		return 0, nil
	case k == mux.Audio && w.audio != nil:
		return 1, nil
	}
	return 0, fmt.Errorf("webm: no %s track in this file", k)
}

func (w *Writer) count(k mux.Kind, key bool) {
	if k == mux.Audio {
		w.stats.AudioFrames++
		return
	}
	w.stats.VideoFrames++
	if key {
		w.stats.Keyframes++
	}
}

// roundMs rounds a time to the nearest millisecond.
func roundMs(d time.Duration) int64 {
	return int64(d.Round(time.Millisecond) / time.Millisecond)
}
