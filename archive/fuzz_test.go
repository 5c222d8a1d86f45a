package archive

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzRecover feeds Recover a tmp file and sidecars made of arbitrary
// bytes: it must not panic, must leave archive_tmp_dir empty, and must
// write nothing outside archive_dir and the quarantine directory.
func FuzzRecover(f *testing.F) {
	side, _ := json.Marshal(pendingFile{ArchiveDir: "/elsewhere", RecordingStart: time.Unix(1, 0), FileStart: time.Unix(2, 0),
		Meta: ArchiveMetadata{Identity: Identity{RecordingID: "R1", ConnectionID: "C1"}, Format: FormatWebM}})
	rep, _ := json.Marshal(ReportMetadata{RecordingID: "R1", FilePath: "/elsewhere/R1/report-R1.json"})
	f.Add("R1~archive-C1.webm", side, []byte{0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01}, rep)
	f.Add("R1~archive-C1.mp4", side, []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), []byte("{"))
	f.Add("..~archive-C1.mp4", []byte(`{"meta":{"recording_id":".."}}`), []byte("x"), []byte(`{"recording_id":".."}`))
	f.Add("R1~split-archive-C1_0001.webm", []byte("null"), []byte{}, []byte(`{"recording_id":"../x"}`))
	f.Fuzz(func(t *testing.T, name string, sidecar, media, recSidecar []byte) {
		if !plainName(name) || strings.HasSuffix(name, pendingSuffix) {
			return
		}
		root := t.TempDir()
		cfg := crashConfig(root)
		if err := os.MkdirAll(cfg.TmpDir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(cfg.TmpDir, name)
		for p, b := range map[string][]byte{path: media, path + pendingSuffix: sidecar,
			filepath.Join(cfg.TmpDir, "R1.recording"+pendingSuffix): recSidecar} {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m, err := NewManager(cfg, Deps{Clock: newFakeClock(), Notifier: discardNotifier{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Recover(); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(cfg.TmpDir); len(left) != 0 {
			t.Errorf("left in archive_tmp_dir: %v", left)
		}
		top, _ := os.ReadDir(root)
		for _, e := range top {
			if n := e.Name(); n != "archive" && n != "tmp" && n != "quarantine" {
				t.Errorf("wrote %s outside the archive directories", n)
			}
		}
	})
}

// FuzzMediaOf parses fmtp lines from the network into the JSON's codec
// parameters; it must not panic and must produce valid JSON.
func FuzzMediaOf(f *testing.F) {
	for _, s := range []string{"profile-id=2", "profile=1;level-idx=5", "profile-level-id=42e01f;packetization-mode=1", ";;=;a", "profile-id=-1"} {
		f.Add("VP9", s)
		f.Add("AV1", s)
		f.Add("H264", s)
	}
	f.Fuzz(func(t *testing.T, codec, fmtp string) {
		c := Connection{Video: &Track{Codec: "VP9", Fmtp: fmtp}}
		switch codec {
		case "AV1", "H264":
			c.Video.Codec = "AV1"
			if codec == "H264" {
				c.Video.Codec = "H264"
			}
		}
		m := mediaOf(c)
		for _, raw := range []json.RawMessage{m.VideoVP9Params, m.VideoAV1Params, m.VideoH264Param} {
			if raw != nil && !json.Valid(raw) {
				t.Errorf("invalid JSON %q from fmtp %q", raw, fmtp)
			}
		}
	})
}
