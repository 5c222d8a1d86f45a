package ingestbench

import (
	"fmt"
	"time"

	"github.com/kiroku-sfu/kiroku/bench/proccpu"
)

// sample is one measurement window of one variant.
type sample struct {
	variant  string
	n        int  // publishers
	rep      int  // repetition
	records  bool // the server records (its recordings must grow)
	cpu      time.Duration
	wall     time.Duration
	received uint64  // RTP packets the server counted in the window
	sent     uint64  // RTP packets the publishers sent in the window
	sentMB   float64 // their RTP bytes, in MB
	recorded int64   // bytes the recordings grew by in the window
	restarts uint64  // keyframe requests answered, whole run
	wakeups  uint64  // times the server's threads were put on a CPU
}

// wakeupsPerPacket is how many times the server's threads were put on a
// CPU per received packet.
func (s sample) wakeupsPerPacket() float64 {
	if s.received == 0 {
		return 0
	}
	return float64(s.wakeups) / float64(s.received)
}

// corePercent is the server's CPU per publisher, in % of one core.
func (s sample) corePercent() float64 {
	return 100 * s.cpu.Seconds() / s.wall.Seconds() / float64(s.n)
}

// usPerPacket is the server's CPU time per received packet, in µs.
func (s sample) usPerPacket() float64 {
	if s.received == 0 {
		return 0
	}
	return float64(s.cpu.Microseconds()) / float64(s.received)
}

// rate is the packets the server received a second.
func (s sample) rate() float64 { return float64(s.received) / s.wall.Seconds() }

// delivered is the share of the sent packets the server counted.
func (s sample) delivered() float64 {
	if s.sent == 0 {
		return 0
	}
	return float64(s.received) / float64(s.sent)
}

// minDelivered is the share of sent packets a server must count for its
// window to be valid: anything less is a server (or a client) dropping
// media, which must not pass for cheap.
const minDelivered = 0.95

// measure lets t's media settle for warmup, then reads its CPU time,
// received and sent packets and recording size over window.
func measure(t target, s sample, warmup, window time.Duration) (sample, error) {
	time.Sleep(warmup)
	rx0, err := t.Received()
	if err != nil {
		return s, err
	}
	rec0, err := t.Recorded()
	if err != nil {
		return s, err
	}
	sent0, bytes0 := t.Sent().Packets.Load(), t.Sent().Bytes.Load()
	cpu0, err := proccpu.Process(t.Pid())
	if err != nil {
		return s, err
	}
	wake0, err := proccpu.Timeslices(t.Pid())
	if err != nil {
		return s, err
	}
	start := time.Now()
	time.Sleep(window)
	cpu1, err := proccpu.Process(t.Pid())
	if err != nil {
		return s, err
	}
	wake1, err := proccpu.Timeslices(t.Pid())
	if err != nil {
		return s, err
	}
	if wake1 > wake0 {
		s.wakeups = wake1 - wake0
	}
	s.wall = time.Since(start)
	s.sent = t.Sent().Packets.Load() - sent0
	s.sentMB = float64(t.Sent().Bytes.Load()-bytes0) / 1e6
	rx1, err := t.Received()
	if err != nil {
		return s, err
	}
	rec1, err := t.Recorded()
	if err != nil {
		return s, err
	}
	s.cpu, s.received, s.recorded = cpu1-cpu0, rx1-rx0, rec1-rec0
	s.restarts = t.Sent().Restarts.Load()
	if errs := t.Sent().Errors.Load(); errs > 0 {
		return s, fmt.Errorf("%s: %d packets could not be sent", s.variant, errs)
	}
	return s, nil
}
