package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var durationType = reflect.TypeOf(time.Duration(0))

// supported reports whether setField can assign to v.
func supported(v reflect.Value) bool {
	if v.Type() == durationType {
		return true
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Uint16, reflect.Float64:
		return true
	case reflect.Slice:
		return v.Type().Elem().Kind() == reflect.String
	}
	return false
}

// setField parses value according to the field's type and assigns it.
func setField(v reflect.Value, value string) error {
	if v.Type() == durationType {
		d, err := ParseDuration(value)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(value)
	case reflect.Bool:
		switch value {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return fmt.Errorf("want true or false, got %q", value)
		}
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer, got %q", value)
		}
		v.SetInt(n)
	case reflect.Uint16:
		n, err := strconv.ParseUint(value, 10, 16)
		if err != nil {
			return fmt.Errorf("want an integer from 0 to 65535, got %q", value)
		}
		v.SetUint(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", value)
		}
		v.SetFloat(f)
	case reflect.Slice:
		list := []string{} // an empty value is an empty list, not "unset"
		for _, item := range strings.Split(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported field type %s", v.Type())
	}
	return nil
}

// durationUnits maps the unit words accepted in configuration files.
var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond, "msec": time.Millisecond,
	"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hour": time.Hour, "hours": time.Hour,
}

// ParseDuration parses a configuration duration: a non-negative integer
// followed by an optional unit (ms, s, min, h and their long forms), with or
// without a space, as in sora.conf's `20 s`. A bare integer means seconds.
func ParseDuration(value string) (time.Duration, error) {
	value = strings.TrimSpace(value)
	i := 0
	for i < len(value) && value[i] >= '0' && value[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("want a duration such as `20 s` or `500 ms`, got %q", value)
	}
	n, err := strconv.ParseInt(value[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", value, err)
	}
	unitName := strings.TrimSpace(value[i:])
	unit := time.Second
	if unitName != "" {
		u, ok := durationUnits[unitName]
		if !ok {
			return 0, fmt.Errorf("duration %q: unknown unit %q (use ms, s, min or h)", value, unitName)
		}
		unit = u
	}
	if n > int64(1<<62)/int64(unit) {
		return 0, errors.New("duration too large")
	}
	return time.Duration(n) * unit, nil
}
