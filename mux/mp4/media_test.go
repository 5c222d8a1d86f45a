package mp4

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
)

// tool returns the path of an external program the tests judge with; a
// missing tool fails the test (make test installs them).
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed to judge MP4 files (make deps-apt installs it): %v", name, err)
	}
	return p
}

// runTool runs a program and returns its standard output; any failure fails t.
func runTool(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return out
}

// codecCase describes how the test encoder produces one video codec.
type codecCase struct {
	codec   mux.Codec
	encoder []string // ffmpeg output options for the video stream
	decoder []string // ffmpeg input options to decode it as browsers do
	probe   string   // ffprobe codec_name
}

// codecCases lists the video codecs kiroku records.
func codecCases() []codecCase {
	return []codecCase{
		{mux.H264, []string{"-c:v", "libx264", "-bf", "0", "-preset", "veryfast"}, nil, "h264"},
		{mux.H265, []string{"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "bframes=0:log-level=error"}, nil, "hevc"},
		{mux.VP8, []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"}, nil, "vp8"},
		{mux.VP9, []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"}, []string{"-c:v", "libvpx-vp9"}, "vp9"},
		{mux.AV1, []string{"-c:v", "libaom-av1", "-cpu-used", "8", "-b:v", "300k", "-usage", "realtime"}, nil, "av1"},
	}
}

// makeClip encodes a test pattern of the given size and length (25 fps,
// a keyframe every second) with stereo Opus into a Matroska file.
func makeClip(t testing.TB, c codecCase, size string, seconds int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.ToLower(string(c.codec))+"-"+size+".mkv")
	d := strconv.Itoa(seconds)
	args := []string{"-v", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=25:duration=" + d,
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=" + d,
		"-pix_fmt", "yuv420p", "-g", "25"}
	args = append(args, c.encoder...)
	args = append(args, "-c:a", "libopus", "-b:a", "64k", "-ac", "2", out)
	runTool(t, "ffmpeg", args...)
	return out
}

// clip is an encoded file read back as kiroku frames.
type clip struct {
	video       mux.TrackInfo
	audio       mux.TrackInfo
	config      mux.VideoConfig
	videoFrames []mux.Frame
	audioFrames []mux.Frame
}

type probePacket struct {
	StreamIndex int    `json:"stream_index"`
	PTSTime     string `json:"pts_time"`
	Flags       string `json:"flags"`
	Data        string `json:"data"`
}

type probeStream struct {
	Index     int    `json:"index"`
	CodecName string `json:"codec_name"`
	CodecType string `json:"codec_type"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Channels  int    `json:"channels"`
	Extradata string `json:"extradata"`
}

// readClip reads every packet of a clip with ffprobe, an independent
// demuxer, and turns them into frames whose PTS start at 0 per track.
func readClip(t testing.TB, path string, codec mux.Codec) clip {
	t.Helper()
	var probe struct {
		Streams []probeStream `json:"streams"`
		Packets []probePacket `json:"packets"`
	}
	out := runTool(t, "ffprobe", "-v", "error", "-show_streams", "-show_packets", "-show_data", "-of", "json", path)
	if err := json.Unmarshal(out, &probe); err != nil {
		t.Fatalf("ffprobe json: %v", err)
	}
	c := clip{video: mux.TrackInfo{Codec: codec, ClockRate: 90000}}
	for _, s := range probe.Streams {
		switch s.CodecType {
		case "video":
			c.config = mux.VideoConfig{Width: s.Width, Height: s.Height, BitDepth: 8, ChromaSubsampling: 1}
			if codec == mux.H264 || codec == mux.H265 || codec == mux.AV1 {
				c.config.Record = unhexdump(t, s.Extradata)
			}
		case "audio":
			c.audio = mux.TrackInfo{Codec: mux.Opus, ClockRate: 48000, Channels: s.Channels}
		}
	}
	c.videoFrames, c.audioFrames = packetsToFrames(t, probe.Streams, probe.Packets, &c.config)
	return c
}

func packetsToFrames(t testing.TB, streams []probeStream, pkts []probePacket, cfg *mux.VideoConfig) (video, audio []mux.Frame) {
	var base [2]*time.Duration
	for _, p := range pkts {
		pts, err := strconv.ParseFloat(p.PTSTime, 64)
		if err != nil {
			t.Fatalf("packet pts %q: %v", p.PTSTime, err)
		}
		at := time.Duration(pts * float64(time.Second)).Round(time.Millisecond)
		kind := streams[p.StreamIndex].CodecType
		i := 0
		if kind == "audio" {
			i = 1
		}
		if base[i] == nil {
			base[i] = &at
		}
		f := mux.Frame{PTS: at - *base[i], Keyframe: strings.HasPrefix(p.Flags, "K"), Data: unhexdump(t, p.Data)}
		if kind == "video" {
			if f.Keyframe {
				f.Config = cfg
			}
			video = append(video, f)
		} else {
			f.Keyframe = true
			audio = append(audio, f)
		}
	}
	return video, audio
}

// unhexdump decodes ffprobe's hex dump ("00000000: 0164 000d ...  ascii").
func unhexdump(t testing.TB, dump string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(dump, "\n") {
		if len(line) < 10 {
			continue
		}
		hexPart := line[10:min(len(line), 10+39)]
		b, err := hex.DecodeString(strings.ReplaceAll(hexPart, " ", ""))
		if err != nil {
			t.Fatalf("hex dump line %q: %v", line, err)
		}
		out = append(out, b...)
	}
	return out
}

// shifted returns frames with every PTS moved by d.
func shifted(frames []mux.Frame, d time.Duration) []mux.Frame {
	out := make([]mux.Frame, len(frames))
	for i, f := range frames {
		f.PTS += d
		out[i] = f
	}
	return out
}

// interleave merges two tracks' frames by PTS, video first on ties.
func interleave(video, audio []mux.Frame) []taggedFrame {
	var out []taggedFrame
	i, j := 0, 0
	for i < len(video) || j < len(audio) {
		if j == len(audio) || (i < len(video) && video[i].PTS <= audio[j].PTS) {
			out = append(out, taggedFrame{mux.Video, video[i]})
			i++
		} else {
			out = append(out, taggedFrame{mux.Audio, audio[j]})
			j++
		}
	}
	return out
}

type taggedFrame struct {
	kind  mux.Kind
	frame mux.Frame
}

// createFile creates an empty file in a fresh temporary directory.
func createFile(t testing.TB, name string) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
