package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, 2, "unexpected arguments"},
		{"zero duration", []string{"-duration", "0s"}, 2, "non-positive -duration"},
		{"http url", []string{"-url", "http://127.0.0.1:1/signaling"}, 2, "not a ws://"},
		{"no publishers", []string{"-publishers", "0"}, 2, "at least one publisher"},
		{"bad local address", []string{"-url", "ws://127.0.0.1:1/signaling", "-local", "example"}, 2, "not an IPv4 address"},
		{"nothing listening", []string{"-url", "ws://127.0.0.1:1/signaling", "-duration", "1s"}, 1, "dial"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d mentioning %q", code, stderr.String(), tc.code, tc.want)
			}
		})
	}
}
