package media

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux/remux"
	"github.com/kiroku-sfu/kiroku/mux/rtpdump"
	"github.com/kiroku-sfu/kiroku/test/judge"
)

// crashChildEnv, when set to "FIXTURE FORMAT DIR", makes the test binary a
// recording child instead of running tests (see runCrashChild).
const crashChildEnv = "KIROKU_MEDIA_CRASH_CHILD"

// childLimit bounds a crash child's life if it never reports progress.
const childLimit = time.Minute

// crashSpeed is how much faster than real time the child replays. The
// writers flush by media time (at least every FlushInterval of media, at
// most 2 s), so the speed-up does not change what is on disk at a kill.
const crashSpeed = 4

// flushBound is how much media written before a kill may be missing after
// recovery: the writers' flush rule.
const flushBound = 2 * time.Second

// runCrashChild records the fixture named in crashChildEnv into DIR/part0.FORMAT,
// replaying it at crashSpeed× real time and printing "fed MS" on stdout as
// the replay advances. It never finishes the file: after the last packet it
// waits for stdin to close, so the parent's SIGKILL always meets an
// unfinished recording.
func runCrashChild() int {
	args := strings.Fields(os.Getenv(crashChildEnv))
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "%s=%q: want FIXTURE FORMAT DIR\n", crashChildEnv, os.Getenv(crashChildEnv))
		return 2
	}
	if err := recordPaced(args[0], remux.Format(args[1]), args[2], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	fmt.Fprintln(os.Stdout, "done")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 3
}

// recordPaced replays a fixture in paced time into a recording in dir and
// reports progress on w. It returns with the recording still open.
func recordPaced(fixture string, format remux.Format, dir string, w io.Writer) error {
	c, err := rtpdump.Open(capturePath(fixture))
	if err != nil {
		return err
	}
	defer c.Close()
	r := &recorder{format: format, dir: dir}
	m, err := newMuxer(c.Sidecar, r)
	if err != nil {
		return err
	}
	start := time.Now()
	reported := time.Duration(-1)
	return replay(c, m, func(at time.Duration) {
		time.Sleep(time.Until(start.Add(at / crashSpeed)))
		if at-reported >= 100*time.Millisecond {
			reported = at
			fmt.Fprintf(w, "fed %d\n", at.Milliseconds())
		}
	})
}

// TestCrashRecover SIGKILLs a child that records a fixture at several points,
// then runs `sfu mux -recover` on the file it left and checks that the result
// decodes cleanly and holds everything fed up to flushBound before the kill.
func TestCrashRecover(t *testing.T) {
	needTools(t, "ffmpeg", "ffprobe")
	cases := []struct{ fixture, format string }{
		{"vp8_opus", "webm"}, {"vp9_opus", "webm"}, {"av1_opus", "webm"},
		{"vp8_opus", "mp4"}, {"h264_cb_opus", "mp4"}, {"h265_opus", "mp4"},
	}
	for _, tc := range cases {
		for _, killAt := range []time.Duration{2500 * time.Millisecond, 5500 * time.Millisecond, 8500 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%s/%v", tc.fixture, tc.format, killAt), func(t *testing.T) {
				t.Parallel()
				sc, err := rtpdump.LoadSidecar(filepath.Join(fixtureDir, tc.fixture+".json"))
				if err != nil {
					t.Fatal(err)
				}
				dir := t.TempDir()
				fed := killChild(t, tc.fixture, tc.format, dir, killAt)
				checkRecovered(t, filepath.Join(dir, "part0."+tc.format), fed, videoCodec(sc))
			})
		}
	}
}

// killChild starts a recording child, SIGKILLs it once it has fed killAt of
// media, and returns how much it had reported fed.
func killChild(t *testing.T, fixture, format, dir string, killAt time.Duration) time.Duration {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+fixture+" "+format+" "+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	limit := time.AfterFunc(childLimit, func() { _ = cmd.Process.Kill() })
	defer limit.Stop()
	fed, reached := readProgress(stdout, killAt)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, stdout)
	_ = cmd.Wait()
	if !reached {
		t.Fatalf("child stopped at %v before reaching %v: %s", fed, killAt, stderr.String())
	}
	return fed
}

// readProgress reads "fed MS" lines until one reaches killAt and returns
// the last value read and whether killAt was reached.
func readProgress(r io.Reader, killAt time.Duration) (time.Duration, bool) {
	sc := bufio.NewScanner(r)
	var fed time.Duration
	for sc.Scan() {
		ms, ok := strings.CutPrefix(sc.Text(), "fed ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(ms)
		if err != nil {
			return fed, false
		}
		fed = time.Duration(n) * time.Millisecond
		if fed >= killAt {
			return fed, true
		}
	}
	return fed, false
}

// checkRecovered runs `sfu mux -recover` on a killed recording's file and
// judges the result: it decodes cleanly, holds what was fed up to
// flushBound before the kill, and a recovered WebM is a finished WebM
// (sizes known, Cues, SeekHead, Duration, clusters on keyframes).
func checkRecovered(t *testing.T, tmp string, fed time.Duration, c codecNames) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "recovered"+filepath.Ext(tmp))
	stdout, stderr, err := runSFU("mux", "-recover", tmp, "-o", out, "-json")
	if err != nil {
		t.Fatalf("sfu mux -recover %s: %v\n%s", tmp, err, stderr)
	}
	var sum muxSummary
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("sfu mux -recover -json output %q: %v", stdout, err)
	}
	if msg, err := judge.DecodeErrors(out, c.ffprobe); err != nil || msg != "" {
		t.Errorf("decoding the recovered file: %v %s", err, msg)
	}
	p, err := judge.ProbeFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %v fed; recovered %v, %d video frames", fed, p.Format.Length(), sum.VideoFrames)
	if d := p.Format.Length(); d < fed-flushBound || d > fed+time.Second {
		t.Errorf("recovered %v (summary %d ms) after %v was fed; want at least %v", d, sum.DurationMS, fed, fed-flushBound)
	}
	if filepath.Ext(out) == ".webm" {
		checkMKV(t, out, p.Format.Length())
	}
	frames, err := decodeVideo([]string{"-i", out}, c.ffprobe == "vp9")
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != sum.VideoFrames || len(frames) < int((fed-flushBound)/frameDur) {
		t.Errorf("recovered file decodes to %d video frames, summary says %d, fed %v", len(frames), sum.VideoFrames, fed)
	}
}
