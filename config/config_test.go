package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type serverConf struct {
	Port     uint16        `conf:"signaling_listen_port"`
	Loopback bool          `conf:"api_loopback_address_only"`
	Name     string        `conf:"node_name"`
	Timeout  time.Duration `conf:"webhook_timeout"`
	Workers  int           `conf:"upload_workers"`
	Rate     float64       `conf:"upload_file_rate_limit_mbps"`
	Hosts    []string      `conf:"hosts"`
	Untagged string
}

type archiveConf struct {
	Dir string `conf:"archive_dir"`
}

func TestDecodeAssignsEveryType(t *testing.T) {
	const file = `# comment
signaling_listen_port = 5000

api_loopback_address_only = true
node_name = "kiroku node # one"   # trailing comment
webhook_timeout = 20 s
upload_workers = 4
upload_file_rate_limit_mbps = 12.5
hosts = a, b ,c
archive_dir = /var/lib/kiroku/archive
`
	var s serverConf
	var a archiveConf
	if err := Decode("t.conf", strings.NewReader(file), &s, &a); err != nil {
		t.Fatal(err)
	}
	want := serverConf{Port: 5000, Loopback: true, Name: "kiroku node # one", Timeout: 20 * time.Second,
		Workers: 4, Rate: 12.5, Hosts: []string{"a", "b", "c"}}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("server = %+v, want %+v", s, want)
	}
	if a.Dir != "/var/lib/kiroku/archive" {
		t.Errorf("archive_dir = %q", a.Dir)
	}
}

func TestDecodeKeepsDefaultsForAbsentKeys(t *testing.T) {
	s := serverConf{Port: 1234, Name: "default"}
	if err := Decode("t.conf", strings.NewReader("upload_workers = 2\n"), &s); err != nil {
		t.Fatal(err)
	}
	if s.Port != 1234 || s.Name != "default" || s.Workers != 2 {
		t.Errorf("got %+v", s)
	}
}

func TestDecodeErrorsNameFileLineAndKey(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
		line             int
	}{
		{"unknown key", "x = 1\nnope = 2\n", "t.conf:1: x: unknown key", 1},
		{"bad bool", "api_loopback_address_only = yes\n", "t.conf:1: api_loopback_address_only: want true or false", 1},
		{"bad int", "\nupload_workers = four\n", "t.conf:2: upload_workers: want an integer", 2},
		{"port range", "signaling_listen_port = 70000\n", "t.conf:1: signaling_listen_port: want an integer from 0 to 65535", 1},
		{"bad duration unit", "webhook_timeout = 3 days\n", `unknown unit "days"`, 1},
		{"duplicate", "upload_workers = 1\nupload_workers = 2\n", "t.conf:2: upload_workers: already set at line 1", 2},
		{"no equals", "upload_workers 1\n", "t.conf:1: expected `key = value`", 1},
		{"unterminated quote", "node_name = \"abc\n", "unterminated quoted value", 1},
		{"text after quote", "node_name = \"abc\" def\n", "unexpected text", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s serverConf
			err := Decode("t.conf", strings.NewReader(tc.file), &s)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ce.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q (line %d), want %q at line %d", err, ce.Line, tc.want, tc.line)
			}
		})
	}
}

func TestDecodeRejectsBadTargets(t *testing.T) {
	var s serverConf
	if err := Decode("t.conf", strings.NewReader(""), s); err == nil {
		t.Error("non-pointer target accepted")
	}
	type clash struct {
		A string `conf:"node_name"`
	}
	if err := Decode("t.conf", strings.NewReader(""), &s, &clash{}); err == nil {
		t.Error("two fields with one key accepted")
	}
	type odd struct {
		M map[string]string `conf:"m"`
	}
	if err := Decode("t.conf", strings.NewReader(""), &odd{}); err == nil {
		t.Error("unsupported field type accepted")
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"20 s", 20 * time.Second, true},
		{"20s", 20 * time.Second, true},
		{"500 ms", 500 * time.Millisecond, true},
		{"5 min", 5 * time.Minute, true},
		{"2 h", 2 * time.Hour, true},
		{"30", 30 * time.Second, true},
		{"", 0, false},
		{"-1 s", 0, false},
		{"1.5 s", 0, false},
		{"10 fortnights", 0, false},
		{"99999999999999999999 h", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestLoadReadsFileAndReportsMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sora.conf")
	if err := os.WriteFile(path, []byte("upload_workers = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var s serverConf
	if err := Load(path, &s); err != nil || s.Workers != 7 {
		t.Fatalf("Load = %v, workers %d", err, s.Workers)
	}
	if err := Load(filepath.Join(dir, "missing.conf"), &s); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("a = 1\n")
	f.Add("node_name = \"x\" # c\nwebhook_timeout = 5 min\n")
	f.Add("hosts = ,,a,\n=\n\"")
	f.Fuzz(func(t *testing.T, file string) {
		var s serverConf
		_ = Decode("f.conf", strings.NewReader(file), &s)
	})
}
