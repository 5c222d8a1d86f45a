package rtpmux_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec/av1"
	"github.com/kiroku-sfu/kiroku/mux/codec/h264"
	"github.com/kiroku-sfu/kiroku/mux/codec/h265"
	"github.com/kiroku-sfu/kiroku/mux/codec/opus"
	"github.com/kiroku-sfu/kiroku/mux/codec/vp8"
	"github.com/kiroku-sfu/kiroku/mux/codec/vp9"
	"github.com/kiroku-sfu/kiroku/mux/mp4"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
	"github.com/kiroku-sfu/kiroku/mux/webm"
)

const fixtures = "../../fixtures/rtpdumps"

// newDepacketizer returns a fresh depacketizer for codec.
func newDepacketizer(c mux.Codec) mux.FrameDepacketizer {
	switch c {
	case mux.VP8:
		return vp8.NewDepacketizer()
	case mux.VP9:
		return vp9.NewDepacketizer()
	case mux.AV1:
		return av1.NewDepacketizer()
	case mux.H264:
		return h264.NewDepacketizer()
	case mux.H265:
		return h265.NewDepacketizer()
	case mux.Opus:
		return opus.NewDepacketizer()
	}
	return nil
}

// container names a file format and how to open one of its writers.
type container struct {
	ext string
	new func(ws io.WriteSeeker, video, audio *mux.TrackInfo) (mux.Writer, error)
}

var (
	mp4Files = container{"mp4", func(ws io.WriteSeeker, v, a *mux.TrackInfo) (mux.Writer, error) {
		return mp4.NewWriter(ws, v, a, mp4.Options{})
	}}
	webmFiles = container{"webm", func(ws io.WriteSeeker, v, a *mux.TrackInfo) (mux.Writer, error) {
		return webm.NewWriter(ws, v, a, webm.Options{})
	}}
)

// recording is the outcome of replaying a capture.
type recording struct {
	files []string // one per part, in order
	parts []rtpmux.Part
	last  mux.Summary
	video string // video codec name for the judges
}

// fileWriters opens part files in dir; close closes the last one opened.
type fileWriters struct {
	dir   string
	c     container
	files []*os.File
}

func (fw *fileWriters) next(v, a *mux.TrackInfo) (mux.Writer, error) {
	f, err := os.Create(filepath.Join(fw.dir, fmt.Sprintf("part-%d.%s", len(fw.files), fw.c.ext)))
	if err != nil {
		return nil, err
	}
	fw.files = append(fw.files, f)
	return fw.c.new(f, v, a)
}

// replay feeds a capture through a Muxer writing files of container c;
// prepare may schedule splits before the first packet.
func replay(t *testing.T, name string, c container, prepare func(*rtpmux.Muxer)) recording {
	t.Helper()
	capt, err := rtpdump.Open(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	defer capt.Close()
	cfg, kinds := muxConfig(capt.Sidecar)
	fw := &fileWriters{dir: t.TempDir(), c: c}
	var rec recording
	cfg.NewWriter = fw.next
	cfg.OnPartClosed = func(p rtpmux.Part) { rec.parts = append(rec.parts, p) }
	m, err := rtpmux.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(m)
	}
	if err := feedCapture(capt, m, kinds); err != nil {
		t.Fatal(err)
	}
	if rec.last, err = m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, f := range fw.files {
		rec.files = append(rec.files, f.Name())
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if cfg.Video != nil {
		rec.video = string(cfg.Video.Codec)
	}
	return rec
}

// muxConfig builds the tracks from a sidecar: the first stream of each
// kind defines the track; every SSRC maps to its kind.
func muxConfig(sc rtpdump.Sidecar) (rtpmux.Config, map[uint32]mux.Kind) {
	var cfg rtpmux.Config
	kinds := map[uint32]mux.Kind{}
	for _, st := range sc.Streams {
		info := st.TrackInfo()
		kinds[st.SSRC] = info.Kind()
		switch {
		case info.Kind() == mux.Video && cfg.Video == nil:
			cfg.Video, cfg.VideoDepacketizer = &info, newDepacketizer(info.Codec)
		case info.Kind() == mux.Audio && cfg.Audio == nil:
			cfg.Audio, cfg.AudioDepacketizer = &info, newDepacketizer(info.Codec)
		}
	}
	return cfg, kinds
}

// feedCapture writes every RTP packet and sender report of the capture.
func feedCapture(capt *rtpdump.Capture, m *rtpmux.Muxer, kinds map[uint32]mux.Kind) error {
	var pkt rtp.Packet
	for {
		p, err := capt.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.RTCP {
			feedRTCP(p.Data, m, kinds)
			continue
		}
		if err := p.UnmarshalRTP(&pkt); err != nil {
			return err
		}
		if k, ok := kinds[pkt.SSRC]; ok {
			if err := m.WritePacket(k, &pkt, p.Offset); err != nil {
				return err
			}
		}
	}
}

func feedRTCP(data []byte, m *rtpmux.Muxer, kinds map[uint32]mux.Kind) {
	pkts, err := rtcp.Unmarshal(data)
	if err != nil {
		return
	}
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			if k, ok := kinds[sr.SSRC]; ok {
				m.WriteSenderReport(k, sr.SSRC, sr.NTPTime, sr.RTPTime)
			}
		}
	}
}
