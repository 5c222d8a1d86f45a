package api

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// fakeSpotlight is a backend with spotlight: channel "room" with
// connections C1 and C2.
type fakeSpotlight struct {
	fakeBackend
	calls []string
}

func (f *fakeSpotlight) check(channelID string, ids ...string) error {
	if channelID != "room" {
		return fmt.Errorf("channel %q: %w", channelID, ErrNotFound)
	}
	for _, id := range ids {
		if id != "" && id != "C1" && id != "C2" {
			return fmt.Errorf("connection %q: %w", id, ErrNotFound)
		}
	}
	return nil
}

func (f *fakeSpotlight) FocusSpotlight(ch, id string, fixed bool) error {
	f.calls = append(f.calls, fmt.Sprintf("focus %s %v", id, fixed))
	return f.check(ch, id)
}

func (f *fakeSpotlight) UnfocusSpotlight(ch, id string) error {
	f.calls = append(f.calls, "unfocus "+id)
	return f.check(ch, id)
}

func (f *fakeSpotlight) ChangeSpotlightNumber(ch string, n int) error {
	if n < 1 || n > 8 {
		return fmt.Errorf("number %d: %w", n, ErrInvalid)
	}
	f.calls = append(f.calls, fmt.Sprintf("number %d", n))
	return f.check(ch)
}

func (f *fakeSpotlight) RequestSpotlightRID(ch, recv, send, focus, unfocus string) error {
	f.calls = append(f.calls, "rid "+recv+" "+send+" "+focus+" "+unfocus)
	return f.check(ch, recv, send)
}

func (f *fakeSpotlight) ResetSpotlightRID(ch, recv string) error {
	f.calls = append(f.calls, "reset "+recv)
	return f.check(ch, recv)
}

// TestSpotlightMethods: each spotlight method's replies, 400 on bad
// bodies and 404 on unknown ids; a batch is checked whole before any
// item is applied.
func TestSpotlightMethods(t *testing.T) {
	b := &fakeSpotlight{}
	s, err := New(Config{}, b, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		target, body string
		status       int
		want         string
	}{
		{"Sora_20200807.FocusSpotlightFixed", `{"channel_id":"room","connection_id":"C1"}`, 200, `"connection_id":"C1"`},
		{"Sora_20200807.FocusSpotlight", `{"channel_id":"room","connection_id":"C2"}`, 200, `"connection_id":"C2"`},
		{"Sora_20200807.FocusSpotlight", `{"channel_id":"room","connection_id":"C9"}`, 404, `not_found`},
		{"Sora_20200807.FocusSpotlight", `{"channel_id":"nope","connection_id":"C1"}`, 404, `not_found`},
		{"Sora_20200807.FocusSpotlight", `{"channel_id":"room"}`, 400, `connection_id is required`},
		{"Sora_20200807.UnfocusSpotlight", `{"channel_id":"room","connection_id":"C1"}`, 200, `"connection_id":"C1"`},
		{"Sora_20200807.UnfocusSpotlight", `{"channel_id":"room","connection_id":"C9"}`, 404, `not_found`},
		{"Sora_20200807.ChangeSpotlightNumber", `{"channel_id":"room","spotlight_number":3}`, 200, `"spotlight_number":3`},
		{"Sora_20200807.ChangeSpotlightNumber", `{"channel_id":"room","spotlight_number":0}`, 400, `invalid_request`},
		{"Sora_20200807.ChangeSpotlightNumber", `{"channel_id":"room"}`, 400, `spotlight_number is required`},
		{"Sora_20211215.RequestSpotlightRid", `{"channel_id":"room","recv_connection_id":"C1","spotlight_focus_rid":"r1","spotlight_unfocus_rid":"none"}`, 200, `"spotlight_unfocus_rid":"none"`},
		{"Sora_20211215.RequestSpotlightRid", `{"channel_id":"room","recv_connection_id":"C1","spotlight_focus_rid":"r5"}`, 400, `invalid_request`},
		{"Sora_20211215.RequestSpotlightRid", `{"channel_id":"room","recv_connection_id":"C1"}`, 400, `is required`},
		{"Sora_20211215.RequestSpotlightRid", `{"channel_id":"room","recv_connection_id":"C9","spotlight_focus_rid":"r1"}`, 404, `not_found`},
		{"Sora_20211215.ResetSpotlightRid", `{"channel_id":"room","recv_connection_id":"C2"}`, 200, `"recv_connection_id":"C2"`},
		{"Sora_20211215.ResetSpotlightRid", `{"channel_id":"room","recv_connection_id":"C9"}`, 404, `not_found`},
		{"Sora_20211215.BatchRequestSpotlightRid", `{"channel_id":"room","item_list":[{"recv_connection_id":"C1","send_connection_id":"C2","spotlight_focus_rid":"r2"}]}`, 200, `"item_list"`},
		{"Sora_20211215.BatchRequestSpotlightRid", `{"channel_id":"room","item_list":[{"recv_connection_id":"C1","spotlight_focus_rid":"r2"},{"recv_connection_id":"C2","spotlight_focus_rid":"bad"}]}`, 400, `invalid_request`},
		{"Sora_20211215.BatchRequestSpotlightRid", `{"channel_id":"room","item_list":[]}`, 400, `item_list is required`},
		{"Sora_20211215.BatchRequestSpotlightRid", `{"channel_id":"room","item_list":[{"recv_connection_id":"C1","send_connection_id":"C7","spotlight_unfocus_rid":"r0"}]}`, 404, `not_found`},
	} {
		status, body := call(t, srv.URL, tc.target, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s\nwant %d containing %s", tc.target, tc.body, status, body, tc.status, tc.want)
		}
	}
	for _, c := range b.calls {
		if strings.Contains(c, "bad") {
			t.Errorf("an invalid batch item reached the backend: %q", c)
		}
	}
}

// TestSpotlightUnavailable: a backend without spotlight answers 400.
func TestSpotlightUnavailable(t *testing.T) {
	s, err := New(Config{}, &fakeBackend{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	status, body := call(t, srv.URL, "Sora_20200807.FocusSpotlight", `{"channel_id":"room","connection_id":"C1"}`)
	if status != 400 || !strings.Contains(body, "spotlight is not available") {
		t.Fatalf("%d %s, want 400 spotlight is not available", status, body)
	}
}
