package sfu

import (
	"math/rand/v2"
	"time"

	"github.com/kiroku-sfu/kiroku/sfu/srtpout"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

// feedbackInterval is how often publishers get transport-wide congestion
// feedback and NACKs: pion's default for both.
const feedbackInterval = 100 * time.Millisecond

// twccFeedback gives one publishing connection transport-wide congestion
// feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), as
// pion's twcc sender interceptor does, without its costs per packet and
// per connection: pion's hands every packet to a goroutine of the
// connection over an unbuffered channel (a wake-up and a wait for each
// packet, on the direct receive path the shared socket's reader waiting)
// and runs a ticker per connection. Here each arrival is recorded where
// it is read, under a lock, and one feedbackTicker for all the SFU's
// connections sends each connection's feedback.
type twccFeedback struct {
	interceptor.NoOp
	feedbackLink
	now   func() time.Time
	start time.Time

	rec *twcc.Recorder // nil until the RTCP writer is bound
}

// twccFeedbackFactory builds a connection's twccFeedback.
type twccFeedbackFactory struct {
	ticker *feedbackTicker
	now    func() time.Time
}

// NewInterceptor implements interceptor.Factory.
func (f twccFeedbackFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &twccFeedback{feedbackLink: feedbackLink{ticker: f.ticker}, now: f.now, start: f.now()}, nil
}

// BindRTCPWriter implements interceptor.Interceptor: feedback is sent
// through writer from now on.
func (f *twccFeedback) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return f.bindWriter(f, writer, func() {
		f.rec = twcc.NewRecorder(rand.Uint32()) // #nosec G404: an SSRC, not a secret
	})
}

// BindRemoteStream implements interceptor.Interceptor: every packet read
// with a transport-wide sequence number is recorded.
func (f *twccFeedback) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = uint8(e.ID) // #nosec G115: extension ids are 1-255
			break
		}
	}
	if id == 0 {
		return reader
	}
	ssrc := info.SSRC
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, h, err := readHeader(reader, b, a)
		if err != nil {
			return n, a, err
		}
		if ext := h.GetExtension(id); ext != nil {
			var tcc rtp.TransportCCExtension
			if err := tcc.Unmarshal(ext); err != nil {
				return 0, nil, err
			}
			f.record(ssrc, tcc.TransportSequence, arrivalOf(a))
		}
		return n, a, nil
	})
}

// arrivalOf is when the kernel received the packet being read, if the
// direct receive path says (srtpout.ArrivalKey); zero otherwise.
func arrivalOf(a interceptor.Attributes) time.Time {
	if at, ok := a[srtpout.ArrivalKey{}].(*time.Time); ok && at != nil {
		return *at
	}
	return time.Time{}
}

// record notes one arrival, at the time given or, if zero, now.
func (f *twccFeedback) record(ssrc uint32, seq uint16, at time.Time) {
	if at.IsZero() {
		at = f.now()
	}
	arrival := at.Sub(f.start).Microseconds()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rec != nil && !f.closed {
		f.rec.Record(ssrc, seq, arrival)
	}
}

// flush sends the feedback for the arrivals recorded since the last one.
func (f *twccFeedback) flush() {
	f.mu.Lock()
	if f.rec == nil || f.closed {
		f.mu.Unlock()
		return
	}
	pkts, w := f.rec.BuildFeedbackPacket(), f.writer
	f.mu.Unlock()
	send(w, pkts)
}

// Close implements interceptor.Interceptor.
func (f *twccFeedback) Close() error { return f.leave(f) }
