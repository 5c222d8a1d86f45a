package webm

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// crashChildEnv makes the test binary act as the crash test's writer
// process; its value is the path of the child's job.
const crashChildEnv = "KIROKU_WEBM_CRASH_CHILD"

func TestMain(m *testing.M) {
	if job := os.Getenv(crashChildEnv); job != "" {
		if err := crashChild(job); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashJob is what the parent hands the child.
type crashJob struct {
	Out          string
	Video, Audio []mux.Frame
	Loops        int
	Span         time.Duration // media length of one loop
}

// crashChild writes the job's frames Loops times, flushing every 20 frames
// and reporting "flushed <video> <audio>" after each flush, then waits to
// be killed. It never closes the file.
func crashChild(jobPath string) error {
	jf, err := os.Open(jobPath)
	if err != nil {
		return err
	}
	var job crashJob
	err = gob.NewDecoder(jf).Decode(&job)
	jf.Close()
	if err != nil {
		return err
	}
	f, err := os.Create(job.Out)
	if err != nil {
		return err
	}
	w, err := NewWriter(f, &mux.TrackInfo{Codec: mux.VP8}, &mux.TrackInfo{Codec: mux.Opus, Channels: 2}, Options{})
	if err != nil {
		return err
	}
	var nv, na int
	for loop := range job.Loops {
		video, audio := shift(job.Video, time.Duration(loop)*job.Span), shift(job.Audio, time.Duration(loop)*job.Span)
		for len(video) > 0 || len(audio) > 0 {
			k, fr := mux.Video, mux.Frame{}
			if len(video) > 0 && (len(audio) == 0 || video[0].PTS <= audio[0].PTS) {
				fr, video = video[0], video[1:]
				nv++
			} else {
				k, fr, audio = mux.Audio, audio[0], audio[1:]
				na++
			}
			if err := w.WriteFrame(k, fr); err != nil {
				return err
			}
			if (nv+na)%20 == 0 {
				if err := w.Flush(); err != nil {
					return err
				}
				fmt.Printf("flushed %d %d\n", nv, na)
			}
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Println("done")
	time.Sleep(time.Minute) // the parent kills us before this ends
	return nil
}

// TestCrashRecovery kills a writing process at several points and checks
// that Recover yields a clean, finished file holding every flushed frame.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	job := crashJob{
		Video: clipFrames(t, mux.VP8, 320, 240, 2),
		Audio: clipFrames(t, mux.Opus, 2, 0, 2),
		Loops: 3,
		Span:  2 * time.Second,
	}
	for _, killAfter := range []int{1, 7, 20, -1} { // flush reports; -1: after the last
		t.Run(fmt.Sprintf("kill after flush %d", killAfter), func(t *testing.T) {
			job.Out = filepath.Join(dir, fmt.Sprintf("crash%d.webm", killAfter))
			nv, na := runAndKill(t, dir, job, killAfter)
			f, err := os.OpenFile(job.Out, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := Recover(f)
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			total := job.Loops * (len(job.Video) + len(job.Audio))
			if st.VideoFrames < nv || st.AudioFrames < na || st.VideoFrames+st.AudioFrames > total {
				t.Errorf("recovered %d video, %d audio frames; %d, %d were flushed, %d written at most",
					st.VideoFrames, st.AudioFrames, nv, na, total)
			}
			if killAfter > 0 && st.VideoFrames+st.AudioFrames == total {
				t.Errorf("the kill came only after every frame was written")
			}
			counts := decodeCounts(t, job.Out, false)
			if counts["video"] != st.VideoFrames || counts["audio"] != st.AudioFrames {
				t.Errorf("decoded %v; Recover reports %d video, %d audio", counts, st.VideoFrames, st.AudioFrames)
			}
			if rep := mkvCheck(t, job.Out); rep.forced != 0 {
				t.Errorf("%d clusters do not start on a keyframe", rep.forced)
			}
			if d := ffprobe(t, job.Out).duration(t) - st.Duration; d < -34*time.Millisecond || d > 34*time.Millisecond {
				t.Errorf("ffprobe duration differs from Recover's %v by %v", st.Duration, d)
			}
			again, err := Recover(f)
			if err != nil || again != st {
				t.Errorf("recovering again = %+v, %v; want %+v", again, err, st)
			}
		})
	}
}

// runAndKill starts the child and SIGKILLs it right after its killAfter-th
// flush report (or after it reports done for -1). It returns the frame
// counts of the last flush report read.
func runAndKill(t *testing.T, dir string, job crashJob, killAfter int) (nv, na int) {
	t.Helper()
	jobPath := filepath.Join(dir, "job.gob")
	jf, err := os.Create(jobPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := gob.NewEncoder(jf).Encode(job); err != nil {
		t.Fatal(err)
	}
	jf.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+jobPath)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	reports := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "done" && killAfter < 0 {
			break
		}
		if _, err := fmt.Sscanf(line, "flushed %d %d", &nv, &na); err == nil {
			reports++
			if reports == killAfter {
				break
			}
		}
	}
	killErr := cmd.Process.Kill()
	err = cmd.Wait()
	if killErr != nil || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("child did not die by the kill (kill: %v, exit: %v) after %d reports", killErr, err, reports)
	}
	return nv, na
}
