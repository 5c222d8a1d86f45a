// Package node assembles one kiroku node from its settings: SFU,
// signaling, API, recording, webhooks, TURN. It loads sora.conf into each
// component's Config, builds the components wired to each other, serves
// the signaling and API listeners and shuts everything down in order.
// cmd/sfu only parses flags and turns signals into calls on this package.
package node
