package mp4

import (
	"os"
	"testing"

	gomp4 "github.com/abema/go-mp4"
)

// layout is the box structure of a finished file as go-mp4 reads it.
type layout struct {
	top                    []string // top-level box types in order
	topOff                 []int64  // and their offsets
	mvex, stss, stco, co64 int
	tkhdWidth, tkhdHeight  uint32 // of the video track
	moof                   int
}

func readLayout(t testing.TB, path string) layout {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var l layout
	top, err := gomp4.ExtractBoxes(f, nil, []gomp4.BoxPath{{gomp4.BoxTypeAny()}})
	if err != nil {
		t.Fatalf("read top-level boxes: %v", err)
	}
	for _, b := range top {
		l.top = append(l.top, b.Type.String())
		l.topOff = append(l.topOff, int64(b.Offset))
	}
	stbl := gomp4.BoxPath{gomp4.BoxTypeMoov(), gomp4.BoxTypeTrak(), gomp4.BoxTypeMdia(), gomp4.BoxTypeMinf(), gomp4.BoxTypeStbl()}
	count := func(p ...gomp4.BoxType) int {
		bs, err := gomp4.ExtractBox(f, nil, p)
		if err != nil {
			t.Fatalf("extract %v: %v", p, err)
		}
		return len(bs)
	}
	l.mvex = count(gomp4.BoxTypeMoov(), gomp4.BoxTypeMvex())
	l.moof = count(gomp4.BoxTypeMoof())
	l.stss = count(append(stbl, gomp4.BoxTypeStss())...)
	l.stco = count(append(stbl, gomp4.BoxTypeStco())...)
	l.co64 = count(append(stbl, gomp4.BoxTypeCo64())...)
	tkhds, err := gomp4.ExtractBoxWithPayload(f, nil, gomp4.BoxPath{gomp4.BoxTypeMoov(), gomp4.BoxTypeTrak(), gomp4.BoxTypeTkhd()})
	if err != nil || len(tkhds) == 0 {
		t.Fatalf("read tkhd: %v", err)
	}
	tkhd := tkhds[0].Payload.(*gomp4.Tkhd)
	l.tkhdWidth, l.tkhdHeight = tkhd.Width>>16, tkhd.Height>>16
	return l
}

// checkProgressive fails unless the file is a progressive MP4: ftyp, then
// moov before any mdat, no fragments, a sync sample table for video.
func checkProgressive(t testing.TB, l layout, wantMoovFirst bool, tracks int) {
	t.Helper()
	if len(l.top) < 3 || l.top[0] != "ftyp" {
		t.Fatalf("top-level boxes %v: want ftyp first", l.top)
	}
	if wantMoovFirst && l.top[1] != "moov" {
		t.Errorf("top-level boxes %v: want moov right after ftyp", l.top)
	}
	if !wantMoovFirst && l.top[len(l.top)-1] != "moov" {
		t.Errorf("top-level boxes %v: want moov at the end", l.top)
	}
	if l.moof != 0 || l.mvex != 0 {
		t.Errorf("finished file still has %d moof and %d mvex", l.moof, l.mvex)
	}
	if l.stss != 1 {
		t.Errorf("%d stss boxes, want 1 (video)", l.stss)
	}
	if l.stco+l.co64 != tracks {
		t.Errorf("%d stco + %d co64 boxes for %d tracks", l.stco, l.co64, tracks)
	}
}
