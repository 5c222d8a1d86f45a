package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Bounds on what the scanner reads into memory from an untrusted file.
const (
	maxHeaderElement = 1 << 10
	maxInfoElement   = 4 << 10
	maxTracksElement = 64 << 10
	// maxClusters bounds the cue table: a day of one-second clusters is
	// 86 400; more than this is not a file we wrote.
	maxClusters = 1 << 20
)

// errNotOurs reports a file this package did not write, or one damaged
// beyond what a crash leaves.
var errNotOurs = errors.New("webm: not a recoverable kiroku WebM file")

// scanner reads a file left by a Writer and plans how to finish it. It
// walks element headers itself instead of using ebml.Unmarshal, which
// decodes a whole Segment into memory and fails on the cut-off tail a
// crash leaves; only the small head elements are decoded with ebml-go.
type scanner struct {
	r    io.ReaderAt
	size int64
	buf  [16]byte

	lay                layout
	haveInfo, haveSeek bool
	entries            []webm.TrackEntry
	clusters           int
	cues               []cuePoint
	patches            []patch // cluster sizes to fix
	mediaEnd           int64
	ends               [2]trackEnd
	stats              mux.FileStats
	tracksEnd          int64
}

// headerAt reads and parses the element header at off. It also returns
// the bytes read, which reach up to 16 bytes past off.
func (s *scanner) headerAt(off int64) (header, []byte, error) {
	n := min(int64(len(s.buf)), s.size-off)
	if n <= 0 {
		return header{}, nil, errTruncated
	}
	b := s.buf[:n]
	if _, err := s.r.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return header{}, nil, fmt.Errorf("webm: read at %d: %w", off, err)
	}
	h, err := parseHeader(b)
	return h, b, err
}

// isTail reports whether err from headerAt means the bytes at hand are
// not an element header (as opposed to a read failure).
func isTail(err error) bool {
	return errors.Is(err, errTruncated) || errors.Is(err, errBadHeader)
}

// readElement reads the whole element at off if it is at most limit bytes.
func (s *scanner) readElement(off int64, h header, limit uint64, what string) ([]byte, error) {
	if h.unknown || h.size > limit || uint64(s.size-off-int64(h.hdrLen)) < h.size {
		return nil, fmt.Errorf("%s of size %d at %d: %w", what, h.size, off, errNotOurs)
	}
	b := make([]byte, int64(h.hdrLen)+int64(h.size))
	if _, err := s.r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("webm: read %s: %w", what, err)
	}
	return b, nil
}

// scanFile checks the EBML header and walks the Segment.
func (s *scanner) scanFile() error {
	h, _, err := s.headerAt(0)
	if err != nil || h.id != idEBML {
		return fmt.Errorf("no EBML header: %w", errNotOurs)
	}
	b, err := s.readElement(0, h, maxHeaderElement, "EBML header")
	if err != nil {
		return err
	}
	var head struct {
		Header webm.EBMLHeader `ebml:"EBML"`
	}
	err = ebml.Unmarshal(bytes.NewReader(b), &head,
		ebml.WithIgnoreUnknown(true), ebml.WithMaxLeafElementSize(maxHeaderElement))
	if err != nil {
		return fmt.Errorf("webm: decode EBML header: %w", err)
	}
	if head.Header.DocType != "webm" {
		return fmt.Errorf("doc type %q: %w", head.Header.DocType, errNotOurs)
	}
	off := int64(len(b))
	h, _, err = s.headerAt(off)
	if err != nil || h.id != idSegment || h.hdrLen != 4+size8Len {
		return fmt.Errorf("no Segment with an 8-byte size at %d: %w", off, errNotOurs)
	}
	s.lay.segSize = off + 4
	s.lay.segData = off + int64(h.hdrLen)
	if err := s.scanSegment(); err != nil {
		return err
	}
	if !s.haveSeek || !s.haveInfo || len(s.entries) == 0 {
		return fmt.Errorf("head incomplete (SeekHead %v, Info %v, tracks %d): %w",
			s.haveSeek, s.haveInfo, len(s.entries), errNotOurs)
	}
	return nil
}

// scanSegment walks the Segment's children: the head, then clusters until
// the end of the file, a cut-off element or the first non-cluster.
func (s *scanner) scanSegment() error {
	off := s.lay.segData
	for off < s.size {
		h, _, err := s.headerAt(off)
		switch {
		case isTail(err) && (s.clusters > 0 || s.headDone(off)):
			s.mediaEnd = off // the cut-off tail of a crashed write
			return nil
		case isTail(err):
			return fmt.Errorf("element at %d: %w: %w", off, err, errNotOurs)
		case err != nil:
			return err
		}
		if h.id == idCluster {
			next, stop, err := s.scanCluster(off, h)
			if err != nil || stop {
				s.mediaEnd = next
				return err
			}
			off = next
			continue
		}
		if s.clusters > 0 {
			break // old Cues or anything after the media: rebuilt
		}
		if (h.unknown || h.size > uint64(s.size-off-int64(h.hdrLen))) && s.headDone(off) {
			s.mediaEnd = off // the Tracks padding, cut off
			return nil
		}
		if err := s.headElement(off, h); err != nil {
			return err
		}
		off += int64(h.hdrLen) + int64(h.size)
	}
	s.mediaEnd = min(off, s.size)
	return nil
}

// headDone reports whether the head is complete when off is reached.
func (s *scanner) headDone(off int64) bool {
	return s.haveSeek && s.haveInfo && len(s.entries) > 0 && off == s.tracksEnd
}

// headElement records one element of the head (before the first cluster).
func (s *scanner) headElement(off int64, h header) error {
	total := int64(h.hdrLen) + int64(h.size)
	if h.unknown || h.size > uint64(s.size-off-int64(h.hdrLen)) {
		return fmt.Errorf("head element %#x at %d cut off: %w", h.id, off, errNotOurs)
	}
	switch {
	case off == s.lay.segData && (h.id == idVoid || h.id == idSeekHead):
		s.lay.seekHead = region{off: off, size: total}
		s.haveSeek = true
	case h.id == idInfo:
		return s.scanInfo(off, h)
	case h.id == idTracks:
		return s.scanTracks(off, h)
	case h.id == idVoid && s.haveSeek && off == s.lay.seekHead.off+s.lay.seekHead.size:
		s.lay.seekHead.size += total // the SeekHead region's padding
	case h.id == idVoid && len(s.entries) > 0 && off == s.tracksEnd:
		s.lay.tracks.size += total // the Tracks region's padding
		s.tracksEnd += total
	}
	return nil
}

// scanInfo checks the timecode scale and finds Duration's 8 bytes.
func (s *scanner) scanInfo(off int64, h header) error {
	b, err := s.readElement(off, h, maxInfoElement, "Info")
	if err != nil {
		return err
	}
	s.lay.info = off
	for p := h.hdrLen; p < len(b); {
		c, err := parseHeader(b[p:])
		if err != nil || c.unknown || c.size > uint64(len(b)-p-c.hdrLen) {
			return fmt.Errorf("bad Info child at %d: %w", off+int64(p), errNotOurs)
		}
		data := b[p+c.hdrLen : p+c.hdrLen+int(c.size)]
		switch c.id {
		case idTimescale:
			if readUint(data) != timecodeScale {
				return fmt.Errorf("timecode scale %d: %w", readUint(data), errNotOurs)
			}
		case idDuration:
			if c.size != 8 {
				return fmt.Errorf("Duration of %d bytes: %w", c.size, errNotOurs)
			}
			s.lay.duration = off + int64(p+c.hdrLen)
			s.haveInfo = true
		}
		p += c.hdrLen + int(c.size)
	}
	return nil
}

// scanTracks decodes the track entries and checks the numbering.
func (s *scanner) scanTracks(off int64, h header) error {
	b, err := s.readElement(off, h, maxTracksElement, "Tracks")
	if err != nil {
		return err
	}
	var t struct {
		Tracks webm.Tracks `ebml:"Tracks"`
	}
	err = ebml.Unmarshal(bytes.NewReader(b), &t,
		ebml.WithIgnoreUnknown(true), ebml.WithMaxLeafElementSize(maxTracksElement))
	if err != nil {
		return fmt.Errorf("webm: decode Tracks: %w", err)
	}
	seen := map[uint64]bool{}
	for _, e := range t.Tracks.TrackEntry {
		ok := (e.TrackNumber == videoTrack && e.TrackType == trackTypeVideo && e.Video != nil) ||
			(e.TrackNumber == audioTrack && e.TrackType == trackTypeAudio && e.Audio != nil)
		if !ok || seen[e.TrackNumber] {
			return fmt.Errorf("track %d of type %d: %w", e.TrackNumber, e.TrackType, errNotOurs)
		}
		seen[e.TrackNumber] = true
	}
	s.entries = t.Tracks.TrackEntry
	s.lay.tracks = region{off: off, size: int64(len(b))}
	s.tracksEnd = off + int64(len(b))
	return nil
}

// hasTrack reports whether the file declares track n.
func (s *scanner) hasTrack(n uint8) bool {
	for _, e := range s.entries {
		if e.TrackNumber == uint64(n) {
			return true
		}
	}
	return false
}

// readUint decodes a big-endian unsigned integer of up to 8 bytes.
func readUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// readInt16 decodes a block's relative timecode.
func readInt16(b []byte) int64 { return int64(int16(binary.BigEndian.Uint16(b))) }
