package media

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/test/judge"
)

// videoPacket is one video sample as ffprobe reads it from the container.
type videoPacket struct {
	pos, size int64
	sync      bool // the container marks it a sync sample (MP4 stss)
}

// videoPackets lists the video samples of an MP4 file with ffprobe.
func videoPackets(path string) ([]videoPacket, error) {
	out, err := runTool("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pos,size,flags",
		"-of", "json", path)
	if err != nil {
		return nil, err
	}
	var probe struct {
		Packets []struct {
			Pos   string `json:"pos"`
			Size  string `json:"size"`
			Flags string `json:"flags"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &probe); err != nil {
		return nil, fmt.Errorf("ffprobe packets: %w", err)
	}
	pkts := make([]videoPacket, 0, len(probe.Packets))
	for _, p := range probe.Packets {
		pos, err1 := strconv.ParseInt(p.Pos, 10, 64)
		size, err2 := strconv.ParseInt(p.Size, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ffprobe packet %+v", p)
		}
		pkts = append(pkts, videoPacket{pos: pos, size: size, sync: strings.HasPrefix(p.Flags, "K")})
	}
	return pkts, nil
}

// randomAccessType returns the NAL type of the first random access picture
// slice in a sample of 4-byte length-prefixed NAL units (H.264 IDR; H.265
// BLA, IDR or CRA, types 16-21), or -1.
func randomAccessType(sample []byte, codec string) int {
	for len(sample) >= 5 {
		n := int(binary.BigEndian.Uint32(sample))
		if n == 0 || n > len(sample)-4 {
			return -1
		}
		h := sample[4]
		if codec == "h264" && h&0x1f == 5 {
			return 5
		}
		if t := int(h >> 1 & 0x3f); codec == "hevc" && t >= 16 && t <= 21 {
			return t
		}
		sample = sample[4+n:]
	}
	return -1
}

// checkSyncSamples checks, from the bytes of every video sample, that the
// MP4 marks as sync samples exactly the random access pictures (so every
// H.265 CRA picture too), and that the file starts on one. Captures made
// with open GOPs must show at least one CRA sync sample.
func checkSyncSamples(t *testing.T, name, path, codec string) {
	t.Helper()
	pkts, err := videoPackets(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cra := 0
	for i, p := range pkts {
		if p.pos < 0 || p.pos+p.size > int64(len(data)) {
			t.Fatalf("sample %d at %d+%d outside the file", i, p.pos, p.size)
		}
		typ := randomAccessType(data[p.pos:p.pos+p.size], codec)
		if (typ >= 0) != p.sync || (i == 0 && !p.sync) {
			t.Errorf("sample %d: random access type %d, sync sample %v", i, typ, p.sync)
		}
		if typ == 21 && p.sync {
			cra++
		}
	}
	if strings.Contains(name, "_cra_") || strings.Contains(name, "h265_sprop_") {
		if cra == 0 {
			t.Errorf("no CRA picture among the sync samples of %s", name)
		}
	}
}

// runTool runs a judge tool (killed after judge.Timeout) and returns its
// standard output.
func runTool(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), judge.Timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}
