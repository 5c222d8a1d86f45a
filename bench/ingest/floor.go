package ingestbench

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/kiroku-sfu/kiroku/loadgen"
)

// Environment of a floor receiver process (this test binary again, run
// inside the servers' namespace): its address and SRTP key.
const (
	floorAddrEnv = "KIROKU_INGEST_FLOOR_ADDR"
	floorKeyEnv  = "KIROKU_INGEST_FLOOR_KEY"
	floorPort    = 7000
)

// floorTarget is the floor receiver process and its senders.
type floorTarget struct {
	cmd     *exec.Cmd
	control io.WriteCloser
	answers *bufio.Reader
	senders []*floorSender
	players *players
	done    chan error
}

// startFloor starts the receiver in ns and n senders playing clip.
func startFloor(ns *serverNS, clip *loadgen.Clip, n int) (target, error) {
	keyLen, _ := floorProfile.KeyLen()
	saltLen, _ := floorProfile.SaltLen()
	key := make([]byte, keyLen+saltLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("floor key: %w", err)
	}
	addr := &net.UDPAddr{IP: net.ParseIP(serverAddress), Port: floorPort}
	cmd := ns.command(os.Args[0])
	// One thread: GOMAXPROCS=1 leaves no other processor to spin idle
	// looking for work between packets.
	cmd.Env = append(os.Environ(), floorAddrEnv+"="+addr.String(), floorKeyEnv+"="+hex.EncodeToString(key), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	control, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("floor: start: %w", err)
	}
	f := &floorTarget{cmd: cmd, control: control, answers: bufio.NewReader(out), done: make(chan error, 1)}
	line, err := f.answers.ReadString('\n')
	go func() { f.done <- cmd.Wait() }()
	if err != nil || !strings.HasPrefix(line, "ready ") {
		return nil, errors.Join(fmt.Errorf("floor receiver did not start (%q): %w", line, err), f.Close())
	}
	writers := make([]loadgen.ClipWriter, 0, n)
	for i := range n {
		s, err := newFloorSender(clientAddress, addr, key, i)
		if err != nil {
			return nil, errors.Join(err, f.Close())
		}
		f.senders = append(f.senders, s)
		writers = append(writers, s)
	}
	f.players = startPlayers(clip, writers)
	return f, nil
}

func (f *floorTarget) Pid() int { return f.cmd.Process.Pid }

func (f *floorTarget) Sent() *loadgen.ClipCounters { return &f.players.sent }

func (f *floorTarget) Recorded() (int64, error) { return 0, nil }

// Received asks the receiver for its count.
func (f *floorTarget) Received() (uint64, error) {
	if _, err := io.WriteString(f.control, "count\n"); err != nil {
		return 0, fmt.Errorf("floor: ask: %w", err)
	}
	line, err := f.answers.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("floor: answer: %w", err)
	}
	var packets, failed uint64
	if _, err := fmt.Sscanf(line, "%d %d", &packets, &failed); err != nil {
		return 0, fmt.Errorf("floor: answer %q: %w", line, err)
	}
	if failed > 0 {
		return 0, fmt.Errorf("floor: %d packets did not decrypt", failed)
	}
	return packets, nil
}

// Close stops the senders, then the receiver (at the end of its input).
func (f *floorTarget) Close() error {
	var errs []error
	if f.players != nil {
		f.players.Stop()
	}
	for _, s := range f.senders {
		errs = append(errs, s.Close())
	}
	errs = append(errs, f.control.Close())
	select {
	case err := <-f.done:
		if err != nil {
			errs = append(errs, fmt.Errorf("floor receiver: %w", err))
		}
	case <-time.After(5 * time.Second):
		_ = f.cmd.Process.Kill()
		errs = append(errs, fmt.Errorf("floor receiver did not stop: %w", <-f.done))
	}
	return errors.Join(errs...)
}
