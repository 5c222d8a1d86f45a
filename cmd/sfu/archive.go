package main

import (
	"fmt"
	"io"

	"github.com/kiroku-sfu/kiroku/archive"
	"github.com/kiroku-sfu/kiroku/archive/jsonschema"
)

// runArchive implements `sfu archive verify DIR`: it checks a recording
// directory, prints a table and exits 1 when anything is wrong.
func runArchive(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: sfu archive verify DIR   (DIR is archive_dir/<recording_id>)")
		return 2
	}
	v, err := archive.Verify(args[1], archive.VerifyOptions{ValidateJSON: validateJSON})
	if err != nil {
		fmt.Fprintf(stderr, "sfu archive verify: %v\n", err)
		return 1
	}
	if err := v.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "sfu archive verify: %v\n", err)
		return 1
	}
	if !v.OK() {
		fmt.Fprintf(stdout, "%s: problems found\n", args[1])
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[1])
	return 0
}

// validateJSON checks doc against one of archive's schemas.
func validateJSON(schema string, doc []byte) []string {
	raw, err := archive.Schema(schema)
	if err != nil {
		return []string{err.Error()}
	}
	s, err := jsonschema.Compile(raw)
	if err != nil {
		return []string{fmt.Sprintf("schema %s: %v", schema, err)}
	}
	return s.Validate(doc)
}
