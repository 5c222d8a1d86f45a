package archive

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kiroku-sfu/kiroku/mux"
	"github.com/kiroku-sfu/kiroku/mux/remux"
)

// Recovered counts what Recover did.
type Recovered struct {
	Files       int // media files finished and delivered
	Reports     int // reports written for interrupted recordings
	Quarantined int // files moved to the quarantine directory
}

// Recover finishes what a crash left in archive_tmp_dir; call it once at
// start, before any recording. Every media file is finished in place and
// delivered into archive_dir with its JSON ("recovered": true) and an
// archive.available (or split-archive.available) event; every interrupted
// recording gets its report and recording.report; anything unusable goes
// to the quarantine directory with a .reason.txt. Nothing is deleted.
func (m *Manager) Recover() (Recovered, error) {
	var res Recovered
	entries, err := os.ReadDir(m.cfg.TmpDir)
	if err != nil {
		return res, fmt.Errorf("archive: recover: %w", err)
	}
	var recordings []string
	for _, e := range entries {
		path := filepath.Join(m.cfg.TmpDir, e.Name())
		switch name := e.Name(); {
		case e.IsDir():
			continue // the quarantine directory, or someone else's
		case strings.HasSuffix(name, ".recording"+pendingSuffix):
			recordings = append(recordings, path)
		case strings.HasSuffix(name, pendingSuffix):
			if !exists(path) {
				continue // moved with its media file
			}
			if !exists(strings.TrimSuffix(path, pendingSuffix)) {
				m.quarantine(&res, path, "sidecar without a media file: the crash came before the file was created")
			}
		default:
			m.recoverMedia(&res, path)
		}
	}
	for _, path := range recordings {
		if err := m.recoverReport(path); err != nil {
			m.quarantine(&res, path, "recording report not written: "+err.Error())
			continue
		}
		res.Reports++
	}
	m.deps.Logger.Info("archive_tmp_dir recovered", "files", res.Files, "reports", res.Reports, "quarantined", res.Quarantined)
	return res, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

func (m *Manager) quarantine(res *Recovered, path, reason string) {
	res.Quarantined++
	if err := quarantine(m.cfg.QuarantineDir, path, reason, m.deps.Logger); err != nil {
		m.deps.Logger.Error("quarantine failed; file left in place", "file", path, "err", err)
	}
}

// recoverMedia finishes and delivers one media file, or quarantines it.
func (m *Manager) recoverMedia(res *Recovered, path string) {
	rid, final, ok := parseTmpName(filepath.Base(path))
	if !ok {
		m.quarantine(res, path, "not a recording file name")
		return
	}
	var p pendingFile
	b, err := os.ReadFile(path + pendingSuffix)
	if err == nil {
		err = json.Unmarshal(b, &p)
	}
	if err != nil || p.Meta.RecordingID != rid {
		m.quarantine(res, path, fmt.Sprintf("no usable sidecar: %v", err))
		return
	}
	stats, _, err := remux.RecoverFile(path)
	if err != nil {
		m.quarantine(res, path, "cannot be finished: "+err.Error())
		return
	}
	if stats.VideoFrames+stats.AudioFrames == 0 {
		m.quarantine(res, path, "holds no media")
		return
	}
	meta := recoveredMeta(p, stats, m.deps.Clock.Now())
	// The configured archive_dir wins over the sidecar's: bytes on disk
	// never choose where files go.
	if err := placeFile(Names{ArchiveDir: m.cfg.ArchiveDir, RecordingID: rid}, path, final, &meta); err != nil {
		m.quarantine(res, path, "cannot be delivered: "+err.Error())
		return
	}
	res.Files++
	typ := "archive.available"
	if meta.SplitIndex != "" {
		typ = "split-archive.available"
	}
	c := Connection{ClientID: meta.ClientID, BundleID: meta.BundleID, ConnectionID: meta.ConnectionID, EventMetadata: meta.EventMetadata}
	m.deps.Notifier.Event(typ, c, meta.ChannelID, meta.SessionID, meta)
}

// recoveredMeta is the JSON of a file finished after a crash.
func recoveredMeta(p pendingFile, st mux.FileStats, now time.Time) ArchiveMetadata {
	meta := p.Meta
	meta.Span = NewSpan(p.RecordingStart, p.FileStart, p.FileStart.Add(st.Duration))
	meta.CreatedAt = now.Unix()
	meta.VideoWidth, meta.VideoHeight = st.Width, st.Height
	meta.Recovered, meta.RecoveredDurationMS = true, st.Duration.Milliseconds()
	meta.Stats = Stats{FramesWritten: st.VideoFrames + st.AudioFrames, VideoFrames: st.VideoFrames,
		AudioFrames: st.AudioFrames, Keyframes: st.Keyframes, DurationMS: st.Duration.Milliseconds(),
		ResolutionChanges: st.ConfigChanges, Gaps: []GapStat{}}
	return meta
}
