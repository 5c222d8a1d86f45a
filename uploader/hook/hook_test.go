package hook

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiroku-sfu/kiroku/uploader/scan"
)

type call struct {
	header http.Header
	body   map[string]any
}

// receiver records calls and answers with the statuses given, then 200.
type receiver struct {
	mu       sync.Mutex
	calls    []call
	statuses []int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(req.Body).Decode(&body)
	r.mu.Lock()
	r.calls = append(r.calls, call{header: req.Header.Clone(), body: body})
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	if status == http.StatusFound {
		http.Redirect(w, req, "/elsewhere", status)
		return
	}
	w.WriteHeader(status)
}

func (r *receiver) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func sender(t *testing.T, url string, edit func(*Config)) *Sender {
	t.Helper()
	cfg := DefaultConfig()
	cfg.URL, cfg.RetryInterval, cfg.MaxAttempts = url, time.Millisecond, 3
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSendPayloads(t *testing.T) {
	meta := scan.Meta{RecordingID: "R", ChannelID: "ch", SessionID: "S", ClientID: "cl", ConnectionID: "C",
		RecordingMetadata: json.RawMessage(`{"k":"v"}`)}
	tests := []struct {
		kind     scan.Kind
		typ      string
		fields   []string
		exclude  bool
		metadata bool
		strays   []string
	}{
		{scan.Archive, "archive.uploaded", []string{"channel_id", "client_id", "connection_id", "file_url", "filename", "id",
			"metadata_file_url", "metadata_filename", "recording_id", "session_id", "timestamp", "type"}, false, false, nil},
		{scan.Split, "split-archive.uploaded", []string{"channel_id", "client_id", "connection_id", "file_url", "filename", "id",
			"metadata_file_url", "metadata_filename", "recording_id", "session_id", "timestamp", "type"}, false, false, nil},
		{scan.SplitEnd, "split-archive-end.uploaded", []string{"channel_id", "client_id", "connection_id", "file_url",
			"filename", "id", "recording_id", "session_id", "timestamp", "type"}, false, false, nil},
		{scan.Report, "recording-report.uploaded", []string{"channel_id", "file_url", "filename", "id",
			"recording_id", "recording_metadata", "timestamp", "type"}, false, true, nil},
		{scan.Report, "recording-report.uploaded", []string{"channel_id", "file_url", "filename", "id",
			"recording_id", "timestamp", "type"}, true, false, nil},
		{scan.Report, "recording-report.uploaded", []string{"channel_id", "file_url", "filename", "id",
			"recording_id", "recording_metadata", "stray_files", "timestamp", "type"}, false, true, []string{"R/x.webm"}},
		{scan.Archive, "archive.uploaded", []string{"channel_id", "client_id", "connection_id", "file_url", "filename", "id",
			"metadata_file_url", "metadata_filename", "recording_id", "session_id", "timestamp", "type"}, false, false,
			[]string{"R/x.webm"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			rec := &receiver{}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			s := sender(t, srv.URL, func(c *Config) { c.ExcludeRecordingMetadata = tt.exclude })
			ev := Event{Kind: tt.kind, Meta: meta, FileName: "R/f", FileURL: "s3://b/R/f",
				MetadataFileName: "R/f.json", MetadataFileURL: "s3://b/R/f.json", StrayFiles: tt.strays}
			if err := s.Send(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			calls := rec.snapshot()
			if len(calls) != 1 {
				t.Fatalf("%d calls", len(calls))
			}
			c := calls[0]
			if got := c.header.Get("sora-archive-uploader-webhook-type"); got != tt.typ {
				t.Errorf("type header %q", got)
			}
			if !reflect.DeepEqual(keysOf(c.body), tt.fields) {
				t.Errorf("fields %v, want %v", keysOf(c.body), tt.fields)
			}
			if c.body["type"] != tt.typ || c.body["timestamp"] != "2026-01-02T03:04:05Z" || c.body["file_url"] != "s3://b/R/f" {
				t.Errorf("body %v", c.body)
			}
			if id, _ := c.body["id"].(string); len(id) != 26 || strings.Trim(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ") != "" {
				t.Errorf("id %q is not 26 base32 characters", id)
			}
			if tt.kind == scan.Report && tt.strays != nil && !reflect.DeepEqual(c.body["stray_files"], []any{"R/x.webm"}) {
				t.Errorf("stray_files %v", c.body["stray_files"])
			}
			if tt.metadata && !reflect.DeepEqual(c.body["recording_metadata"], map[string]any{"k": "v"}) {
				t.Errorf("recording_metadata %v", c.body["recording_metadata"])
			}
		})
	}
}

func TestSendRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		calls    int
		wantErr  bool
	}{
		{"ok", nil, 1, false},
		{"retry then ok", []int{500, 503}, 3, false},
		{"201 is a failure", []int{201, 201, 201}, 3, true},
		{"redirect not followed", []int{302, 302, 302}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &receiver{statuses: tt.statuses}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			s := sender(t, srv.URL, nil)
			err := s.Send(context.Background(), Event{Kind: scan.Archive, FileName: "R/f"})
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrStatus)) {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			calls := rec.snapshot()
			if len(calls) != tt.calls {
				t.Fatalf("%d calls, want %d", len(calls), tt.calls)
			}
			if calls[0].body["id"] != calls[len(calls)-1].body["id"] {
				t.Error("retries changed the event id")
			}
		})
	}
}

func TestSendDisabledAndCancelled(t *testing.T) {
	s := sender(t, "", nil)
	if s.Enabled() || s.Send(context.Background(), Event{}) != nil {
		t.Fatal("a sender without URL sent or failed")
	}
	rec := &receiver{statuses: []int{500, 500, 500}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	s = sender(t, srv.URL, func(c *Config) { c.RetryInterval = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Send(ctx, Event{Kind: scan.Report}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

func TestBasicAuthTLSAndHealth(t *testing.T) {
	rec := &receiver{}
	srv := httptest.NewTLSServer(rec)
	defer srv.Close()
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caPath, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sender(t, srv.URL, func(c *Config) {
		c.CACertPath, c.BasicAuthUsername, c.BasicAuthPassword = caPath, "u", "p"
		c.HealthCheckURL = srv.URL + "/health"
	})
	if err := s.HealthCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Event{Kind: scan.SplitEnd}); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.snapshot() {
		if c.header.Get("Authorization") != "Basic dTpw" {
			t.Errorf("Authorization %q", c.header.Get("Authorization"))
		}
	}
	plain := sender(t, srv.URL, func(c *Config) { c.MaxAttempts = 1 })
	if err := plain.Send(context.Background(), Event{Kind: scan.SplitEnd}); err == nil {
		t.Error("an unknown CA was trusted")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"defaults", func(*Config) {}, ""},
		{"bad url", func(c *Config) { c.URL = "ftp://x" }, "webhook_endpoint_url"},
		{"bad health url", func(c *Config) { c.HealthCheckURL = "nohost" }, "webhook_endpoint_health_check_url"},
		{"no header", func(c *Config) { c.TypeHeader = "" }, "webhook_type_header_name"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "webhook_request_timeout_s"},
		{"no attempts", func(c *Config) { c.MaxAttempts = 0 }, "webhook_max_attempts"},
		{"half auth", func(c *Config) { c.BasicAuthUsername = "u" }, "go together"},
		{"half client cert", func(c *Config) { c.FullchainPath = "/x" }, "webhook_tls_privkey_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}
