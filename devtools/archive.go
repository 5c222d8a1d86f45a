package devtools

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"time"
)

// maxRecordings bounds the recordings listed, newest first.
const maxRecordings = 200

// recordingEntry is one directory of archive_dir in /recordings.json.
type recordingEntry struct {
	RecordingID string      `json:"recording_id"`
	Modified    time.Time   `json:"modified"`
	Files       []fileEntry `json:"files"`
}

// fileEntry is one finished file of a recording.
type fileEntry struct {
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Media bool   `json:"media"` // .mp4 or .webm; otherwise a .json
	URL   string `json:"url"`
}

// archiveType is the Content-Type of a file served from archive_dir, and
// whether it is a media file; ok is false for every other extension.
func archiveType(name string) (ct string, media, ok bool) {
	switch path.Ext(name) {
	case ".mp4":
		return "video/mp4", true, true
	case ".webm":
		return "video/webm", true, true
	case ".json":
		return "application/json", false, true
	}
	return "", false, false
}

// safeName accepts a single path element of letters, digits, '.', '_' and
// '-' that does not start with '.': recording ids and Sora's file names,
// never "..", a separator or an absolute path.
func safeName(s string) bool {
	if s == "" || len(s) > 255 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// finished reports whether name in dir may be served: a regular file (no
// symlink) of a served type whose metadata JSON is there when it is media
// (the JSON is written last, so it means "complete").
func finished(dir *os.Root, rec, name string) (fs.FileInfo, bool) {
	_, media, ok := archiveType(name)
	if !ok || !safeName(rec) || !safeName(name) {
		return nil, false
	}
	if st, err := dir.Lstat(rec); err != nil || !st.IsDir() {
		return nil, false
	}
	st, err := dir.Lstat(rec + "/" + name)
	if err != nil || !st.Mode().IsRegular() {
		return nil, false
	}
	if media {
		js, err := dir.Lstat(rec + "/" + strings.TrimSuffix(name, path.Ext(name)) + ".json")
		if err != nil || !js.Mode().IsRegular() {
			return nil, false
		}
	}
	return st, true
}

// archiveFile serves /archive/{rec}/{name} with range requests.
func (h *Handler) archiveFile(w http.ResponseWriter, r *http.Request) {
	rec, name := r.PathValue("rec"), r.PathValue("name")
	root, err := os.OpenRoot(h.opts.ArchiveDir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	want, ok := finished(root, rec, name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := root.Open(rec + "/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !os.SameFile(st, want) {
		http.NotFound(w, r) // replaced between the check and the open
		return
	}
	ct, _, _ := archiveType(name)
	w.Header().Set("Content-Type", ct)
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// recordings serves /recordings.json: archive_dir's recordings, newest
// first, with their finished files.
func (h *Handler) recordings(w http.ResponseWriter, _ *http.Request) {
	list, err := h.listRecordings()
	if err != nil {
		h.opts.Logger.Warn("dev tools: listing archive_dir", "dir", h.opts.ArchiveDir, "err", err)
		http.Error(w, "archive_dir cannot be read", http.StatusInternalServerError)
		return
	}
	writeJSON(w, list)
}

// listRecordings reads archive_dir; a directory that does not exist yet
// holds no recordings.
func (h *Handler) listRecordings() ([]recordingEntry, error) {
	root, err := os.OpenRoot(h.opts.ArchiveDir)
	if errors.Is(err, fs.ErrNotExist) {
		return []recordingEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer root.Close()
	dirs, err := readDir(root, ".")
	if err != nil {
		return nil, err
	}
	out := []recordingEntry{}
	for _, d := range dirs {
		if d.Type() != fs.ModeDir || !safeName(d.Name()) {
			continue // files, symlinks and odd names are not recordings
		}
		info, err := d.Info()
		if err != nil {
			continue // removed meanwhile (the uploader)
		}
		out = append(out, recordingEntry{RecordingID: d.Name(), Modified: info.ModTime().UTC(), Files: listFiles(root, d.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Modified.After(out[j].Modified) })
	if len(out) > maxRecordings {
		out = out[:maxRecordings]
	}
	return out, nil
}

// listFiles returns the finished files of one recording, by name.
func listFiles(root *os.Root, rec string) []fileEntry {
	entries, err := readDir(root, rec)
	files := []fileEntry{}
	if err != nil {
		return files
	}
	for _, e := range entries {
		st, ok := finished(root, rec, e.Name())
		if !ok {
			continue
		}
		_, media, _ := archiveType(e.Name())
		files = append(files, fileEntry{Name: e.Name(), Size: st.Size(), Media: media,
			URL: "/archive/" + rec + "/" + e.Name()})
	}
	return files
}

// readDir lists a directory of root, sorted by name.
func readDir(root *os.Root, name string) ([]fs.DirEntry, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	return entries, err
}
