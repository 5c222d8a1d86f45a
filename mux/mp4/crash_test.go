package mp4

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// Environment of the child process of TestCrashRecovery.
const (
	crashFramesEnv = "KIROKU_MP4_CRASH_FRAMES" // gob file of a crashInput
	crashOutEnv    = "KIROKU_MP4_CRASH_OUT"    // the MP4 file to record
)

// crashInput is what the child records.
type crashInput struct {
	Video, Audio mux.TrackInfo
	Frames       []crashFrame
}

type crashFrame struct {
	Kind  mux.Kind
	Frame mux.Frame
}

func TestMain(m *testing.M) {
	if in := os.Getenv(crashFramesEnv); in != "" {
		if err := crashChild(in, os.Getenv(crashOutEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild records frames in real time-ish, flushing every 15 frames and
// reporting on stdout what is flushed, then waits to be killed.
func crashChild(in, out string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	var input crashInput
	err = gob.NewDecoder(f).Decode(&input)
	f.Close()
	if err != nil {
		return err
	}
	dst, err := os.Create(out)
	if err != nil {
		return err
	}
	w, err := NewWriter(dst, &input.Video, &input.Audio, Options{})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	counts := map[mux.Kind]int{}
	for i, cf := range input.Frames {
		if err := w.WriteFrame(cf.Kind, cf.Frame); err != nil {
			return err
		}
		counts[cf.Kind]++
		if i%15 == 14 {
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Printf("flushed %d %d\n", counts[mux.Video], counts[mux.Audio])
		}
		time.Sleep(2 * time.Millisecond)
	}
	fmt.Println("done")
	time.Sleep(time.Minute) // the parent kills us before Close
	return errors.New("not killed")
}

// TestCrashRecovery SIGKILLs a recording process at several points, before
// and after a resolution change, and checks that Recover yields a clean
// file holding every flushed frame.
func TestCrashRecovery(t *testing.T) {
	cc := codecCases()[0]
	small := readClip(t, makeClip(t, cc, "320x240", 2), cc.codec)
	large := readClip(t, makeClip(t, cc, "480x360", 2), cc.codec)
	video, audio, _ := concat(small, large)
	frames := interleave(video, audio)
	input := crashInput{Video: small.video, Audio: small.audio}
	for _, tf := range frames {
		input.Frames = append(input.Frames, crashFrame{tf.kind, tf.frame})
	}
	inPath := filepath.Join(t.TempDir(), "frames.gob")
	inFile, err := os.Create(inPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := gob.NewEncoder(inFile).Encode(input); err != nil {
		t.Fatal(err)
	}
	inFile.Close()
	tests := []struct {
		name      string
		flushes   int           // kill after this many flush reports
		delay     time.Duration // and this much later
		wantWidth int           // the largest width recovered
		wantErr   error
	}{
		{"before the first flush", 0, 0, 0, ErrNoSamples},
		{"right after a flush", 2, 0, 320, nil},
		{"between flushes", 5, 9 * time.Millisecond, 320, nil},
		{"after the resolution change", 13, 3 * time.Millisecond, 480, nil},
		{"after the last frame", -1, 0, 480, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "crash.mp4")
			flushed := killChild(t, inPath, out, tt.flushes, tt.delay)
			stats := checkRecovered(t, out, flushed, len(video), len(audio), tt.wantErr)
			if stats.Width != tt.wantWidth {
				t.Errorf("recovered width %d, want %d", stats.Width, tt.wantWidth)
			}
		})
	}
}

// killChild starts the recording child and SIGKILLs it after the given
// number of flush reports (-1: after "done") plus delay. It returns the
// frames the child reported flushed.
func killChild(t *testing.T, in, out string, flushes int, delay time.Duration) checkpoint {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashFramesEnv+"="+in, crashOutEnv+"="+out)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var flushed checkpoint
	seen := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if n, _ := fmt.Sscanf(line, "flushed %d %d", &flushed.video, &flushed.audio); n == 2 {
			seen++
		}
		if (line == "ready" && flushes == 0) || (isFlushReport(line) && seen == flushes) || (line == "done" && flushes < 0) {
			break
		}
	}
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the expected outcome
	if flushes > 0 && seen < flushes {
		t.Fatalf("child reported %d flushes, wanted to kill after %d", seen, flushes)
	}
	return flushed
}

// isFlushReport reports whether a child's line is a flush report.
func isFlushReport(line string) bool { return strings.HasPrefix(line, "flushed ") }

// checkRecovered runs Recover on a killed child's file and judges the result.
func checkRecovered(t *testing.T, path string, flushed checkpoint, maxVideo, maxAudio int, wantErr error) mux.FileStats {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stats, err := Recover(f)
	if wantErr != nil || err != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Recover: %v, want %v", err, wantErr)
		}
		return stats
	}
	if stats.VideoFrames < flushed.video || stats.AudioFrames < flushed.audio ||
		stats.VideoFrames > maxVideo || stats.AudioFrames > maxAudio {
		t.Errorf("recovered %d video and %d audio frames; flushed %d and %d before the kill",
			stats.VideoFrames, stats.AudioFrames, flushed.video, flushed.audio)
	}
	checkProgressive(t, readLayout(t, path), true, 2)
	decodeClean(t, path, nil)
	checkFrames(t, path, nil, stats.VideoFrames, stats.AudioFrames)
	return stats
}
