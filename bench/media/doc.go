// Package media benchmarks kiroku's media pipeline as a whole: RTP captures
// from fixtures/rtpdumps replayed through depacketizing, alignment and the
// MP4 and WebM writers, against ffmpeg remuxing the same content in the
// same run, plus the memory an open recording holds, and `sfu mux` itself
// (the built binary) on 5- and 60-minute captures made at bench time,
// against ffmpeg -c copy as separate processes (BenchmarkMuxLong). It has
// benchmarks only (`make bench`); docs/media.md explains the method and
// records the figures.
package media
