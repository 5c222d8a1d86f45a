package signaling

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kiroku-sfu/kiroku/sfu"
	"github.com/kiroku-sfu/kiroku/webhooks"
)

// TestSpotlightWebhookFields: the auth webhook request carries the
// connect's spotlight fields; the session payload says spotlight.
func TestSpotlightWebhookFields(t *testing.T) {
	p := newAuthPayload(webhooks.Common{}, AuthRequest{ChannelID: "c", Role: sfu.SendRecv,
		Spotlight: SpotlightOptions{On: true, Number: 2, FocusRID: "r1", UnfocusRID: "none"}})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"spotlight":true`, `"spotlight_number":2`, `"spotlight_focus_rid":"r1"`, `"spotlight_unfocus_rid":"none"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("auth payload %s lacks %s", b, want)
		}
	}
	w := NewWebhooks(newHookClient(t, "http://127.0.0.1:1", false), WebhookOptions{})
	b, err = json.Marshal(w.sessionPayload("session.created", sfu.SessionInfo{ChannelID: "c", Spotlight: true}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"spotlight":true`) {
		t.Errorf("session payload %s lacks spotlight", b)
	}
}

// TestSpotlightAuthOverride: the auth webhook reply's spotlight fields
// replace the connect's; bad ones deny the connection.
func TestSpotlightAuthOverride(t *testing.T) {
	on, two, nine, r1, bad := true, 2, 9, "r1", "r5"
	res, err := authResult(webhooks.AuthReply{Allowed: true, Spotlight: &on, SpotlightNumber: &two, SpotlightFocusRID: &r1})
	if err != nil {
		t.Fatal(err)
	}
	m := connectMessage{SpotlightUnfocusRID: "none"}
	res.Spotlight.apply(&m)
	if !m.Spotlight || m.SpotlightNumber != 2 || m.SpotlightFocusRID != "r1" || m.SpotlightUnfocusRID != "none" {
		t.Fatalf("connect after the override: %+v", m)
	}
	for _, reply := range []webhooks.AuthReply{{Allowed: true, SpotlightNumber: &nine}, {Allowed: true, SpotlightUnfocusRID: &bad}} {
		if _, err := authResult(reply); err == nil {
			t.Errorf("reply %+v accepted", reply)
		}
	}
}
