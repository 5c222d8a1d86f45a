// Package webhooks sends Sora's auth, session and event webhooks: payload
// types, time-outs, retries with backoff and a JSONL call log.
package webhooks
