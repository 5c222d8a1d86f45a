package webm

import (
	"bufio"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// This file asks independent tools to judge the files the tests write:
// ffprobe for stream parameters, a full ffmpeg decode for correctness and
// frame counts, mkvinfo for structure.

// probed is the part of ffprobe's JSON the tests look at.
type probed struct {
	Streams []struct {
		CodecName string `json:"codec_name"`
		CodecType string `json:"codec_type"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		Channels  int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t testing.TB, path string) probed {
	t.Helper()
	out, _ := run(t, "ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path)
	var p probed
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	return p
}

func (p probed) duration(t testing.TB) time.Duration {
	t.Helper()
	s, err := strconv.ParseFloat(p.Format.Duration, 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", p.Format.Duration, err)
	}
	return time.Duration(s * float64(time.Second))
}

// decodeCounts decodes every stream of path and returns the number of
// decoded frames per media type; any message from the decoder fails the
// test. VP9 is decoded with libvpx, as browsers do.
func decodeCounts(t testing.TB, path string, vp9 bool) map[string]int {
	t.Helper()
	args := []string{"-v", "error"}
	if vp9 {
		args = append(args, "-c:v", "libvpx-vp9")
	}
	args = append(args, "-i", path, "-fps_mode", "passthrough", "-enc_time_base", "-1", "-f", "framemd5", "-")
	out, stderr := run(t, "ffmpeg", args...)
	if stderr != "" {
		t.Fatalf("decoding %s reported:\n%s", path, stderr)
	}
	types := map[string]string{}
	counts := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "#media_type "); ok {
			idx, typ, _ := strings.Cut(rest, ": ")
			types[idx] = typ
			continue
		}
		if idx, _, ok := strings.Cut(l, ","); ok && !strings.HasPrefix(l, "#") {
			counts[types[strings.TrimSpace(idx)]]++
		}
	}
	return counts
}

// mkvReport is what mkvinfo shows about a file's structure.
type mkvReport struct {
	clusters int
	// forced counts clusters holding video whose first block is not a
	// video keyframe.
	forced int
	blocks map[int]int // per track number
}

var (
	reClusterTime = regexp.MustCompile(`Cluster timestamp: (\d+):(\d+):(\d+\.\d+)`)
	reBlock       = regexp.MustCompile(`Simple block: (key, )?track number (\d+), \d+ frame\(s\), timestamp (\d+):(\d+):(\d+\.\d+)`)
)

// mkvCheck runs mkvmerge -J (no errors or warnings) and mkvinfo -a, and
// checks what every finished file needs:
// a SeekHead, Cues, Duration, no element of unknown size, and clusters
// shorter than 32.767 s whose first block is a video keyframe whenever
// they hold video (forced ones are counted, not failed).
func mkvCheck(t testing.TB, path string) mkvReport {
	t.Helper()
	out, _ := run(t, "mkvinfo", "-a", path)
	for _, want := range []string{"+ Seek head", "+ Cues", "+ Duration:", "+ Segment: size "} {
		if !strings.Contains(out, want) {
			t.Errorf("mkvinfo shows no %q", strings.TrimPrefix(want, "+ "))
		}
	}
	if strings.Contains(strings.ToLower(out), "unknown") {
		t.Errorf("mkvinfo reports an unknown size or element")
	}
	var ident struct {
		Errors   []string `json:"errors"`
		Warnings []string `json:"warnings"`
	}
	ident.Errors = []string{"no output"}
	js, _ := run(t, "mkvmerge", "-J", path)
	if err := json.Unmarshal([]byte(js), &ident); err != nil || len(ident.Errors)+len(ident.Warnings) > 0 {
		t.Errorf("mkvmerge -J: %v, errors %q, warnings %q", err, ident.Errors, ident.Warnings)
	}
	rep := mkvReport{blocks: map[int]int{}}
	var clusterAt time.Duration
	first, hasVideo, firstKeyVideo := true, false, false
	endCluster := func() {
		if hasVideo && !firstKeyVideo {
			rep.forced++
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if m := reClusterTime.FindStringSubmatch(sc.Text()); m != nil {
			if rep.clusters > 0 {
				endCluster()
			}
			rep.clusters++
			clusterAt = hms(m[1], m[2], m[3])
			first, hasVideo, firstKeyVideo = true, false, false
			continue
		}
		m := reBlock.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		track, _ := strconv.Atoi(m[2])
		rep.blocks[track]++
		if rel := hms(m[3], m[4], m[5]) - clusterAt; rel > 32767*time.Millisecond || rel < -32768*time.Millisecond {
			t.Errorf("block %v from its cluster's time", rel)
		}
		if track == 1 && !hasVideo {
			hasVideo = true
			firstKeyVideo = first && m[1] != ""
		}
		first = false
	}
	if rep.clusters > 0 {
		endCluster()
	}
	return rep
}

func hms(h, m, s string) time.Duration {
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	ss, _ := strconv.ParseFloat(s, 64)
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss*float64(time.Second))
}
