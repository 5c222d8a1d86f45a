package ingestbench

import (
	"context"
	"sync"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// players plays the clip into each of a server's publishers until Stop.
type players struct {
	sent   loadgen.ClipCounters
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startPlayers starts one player a writer; their frames are spread over
// one frame time, as independent cameras' are.
func startPlayers(clip *loadgen.Clip, writers []loadgen.ClipWriter) *players {
	ctx, cancel := context.WithCancel(context.Background())
	p := &players{cancel: cancel}
	frame := clip.Duration() / time.Duration(clip.VideoFrames())
	for i, w := range writers {
		delay := frame * time.Duration(i) / time.Duration(len(writers))
		p.wg.Go(func() { _ = clip.Play(ctx, w, delay, &p.sent) })
	}
	return p
}

// Stop stops every player and waits for them; it is idempotent.
func (p *players) Stop() {
	p.cancel()
	p.wg.Wait()
}

// target is a server being measured: a process in the servers'
// namespace with its publishers connected and playing.
type target interface {
	// Pid is the server's process id.
	Pid() int
	// Received is how many RTP packets the server says it has received.
	Received() (uint64, error)
	// Recorded is how many bytes its recordings hold so far (0 when it
	// does not record).
	Recorded() (int64, error)
	// Sent counts what the publishers sent.
	Sent() *loadgen.ClipCounters
	// Close stops the publishers and the server.
	Close() error
}
