package media

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// recorder makes the files of one recording, as the archive does: one
// writer of its format per file, part0, part1, ... in dir.
type recorder struct {
	format remux.Format
	dir    string
	files  []*os.File
	parts  []rtpmux.Part
}

// newWriter is the muxer's Config.NewWriter.
func (r *recorder) newWriter(video, audio *mux.TrackInfo) (mux.Writer, error) {
	f, err := os.Create(filepath.Join(r.dir, fmt.Sprintf("part%d.%s", len(r.files), r.format)))
	if err != nil {
		return nil, err
	}
	r.files = append(r.files, f)
	return remux.NewWriter(r.format, f, video, audio, remux.WriterOptions{})
}

// paths returns the files made so far.
func (r *recorder) paths() []string {
	var ps []string
	for _, f := range r.files {
		ps = append(ps, f.Name())
	}
	return ps
}

// close closes every file.
func (r *recorder) close() error {
	var errs []error
	for _, f := range r.files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// newMuxer opens a muxer for the capture's tracks whose files r makes.
func newMuxer(sc rtpdump.Sidecar, r *recorder) (*rtpmux.Muxer, error) {
	cfg := rtpmux.Config{NewWriter: r.newWriter, OnPartClosed: func(p rtpmux.Part) { r.parts = append(r.parts, p) }}
	for _, st := range sc.Streams {
		info := st.TrackInfo()
		dep, err := codec.NewDepacketizer(st.Codec, st.Fmtp)
		if err != nil {
			return nil, err
		}
		switch {
		case info.Kind() == mux.Video && cfg.Video == nil:
			cfg.Video, cfg.VideoDepacketizer = &info, dep
		case info.Kind() == mux.Audio && cfg.Audio == nil:
			cfg.Audio, cfg.AudioDepacketizer = &info, dep
		}
	}
	return rtpmux.New(cfg)
}

// replay feeds every packet of c to m in capture order. before is called
// with each RTP packet's arrival offset before it is fed (to pace the
// replay or to request a split).
func replay(c *rtpdump.Capture, m *rtpmux.Muxer, before func(time.Duration)) error {
	var pkt rtp.Packet
	for {
		rec, err := c.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.RTCP {
			feedSenderReports(c.Sidecar, m, rec.Data)
			continue
		}
		if rec.UnmarshalRTP(&pkt) != nil {
			continue
		}
		st, ok := c.Sidecar.Stream(pkt.SSRC)
		if !ok || st.PayloadType != pkt.PayloadType {
			continue
		}
		before(rec.Offset)
		if err := m.WritePacket(st.TrackInfo().Kind(), &pkt, rec.Offset); err != nil {
			return err
		}
	}
}

// feedSenderReports passes the sender reports of listed streams to m.
func feedSenderReports(sc rtpdump.Sidecar, m *rtpmux.Muxer, data []byte) {
	ps, err := rtcp.Unmarshal(data)
	if err != nil {
		return
	}
	for _, p := range ps {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			if st, ok := sc.Stream(sr.SSRC); ok {
				m.WriteSenderReport(st.TrackInfo().Kind(), sr.SSRC, sr.NTPTime, sr.RTPTime)
			}
		}
	}
}
