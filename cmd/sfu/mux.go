package main

import (
	"fmt"
	"io"
)

// runMux is not built yet.
func runMux(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sfu: mux: not implemented yet")
	return 2
}
