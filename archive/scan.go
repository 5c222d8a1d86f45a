package archive

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// connFiles are one connection's finished files in a recording directory.
type connFiles struct {
	single *ArchiveMetadata
	splits []ArchiveMetadata // in split_index order
	end    *SplitEndMetadata
}

// scanRecording reads every archive JSON of a recording directory,
// grouped by connection_id; ids are the connection ids, sorted.
func scanRecording(dir string) (conns map[string]*connFiles, ids []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, nil, fmt.Errorf("archive: scan %s: %w", dir, err)
	}
	conns = map[string]*connFiles{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".json") || strings.HasPrefix(name, "report-") || strings.HasPrefix(name, ".") {
			continue
		}
		if err := scanJSON(filepath.Join(dir, name), conns); err != nil {
			return nil, nil, err
		}
	}
	for cid, cf := range conns {
		ids = append(ids, cid)
		sort.Slice(cf.splits, func(i, j int) bool {
			a, b := cf.splits[i].SplitIndex, cf.splits[j].SplitIndex
			return len(a) < len(b) || (len(a) == len(b) && a < b)
		})
	}
	sort.Strings(ids)
	return conns, ids, nil
}

// scanJSON adds one archive, split or split end JSON to conns.
func scanJSON(path string, conns map[string]*connFiles) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("archive: scan: %w", err)
	}
	get := func(cid string) *connFiles {
		if conns[cid] == nil {
			conns[cid] = &connFiles{}
		}
		return conns[cid]
	}
	if strings.HasPrefix(filepath.Base(path), "split-archive-end-") {
		var end SplitEndMetadata
		if err := json.Unmarshal(b, &end); err != nil {
			return fmt.Errorf("archive: scan %s: %w", path, err)
		}
		get(end.ConnectionID).end = &end
		return nil
	}
	var meta ArchiveMetadata
	if err := json.Unmarshal(b, &meta); err != nil {
		return fmt.Errorf("archive: scan %s: %w", path, err)
	}
	if cf := get(meta.ConnectionID); meta.SplitIndex == "" {
		cf.single = &meta
	} else {
		cf.splits = append(cf.splits, meta)
	}
	return nil
}

// reportEntry is a connection's entry in the report, from its files.
func (cf *connFiles) reportEntry(label, node string) ReportArchive {
	first := cf.single
	last := cf.single
	if first == nil && len(cf.splits) > 0 {
		first, last = &cf.splits[0], &cf.splits[len(cf.splits)-1]
	}
	ra := ReportArchive{ClientID: first.ClientID, BundleID: first.BundleID, ConnectionID: first.ConnectionID,
		StartTimeOffset: first.StartTimeOffset, StartTimestamp: first.StartTimestamp,
		StopTimeOffset: last.StopTimeOffset, StopTimestamp: last.StopTimestamp, Label: label, NodeName: node}
	if s := cf.single; s != nil {
		size := s.Size
		ra.FilePath, ra.Filename, ra.MetadataFilePath, ra.MetadataFilename, ra.Size = s.FilePath, s.Filename, s.MetadataFilePath, s.MetadataFilename, &size
	}
	if len(cf.splits) > 0 {
		ra.SplitLastIndex = cf.splits[len(cf.splits)-1].SplitIndex
	}
	return ra
}

// recoverReport finishes an interrupted recording from its sidecar: a
// split end JSON for every split series without one, then the report
// listing every archive found, then recording.report.
func (m *Manager) recoverReport(path string) error {
	var rep ReportMetadata
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil || !plainName(rep.RecordingID) || strings.Contains(rep.RecordingID, tmpSep) {
		return fmt.Errorf("unusable recording sidecar: %v", err)
	}
	n := Names{ArchiveDir: m.cfg.ArchiveDir, RecordingID: rep.RecordingID}
	rep.FilePath, rep.Filename = n.Abs(Report(rep.RecordingID)), n.Rel(Report(rep.RecordingID))
	dir := n.Dir()
	conns, ids, err := scanRecording(dir)
	if err != nil {
		return err
	}
	rep.StopTimestamp = timestamp(m.deps.Clock.Now())
	rep.Archives, rep.FailedArchives = []ReportArchive{}, []FailedArchive{}
	for _, cid := range ids {
		cf := conns[cid]
		if cf.single == nil && len(cf.splits) == 0 {
			continue
		}
		if len(cf.splits) > 0 && cf.end == nil {
			if err := m.recoverSplitEnd(dir, cf); err != nil {
				return err
			}
		}
		rep.Archives = append(rep.Archives, cf.reportEntry(rep.Label, rep.NodeName))
	}
	if err := writeReport(rep); err != nil {
		return err
	}
	m.deps.Notifier.Session("recording.report", rep.ChannelID, rep.SessionID, reportEvent{ReportMetadata: rep, FileWritten: true})
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("archive: remove recording sidecar: %w", err)
	}
	return nil
}

// recoverSplitEnd writes the end JSON of a split series cut by a crash.
func (m *Manager) recoverSplitEnd(dir string, cf *connFiles) error {
	first, last := cf.splits[0], cf.splits[len(cf.splits)-1]
	name := SplitEnd(first.ConnectionID)
	end := SplitEndMetadata{Identity: first.Identity, Media: first.Media, Format: first.Format,
		EventMetadata: first.EventMetadata, SplitLastIndex: last.SplitIndex,
		FilePath: filepath.Join(dir, name), Filename: first.RecordingID + "/" + name,
		Span: Span{StartTime: first.StartTime, StartTimeOffset: first.StartTimeOffset, StartTimestamp: first.StartTimestamp,
			StopTime: last.StopTime, StopTimeOffset: last.StopTimeOffset, StopTimestamp: last.StopTimestamp},
		Stats: Stats{Gaps: []GapStat{}}}
	for _, p := range cf.splits {
		end.Stats = addStats(end.Stats, p.Stats)
	}
	b, err := json.MarshalIndent(end, "", "  ")
	if err != nil {
		return fmt.Errorf("archive: encode split end: %w", err)
	}
	if err := writeFileAtomic(end.FilePath, b); err != nil {
		return err
	}
	cf.end = &end
	c := Connection{ClientID: first.ClientID, BundleID: first.BundleID, ConnectionID: first.ConnectionID}
	m.deps.Notifier.Event("split-archive.end", c, first.ChannelID, first.SessionID, end)
	return nil
}
