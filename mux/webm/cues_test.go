package webm

import (
	"bytes"
	"testing"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// TestHandEncodingMatchesEBMLGo compares the hand-encoded Cues and Cluster
// headers with ebml-go's encoding of the same values, at the edges of
// every integer and size length.
func TestHandEncodingMatchesEBMLGo(t *testing.T) {
	values := []uint64{0, 1, 0x7E, 0x7F, 0xFF, 0x100, 0x3FFE, 0x3FFF, 0xFFFF, 0x10000, 1<<32 - 1, 1 << 32, 1<<56 - 1, 1<<64 - 1}
	var points []cuePoint
	for i, v := range values {
		points = append(points, cuePoint{time: v, pos: values[len(values)-1-i], track: uint8(1 + i%2)})
	}
	// Enough points to need a 2- and a 3-byte Cues size.
	for i := range 3000 {
		points = append(points, cuePoint{time: uint64(i) * 2000, pos: uint64(i) * 300000, track: videoTrack})
	}
	for _, n := range []int{1, 2, len(values), 200, len(points)} {
		if got, want := encodeCues(points[:n]), ebmlCues(t, points[:n]); !bytes.Equal(got, want) {
			t.Errorf("%d cue points: hand encoding differs from ebml-go's\n got %x\nwant %x", n, head(got), head(want))
		}
	}
	for _, v := range values {
		if got, want := appendClusterHeader(nil, v), ebmlClusterHeader(t, v); !bytes.Equal(got, want) {
			t.Errorf("Cluster header at %d: %x, ebml-go %x", v, got, want)
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 64)] }

func ebmlCues(t *testing.T, points []cuePoint) []byte {
	t.Helper()
	cues := struct {
		Cues webm.Cues `ebml:"Cues"`
	}{webm.Cues{CuePoint: make([]webm.CuePoint, len(points))}}
	for i, p := range points {
		cues.Cues.CuePoint[i] = webm.CuePoint{CueTime: p.time, CueTrackPositions: []webm.CueTrackPosition{
			{CueTrack: uint64(p.track), CueClusterPosition: p.pos},
		}}
	}
	var b bytes.Buffer
	if err := ebml.Marshal(&cues, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func ebmlClusterHeader(t *testing.T, timecode uint64) []byte {
	t.Helper()
	hdr := struct {
		Cluster struct {
			Timecode uint64 `ebml:"Timecode"`
		} `ebml:"Cluster,size=unknown"`
	}{}
	hdr.Cluster.Timecode = timecode
	var b bytes.Buffer
	if err := ebml.Marshal(&hdr, &b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
