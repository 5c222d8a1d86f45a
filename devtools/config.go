package devtools

import "fmt"

// Config holds the dev tools' key of sora.conf.
type Config struct {
	// DevTools is `dev_tools`: "true" serves the pages, "false" does not,
	// and "auto" (the default) leaves the choice to Decide.
	DevTools string `conf:"dev_tools"`
}

// DefaultConfig returns the configuration used when no file sets the key.
func DefaultConfig() Config { return Config{DevTools: "auto"} }

// Validate accepts true, false and auto.
func (c Config) Validate() error {
	switch c.DevTools {
	case "auto", "true", "false":
		return nil
	}
	return fmt.Errorf("dev_tools: want true, false or auto, got %q", c.DevTools)
}

// Exposure says whether and to whom the dev tools are served.
type Exposure int

const (
	// Off serves no dev tools page.
	Off Exposure = iota
	// LoopbackClients serves the pages only to clients connecting from a
	// loopback address; everyone else gets 404, as if they were off.
	LoopbackClients
	// Everyone serves the pages to every client of the signaling port.
	Everyone
)

// Decide applies the rule documented in the README and sora.example.conf:
//
//   - dev_tools = true: on, for every client that reaches the signaling port;
//   - dev_tools = false: off;
//   - dev_tools = auto (the default): on while signaling listens on
//     127.0.0.1 only (signaling_loopback_address_only = true); on for
//     loopback clients only while every other setting is at its default
//     (builtInDefaults: `make run`, no configuration file, where signaling
//     listens on every interface); off otherwise.
func (c Config) Decide(signalingLoopbackOnly, builtInDefaults bool) Exposure {
	switch {
	case c.DevTools == "true":
		return Everyone
	case c.DevTools == "false":
		return Off
	case signalingLoopbackOnly:
		return Everyone // only loopback clients can connect at all
	case builtInDefaults:
		return LoopbackClients
	}
	return Off
}
