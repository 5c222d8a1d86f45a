package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// runMux implements `sfu mux`: mux a capture into a file, or finish a file
// left by a crash. It prints a one-line summary and returns the exit code.
func runMux(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sfu mux", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "mp4", "output format: mp4 or webm")
	out := fs.String("o", "", "output file (required)")
	recoverPath := fs.String("recover", "", "finish this file left behind by a crash instead of muxing a capture")
	jsonOut := fs.Bool("json", false, "print the summary as JSON instead of one line")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sfu mux -format mp4|webm -o OUT CAPTURE.rtpdump\n       sfu mux -recover TMPFILE -o OUT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" {
		fmt.Fprintln(stderr, "sfu mux: -o is required")
		fs.Usage()
		return 2
	}
	if *recoverPath != "" {
		if fs.NArg() != 0 {
			fmt.Fprintln(stderr, "sfu mux: -recover takes no capture argument")
			return 2
		}
		return recoverCmd(*recoverPath, *out, *jsonOut, stdout, stderr)
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "sfu mux: want exactly one capture file")
		fs.Usage()
		return 2
	}
	f, err := remux.ParseFormat(*format)
	if err != nil {
		fmt.Fprintln(stderr, "sfu mux:", err)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	res, err := remux.Capture(fs.Arg(0), f, *out, logger)
	reportFailures(stderr, fs.Arg(0), *out, res.Failures)
	if err != nil {
		fmt.Fprintf(stderr, "sfu mux: %s: %v\n", fs.Arg(0), err)
		return 1
	}
	printSummary(stdout, *out, res.Summary, res.Ignored, *jsonOut, res.Failures)
	if len(res.Failures) > 0 {
		return exitTrackFailed
	}
	return 0
}

// exitTrackFailed is `sfu mux`'s exit status when the file was written but
// an announced track recorded nothing, or far less than its packets imply.
const exitTrackFailed = 3

// reportFailures prints one line per failed track.
func reportFailures(w io.Writer, capture, out string, failures []remux.TrackFailure) {
	for _, f := range failures {
		fmt.Fprintf(w, "sfu mux: %s: %v; %s holds the other tracks only\n", capture, f, out)
	}
}

// recoverCmd finishes path in place and moves it to out.
func recoverCmd(path, out string, jsonOut bool, stdout, stderr io.Writer) int {
	stats, format, err := remux.RecoverFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "sfu mux:", err)
		return 1
	}
	if err := moveFile(path, out); err != nil {
		fmt.Fprintln(stderr, "sfu mux:", err)
		return 1
	}
	if !jsonOut {
		fmt.Fprintf(stdout, "recovered %s as %s: ", path, format)
	}
	printSummary(stdout, out, mux.Summary{FileStats: stats}, 0, jsonOut, nil)
	return 0
}

// moveFile renames src to dst, copying when they are on different file
// systems.
func moveFile(src, dst string) error {
	if filepath.Clean(src) == filepath.Clean(dst) {
		return nil
	}
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	o, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(o, in); err != nil {
		return errors.Join(err, o.Close())
	}
	if err := o.Close(); err != nil {
		return err
	}
	return os.Remove(src)
}

// printSummary prints the one-line summary (or JSON) of a finished file.
func printSummary(w io.Writer, path string, s mux.Summary, ignored int, asJSON bool, failures []remux.TrackFailure) {
	if asJSON {
		writeSummaryJSON(w, path, s, ignored, failures)
		return
	}
	var gaps []string
	for _, g := range s.Gaps {
		gaps = append(gaps, fmt.Sprintf("%s %s@%v+%v", g.Kind, g.Cause, g.Offset.Round(time.Millisecond), g.Duration.Round(time.Millisecond)))
	}
	gapText := "none"
	if len(gaps) > 0 {
		gapText = strings.Join(gaps, ", ")
	}
	fmt.Fprintf(w, "%s: duration %v, video %d frames (%d key, %dx%d), audio %d frames, %d bytes, %d dropped, gaps: %s\n",
		path, s.Duration.Round(time.Millisecond), s.VideoFrames, s.Keyframes, s.Width, s.Height,
		s.AudioFrames, s.Bytes, s.FramesDropped, gapText)
}
