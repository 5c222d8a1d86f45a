// Package signaling speaks Sora's WebSocket (and DataChannel) signaling
// protocol with the Sora SDKs and drives package sfu accordingly.
package signaling
