package scan

import (
	"path"
	"strings"
)

// Refs are the files a report references. Its archives entries name their
// single file and JSON (filename, metadata_filename) and, with
// split_last_index, every split file and the split end of their
// connection. failed_archives name connections whose file was not
// written: no JSON will come for them, so they reference nothing.
type Refs struct {
	names      map[string]bool // base names
	splitConns map[string]bool // connections whose split files are referenced
}

// Refs returns what the report m references.
func (m Meta) Refs() Refs {
	r := Refs{names: map[string]bool{}, splitConns: map[string]bool{}}
	for _, a := range m.Archives {
		for _, f := range []string{a.Filename, a.MetadataFilename} {
			if f != "" {
				r.names[path.Base(f)] = true
			}
		}
		if a.SplitLastIndex != "" && a.ConnectionID != "" {
			r.splitConns[a.ConnectionID] = true
		}
	}
	return r
}

// Has reports whether the report references the file name.
func (r Refs) Has(name string) bool {
	if r.names[name] {
		return true
	}
	if cid, ok := strings.CutPrefix(name, "split-archive-end-"); ok {
		return r.splitConns[strings.TrimSuffix(cid, ".json")]
	}
	if rest, ok := strings.CutPrefix(name, "split-archive-"); ok {
		i := strings.LastIndexByte(rest, '_')
		return i > 0 && r.splitConns[rest[:i]]
	}
	return false
}

// isMedia reports whether name is a media file the recorder writes.
func isMedia(name string) bool {
	for _, ext := range mediaExts {
		if strings.HasSuffix(name, ext) && len(name) > len(ext) {
			return true
		}
	}
	return false
}

// stray reports whether name is a media file whose JSON never comes: no
// same-stem JSON is present or being written (a temporary name holding
// "<stem>.json") and the report does not reference it.
func stray(name string, d dirNames, refs Refs) bool {
	if !isMedia(name) || refs.Has(name) {
		return false
	}
	jsonName := name[:strings.LastIndexByte(name, '.')] + ".json"
	if d.present[jsonName] {
		return false
	}
	for _, t := range d.temps {
		if strings.Contains(t, jsonName) {
			return false
		}
	}
	return true
}

// Strays lists, sorted, the media files among names that the report with
// refs leaves behind: no JSON beside them and not referenced. They never
// hold the report back and are never uploaded.
func Strays(names []string, refs Refs) []string {
	d := newDirNames(names)
	var out []string
	for _, n := range d.sorted {
		if stray(n, d, refs) {
			out = append(out, n)
		}
	}
	return out
}

// reportReady reports whether every file a report waits for is done:
// every other file present, strays excepted.
func reportReady(d dirNames, done func(string) bool, refs Refs) bool {
	for _, n := range d.sorted {
		if kind, _, ok := Classify(n); ok && kind == Report {
			continue
		}
		if !done(n) && !stray(n, d, refs) {
			return false
		}
	}
	return true
}
