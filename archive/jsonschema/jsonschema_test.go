package jsonschema

import (
	"strings"
	"testing"
)

const personSchema = `{
  "$defs": {"id": {"type": "string", "pattern": "^[0-9A-Z]{26}$"}},
  "type": "object",
  "required": ["id", "age", "tags"],
  "additionalProperties": false,
  "properties": {
    "id": {"$ref": "#/$defs/id"},
    "age": {"type": "integer", "minimum": 0},
    "format": {"enum": ["mp4", "webm"]},
    "note": {"type": ["string", "null"], "minLength": 1},
    "tags": {"type": "array", "items": {"type": "string"}}
  }
}`

func TestValidate(t *testing.T) {
	s, err := Compile([]byte(personSchema))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		doc  string
		want []string // substrings, one per expected error; empty = valid
	}{
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","age":3,"tags":["a"],"format":"mp4","note":null}`, nil},
		{`{"id":"short","age":3,"tags":[]}`, []string{"does not match"}},
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","age":-1,"tags":[]}`, []string{"below minimum"}},
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","age":1.5,"tags":[]}`, []string{"want type integer"}},
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","tags":[1]}`, []string{"missing required age", "$.tags[0]: want type string"}},
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","age":1,"tags":[],"format":"mkv","x":1}`, []string{"not in", "unexpected property x"}},
		{`{"id":"0123456789ABCDEFGHJKMNPQRS","age":1,"tags":[],"note":""}`, []string{"shorter than"}},
		{`[1]`, []string{"want type object"}},
		{`{`, []string{"not JSON"}},
	} {
		errs := s.Validate([]byte(tc.doc))
		if len(errs) != len(tc.want) {
			t.Errorf("%s: errors %q, want %d", tc.doc, errs, len(tc.want))
			continue
		}
		for _, w := range tc.want {
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e, w)
			}
			if !found {
				t.Errorf("%s: errors %q lack %q", tc.doc, errs, w)
			}
		}
	}
}

func TestCompileRejectsUnsupportedKeywords(t *testing.T) {
	for _, schema := range []string{
		`{"type":"object","oneOf":[]}`,
		`{"properties":{"a":{"format":"date-time"}}}`,
		`{"items":{"const":1}}`,
		`not json`,
	} {
		if _, err := Compile([]byte(schema)); err == nil {
			t.Errorf("Compile(%s) accepted", schema)
		}
	}
}
