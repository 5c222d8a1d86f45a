package devtools

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// secret marks every file outside what may be served.
const secret = "SECRET-NOT-SERVED"

// archiveFixture builds archive_dir with finished, unfinished, odd and
// symlinked entries, plus secret files outside it. It returns archive_dir.
func archiveFixture(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	dir, outside := filepath.Join(base, "archive"), filepath.Join(base, "outside")
	files := map[string]string{
		"archive/R1/archive-C1.webm":    "webm-media-0123456789",
		"archive/R1/archive-C1.json":    `{"connection_id":"C1"}`,
		"archive/R1/archive-C2.mp4":     "unfinished mp4 " + secret, // no JSON yet
		"archive/R1/report-R1.json":     `{"recording_id":"R1"}`,
		"archive/R1/notes.txt":          secret,
		"archive/R1/.hidden.json":       secret,
		"archive/R1/link.json":          `{}`,
		"archive/R3/archive-C3.mp4":     "mp4-media",
		"archive/R3/archive-C3.json":    `{}`,
		"archive/stray.json":            secret, // not in a recording directory
		"outside/secret.json":           secret,
		"outside/R9/archive-C9.webm":    secret,
		"outside/R9/archive-C9.json":    secret,
		"archive_tmp/R1~archive-C4.mp4": secret,
	}
	for name, body := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"archive/R1/link.webm":  filepath.Join(outside, "secret.json"),
		"archive/R1/rel.json":   "../../outside/secret.json",
		"archive/R2":            filepath.Join(outside, "R9"),
		"archive/R1/abs.json":   "/etc/passwd",
		"archive/R1/loop.json":  "loop.json",
		"archive/R1/dir.json":   ".",
		"archive/R1/inner.json": "../stray.json", // inside archive_dir, still a symlink
	} {
		if err := os.Symlink(target, filepath.Join(base, link)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestListRecordings(t *testing.T) {
	h := newTestHandler(t, archiveFixture(t), false)
	w := get(h, http.MethodGet, "/recordings.json", "127.0.0.1:1", nil)
	var list []recordingEntry
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != http.StatusOK {
		t.Fatalf("recordings.json: %d %v %s", w.Code, err, w.Body)
	}
	got := map[string][]string{}
	for _, rec := range list {
		for _, f := range rec.Files {
			got[rec.RecordingID] = append(got[rec.RecordingID], f.Name)
			if f.URL != "/archive/"+rec.RecordingID+"/"+f.Name || f.Media != !strings.HasSuffix(f.Name, ".json") {
				t.Errorf("entry %+v", f)
			}
		}
	}
	want := map[string][]string{
		"R1": {"archive-C1.json", "archive-C1.webm", "link.json", "report-R1.json"},
		"R3": {"archive-C3.json", "archive-C3.mp4"},
	}
	if len(got) != len(want) || !slices.Equal(got["R1"], want["R1"]) || !slices.Equal(got["R3"], want["R3"]) {
		t.Errorf("listed %v, want %v", got, want)
	}
	if strings.Contains(w.Body.String(), "R2") {
		t.Errorf("a symlinked directory is listed: %s", w.Body)
	}
}

func TestListWithoutArchiveDir(t *testing.T) {
	h := newTestHandler(t, filepath.Join(t.TempDir(), "not-yet"), false)
	w := get(h, http.MethodGet, "/recordings.json", "127.0.0.1:1", nil)
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("missing archive_dir: %d %s", w.Code, w.Body)
	}
}

func TestServeFinishedFiles(t *testing.T) {
	h := newTestHandler(t, archiveFixture(t), false)
	for _, tc := range []struct {
		path, contentType, body string
	}{
		{"/archive/R1/archive-C1.webm", "video/webm", "webm-media-0123456789"},
		{"/archive/R1/archive-C1.json", "application/json", `{"connection_id":"C1"}`},
		{"/archive/R1/report-R1.json", "application/json", `{"recording_id":"R1"}`},
		{"/archive/R3/archive-C3.mp4", "video/mp4", "mp4-media"},
	} {
		w := get(h, http.MethodGet, tc.path, "127.0.0.1:1", nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tc.contentType || w.Body.String() != tc.body {
			t.Errorf("GET %s: %d %q %q", tc.path, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
	}
	if w := get(h, http.MethodHead, "/archive/R3/archive-C3.mp4", "127.0.0.1:1", nil); w.Code != http.StatusOK ||
		w.Header().Get("Content-Length") != "9" {
		t.Errorf("HEAD: %d length %q", w.Code, w.Header().Get("Content-Length"))
	}
}

func TestServeRange(t *testing.T) {
	h := newTestHandler(t, archiveFixture(t), false)
	for _, tc := range []struct {
		rng, body, contentRange string
		code                    int
	}{
		{"bytes=0-3", "webm", "bytes 0-3/21", http.StatusPartialContent},
		{"bytes=11-", "0123456789", "bytes 11-20/21", http.StatusPartialContent},
		{"bytes=-4", "6789", "bytes 17-20/21", http.StatusPartialContent},
		{"bytes=50-60", "", "bytes */21", http.StatusRequestedRangeNotSatisfiable},
	} {
		w := get(h, http.MethodGet, "/archive/R1/archive-C1.webm", "127.0.0.1:1", http.Header{"Range": {tc.rng}})
		if w.Code != tc.code || w.Header().Get("Content-Range") != tc.contentRange ||
			(tc.code == http.StatusPartialContent && w.Body.String() != tc.body) {
			t.Errorf("Range %s: %d %q %q", tc.rng, w.Code, w.Header().Get("Content-Range"), w.Body)
		}
	}
	if w := get(h, http.MethodGet, "/archive/R1/archive-C1.webm", "127.0.0.1:1", nil); w.Header().Get("Accept-Ranges") != "bytes" {
		t.Errorf("Accept-Ranges %q", w.Header().Get("Accept-Ranges"))
	}
}

// TestPathTraversal asks for everything that must not be served.
func TestPathTraversal(t *testing.T) {
	h := newTestHandler(t, archiveFixture(t), false)
	for _, path := range []string{
		"/archive/R1/archive-C2.mp4",            // unfinished: no JSON
		"/archive/R1/notes.txt",                 // not a served type
		"/archive/R1/.hidden.json",              // hidden name
		"/archive/R1/link.webm",                 // symlink to outside
		"/archive/R1/rel.json",                  // relative symlink to outside
		"/archive/R1/abs.json",                  // absolute symlink
		"/archive/R1/loop.json",                 // symlink loop
		"/archive/R1/dir.json",                  // symlink to a directory
		"/archive/R1/inner.json",                // symlink inside archive_dir
		"/archive/R2/archive-C9.webm",           // symlinked recording directory
		"/archive/R2/archive-C9.json",           //
		"/archive/../outside/secret.json",       // cleaned by the mux, never served
		"/archive/R1/../../outside/secret.json", //
		"/archive/R1/..%2F..%2Foutside%2Fsecret.json",
		"/archive/..%2Foutside/secret.json",
		"/archive/%2E%2E/secret.json",
		"/archive/R1/%2E%2E",
		"/archive/%2Fetc/passwd",
		"/archive/R1/%2Fetc%2Fpasswd",
		"/archive/R1/..%5C..%5Coutside%5Csecret.json",
		"/archive/R1/archive-C1.webm%00.json",
		"/archive/stray.json",
		"/archive/R1",
		"/archive/R1/",
		"/archive/R1/archive-C1.webm/x",
		"/archive/" + url.PathEscape(filepath.Join(os.TempDir(), "x.json")),
	} {
		w := get(h, http.MethodGet, path, "127.0.0.1:1", nil)
		if w.Code == http.StatusOK || strings.Contains(w.Body.String(), secret) || strings.Contains(w.Body.String(), "root:") {
			t.Errorf("GET %s: %d %q", path, w.Code, w.Body)
		}
	}
}

func TestSafeName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"archive-C1.webm", true}, {"split-archive-C_0001.mp4", true}, {"R1", true},
		{"", false}, {".", false}, {"..", false}, {".json", false}, {"a/b", false}, {`a\b`, false},
		{"/etc", false}, {"a\x00b", false}, {"a b", false}, {"é.json", false}, {strings.Repeat("a", 256), false},
	} {
		if got := safeName(tc.name); got != tc.ok {
			t.Errorf("safeName(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

// FuzzArchivePath serves arbitrary paths under /archive/: nothing outside
// the finished files may ever come back.
func FuzzArchivePath(f *testing.F) {
	for _, s := range []string{"R1/archive-C1.webm", "../outside/secret.json", "R2/archive-C9.json", "R1/link.webm", "%2e%2e/x", "R1/archive-C2.mp4"} {
		f.Add(s)
	}
	dir := archiveFixture(f)
	f.Fuzz(func(t *testing.T, rest string) {
		u, err := url.Parse("/archive/" + rest)
		if err != nil {
			return
		}
		h := newTestHandler(t, dir, false)
		r := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, RemoteAddr: "127.0.0.1:1", Host: "x"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), secret) {
			t.Fatalf("%q served a secret: %d", rest, w.Code)
		}
	})
}
