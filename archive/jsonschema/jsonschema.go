// Package jsonschema validates JSON documents against the subset of JSON
// Schema (draft 2020-12 keywords) that kiroku's own schemas use: type,
// properties, required, additionalProperties (boolean), items, enum,
// pattern, minimum, minLength and $ref to "#/$defs/NAME". Schemas using
// any other keyword are rejected, so a schema never silently checks less
// than it says.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Schema is a compiled schema.
type Schema struct {
	root map[string]any
}

var supported = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "$ref": true, "title": true, "description": true,
	"type": true, "properties": true, "required": true, "additionalProperties": true,
	"items": true, "enum": true, "pattern": true, "minimum": true, "minLength": true,
}

// Compile parses a schema and checks that it only uses supported keywords.
func Compile(data []byte) (*Schema, error) {
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	if err := checkKeywords(root, "#"); err != nil {
		return nil, err
	}
	return &Schema{root: root}, nil
}

func checkKeywords(node map[string]any, at string) error {
	for k, v := range node {
		if !supported[k] {
			return fmt.Errorf("jsonschema: %s: unsupported keyword %q", at, k)
		}
		switch k {
		case "properties", "$defs":
			props, _ := v.(map[string]any)
			for name, sub := range props {
				m, ok := sub.(map[string]any)
				if !ok {
					return fmt.Errorf("jsonschema: %s/%s/%s: not a schema", at, k, name)
				}
				if err := checkKeywords(m, at+"/"+k+"/"+name); err != nil {
					return err
				}
			}
		case "items":
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("jsonschema: %s/items: not a schema", at)
			}
			if err := checkKeywords(m, at+"/items"); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate checks a JSON document and returns every violation found.
func (s *Schema) Validate(doc []byte) []string {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var errs []string
	s.validate(s.root, v, "$", &errs)
	sort.Strings(errs)
	return errs
}

func (s *Schema) validate(schema map[string]any, v any, at string, errs *[]string) {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		defs, _ := s.root["$defs"].(map[string]any)
		sub, ok := defs[name].(map[string]any)
		if !ok {
			*errs = append(*errs, at+": unresolvable $ref "+ref)
			return
		}
		schema = sub
	}
	if t, ok := schema["type"]; ok && !typeMatches(t, v) {
		*errs = append(*errs, fmt.Sprintf("%s: want type %v, got %s", at, t, typeName(v)))
		return
	}
	if enum, ok := schema["enum"].([]any); ok && !inEnum(enum, v) {
		*errs = append(*errs, fmt.Sprintf("%s: %v not in %v", at, v, enum))
	}
	switch x := v.(type) {
	case map[string]any:
		s.validateObject(schema, x, at, errs)
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, item := range x {
				s.validate(items, item, fmt.Sprintf("%s[%d]", at, i), errs)
			}
		}
	case string:
		if p, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil || !re.MatchString(x) {
				*errs = append(*errs, fmt.Sprintf("%s: %q does not match %s", at, x, p))
			}
		}
		if n, ok := schema["minLength"].(float64); ok && float64(len(x)) < n {
			*errs = append(*errs, fmt.Sprintf("%s: shorter than %v", at, n))
		}
	case float64:
		if m, ok := schema["minimum"].(float64); ok && x < m {
			*errs = append(*errs, fmt.Sprintf("%s: %v below minimum %v", at, x, m))
		}
	}
}

func (s *Schema) validateObject(schema, obj map[string]any, at string, errs *[]string) {
	req, _ := schema["required"].([]any)
	for _, r := range req {
		if name, _ := r.(string); name != "" {
			if _, ok := obj[name]; !ok {
				*errs = append(*errs, at+": missing required "+name)
			}
		}
	}
	props, _ := schema["properties"].(map[string]any)
	for name, val := range obj {
		sub, ok := props[name].(map[string]any)
		if !ok {
			if ap, isBool := schema["additionalProperties"].(bool); isBool && !ap {
				*errs = append(*errs, at+": unexpected property "+name)
			}
			continue
		}
		s.validate(sub, val, at+"."+name, errs)
	}
}

func typeMatches(t, v any) bool {
	switch tt := t.(type) {
	case string:
		return typeIs(tt, v)
	case []any:
		for _, one := range tt {
			if name, _ := one.(string); typeIs(name, v) {
				return true
			}
		}
	}
	return false
}

func typeIs(name string, v any) bool {
	switch name {
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	}
	return typeName(v) == name
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func inEnum(enum []any, v any) bool {
	for _, e := range enum {
		if fmt.Sprint(e) == fmt.Sprint(v) && typeName(e) == typeName(v) {
			return true
		}
	}
	return false
}
