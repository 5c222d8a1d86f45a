package mp4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// ErrClosed is returned by a Writer's methods after Close or a failed write;
// after a failed write the file holds every fragment written before and
// Recover finishes it.
var ErrClosed = errors.New("mp4: writer closed")

// Writer records one video and/or one audio track into a crash-recoverable
// MP4 file. It is not safe for concurrent use.
type Writer struct {
	ws     io.WriteSeeker
	wa     io.WriterAt
	ra     io.ReaderAt
	opts   Options
	tracks []*track // video first
	frag   *fragmenter
	fts    []fragmentTrack
	// counts has each track's (same order) table counts of the fragments
	// written, so that Close walks the fragments only once.
	counts []*sampleTables

	moovOff   int64 // where the reserved region (init moov + free) starts
	pos       int64 // end of the file: where the next fragment goes
	fragStart time.Duration
	npending  int
	closed    bool
}

var _ mux.Writer = (*Writer)(nil)

// NewWriter starts a file at the beginning of ws: ftyp, then the reserved
// region holding the init moov. video or audio may be nil for an absent
// track; audio must be Opus. ws must also implement io.ReaderAt (as *os.File
// does), because Close reads the fragments back to build the final moov.
// When ws also has Truncate(int64) error and it can grow the file (as
// *os.File's can), the reserved region's free space is made that way rather
// than by writing zeros.
func NewWriter(ws io.WriteSeeker, video, audio *mux.TrackInfo, opts Options) (*Writer, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("mp4: new writer: %w", err)
	}
	ra, ok := ws.(io.ReaderAt)
	if !ok {
		return nil, errors.New("mp4: new writer: the file must implement io.ReaderAt to be finished")
	}
	wa, ok := ws.(io.WriterAt)
	if !ok {
		wa = seekWriterAt{ws}
	}
	w := &Writer{ws: ws, wa: wa, ra: ra, opts: opts, frag: newFragmenter()}
	if err := w.addTracks(video, audio); err != nil {
		return nil, fmt.Errorf("mp4: new writer: %w", err)
	}
	if err := w.writeHeader(); err != nil {
		return nil, fmt.Errorf("mp4: new writer: %w", err)
	}
	return w, nil
}

func (w *Writer) addTracks(video, audio *mux.TrackInfo) error {
	if video == nil && audio == nil {
		return errors.New("no track")
	}
	if video != nil {
		if video.Kind() != mux.Video {
			return fmt.Errorf("video track with codec %q: %w", video.Codec, mux.ErrUnsupported)
		}
		if _, err := sampleEntryType(video.Codec); err != nil {
			return err
		}
		if err := w.appendTrack(*video, videoTimescale); err != nil {
			return err
		}
	}
	if audio != nil {
		if audio.Codec != mux.Opus {
			return fmt.Errorf("audio track with codec %q: %w", audio.Codec, mux.ErrUnsupported)
		}
		return w.appendTrack(*audio, opusSampleRate)
	}
	return nil
}

func (w *Writer) appendTrack(info mux.TrackInfo, timescale uint32) error {
	headroom := 0
	if len(w.tracks) == 0 {
		headroom = initialHeadroom // the first track's buffer carries the fragment
	}
	t, err := newTrack(info, uint32(len(w.tracks)+1), timescale, headroom)
	if err != nil {
		return err
	}
	w.tracks = append(w.tracks, t)
	w.counts = append(w.counts, &sampleTables{})
	return nil
}

func (w *Writer) track(k mux.Kind) *track {
	for _, t := range w.tracks {
		if t.meta.kind == k {
			return t
		}
	}
	return nil
}

// WriteFrame appends a frame to the track of kind k. The first video frame
// must be a keyframe carrying its configuration.
func (w *Writer) WriteFrame(k mux.Kind, f mux.Frame) error {
	if w.closed {
		return ErrClosed
	}
	t := w.track(k)
	if t == nil {
		return fmt.Errorf("mp4: write %s frame: the file has no %s track", k, k)
	}
	if err := t.check(f); err != nil {
		return fmt.Errorf("mp4: write %s frame at %v: %w", k, f.PTS, err)
	}
	sdi, err := w.sampleDescription(t, f)
	if err != nil {
		return fmt.Errorf("mp4: write %s frame at %v: %w", k, f.PTS, err)
	}
	cut := len(t.p.samples) > 0 && t.p.sdi != sdi
	if w.npending > 0 && (cut || f.PTS-w.fragStart >= w.opts.FlushInterval) {
		if err := w.emit(false, 0); err != nil {
			return err
		}
	}
	if w.npending == 0 {
		w.fragStart = f.PTS
	}
	t.add(f, sdi)
	w.npending++
	return nil
}

// sampleDescription returns the 1-based sample entry index for f, adding an
// entry (and rewriting the init moov) when a keyframe brings a new
// configuration.
func (w *Writer) sampleDescription(t *track, f mux.Frame) (uint32, error) {
	if t.meta.kind == mux.Audio {
		return 1, nil
	}
	if !f.Keyframe || f.Config == nil || (t.sdi > 0 && f.Config.Equal(t.configs[t.sdi-1])) {
		return t.sdi, nil
	}
	for i, c := range t.configs {
		if f.Config.Equal(c) {
			return uint32(i + 1), nil
		}
	}
	if err := checkConfig(t.info.Codec, f.Config); err != nil {
		return 0, err
	}
	c := *f.Config
	c.Record = bytes.Clone(c.Record)
	t.configs = append(t.configs, &c)
	if err := t.updateStsd(); err != nil {
		return 0, err
	}
	if err := w.rewriteInitMoov(); err != nil {
		w.closed = true
		return 0, err
	}
	return uint32(len(t.configs)), nil
}

// Flush writes every frame received so far as one fragment, so that a crash
// from now on loses none of them.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrClosed
	}
	return w.emit(false, 0)
}

// emit writes the pending samples as one fragment with a single write. On
// the final fragment the last sample of each track lasts until end when end
// is after it.
func (w *Writer) emit(final bool, end time.Duration) error {
	if w.npending == 0 {
		return nil
	}
	w.fts = w.fts[:0]
	for i, t := range w.tracks {
		if len(t.p.samples) > 0 {
			w.fts = append(w.fts, fragmentTrack{id: t.meta.id, track: i, p: &t.p, lastDur: t.lastDuration(final, end)})
		}
	}
	data, err := w.frag.build(w.fts, &w.tracks[0].p)
	if err == nil {
		_, err = w.wa.WriteAt(data, w.pos)
	}
	if err != nil {
		w.closed = true
		return fmt.Errorf("mp4: write fragment at offset %d: %w", w.pos, err)
	}
	for i, ft := range w.fts {
		w.counts[ft.track].addWritten(uint64(w.pos)+w.frag.dataOffs[i], ft.p.samples, ft.p.sdi, ft.lastDur)
	}
	w.pos += int64(len(data))
	for _, t := range w.tracks {
		t.p.reset()
	}
	w.npending = 0
	return nil
}

// Close writes the last fragment and finishes the file into a progressive
// MP4 (see the package documentation). The last sample of each track lasts
// until end; when end is not after it, an Opus packet lasts its own
// duration and a video frame as long as its predecessor. A file without a
// single frame gets ErrNoSamples and stays as it was (the caller deletes
// it). After an error the file is still what Recover expects.
func (w *Writer) Close(end time.Duration) (mux.FileStats, error) {
	if w.closed {
		return mux.FileStats{}, ErrClosed
	}
	if err := w.emit(true, end); err != nil {
		return mux.FileStats{}, err
	}
	w.closed = true
	s := &scanned{moovOff: w.moovOff, reservedEnd: w.moovOff + int64(w.opts.ReservedHeaderBytes),
		fragmented: true, tracks: w.trackMetas(), tables: w.counts, end: w.pos}
	stats, err := finish(w.wa, w.ra, s, w.opts.forceCo64)
	if err != nil {
		return stats, fmt.Errorf("mp4: close: %w", err)
	}
	return stats, nil
}
