package rtpdump

import (
	"fmt"
	"os"
	"strings"
)

// Capture is an open capture: the packets of NAME.rtpdump and the
// description from NAME.json. It embeds the packet Reader.
type Capture struct {
	*Reader
	// Sidecar describes the capture's streams.
	Sidecar Sidecar
	file    *os.File
}

// Open opens a capture. path names either NAME.rtpdump or NAME; the sidecar
// is NAME.json next to it. The caller must Close the capture.
func Open(path string) (*Capture, error) {
	base := strings.TrimSuffix(path, ".rtpdump")
	sc, err := LoadSidecar(base + ".json")
	if err != nil {
		return nil, fmt.Errorf("rtpdump: open capture: %w", err)
	}
	f, err := os.Open(base + ".rtpdump")
	if err != nil {
		return nil, fmt.Errorf("rtpdump: open capture: %w", err)
	}
	r, err := NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("rtpdump: open capture %s: %w", base, err)
	}
	return &Capture{Reader: r, Sidecar: sc, file: f}, nil
}

// Close closes the capture file.
func (c *Capture) Close() error {
	if err := c.file.Close(); err != nil {
		return fmt.Errorf("rtpdump: close capture: %w", err)
	}
	return nil
}
