package judge

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// MKV is what mkvinfo reports about a Matroska/WebM file's structure.
type MKV struct {
	Raw string
	// UnknownSize is true when any element has an unknown size.
	UnknownSize bool
	HasSeekHead bool
	HasCues     bool
	HasDuration bool
	// Clusters holds each cluster's timestamp in file order.
	Clusters []time.Duration
	// FirstVideoBlockIsKey holds, per cluster, whether the first block of
	// track 1 (the video track) in it is a keyframe; false when the cluster
	// has no video block.
	FirstVideoBlockIsKey []bool
	// ClusterHasVideo holds, per cluster, whether it has a track 1 block.
	ClusterHasVideo []bool
}

var (
	clusterTimeRe = regexp.MustCompile(`Cluster timestamp: ([0-9:.]+)`)
	simpleBlockRe = regexp.MustCompile(`Simple block: (key, )?track number (\d+)`)
)

// MKVInfo runs `mkvinfo -a` (all clusters, not just the first) on path.
func MKVInfo(path string) (*MKV, error) {
	out, err := run("mkvinfo", "-a", "-z", path)
	if err != nil {
		return nil, err
	}
	m := &MKV{Raw: string(out)}
	m.UnknownSize = strings.Contains(m.Raw, "size unknown") || strings.Contains(m.Raw, "size is unknown")
	m.HasSeekHead = strings.Contains(m.Raw, "Seek head")
	m.HasCues = strings.Contains(m.Raw, "Cues")
	m.HasDuration = strings.Contains(m.Raw, "Duration:")
	seenVideo := false
	for _, line := range strings.Split(m.Raw, "\n") {
		if match := clusterTimeRe.FindStringSubmatch(line); match != nil {
			d, err := parseClock(match[1])
			if err != nil {
				return nil, fmt.Errorf("judge: mkvinfo cluster time %q: %w", match[1], err)
			}
			m.Clusters = append(m.Clusters, d)
			m.FirstVideoBlockIsKey = append(m.FirstVideoBlockIsKey, false)
			m.ClusterHasVideo = append(m.ClusterHasVideo, false)
			seenVideo = false
			continue
		}
		match := simpleBlockRe.FindStringSubmatch(line)
		if match == nil || match[2] != "1" || len(m.Clusters) == 0 || seenVideo {
			continue
		}
		seenVideo = true
		m.ClusterHasVideo[len(m.Clusters)-1] = true
		m.FirstVideoBlockIsKey[len(m.Clusters)-1] = match[1] != ""
	}
	return m, nil
}

// parseClock parses mkvinfo's HH:MM:SS.nnnnnnnnn timestamps.
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("want HH:MM:SS.fff")
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.ParseFloat(parts[2], 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec*float64(time.Second)), nil
}
