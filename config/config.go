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
// name the file, the line and the key; an unknown key's error suggests the
// closest known key. LoadSora reads a sora.conf: keys of Sora's that kiroku
// does not implement (SoraKeys) are ignored and listed in one Warning.
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
// targets (pointers to structs). Every key must belong to a target; for a
// sora.conf, where Sora's keys kiroku does not implement are warnings, use
// LoadSora.
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
	_, err := decode(name, r, false, targets)
	return err
}

// DecodeSora is LoadSora reading from r, naming it name.
func DecodeSora(name string, r io.Reader, targets ...any) (*Warning, error) {
	return decode(name, r, true, targets)
}

// decoder holds one file's state while its lines are read.
type decoder struct {
	name   string
	sora   bool // Sora's keys kiroku does not implement are warnings
	fields map[string]reflect.Value
	seen   map[string]int
	warn   *Warning
}

func decode(name string, r io.Reader, sora bool, targets []any) (*Warning, error) {
	fields, err := indexFields(targets)
	if err != nil {
		return nil, &Error{File: name, Err: err}
	}
	d := &decoder{name: name, sora: sora, fields: fields, seen: make(map[string]int)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		if err := d.line(line, sc.Text()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Line: line + 1, Err: fmt.Errorf("reading: %w", err)}
	}
	return d.warn, nil
}

// line applies one line of the file.
func (d *decoder) line(line int, text string) error {
	key, value, ok, err := splitLine(text)
	if err != nil {
		return &Error{File: d.name, Line: line, Err: err}
	}
	if !ok {
		return nil
	}
	if first, dup := d.seen[key]; dup {
		return &Error{File: d.name, Line: line, Key: key, Err: fmt.Errorf("already set at line %d", first)}
	}
	d.seen[key] = line
	field, known := d.fields[key]
	if !known {
		return d.unknown(line, key)
	}
	if err := setField(field, value); err != nil {
		return &Error{File: d.name, Line: line, Key: key, Err: err}
	}
	return nil
}

// unknown handles a key no target claims: a Sora key kiroku does not
// implement is a warning in a sora.conf; anything else is an error that
// suggests the closest known key.
func (d *decoder) unknown(line int, key string) error {
	if reason, ok := soraReason(key); ok {
		if !d.sora {
			return &Error{File: d.name, Line: line, Key: key,
				Err: fmt.Errorf("a key of Sora's that kiroku does not implement (%s)", reason)}
		}
		if d.warn == nil {
			d.warn = &Warning{File: d.name}
		}
		d.warn.Keys = append(d.warn.Keys, Ignored{Key: key, Line: line, Reason: reason})
		return nil
	}
	known := make([]string, 0, len(d.fields))
	for k := range d.fields {
		known = append(known, k)
	}
	if d.sora {
		for _, k := range SoraKeys() {
			known = append(known, k.Name)
		}
	}
	if s := closest(key, known); s != "" {
		return &Error{File: d.name, Line: line, Key: key, Err: fmt.Errorf("unknown key; did you mean %s?", s)}
	}
	return &Error{File: d.name, Line: line, Key: key, Err: errors.New("unknown key")}
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
