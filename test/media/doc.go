// Package media is the acceptance suite of kiroku's media pipeline. Its tests
// take every RTP capture under fixtures/rtpdumps, clean and adversarial,
// through the built `sfu mux` command exactly as a user would, and hold the
// files it writes to what independent tools (ffprobe, ffmpeg, mkvinfo) make
// of them: codec, size, duration, A/V offset, decoded frame count, WebM
// structure. It also kills writers mid-recording and checks what
// `sfu mux -recover` gives back, and checks that split recordings join
// without losing a frame.
//
// The package has no non-test code; see docs/media.md for what each check
// means and why the expected numbers are what they are.
package media
