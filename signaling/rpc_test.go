package signaling

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/kiroku-sfu/kiroku/sfu"
)

func TestHandleRPC(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         string
		callErr    error
		want       string // the response, "" for none
		wantCalled string // "sender rid" passed to the method
	}{
		{"request", `{"jsonrpc":"2.0","id":7,"method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r1"}}`,
			nil, `{"jsonrpc":"2.0","id":7,"result":{}}`, " r1"},
		{"one sender, string id", `{"jsonrpc":"2.0","id":"a","method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r2","sender_connection_id":"S"}}`,
			nil, `{"jsonrpc":"2.0","id":"a","result":{}}`, "S r2"},
		{"notification", `{"jsonrpc":"2.0","method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r0"}}`, nil, "", " r0"},
		{"unknown method", `{"jsonrpc":"2.0","id":1,"method":"2025.2.0/RequestSpotlightRid","params":{}}`,
			nil, `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found: 2025.2.0/RequestSpotlightRid"}}`, ""},
		{"unknown method, notification", `{"jsonrpc":"2.0","method":"x"}`, nil, "", ""},
		{"no rid", `{"jsonrpc":"2.0","id":2,"method":"2025.2.0/RequestSimulcastRid","params":{}}`,
			nil, `{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"params need rid"}}`, ""},
		{"params not an object", `{"jsonrpc":"2.0","id":2,"method":"2025.2.0/RequestSimulcastRid","params":[1]}`,
			nil, `{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"params need rid"}}`, ""},
		{"bad rid", `{"jsonrpc":"2.0","id":3,"method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r9"}}`,
			fmt.Errorf("rid: %w", sfu.ErrInvalid), `{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"rid: sfu: invalid argument"}}`, " r9"},
		{"method failed otherwise", `{"jsonrpc":"2.0","id":3,"method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r1"}}`,
			errors.New("closed"), `{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"closed"}}`, " r1"},
		{"not json", `{"jsonrpc"`, nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}`, ""},
		{"not 2.0", `{"jsonrpc":"1.0","id":4,"method":"m"}`, nil, `{"jsonrpc":"2.0","id":4,"error":{"code":-32600,"message":"invalid request"}}`, ""},
		{"no method", `{"jsonrpc":"2.0"}`, nil, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := ""
			resp := handleRPC([]byte(tc.in), func(sender, rid string) error {
				called = sender + " " + rid
				return tc.callErr
			})
			got := ""
			if resp != nil {
				b, err := json.Marshal(resp)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != tc.want || called != tc.wantCalled {
				t.Fatalf("response %s, called %q; want %s, %q", got, called, tc.want, tc.wantCalled)
			}
		})
	}
}

// FuzzHandleRPC feeds arbitrary client bytes from the rpc DataChannel: no
// panic, and any response is valid JSON-RPC 2.0 with a result or an error.
func FuzzHandleRPC(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":7,"method":"2025.2.0/RequestSimulcastRid","params":{"rid":"r1"}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":{},"method":"x","params":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		resp := handleRPC(data, func(string, string) error { return nil })
		if resp == nil {
			return
		}
		if resp.JSONRPC != "2.0" || (resp.Result == nil) == (resp.Error == nil) {
			t.Fatalf("response %+v", resp)
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("response does not encode: %v", err)
		}
	})
}
