package webm

import (
	"bytes"
	"fmt"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// Reserved space at the head of the Segment. The SeekHead is only known at
// the end, and the video TrackEntry only at the first keyframe (its
// CodecPrivate and size come with it), so both are written into fixed
// regions that are rewritten in place and padded with a Void element.
const (
	seekHeadReserve = 128
	tracksReserve   = 4096
)

// timecodeScale is 1 ms per timecode tick.
const timecodeScale = 1000000

// appName goes into MuxingApp and WritingApp.
const appName = "kiroku"

// region is a byte range of the file.
type region struct {
	off, size int64
}

// layout records where the head elements of a file are, so that finishing
// can patch them in place. Offsets are absolute file offsets.
type layout struct {
	segSize  int64 // the Segment's 8-byte size field
	segData  int64 // first byte of the Segment's data
	seekHead region
	info     int64 // the Info element
	duration int64 // the 8-byte float data of Info's Duration
	tracks   region
}

// infoElement is Info with a Duration that is always present: its 8 bytes
// are reserved while writing and patched at finish (webm.Info omits a
// zero Duration, which would leave no room for it).
type infoElement struct {
	TimecodeScale uint64  `ebml:"TimecodeScale"`
	MuxingApp     string  `ebml:"MuxingApp"`
	WritingApp    string  `ebml:"WritingApp"`
	Duration      float64 `ebml:"Duration"`
}

// buildHead encodes everything before the first Cluster: the EBML header,
// the Segment header with an unknown size, the SeekHead region, Info and
// the Tracks region.
func buildHead(entries []webm.TrackEntry) ([]byte, layout, error) {
	var b bytes.Buffer
	head := struct {
		Header webm.EBMLHeader `ebml:"EBML"`
	}{webm.EBMLHeader{
		EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8,
		DocType: "webm", DocTypeVersion: 4, DocTypeReadVersion: 2,
	}}
	if err := ebml.Marshal(&head, &b); err != nil {
		return nil, layout{}, fmt.Errorf("webm: encode EBML header: %w", err)
	}
	var lay layout
	b.Write(idBytes(idSegment))
	lay.segSize = int64(b.Len())
	b.Write(make([]byte, size8Len))
	putSize8(b.Bytes()[lay.segSize:], sizeUnknown)
	lay.segData = int64(b.Len())

	lay.seekHead = region{off: int64(b.Len()), size: seekHeadReserve}
	void, err := voidHeader(seekHeadReserve)
	if err != nil {
		return nil, layout{}, err
	}
	b.Write(void)
	b.Write(make([]byte, seekHeadReserve-len(void)))

	lay.info = int64(b.Len())
	info := struct {
		Info infoElement `ebml:"Info"`
	}{infoElement{TimecodeScale: timecodeScale, MuxingApp: appName, WritingApp: appName}}
	if err := ebml.Marshal(&info, &b); err != nil {
		return nil, layout{}, fmt.Errorf("webm: encode Info: %w", err)
	}
	lay.duration = int64(b.Len()) - 8 // Duration is Info's last child

	lay.tracks = region{off: int64(b.Len()), size: tracksReserve}
	tracks, err := encodeTracks(entries, tracksReserve)
	if err != nil {
		return nil, layout{}, err
	}
	b.Write(tracks)
	b.Write(make([]byte, tracksReserve-len(tracks)))
	return b.Bytes(), lay, nil
}

// encodeTracks encodes a Tracks element padded to fill size bytes.
func encodeTracks(entries []webm.TrackEntry, size int64) ([]byte, error) {
	var payload bytes.Buffer
	if err := ebml.Marshal(&webm.Tracks{TrackEntry: entries}, &payload); err != nil {
		return nil, fmt.Errorf("webm: encode Tracks: %w", err)
	}
	return fitElement(idTracks, payload.Bytes(), size)
}
