// Command sfu runs kiroku: the Sora-compatible SFU and recorder.
//
//	sfu [-config PATH] [-cpuprofile FILE]    run the SFU (defaults without -config)
//	sfu mux -format mp4|webm -o OUT CAPTURE  mux an rtpdump capture into a file
//	sfu mux -recover TMPFILE -o OUT          finish a file left by a crash
//	sfu archive verify DIR                   check a recording directory
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "mux":
			return runMux(args[1:], stdout, stderr)
		case "archive":
			return runArchive(args[1:], stdout, stderr)
		case "help", "-h", "-help", "--help":
			fmt.Fprintln(stdout, usage)
			return 0
		}
	}
	return runServe(args, stdout, stderr)
}

const usage = `usage:
  sfu [-config PATH] [-cpuprofile FILE]      run the SFU (working defaults without -config;
                                             -cpuprofile writes a pprof CPU profile until shutdown)
  sfu mux -format mp4|webm -o OUT CAPTURE    mux an rtpdump capture (plus its .json sidecar)
  sfu mux -recover TMPFILE -o OUT            finish a file left behind by a crash
  sfu archive verify DIR                     check a recording directory`
