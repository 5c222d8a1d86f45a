// Package config reads kiroku's configuration files, written in the style of
// Sora's sora.conf: one `key = value` per line, `#` comments, blank lines,
// optional double quotes around a value, durations such as `20 s`.
//
// Each component owns its own Config struct with defaults and Validate();
// this package only maps a file's keys onto fields tagged `conf:"key"`:
//
//	cfg := sfu.DefaultConfig()
//	if err := config.Load(path, &cfg, &other); err != nil { ... }
//
// Keys absent from the file leave their fields untouched. A key no target
// knows, a key given twice and a value that does not parse are errors that
// name the file, the line and the key.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
)

// MaxLineBytes bounds one line of a configuration file.
const MaxLineBytes = 64 * 1024

// Error is a problem at one line of a configuration file.
type Error struct {
	File string
	Line int    // 1-based; 0 when the problem is not tied to a line
	Key  string // empty when the line has no key
	Err  error
}

// Error formats as FILE:LINE: KEY: reason.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying reason.
func (e *Error) Unwrap() error { return e.Err }

// Load reads the file at path and assigns its keys to the tagged fields of
// targets (pointers to structs).
func Load(path string, targets ...any) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return Decode(path, f, targets...)
}

// Decode reads a configuration from r, naming it name in errors, and assigns
// its keys to the tagged fields of targets (pointers to structs).
func Decode(name string, r io.Reader, targets ...any) error {
	fields, err := indexFields(targets)
	if err != nil {
		return &Error{File: name, Err: err}
	}
	seen := make(map[string]int)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		key, value, ok, err := splitLine(sc.Text())
		if err != nil {
			return &Error{File: name, Line: line, Err: err}
		}
		if !ok {
			continue
		}
		if first, dup := seen[key]; dup {
			return &Error{File: name, Line: line, Key: key, Err: fmt.Errorf("already set at line %d", first)}
		}
		seen[key] = line
		field, known := fields[key]
		if !known {
			return &Error{File: name, Line: line, Key: key, Err: errors.New("unknown key")}
		}
		if err := setField(field, value); err != nil {
			return &Error{File: name, Line: line, Key: key, Err: err}
		}
	}
	if err := sc.Err(); err != nil {
		return &Error{File: name, Line: line + 1, Err: fmt.Errorf("reading: %w", err)}
	}
	return nil
}

// splitLine parses one line. ok is false for blank and comment lines.
func splitLine(text string) (key, value string, ok bool, err error) {
	text = strings.TrimSpace(text)
	if text == "" || strings.HasPrefix(text, "#") {
		return "", "", false, nil
	}
	k, v, found := strings.Cut(text, "=")
	if !found {
		return "", "", false, fmt.Errorf("expected `key = value`, got %q", text)
	}
	key = strings.TrimSpace(k)
	if key == "" || strings.ContainsAny(key, " \t\"#") {
		return "", "", false, fmt.Errorf("invalid key %q", key)
	}
	value, err = parseValue(strings.TrimSpace(v))
	if err != nil {
		return key, "", false, fmt.Errorf("%s: %w", key, err)
	}
	return key, value, true, nil
}

// parseValue strips a trailing comment and surrounding double quotes.
func parseValue(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		end := strings.Index(v[1:], `"`)
		if end < 0 {
			return "", errors.New("unterminated quoted value")
		}
		rest := strings.TrimSpace(v[end+2:])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("unexpected text %q after quoted value", rest)
		}
		return v[1 : end+1], nil
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = v[:i]
	} else if i := strings.Index(v, "\t#"); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v), nil
}

// indexFields maps every `conf` tag of the targets to its settable field.
func indexFields(targets []any) (map[string]reflect.Value, error) {
	fields := make(map[string]reflect.Value)
	for i, t := range targets {
		v := reflect.ValueOf(t)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return nil, fmt.Errorf("target %d is %T, want a non-nil pointer to a struct", i, t)
		}
		s := v.Elem()
		for j := 0; j < s.NumField(); j++ {
			key := s.Type().Field(j).Tag.Get("conf")
			if key == "" || key == "-" {
				continue
			}
			if _, dup := fields[key]; dup {
				return nil, fmt.Errorf("key %q is claimed by two fields", key)
			}
			if !supported(s.Field(j)) {
				return nil, fmt.Errorf("key %q: unsupported field type %s", key, s.Field(j).Type())
			}
			fields[key] = s.Field(j)
		}
	}
	return fields, nil
}
