package main

import (
	"fmt"
	"io"
)

// runServe is not built yet.
func runServe(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sfu: serve: not implemented yet")
	return 2
}
