package main

import (
	"fmt"
	"io"
)

// runArchive is not built yet.
func runArchive(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "sfu: archive: not implemented yet")
	return 2
}
