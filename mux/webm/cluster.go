package webm

import (
	"bytes"
	"fmt"

	"github.com/kiroku-sfu/kiroku/mux"
)

// openCluster is the cluster being written.
type openCluster struct {
	active       bool
	sizeOff      int64 // absolute offset of its reserved 8-byte size
	info         clusterInfo
	keyRequested bool
}

// videoState follows the video track's configurations.
type videoState struct {
	first *mux.VideoConfig // goes into the TrackEntry
	last  *mux.VideoConfig // detects changes
	// paramSets are the SPS/PPS of the current H.264 configuration when it
	// differs from the first; they are prepended to every keyframe.
	paramSets []byte
}

// videoFrame checks a video frame against the track's state, follows
// configuration changes and returns the bytes to prepend to its data.
func (w *Writer) videoFrame(f *mux.Frame) ([]byte, error) {
	v := &w.vid
	if v.first == nil {
		if !f.Keyframe || f.Config == nil {
			return nil, ErrNeedKeyframe
		}
		return nil, w.firstConfig(f.Config)
	}
	if !f.Keyframe {
		return nil, nil
	}
	if f.Config != nil && !f.Config.Equal(v.last) {
		if w.video.Codec == mux.H264 {
			ps, err := w.h264ParamSets(f.Config)
			if err != nil {
				return nil, err
			}
			v.paramSets = ps
		}
		v.last = cloneConfig(f.Config)
		w.stats.ConfigChanges++
		w.stats.Width = max(w.stats.Width, f.Config.Width)
		w.stats.Height = max(w.stats.Height, f.Config.Height)
	}
	return v.paramSets, nil
}

// h264ParamSets returns what to prepend to keyframes of configuration c.
func (w *Writer) h264ParamSets(c *mux.VideoConfig) ([]byte, error) {
	if bytes.Equal(c.Record, w.vid.first.Record) {
		return nil, nil
	}
	ps, err := avccParamSets(c.Record)
	if err != nil {
		return nil, fmt.Errorf("webm: H.264 configuration change: %w", err)
	}
	return ps, nil
}

// firstConfig records the video track's first configuration and rewrites
// the Tracks region with the complete video entry.
func (w *Writer) firstConfig(c *mux.VideoConfig) error {
	if w.video.Codec == mux.H264 {
		if _, err := avccParamSets(c.Record); err != nil {
			return err
		}
	}
	if w.video.Codec == mux.AV1 && len(c.Record) < 4 {
		return fmt.Errorf("webm: AV1 keyframe without an av1C record: %w", ErrNeedKeyframe)
	}
	w.vid.first = cloneConfig(c)
	w.vid.last = w.vid.first
	entries, err := w.entries()
	if err != nil {
		return err
	}
	tracks, err := encodeTracks(entries, w.lay.tracks.size)
	if err != nil {
		w.vid.first, w.vid.last = nil, nil
		return err
	}
	if _, err := w.out.WriteAt(tracks, w.lay.tracks.off); err != nil {
		return w.fail(err)
	}
	w.stats.Width, w.stats.Height = c.Width, c.Height
	return nil
}

func cloneConfig(c *mux.VideoConfig) *mux.VideoConfig {
	cp := *c
	cp.Record = bytes.Clone(c.Record)
	return &cp
}

// placeBlock starts a new cluster when the block at ms needs one: on every
// video keyframe, when the block's offset would leave int16 range, and
// every few seconds while a cluster holds no video. It also asks for a
// keyframe when a cluster with video runs long.
func (w *Writer) placeBlock(k mux.Kind, ms int64, key bool) error {
	cl := &w.cl
	rel := ms - cl.info.tc
	switch {
	case !cl.active, k == mux.Video && key:
		return w.startCluster(ms)
	case rel > maxBlockRel || rel < minBlockRel:
		if w.vid.first != nil {
			w.forced++
			w.opts.Logger.Warn("webm: cluster started without a keyframe",
				"at_ms", ms, "kind", k.String(), "forced", w.forced)
		}
		return w.startCluster(ms)
	case !cl.info.hasVideo && k == mux.Audio && rel >= audioClusterSpan:
		return w.startCluster(ms)
	}
	if cl.info.hasVideo && !cl.keyRequested && rel >= keyframeRequestAfter {
		cl.keyRequested = true
		if w.opts.RequestKeyframe != nil {
			w.opts.RequestKeyframe()
		}
	}
	return nil
}

// startCluster ends the open cluster and opens one at time ms, with an
// unknown size that endCluster patches. When the buffer already holds at
// least half a flush interval, it is written first, so that it holds whole
// clusters: a cluster whose start has reached the file before its end costs
// a write more and a positioned write to patch its size, and with
// keyframes about one flush interval apart that was every other cluster.
func (w *Writer) startCluster(ms int64) error {
	if err := w.endCluster(); err != nil {
		return err
	}
	if w.bufStart >= 0 && 2*(ms-w.bufStart) >= w.flushMs {
		if err := w.flushBuf(); err != nil {
			return err
		}
	}
	off := w.out.end + int64(len(w.buf))
	w.buf = appendClusterHeader(w.buf, uint64(ms))
	w.cl = openCluster{active: true, sizeOff: off + 4, info: clusterInfo{off: off, tc: ms}}
	return nil
}

// endCluster patches the open cluster's size and records its cue. When the
// size field has already reached the file, the buffered tail is written
// first, so the file never claims bytes it does not hold.
func (w *Writer) endCluster() error {
	cl := &w.cl
	if !cl.active {
		return nil
	}
	cl.active = false
	var size [size8Len]byte
	putSize8(size[:], uint64(w.out.end+int64(len(w.buf))-cl.sizeOff-size8Len))
	if rel := cl.sizeOff - w.out.end; rel >= 0 {
		copy(w.buf[rel:], size[:])
	} else {
		if err := w.flushBuf(); err != nil {
			return err
		}
		if _, err := w.out.WriteAt(size[:], cl.sizeOff); err != nil {
			return err
		}
	}
	if p, ok := cl.info.cue(w.lay.segData); ok {
		w.cues = append(w.cues, p)
	}
	return nil
}

// appendBlock encodes a SimpleBlock into the buffer. The header is
// written here rather than with ebml.MarshalBlock, which allocates several
// small slices per call; the bytes are the same (no lacing).
func (w *Writer) appendBlock(track uint8, ms int64, key bool, prefix, data []byte) {
	rel := ms - w.cl.info.tc
	if w.bufStart < 0 {
		w.bufStart = ms
	}
	flags := byte(0)
	if key {
		flags = 0x80
	}
	b := append(w.buf, idSimpleBlock)
	b = appendSize(b, uint64(4+len(prefix)+len(data)), 1)
	b = append(b, 0x80|track, byte(rel>>8), byte(rel), flags)
	b = append(b, prefix...)
	w.buf = append(b, data...)
	w.cl.info.addBlock(track, rel, key)
}

// flushBuf writes the buffered bytes to the file.
func (w *Writer) flushBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.out.append(w.buf)
	w.buf = w.buf[:0]
	w.bufStart = -1
	return err
}
