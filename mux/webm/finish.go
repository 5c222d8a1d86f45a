package webm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// cuePoint is one Cues entry: a cluster that starts on a random access
// point. pos is the cluster's offset from the Segment's data.
type cuePoint struct {
	time  uint64
	pos   uint64
	track uint8
}

// clusterInfo is what deciding a cluster's cue needs; the writer and the
// scanner fill it block by block with the same rule.
type clusterInfo struct {
	off         int64 // absolute offset of the Cluster element
	tc          int64 // the Cluster's Timecode (ms)
	hasVideo    bool
	startsOnKey bool // the first video block is a keyframe at the cluster's time
	blocks      int
}

// addBlock records a block of track at rel ms from the cluster's time.
func (c *clusterInfo) addBlock(track uint8, rel int64, key bool) {
	c.blocks++
	if track == videoTrack && !c.hasVideo {
		c.hasVideo = true
		c.startsOnKey = key && rel == 0
	}
}

// cue returns the cluster's cue point, if it gets one: a cluster holding
// video is indexed by its opening video keyframe (track 1); a cluster
// without video (an audio-only file, or audio before video starts) by its
// first audio block, every Opus packet being a random access point.
func (c *clusterInfo) cue(segData int64) (cuePoint, bool) {
	p := cuePoint{time: uint64(max(c.tc, 0)), pos: uint64(c.off - segData)}
	switch {
	case c.blocks == 0:
		return p, false
	case !c.hasVideo:
		p.track = audioTrack
	case c.startsOnKey:
		p.track = videoTrack
	default:
		return p, false
	}
	return p, true
}

// trackEnd follows the last two block times of a track to compute its end:
// the last block lasts as long as its predecessor.
type trackEnd struct {
	last, prev int64
	n          int
}

func (t *trackEnd) add(ms int64) {
	t.prev, t.last = t.last, ms
	t.n++
}

// end returns the track's end in ms and whether it has any block.
func (t *trackEnd) end() (int64, bool) {
	switch t.n {
	case 0:
		return 0, false
	case 1:
		return t.last, true
	}
	return t.last + (t.last - t.prev), true
}

// mediaEnd returns the latest end over the tracks and the latest block time.
func mediaEnd(ends *[2]trackEnd) (end, last int64) {
	for i := range ends {
		if e, ok := ends[i].end(); ok {
			end = max(end, e)
			last = max(last, ends[i].last)
		}
	}
	return end, last
}

// dropEmptyVideo leaves a video track that never got a frame out of a
// file that has audio, so players do not see a video stream without size
// or configuration. Audio keeps track number 2.
func dropEmptyVideo(entries []webm.TrackEntry, videoFrames, audioFrames int) []webm.TrackEntry {
	if videoFrames > 0 || audioFrames == 0 {
		return entries
	}
	out := make([]webm.TrackEntry, 0, len(entries))
	for _, e := range entries {
		if e.TrackNumber != videoTrack {
			out = append(out, e)
		}
	}
	return out
}

// finisher turns a file whose clusters are complete and sized into a
// finished file: it appends Cues at mediaEnd and patches Tracks, the
// SeekHead, Duration and the Segment size in place. Close and Recover both
// end here, so a recovered file has the same shape as a closed one.
type finisher struct {
	lay        layout
	entries    []webm.TrackEntry
	mediaEnd   int64
	cues       []cuePoint
	durationMs float64
}

// patch is bytes to write at an offset of the file.
type patch struct {
	what string
	b    []byte
	off  int64
}

// plan encodes the closing elements and returns the writes that finish the
// file and its final size. It writes nothing, so a file whose head cannot
// take them is left as it was. Cues come first: a crash while finishing
// leaves a file Recover can still scan (it stops at the Cues and rebuilds).
func (f *finisher) plan() ([]patch, int64, error) {
	var ps []patch
	end := f.mediaEnd
	cuesAt := int64(-1)
	if len(f.cues) > 0 {
		cues := encodeCues(f.cues)
		ps = append(ps, patch{"Cues", cues, end})
		cuesAt = end
		end += int64(len(cues))
	}
	tracks, err := encodeTracks(f.entries, f.lay.tracks.size)
	if err != nil {
		return nil, 0, err
	}
	seek, err := f.encodeSeekHead(cuesAt)
	if err != nil {
		return nil, 0, err
	}
	dur := binary.BigEndian.AppendUint64(nil, math.Float64bits(f.durationMs))
	seg := make([]byte, size8Len)
	putSize8(seg, uint64(end-f.lay.segData))
	ps = append(ps, patch{"Tracks", tracks, f.lay.tracks.off}, patch{"SeekHead", seek, f.lay.seekHead.off},
		patch{"Duration", dur, f.lay.duration}, patch{"Segment size", seg, f.lay.segSize})
	return ps, end, nil
}

// apply writes patches in order.
func apply(w io.WriterAt, ps []patch) error {
	for _, p := range ps {
		if _, err := w.WriteAt(p.b, p.off); err != nil {
			return fmt.Errorf("webm: write %s: %w", p.what, err)
		}
	}
	return nil
}

// encodeSeekHead builds the SeekHead (Info, Tracks and, when present, Cues)
// padded to its reserved region.
func (f *finisher) encodeSeekHead(cuesAt int64) ([]byte, error) {
	rel := func(off int64) uint64 { return uint64(off - f.lay.segData) }
	sh := webm.SeekHead{Seek: []webm.Seek{
		{SeekID: idBytes(idInfo), SeekPosition: rel(f.lay.info)},
		{SeekID: idBytes(idTracks), SeekPosition: rel(f.lay.tracks.off)},
	}}
	if cuesAt >= 0 {
		sh.Seek = append(sh.Seek, webm.Seek{SeekID: idBytes(idCues), SeekPosition: rel(cuesAt)})
	}
	var payload bytes.Buffer
	if err := ebml.Marshal(&sh, &payload); err != nil {
		return nil, fmt.Errorf("webm: encode SeekHead: %w", err)
	}
	return fitElement(idSeekHead, payload.Bytes(), f.lay.seekHead.size)
}
