package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
)

// destructive reports whether target ends connections, sessions or
// recordings or changes what the node accepts: such calls are logged with
// the caller's address whatever their outcome.
func destructive(target string) bool {
	_, method, _ := strings.Cut(target, ".")
	switch method {
	case "ChangeMode", "DisconnectChannel", "DisconnectConnection", "DisconnectClient",
		"TerminateSession", "StartRecording", "StopRecording":
		return true
	}
	return false
}

// auditFields are the ids a destructive call's body names.
type auditFields struct {
	ChannelID    string `json:"channel_id"`
	ConnectionID string `json:"connection_id"`
	ClientID     string `json:"client_id"`
	SessionID    string `json:"session_id"`
	Mode         string `json:"mode"`
}

// audit logs one destructive call: who asked (remote address, and the
// X-Forwarded-For header as sent, for calls through a proxy), what, and
// the HTTP status of the reply.
func audit(logger *slog.Logger, r *http.Request, target string, body []byte, status int) {
	var f auditFields
	_ = json.Unmarshal(body, &f) // a body that does not decode was refused; log what is known
	attrs := []any{"target", target, "remote_addr", r.RemoteAddr, "status", status}
	for _, kv := range [][2]string{{"origin", r.Header.Get("Origin")},
		{"x_forwarded_for", r.Header.Get("X-Forwarded-For")}, {"channel_id", f.ChannelID},
		{"connection_id", f.ConnectionID}, {"client_id", f.ClientID},
		{"session_id", f.SessionID}, {"mode", f.Mode}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	logger.Info("api destructive call", attrs...)
}
