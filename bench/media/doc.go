// Package media benchmarks kiroku's media pipeline as a whole: RTP captures
// from fixtures/rtpdumps replayed through depacketizing, alignment and the
// MP4 and WebM writers, against ffmpeg remuxing the same content in the
// same run, plus the memory an open recording holds. It has benchmarks only
// (`make bench`); docs/media.md explains the method and records the figures.
package media
