package remux

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/pion/rtp"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/codec"
	"github.com/kiroku-sfu/kiroku/mux/mp4"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/mux/rtpmux"
)

// Result is what muxing a capture produced.
type Result struct {
	mux.Summary
	// Ignored counts packets of SSRCs the sidecar does not list (RTX,
	// probing) and unreadable records.
	Ignored int
	// Failures lists the announced tracks that recorded nothing or far
	// less than their packets imply; the file holds the rest.
	Failures []TrackFailure
}

// captureFlushInterval is how much media a capture's writer holds before
// writing it: the 2 s the crash-recovery rule allows (mp4.MaxFlushInterval)
// rather than the writers' 1 s default. A capture is muxed far faster than
// real time, and half as many fragments or cluster writes cost a tenth less
// CPU on a long capture (fewer writes, and fewer moofs to read back and
// free when an MP4 is finished).
const captureFlushInterval = mp4.MaxFlushInterval

// Capture muxes the capture at capturePath (NAME.rtpdump with NAME.json)
// into a finished file of format f at outPath. A codec the format cannot
// hold is an error before anything is written. A video track that never
// started (or far less than its packets imply) is not an error: the file
// keeps the rest, and Result.Failures names the track and the cause.
func Capture(capturePath string, f Format, outPath string, logger *slog.Logger) (Result, error) {
	c, err := rtpdump.Open(capturePath)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var out *os.File
	cfg, err := muxerConfig(c.Sidecar, f)
	if err != nil {
		return Result{}, err
	}
	cfg.Logger = logger
	cfg.NewWriter = func(video, audio *mux.TrackInfo) (mux.Writer, error) {
		if out != nil {
			return nil, errors.New("remux: a capture makes one file; split is not supported here")
		}
		out, err = os.Create(outPath)
		if err != nil {
			return nil, fmt.Errorf("remux: %w", err)
		}
		return NewWriter(f, out, video, audio, WriterOptions{Logger: logger, FlushInterval: captureFlushInterval})
	}
	m, err := rtpmux.New(cfg)
	if err != nil {
		return Result{}, err
	}
	res, feedErr := feed(c, m)
	sum, closeErr := m.Close()
	res.Summary = sum
	res.Failures = trackFailures(c.Sidecar, m)
	if out != nil {
		if err := out.Close(); err != nil && closeErr == nil {
			closeErr = fmt.Errorf("remux: close %s: %w", outPath, err)
		}
	}
	return res, errors.Join(feedErr, closeErr)
}

// muxerConfig builds the tracks from the sidecar: the first stream of each
// kind names its track's codec.
func muxerConfig(sc rtpdump.Sidecar, f Format) (rtpmux.Config, error) {
	var cfg rtpmux.Config
	for _, st := range sc.Streams {
		info := st.TrackInfo()
		if !Supports(f, st.Codec) {
			return cfg, fmt.Errorf("remux: %s cannot go into %s: %w", st.Codec, f, mux.ErrUnsupported)
		}
		dep, err := codec.NewDepacketizer(st.Codec, st.Fmtp)
		if err != nil {
			return cfg, fmt.Errorf("remux: stream %d: %w", st.SSRC, err)
		}
		switch {
		case info.Kind() == mux.Video && cfg.Video == nil:
			cfg.Video, cfg.VideoDepacketizer = &info, dep
		case info.Kind() == mux.Audio && cfg.Audio == nil:
			cfg.Audio, cfg.AudioDepacketizer = &info, dep
		}
	}
	return cfg, nil
}

// feed replays every packet of the capture into the muxer, with the
// capture's arrival offsets as arrival times.
func feed(c *rtpdump.Capture, m *rtpmux.Muxer) (Result, error) {
	var res Result
	var pkt rtp.Packet
	routes := routesOf(c.Sidecar)
	for {
		p, err := c.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("remux: read capture: %w", err)
		}
		if p.RTCP {
			feedRTCP(c.Sidecar, m, p.Data)
			continue
		}
		if err := p.UnmarshalRTP(&pkt); err != nil {
			res.Ignored++
			continue
		}
		kind, ok := routes.kind(pkt.SSRC, pkt.PayloadType)
		if !ok {
			res.Ignored++
			continue
		}
		if err := m.WritePacket(kind, &pkt, p.Offset); err != nil {
			return res, err
		}
	}
}

// feedRTCP passes sender reports of listed streams to the muxer, read in
// place (rtpdump.SenderReports) rather than with a full RTCP parse, which
// allocated for every report.
func feedRTCP(sc rtpdump.Sidecar, m *rtpmux.Muxer, data []byte) {
	rtpdump.SenderReports(data, func(sr rtpdump.SenderReport) {
		if st, ok := sc.Stream(sr.SSRC); ok {
			m.WriteSenderReport(st.TrackInfo().Kind(), sr.SSRC, sr.NTPTime, sr.RTPTime)
		}
	})
}

// route is a listed stream as feed needs it for every packet.
type route struct {
	ssrc        uint32
	payloadType uint8
	kind        mux.Kind
}

// routes are the sidecar's streams, looked up per packet without copying
// a Stream (a struct of strings) or building its TrackInfo each time.
type routes []route

func routesOf(sc rtpdump.Sidecar) routes {
	rs := make(routes, 0, len(sc.Streams))
	for _, st := range sc.Streams {
		rs = append(rs, route{ssrc: st.SSRC, payloadType: st.PayloadType, kind: st.TrackInfo().Kind()})
	}
	return rs
}

// kind returns the track kind of the first listed stream with this SSRC,
// and false when there is none or the payload type is not that stream's,
// as Sidecar.Stream would decide.
func (rs routes) kind(ssrc uint32, payloadType uint8) (mux.Kind, bool) {
	for _, r := range rs {
		if r.ssrc == ssrc {
			return r.kind, r.payloadType == payloadType
		}
	}
	return 0, false
}
