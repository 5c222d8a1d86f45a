package node

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// NewLogger is the node's JSON logger at log_level: into log_dir/sfu.jsonl
// when log_dir is set, else into stderr. The function closes the file.
func NewLogger(st Settings, stderr io.Writer) (*slog.Logger, func(), error) {
	c := st.serve
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("log_level %q: %w", c.LogLevel, err)
	}
	out, closeFn := stderr, func() {}
	if c.LogDir != "" {
		f, err := os.OpenFile(filepath.Join(c.LogDir, "sfu.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open log: %w", err)
		}
		out, closeFn = f, func() { _ = f.Close() }
	}
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level})), closeFn, nil
}
