package webm

import (
	"bytes"
	"encoding/binary"
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

// This file makes real codec frames for the tests: ffmpeg encodes short
// clips, and tiny readers for IVF, H.264 Annex B and Ogg turn them into
// mux.Frames the way the depacketizers would.

// tool returns the path of an external program the tests need, failing
// the test when it is missing (`make test` installs it).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (make deps-apt installs it): %v", name, err)
	}
	return p
}

// run runs a program and returns its stdout and stderr.
func run(t testing.TB, name string, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(tool(t, name), args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// clipFile encodes a test pattern with codec at w×h (30 fps) or an Opus
// sine with the given channels, secs long, and returns the file's path.
func clipFile(t testing.TB, codec mux.Codec, w, h int, secs float64) string {
	t.Helper()
	dir := t.TempDir()
	src := []string{"-v", "error", "-y", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc=size=%dx%d:rate=30", w, h), "-t", fmt.Sprint(secs), "-pix_fmt", "yuv420p"}
	var args []string
	out := filepath.Join(dir, "clip.ivf")
	switch codec {
	case mux.VP8:
		args = []string{"-c:v", "libvpx", "-b:v", "300k", "-g", "30", "-f", "ivf"}
	case mux.VP9:
		args = []string{"-c:v", "libvpx-vp9", "-b:v", "300k", "-g", "30", "-deadline", "realtime",
			"-cpu-used", "8", "-lag-in-frames", "0", "-f", "ivf"}
	case mux.AV1:
		args = []string{"-c:v", "libaom-av1", "-cpu-used", "8", "-b:v", "200k", "-g", "30",
			"-lag-in-frames", "0", "-f", "ivf"}
	case mux.H264:
		out = filepath.Join(dir, "clip.h264")
		args = []string{"-c:v", "libx264", "-bf", "0", "-g", "30", "-x264-params", "aud=1", "-f", "h264"}
	case mux.Opus:
		out = filepath.Join(dir, "clip.ogg")
		src = []string{"-v", "error", "-y", "-f", "lavfi", "-i",
			"sine=frequency=440:sample_rate=48000", "-t", fmt.Sprint(secs), "-ac", fmt.Sprint(w)}
		args = []string{"-c:a", "libopus", "-b:a", "64k", "-f", "ogg"}
	default:
		t.Fatalf("no clip recipe for %s", codec)
	}
	run(t, "ffmpeg", append(append(src, args...), out)...)
	return out
}

// clipFrames encodes a clip and reads its frames; keyframes are marked as
// ffprobe sees them, so the tests do not judge keyframes themselves.
func clipFrames(t testing.TB, codec mux.Codec, w, h int, secs float64) []mux.Frame {
	t.Helper()
	path := clipFile(t, codec, w, h, secs)
	var keys []bool
	if codec != mux.Opus {
		out, _ := run(t, "ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
			"packet=flags", "-of", "csv=p=0", path)
		for _, l := range strings.Fields(out) {
			keys = append(keys, strings.HasPrefix(l, "K"))
		}
	}
	frames, err := readFrames(codec, path, w, h, keys)
	if err != nil {
		t.Fatalf("read %s clip: %v", codec, err)
	}
	return frames
}

// readFrames reads the frames of a clip file made by clipFile. keys marks
// video keyframes in order.
func readFrames(codec mux.Codec, path string, w, h int, keys []bool) ([]mux.Frame, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var units [][]byte
	switch codec {
	case mux.Opus:
		return oggOpus(b)
	case mux.H264:
		units = annexBAccessUnits(b)
	default:
		if units, err = ivfFrames(b); err != nil {
			return nil, err
		}
	}
	if len(units) != len(keys) {
		return nil, fmt.Errorf("%d frames but %d packet flags", len(units), len(keys))
	}
	frames := make([]mux.Frame, len(units))
	for i, u := range units {
		f := mux.Frame{PTS: time.Duration(i) * time.Second / 30, Keyframe: keys[i], Data: u}
		switch codec {
		case mux.H264:
			f.Data, f.Config = h264Frame(u, w, h)
		case mux.AV1:
			f.Data, f.Config = av1Frame(u, w, h)
		default:
			f.Config = &mux.VideoConfig{Width: w, Height: h, BitDepth: 8}
		}
		if !f.Keyframe {
			f.Config = nil
		}
		frames[i] = f
	}
	return frames, nil
}

// ivfFrames splits an IVF file into its frames.
func ivfFrames(b []byte) ([][]byte, error) {
	if len(b) < 32 || string(b[:4]) != "DKIF" {
		return nil, errors.New("not IVF")
	}
	var out [][]byte
	for p := int(binary.LittleEndian.Uint16(b[6:])); p+12 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[p:]))
		if p+12+n > len(b) {
			return nil, errors.New("IVF frame cut off")
		}
		out = append(out, b[p+12:p+12+n])
		p += 12 + n
	}
	return out, nil
}

// annexBAccessUnits splits an H.264 Annex B stream (with access unit
// delimiters) into access units of NAL units without start codes.
func annexBAccessUnits(b []byte) [][]byte {
	var aus [][]byte
	var cur []byte
	for _, nal := range bytes.Split(b, []byte{0, 0, 1}) {
		nal = bytes.TrimRight(nal, "\x00")
		if len(nal) == 0 {
			continue
		}
		if nal[0]&0x1F == 9 && cur != nil {
			aus = append(aus, cur)
			cur = nil
		}
		cur = binary.BigEndian.AppendUint32(cur, uint32(len(nal)))
		cur = append(cur, nal...)
	}
	return append(aus, cur)
}

// h264Frame drops AUD, SPS and PPS from a length-prefixed access unit and
// builds an avcC from the parameter sets when it has them.
func h264Frame(au []byte, w, h int) ([]byte, *mux.VideoConfig) {
	var data, sps, pps []byte
	for p := 0; p+4 <= len(au); {
		n := int(binary.BigEndian.Uint32(au[p:]))
		nal := au[p+4 : p+4+n]
		switch nal[0] & 0x1F {
		case 7:
			sps = nal
		case 8:
			pps = nal
		case 9:
		default:
			data = append(data, au[p:p+4+n]...)
		}
		p += 4 + n
	}
	if sps == nil {
		return data, nil
	}
	rec := []byte{1, sps[1], sps[2], sps[3], 0xFF, 0xE1, byte(len(sps) >> 8), byte(len(sps))}
	rec = append(rec, sps...)
	rec = append(rec, 1, byte(len(pps)>>8), byte(len(pps)))
	rec = append(rec, pps...)
	return data, &mux.VideoConfig{Width: w, Height: h, Record: rec}
}

// av1Frame drops temporal delimiters from a temporal unit and builds an
// av1C (4:2:0, 8-bit) around its sequence header when it has one.
func av1Frame(tu []byte, w, h int) ([]byte, *mux.VideoConfig) {
	var data, seq []byte
	for p := 0; p < len(tu); {
		hdr := 1 + int(tu[p]>>2&1) // extension byte
		size, n := leb128(tu[p+hdr:])
		obu := tu[p : p+hdr+n+int(size)]
		switch tu[p] >> 3 & 0xF {
		case 1:
			seq = obu
			data = append(data, obu...)
		case 2:
		default:
			data = append(data, obu...)
		}
		p += len(obu)
	}
	if seq == nil {
		return data, nil
	}
	profile := seq[2] >> 5 // first payload byte after a 1-byte size
	rec := append([]byte{0x81, profile << 5, 0x0C, 0}, seq...)
	return data, &mux.VideoConfig{Width: w, Height: h, Record: rec}
}

func leb128(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7F) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return v, len(b)
}

// oggOpus reads the Opus packets of an Ogg file (skipping OpusHead and
// OpusTags); libopus makes 20 ms packets.
func oggOpus(b []byte) ([]mux.Frame, error) {
	var packets [][]byte
	var cur []byte
	for p := 0; p < len(b); {
		if p+27 > len(b) || string(b[p:p+4]) != "OggS" {
			return nil, errors.New("bad Ogg page")
		}
		nseg := int(b[p+26])
		lacing := b[p+27 : p+27+nseg]
		q := p + 27 + nseg
		for _, l := range lacing {
			cur = append(cur, b[q:q+int(l)]...)
			q += int(l)
			if l < 255 {
				packets = append(packets, cur)
				cur = nil
			}
		}
		p = q
	}
	if len(packets) < 2 {
		return nil, errors.New("no Opus packets")
	}
	frames := make([]mux.Frame, 0, len(packets)-2)
	for i, pk := range packets[2:] {
		frames = append(frames, mux.Frame{PTS: time.Duration(i) * 20 * time.Millisecond, Keyframe: true, Data: pk})
	}
	return frames, nil
}

// shift returns frames with PTS moved by d (and data shared).
func shift(frames []mux.Frame, d time.Duration) []mux.Frame {
	out := make([]mux.Frame, len(frames))
	for i, f := range frames {
		f.PTS += d
		out[i] = f
	}
	return out
}

// feedWith writes video and audio frames interleaved by PTS, calling
// before (when set) ahead of each.
func feedWith(t testing.TB, w *Writer, video, audio []mux.Frame, before func(mux.Kind, mux.Frame)) {
	t.Helper()
	for len(video) > 0 || len(audio) > 0 {
		k, f := mux.Video, mux.Frame{}
		if len(video) > 0 && (len(audio) == 0 || video[0].PTS <= audio[0].PTS) {
			f, video = video[0], video[1:]
		} else {
			k, f, audio = mux.Audio, audio[0], audio[1:]
		}
		if before != nil {
			before(k, f)
		}
		if err := w.WriteFrame(k, f); err != nil {
			t.Fatalf("WriteFrame(%s, %v): %v", k, f.PTS, err)
		}
	}
}
