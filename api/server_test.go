package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeBackend records calls and answers from a small in-memory state.
type fakeBackend struct {
	mode     Mode
	conns    []Connection
	calls    []string
	lastData string
}

func (f *fakeBackend) Mode() Mode { return f.mode }
func (f *fakeBackend) SetMode(m Mode) error {
	f.mode = m
	return nil
}
func (f *fakeBackend) Connections(channelID string) []Connection {
	var out []Connection
	for _, c := range f.conns {
		if channelID == "" || c.ChannelID == channelID {
			out = append(out, c)
		}
	}
	return out
}
func (f *fakeBackend) Sessions() []Session { return nil }
func (f *fakeBackend) Session(channelID, _ string) (Session, error) {
	if channelID != "room" {
		return Session{}, fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
	}
	return Session{ChannelID: "room", SessionID: "S1", Connections: f.Connections("room")}, nil
}
func (f *fakeBackend) find(channelID, connectionID string) error {
	for _, c := range f.conns {
		if c.ChannelID == channelID && (connectionID == "" || c.ConnectionID == connectionID) {
			return nil
		}
	}
	return fmt.Errorf("connection %s/%s: %w", channelID, connectionID, ErrNotFound)
}
func (f *fakeBackend) DisconnectChannel(_ context.Context, ch, reason string) error {
	f.calls = append(f.calls, "DisconnectChannel "+ch+" "+reason)
	return f.find(ch, "")
}
func (f *fakeBackend) DisconnectConnection(_ context.Context, ch, id, reason string) error {
	f.calls = append(f.calls, "DisconnectConnection "+ch+" "+id+" "+reason)
	return f.find(ch, id)
}
func (f *fakeBackend) DisconnectClient(_ context.Context, ch, client, _ string) error {
	f.calls = append(f.calls, "DisconnectClient "+ch+" "+client)
	return f.find(ch, "")
}
func (f *fakeBackend) PushChannel(ch string, data json.RawMessage) error {
	f.lastData = string(data)
	return f.find(ch, "")
}
func (f *fakeBackend) PushConnection(ch, id string, data json.RawMessage) error {
	f.lastData = string(data)
	return f.find(ch, id)
}
func (f *fakeBackend) RequestSimulcastRID(ch, receiver, sender, rid string) error {
	f.calls = append(f.calls, "RequestSimulcastRID "+ch+" "+receiver+" "+sender+" "+rid)
	switch {
	case rid != "r0" && rid != "r1" && rid != "r2":
		return fmt.Errorf("rid %q: %w", rid, ErrInvalid)
	case receiver != "C1":
		return fmt.Errorf("receiver %s: %w", receiver, ErrNotFound)
	}
	return nil
}

func (f *fakeBackend) RequestKeyFrame(ch, id string) error {
	f.calls = append(f.calls, "RequestKeyFrame "+ch+" "+id)
	return f.find(ch, id)
}
func (f *fakeBackend) TerminateSession(_ context.Context, ch, sid string) error {
	if sid != "S1" {
		return fmt.Errorf("session %s: %w", sid, ErrNotFound)
	}
	return f.find(ch, "")
}
func (f *fakeBackend) StatsReport() map[string]any {
	return map[string]any{"total_ongoing_connections": len(f.conns)}
}

type fakeRecorder struct{ recording bool }

func (r *fakeRecorder) StartRecording(_ context.Context, req StartRecordingRequest) (Recording, error) {
	if r.recording {
		return Recording{}, fmt.Errorf("channel %s is already recording: %w", req.ChannelID, ErrConflict)
	}
	r.recording = true
	return Recording{RecordingID: "R1", Format: "mp4"}, nil
}
func (r *fakeRecorder) StopRecording(context.Context, string) (Recording, error) {
	if !r.recording {
		return Recording{}, fmt.Errorf("not recording: %w", ErrConflict)
	}
	r.recording = false
	return Recording{RecordingID: "R1"}, nil
}

func newTestServer(t *testing.T) (*httptest.Server, *fakeBackend) {
	t.Helper()
	b := &fakeBackend{mode: ModeNormal, conns: []Connection{
		{ChannelID: "room", ConnectionID: "C1", ClientID: "alice", Role: "sendrecv"},
		{ChannelID: "room", ConnectionID: "C2", ClientID: "bob", Role: "recvonly"},
		{ChannelID: "other", ConnectionID: "C3", Role: "sendonly"},
	}}
	s, err := NewServer(b, &fakeRecorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, b
}

func call(t *testing.T, url, target, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if target != "" {
		req.Header.Set("X-Sora-Target", target)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEveryMethod(t *testing.T) {
	srv, b := newTestServer(t)
	for _, tc := range []struct {
		target, body string
		status       int
		want         string // substring of the reply
	}{
		{"Sora_20211215.GetMode", "", 200, `{"mode":"normal"}`},
		{"Sora_20211215.ChangeMode", `{"mode":"block_new_session"}`, 200, `{"mode":"block_new_session"}`},
		{"Sora_20211215.ChangeMode", `{"mode":"sleepy"}`, 400, `"error_type":"invalid_request"`},
		{"Sora_20211215.ChangeMode", `{"mode":`, 400, `not the expected JSON`},
		{"Sora_20201013.ListConnections", "", 200, `"connection_id":"C3"`},
		{"Sora_20201013.ListChannelConnections", `{"channel_id":"room"}`, 200, `"connection_id":"C2"`},
		{"Sora_20201013.ListChannelConnections", `{"channel_id":"empty"}`, 200, `[]`},
		{"Sora_20201013.ListChannelConnections", `{}`, 400, `channel_id is required`},
		{"Sora_20231220.GetSession", `{"channel_id":"room"}`, 200, `"session_id":"S1"`},
		{"Sora_20231220.GetSession", `{"channel_id":"nope"}`, 404, `"error_type":"not_found"`},
		{"Sora_20231220.ListSessions", ``, 200, `[]`},
		{"Sora_20151104.DisconnectChannel", `{"channel_id":"room","reason":{"type":"normal"}}`, 200, `"channel_id":"room"`},
		{"Sora_20151104.DisconnectConnection", `{"channel_id":"room","connection_id":"C1","reason":"bye"}`, 200, `"connection_id":"C1"`},
		{"Sora_20151104.DisconnectConnection", `{"channel_id":"room","connection_id":"C9"}`, 404, `not_found`},
		{"Sora_20151104.DisconnectConnection", `{"channel_id":"room"}`, 400, `connection_id is required`},
		{"Sora_20151104.DisconnectClient", `{"channel_id":"room","client_id":"alice"}`, 200, `"client_id":"alice"`},
		{"Sora_20151104.DisconnectClient", `{"channel_id":"room"}`, 400, `client_id is required`},
		{"Sora_20160711.PushChannel", `{"channel_id":"room","data":{"n":1}}`, 200, `"channel_id":"room"`},
		{"Sora_20160711.PushChannel", `{"channel_id":"room"}`, 400, `data is required`},
		{"Sora_20160711.PushConnection", `{"channel_id":"room","connection_id":"C2","data":{"n":2}}`, 200, `"connection_id":"C2"`},
		{"Sora_20160711.PushConnection", `{"channel_id":"room","connection_id":"C2","data":null}`, 400, `data is required`},
		{"Sora_20241218.RequestKeyFrame", `{"channel_id":"room","connection_id":"C1"}`, 200, `"connection_id":"C1"`},
		{"Sora_20241218.RequestKeyFrame", `{"channel_id":"room","connection_id":"C7"}`, 404, `not_found`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","receiver_connection_id":"C1","sender_connection_id":"C2","rid":"r2"}`, 200, `"sender_connection_id":"C2"`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","receiver_connection_id":"C1","rid":"r1"}`, 200, `"rid":"r1"`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","receiver_connection_id":"C1","rid":"r9"}`, 400, `invalid_request`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","receiver_connection_id":"C5","rid":"r0"}`, 404, `not_found`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","rid":"r0"}`, 400, `receiver_connection_id is required`},
		{"Sora_20251217.RequestSimulcastRid", `{"channel_id":"room","receiver_connection_id":"C1"}`, 400, `rid is required`},
		{"Sora_20230628.TerminateSession", `{"channel_id":"room","session_id":"S1"}`, 200, `"session_id":"S1"`},
		{"Sora_20230628.TerminateSession", `{"channel_id":"room","session_id":"S2"}`, 404, `not_found`},
		{"Sora_20230628.TerminateSession", `{"channel_id":"room"}`, 400, `session_id is required`},
		{"Sora_20171010.GetStatsReport", ``, 200, `"total_ongoing_connections":3`},
		{"Sora_20231220.StartRecording", `{"channel_id":"room"}`, 200, `"recording_id":"R1"`},
		{"Sora_20231220.StartRecording", `{"channel_id":"room"}`, 409, `"error_type":"conflict"`},
		{"Sora_20231220.StartRecording", `{}`, 400, `channel_id is required`},
		{"Sora_20231220.StopRecording", `{"channel_id":"room"}`, 200, `"recording_id":"R1"`},
		{"Sora_20231220.StopRecording", `[1,2]`, 400, `not the expected JSON`},
		{"Sora_20990101.Nope", `{}`, 400, `unknown x-sora-target`},
		{"", `{}`, 400, `unknown x-sora-target`},
	} {
		status, body := call(t, srv.URL, tc.target, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s\nwant %d containing %s", tc.target, tc.body, status, body, tc.status, tc.want)
		}
		if status != 200 {
			var e map[string]string
			if json.Unmarshal([]byte(body), &e) != nil || e["error_type"] == "" || e["error_reason"] == "" {
				t.Errorf("%s: error body %q lacks error_type/error_reason", tc.target, body)
			}
		}
	}
	if b.mode != ModeBlockNewSession {
		t.Errorf("mode = %s", b.mode)
	}
	if b.lastData != `{"n":2}` {
		t.Errorf("push data = %s", b.lastData)
	}
	wantCalls := []string{"DisconnectChannel room {\"type\":\"normal\"}", "DisconnectConnection room C1 bye"}
	for i, w := range wantCalls {
		if i >= len(b.calls) || b.calls[i] != w {
			t.Errorf("call %d = %v, want %q", i, b.calls, w)
		}
	}
}

func TestCORSAndMethods(t *testing.T) {
	s, err := New(Config{CORSAllowOrigins: []string{"http://127.0.0.1:8080"}}, &fakeBackend{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodOptions, srv.URL, nil)
	req.Header.Set("Origin", "http://127.0.0.1:8080")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8080" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "x-sora-target") ||
		resp.Header.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status = %d", resp.StatusCode)
	}
	status, _ := call(t, srv.URL, "Sora_20211215.GetMode", strings.Repeat(" ", MaxBodyBytes+1))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body status = %d", status)
	}
}

func TestRecordingDisabledWithoutRecorder(t *testing.T) {
	s, err := NewServer(&fakeBackend{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	status, body := call(t, srv.URL, "Sora_20231220.StartRecording", `{"channel_id":"x"}`)
	if status != 400 || !strings.Contains(body, "not available") {
		t.Errorf("%d %s", status, body)
	}
	if _, err := NewServer(nil, nil, nil); err == nil {
		t.Error("nil backend accepted")
	}
}

func FuzzServe(f *testing.F) {
	f.Add("Sora_20211215.ChangeMode", `{"mode":"normal"}`)
	f.Add("Sora_20160711.PushConnection", `{"channel_id":"room","connection_id":"C2","data":{}}`)
	f.Add("Sora_20231220.StartRecording", `{"channel_id":"room","expire_time":-1}`)
	f.Fuzz(func(t *testing.T, target, body string) {
		s, _ := NewServer(&fakeBackend{mode: ModeNormal}, &fakeRecorder{}, nil)
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("x-sora-target", target)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("reply is not JSON: %q", w.Body.String())
		}
	})
}
