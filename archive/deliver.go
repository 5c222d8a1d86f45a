package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// metaBase is the part of a file's JSON known before it is written.
func (r *Recorder) metaBase() ArchiveMetadata {
	p := r.plan
	return ArchiveMetadata{
		Identity: Identity{RecordingID: p.id, ChannelID: p.channelID, SessionID: p.sessionID,
			ClientID: r.conn.ClientID, BundleID: r.conn.BundleID, ConnectionID: r.conn.ConnectionID,
			Label: p.cfg.Label, NodeName: p.cfg.NodeName},
		Media: r.media, Format: p.opts.Format, EventMetadata: r.conn.EventMetadata,
	}
}

// statsOf fills the stats object of a file that starts at wall time from,
// during which late packets arrived and requests were sent, and into
// which the given hand-off drops fall.
func (r *Recorder) statsOf(sum mux.Summary, requests, late int, from time.Time, drops []dropSpan) Stats {
	s := Stats{PacketsReceived: sum.PacketsReceived, PacketsLost: sum.PacketsLost,
		FramesWritten: sum.VideoFrames + sum.AudioFrames, FramesDropped: sum.FramesDropped,
		VideoFrames: sum.VideoFrames, AudioFrames: sum.AudioFrames, Keyframes: sum.Keyframes,
		DurationMS: sum.Duration.Milliseconds(), KeyframeRequests: requests,
		ResolutionChanges: sum.ConfigChanges, Gaps: []GapStat{}}
	// A packet that arrived after a later one filled a hole, unless it was
	// a duplicate.
	s.PacketsRecovered = max(0, late-sum.PacketsDuplicate)
	for _, g := range sum.Gaps {
		s.Gaps = append(s.Gaps, GapStat{Kind: g.Kind.String(), OffsetMS: g.Offset.Milliseconds(),
			DurationMS: g.Duration.Milliseconds(), Cause: string(g.Cause), Frames: g.DroppedFrames})
		if g.Kind == mux.Video {
			s.KeyframeWaits++
		}
	}
	for _, d := range drops {
		s.PacketsDropped += d.events
		s.Gaps = append(s.Gaps, GapStat{Kind: "video", OffsetMS: max(0, d.from.Sub(from).Milliseconds()),
			DurationMS: d.to.Sub(d.from).Milliseconds(), Cause: string(mux.GapBackpressure)})
	}
	return s
}

// deliver finishes a closed tmp file: media into the recording directory
// (fsynced, renamed), then its JSON, then the sidecar is removed. A file
// with no media, or one that cannot be moved, goes to quarantine.
func (r *Recorder) deliver(tf *tmpFile, sum mux.Summary, stats Stats, start, stop time.Time) (ArchiveMetadata, error) {
	p := r.plan
	meta := tf.pending.Meta
	meta.Span = NewSpan(p.start, start, stop)
	meta.Stats = stats
	meta.CreatedAt = p.clock.Now().Unix()
	if stats.FramesWritten == 0 {
		return meta, errors.Join(errNoMedia, quarantine(p.cfg.QuarantineDir, tf.path, errNoMedia.Error(), p.logger))
	}
	meta.VideoWidth, meta.VideoHeight = sum.Width, sum.Height
	return meta, placeFile(p.names(), tf.path, tf.final, &meta)
}

// errNoMedia marks a file that holds no frame.
var errNoMedia = errors.New("archive: no media was written")

// placeFile moves the media at tmpPath to final in the recording directory
// and writes its JSON there; meta's file fields are filled in.
func placeFile(n Names, tmpPath, final string, meta *ArchiveMetadata) error {
	fi, err := os.Stat(tmpPath)
	if err != nil {
		return fmt.Errorf("archive: stat %s: %w", tmpPath, err)
	}
	meta.Size = fi.Size()
	if err := os.MkdirAll(n.Dir(), 0o755); err != nil {
		return fmt.Errorf("archive: create %s: %w", n.Dir(), err)
	}
	stem := final[:len(final)-len(filepath.Ext(final))]
	meta.FileRef.FilePath, meta.FileRef.Filename = n.Abs(final), n.Rel(final)
	meta.MetadataFilePath, meta.MetadataFilename = n.Abs(stem+".json"), n.Rel(stem+".json")
	if err := moveFile(tmpPath, meta.FilePath); err != nil {
		return err
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("archive: encode %s: %w", meta.MetadataFilePath, err)
	}
	if err := writeFileAtomic(meta.MetadataFilePath, b); err != nil {
		return err
	}
	if err := os.Remove(tmpPath + pendingSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("archive: remove sidecar: %w", err)
	}
	return nil
}
