package signaling

import (
	"encoding/json"
	"errors"

	"github.com/kiroku-sfu/kiroku/sfu"
)

// rpcRequestSimulcastRid is the one JSON-RPC method kiroku serves on the
// "rpc" DataChannel: the receiver moves itself to another simulcast
// layer, of one sender or of all (params {"rid", "sender_connection_id"?}).
const rpcRequestSimulcastRid = "2025.2.0/RequestSimulcastRid"

// rpcMethods are the methods the offer announces in "rpc_methods".
func rpcMethods() []string { return []string{rpcRequestSimulcastRid} }

// JSON-RPC 2.0 error codes.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
)

// rpcRequest is a JSON-RPC 2.0 request; without an id it is a
// notification, which gets no response.
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// rpcResponse carries a result or an error, never both.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// simulcastRidParams are RequestSimulcastRid's params.
type simulcastRidParams struct {
	RID                string `json:"rid"`
	SenderConnectionID string `json:"sender_connection_id"`
}

// handleRPC answers one message of the "rpc" DataChannel; it returns nil
// when nothing is to be sent back (a notification). call does what a
// method asks.
func handleRPC(data []byte, call func(sender, rid string) error) *rpcResponse {
	var req rpcRequest
	if err := json.Unmarshal(data, &req); err != nil {
		return rpcFailure(json.RawMessage("null"), rpcParseError, "parse error")
	}
	id := req.ID
	if len(id) == 0 {
		id = nil
	}
	fail := func(code int, msg string) *rpcResponse {
		if id == nil {
			return nil
		}
		return rpcFailure(id, code, msg)
	}
	if req.JSONRPC != "2.0" || req.Method == "" {
		return rpcFailure(orNull(id), rpcInvalidRequest, "invalid request")
	}
	if req.Method != rpcRequestSimulcastRid {
		return fail(rpcMethodNotFound, "method not found: "+req.Method)
	}
	var p simulcastRidParams
	if err := json.Unmarshal(orNull(req.Params), &p); err != nil || p.RID == "" {
		return fail(rpcInvalidParams, "params need rid")
	}
	if err := call(p.SenderConnectionID, p.RID); err != nil {
		code := rpcInvalidParams
		if !errors.Is(err, sfu.ErrInvalid) && !errors.Is(err, sfu.ErrNotFound) {
			code = rpcInvalidRequest
		}
		return fail(code, err.Error())
	}
	if id == nil {
		return nil
	}
	return &rpcResponse{JSONRPC: "2.0", ID: id, Result: map[string]string{}}
}

func rpcFailure(id json.RawMessage, code int, msg string) *rpcResponse {
	return &rpcResponse{JSONRPC: "2.0", ID: id, Error: &rpcError{Code: code, Message: msg}}
}

func orNull(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// onRPC serves a message from the client's "rpc" DataChannel.
func (s *session) onRPC(data []byte) {
	info := s.conn.Info()
	resp := handleRPC(data, func(sender, rid string) error {
		return s.srv.sfu.RequestSimulcastRID(info.ChannelID, info.ConnectionID, sender, rid)
	})
	if resp == nil {
		return
	}
	out, err := json.Marshal(resp)
	if err != nil {
		s.log.Error("encode rpc response", "err", err)
		return
	}
	if err := s.conn.SendSystem("rpc", out); err != nil {
		s.log.Debug("send rpc response", "err", err)
	}
}
