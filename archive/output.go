package archive

import (
	"errors"
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// maxSplitLead is how long before a split boundary a recorder asks for
// the keyframe that makes the cut.
const maxSplitLead = 2 * time.Second

// boundaryReask is how much media passes between keyframe requests while a
// reached split boundary still waits for its keyframe.
const boundaryReask = 2 * time.Second

// flushInterval is the most media a file writer holds in memory before
// writing it: half the writers' default, which halves that part of a
// recording's memory (about 156 KB at 2.5 Mbit/s) for a negligible cost in
// writes. The crash rule only asks for at least every 2 s.
const flushInterval = 500 * time.Millisecond

// output is one muxer of a recorder: the single file, or the series of
// split files. It runs on the recorder goroutine.
type output struct {
	r     *Recorder
	split bool
	m     *rtpmux.Muxer
	vdep  mux.FrameDepacketizer // the muxer's video depacketizer, nil without video

	cur       *tmpFile // file being written
	index     int      // split index of cur
	wall0     time.Time
	anchored  bool
	partEnd   time.Duration // recording time where cur starts
	resched   bool          // a part closed: plan the next boundary
	boundary  time.Duration
	atBound   bool          // a keyframe request at the boundary itself went out
	leadArmed bool          // the muxer's next keyframe request is the split's lead request
	askedAt   time.Duration // recording time of the last such request
	err       error
	kfSnap    int // keyframe requests sent when cur started
	lateSnap  int // late packets seen when cur started
	moveSnap  int // simulcast layer changes when cur started
	dropsAt   int // r.drops before this index are in delivered files

	delivered []ArchiveMetadata
}

func newOutput(r *Recorder, split bool) (*output, error) {
	o := &output{r: r, split: split}
	cfg := rtpmux.Config{Video: r.conn.Video.info(), Audio: r.conn.Audio.info(), Logger: r.plan.logger,
		NewWriter: o.newWriter, RequestKeyframe: o.muxerWantsKeyframe, OnPartClosed: o.partClosed}
	var err error
	if r.conn.Video != nil {
		if cfg.VideoDepacketizer, err = codec.NewDepacketizer(r.conn.Video.Codec, r.conn.Video.Fmtp); err != nil {
			return nil, fmt.Errorf("video: %w", err)
		}
	}
	if r.conn.Audio != nil {
		if cfg.AudioDepacketizer, err = codec.NewDepacketizer(r.conn.Audio.Codec, r.conn.Audio.Fmtp); err != nil {
			return nil, fmt.Errorf("audio: %w", err)
		}
	}
	if o.m, err = rtpmux.New(cfg); err != nil {
		return nil, err
	}
	o.vdep = cfg.VideoDepacketizer
	if split {
		o.boundary = r.plan.splitDuration()
		o.planSplit()
	}
	return o, nil
}

// seeder is a depacketizer that takes parameter sets from SDP format
// parameters (mux/codec/h264, mux/codec/h265).
type seeder interface{ Seed(fmtp string) error }

// seedVideo hands the video track's SDP format parameters to the video
// depacketizer; entries it cannot use are logged and skipped.
func (o *output) seedVideo(fmtp string) {
	s, ok := o.vdep.(seeder)
	if !ok {
		return
	}
	if err := s.Seed(fmtp); err != nil {
		o.r.plan.logger.Warn("video fmtp parameter sets skipped", "connection_id", o.r.conn.ConnectionID, "err", err)
	}
}

// planSplit arms the muxer for the next boundary and its keyframe request.
func (o *output) planSplit() {
	o.atBound, o.leadArmed = false, true
	lead := min(maxSplitLead, o.r.plan.splitDuration()/4)
	o.m.SplitAt(o.boundary)
	o.m.NeedKeyframeAt(o.boundary - lead)
}

// write passes one event to the muxer and does what must happen outside
// the muxer's callbacks.
func (o *output) write(ev event, at time.Duration) {
	if ev.sr != nil {
		o.m.WriteSenderReport(ev.kind, ev.sr.SSRC, ev.sr.NTPTime, ev.sr.RTPTime)
		return
	}
	if err := o.m.WritePacket(ev.kind, ev.pkt, at); err != nil && o.err == nil {
		o.err = err
		o.r.plan.logger.Warn("recording error", "connection_id", o.r.conn.ConnectionID, "split", o.split, "err", err)
	}
	if pos, ok := o.m.Position(); ok && !o.anchored {
		o.wall0, o.anchored = ev.arrival.Add(-pos), true
	}
	if o.resched {
		o.resched = false
		d := o.r.plan.splitDuration()
		o.boundary = (o.partEnd/d + 1) * d
		o.planSplit()
	}
	o.askAtBoundary()
}

// askAtBoundary asks once more for a keyframe when the media reaches a
// split boundary that is still pending: a live encoder answers the early
// request within milliseconds, so that keyframe falls before the boundary
// and, without this, the cut would wait for the sender's next own one.
// While the cut is still pending it asks again every boundaryReask of
// media: a request or its answer can be lost, and a busy browser may
// ignore a PLI.
func (o *output) askAtBoundary() {
	if !o.split {
		return
	}
	pos, ok := o.m.Position()
	if !ok || pos < o.boundary || (o.atBound && pos-o.askedAt < boundaryReask) {
		return
	}
	o.atBound, o.askedAt = true, pos
	o.r.kf.forSplit = true
	o.r.kf.want()
}

// muxerWantsKeyframe passes the muxer's request on (muxer callback). The
// first one after a split is planned is counted as the split's: the muxer
// asks ahead of the boundary (a gap in that lead time is counted so too).
func (o *output) muxerWantsKeyframe() {
	if o.leadArmed {
		o.leadArmed = false
		o.r.kf.forSplit = true
	}
	o.r.kf.want()
}

// wallAt is the wall time of recording time d.
func (o *output) wallAt(d time.Duration) time.Time {
	if !o.anchored {
		return o.r.kf.now
	}
	return o.wall0.Add(d)
}

// newWriter creates the next file (muxer callback).
func (o *output) newWriter(video, audio *mux.TrackInfo) (mux.Writer, error) {
	p := o.r.plan
	final := ArchiveMedia(o.r.conn.ConnectionID, p.opts.Format)
	meta := o.r.metaBase()
	if o.split {
		o.index++
		final = SplitMedia(o.r.conn.ConnectionID, o.index, p.opts.Format)
		meta.SplitIndex = SplitIndex(o.index)
	}
	start := o.wallAt(o.partEnd)
	pend := pendingFile{ArchiveDir: p.cfg.ArchiveDir, RecordingStart: p.start, FileStart: start, Meta: meta}
	tf, err := createTmpFile(p.cfg.TmpDir, pend, final, p.opts.Format, video, audio,
		remux.WriterOptions{FlushInterval: flushInterval, RequestKeyframe: o.r.kf.want, Logger: p.logger})
	if err != nil {
		return nil, err
	}
	tf.onKey = o.r.kf.sawKeyframe
	o.cur, o.kfSnap, o.lateSnap, o.moveSnap = tf, o.r.kf.sent, o.r.lateCount(), o.r.layerMoves
	return tf, nil
}

// partClosed delivers a split part (muxer callback; must not call the muxer).
func (o *output) partClosed(part rtpmux.Part) {
	o.deliverCur(part.Summary, part.Start, part.End, false)
	o.partEnd, o.resched = part.End, true
}

// close finishes the muxer and delivers the last file.
func (o *output) close() {
	sum, err := o.m.Close()
	if err != nil && !errors.Is(err, rtpmux.ErrNoMedia) {
		o.r.plan.logger.Warn("recording closed with errors", "connection_id", o.r.conn.ConnectionID, "err", err)
	}
	if o.cur != nil {
		o.deliverCur(sum, o.partEnd, o.partEnd+sum.Duration, true)
	}
}

// videoFailure judges the announced video track when a file closes: a
// file without video frames reports the cause if the track never started
// (or the codec starved it), and so does the last file of a recording
// whose video failed. The failure is logged once per file.
func (o *output) videoFailure(sum mux.Summary, last bool) string {
	if o.r.conn.Video == nil || (sum.VideoFrames > 0 && !last) {
		return ""
	}
	f := o.m.Stats(mux.Video).VideoFailure()
	if f == "" {
		return ""
	}
	o.r.plan.logger.Warn("recorded video never started", "connection_id", o.r.conn.ConnectionID,
		"codec", string(o.r.conn.Video.Codec), "cause", string(f), "detail", f.Describe(), "split", o.split)
	return string(f)
}

// deliverCur moves the current file into place with its JSON. Hand-off
// drops count in the file where the media resumed after them (the last
// file takes the rest).
func (o *output) deliverCur(sum mux.Summary, start, end time.Duration, last bool) {
	tf := o.cur
	o.cur = nil
	n := o.dropsAt
	for n < len(o.r.drops) && (last || !o.r.drops[n].to.After(o.wallAt(end))) {
		n++
	}
	stats := o.r.statsOf(sum, o.r.kf.sent-o.kfSnap, o.r.lateCount()-o.lateSnap, o.wallAt(start), o.r.drops[o.dropsAt:n])
	o.dropsAt = n
	stats.SimulcastLayerChanges = o.r.layerMoves - o.moveSnap
	stats.VideoFailure = o.videoFailure(sum, last)
	meta, err := o.r.deliver(tf, sum, stats, o.wallAt(start), o.wallAt(end))
	if err != nil {
		o.r.plan.logger.Error("archive file not delivered", "connection_id", o.r.conn.ConnectionID, "file", tf.final, "err", err)
		if !errors.Is(err, errNoMedia) { // an empty file alone is no failure; no file at all is (finish)
			o.r.plan.counters.notDelivered()
		}
		return
	}
	o.r.plan.counters.delivered(meta.Stats)
	o.delivered = append(o.delivered, meta)
	typ := "archive.available"
	if o.split {
		typ = "split-archive.available"
	}
	o.r.notify(typ, meta)
}
