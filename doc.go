// Package kiroku is a WebRTC SFU that speaks Shiguredo Sora's protocol and
// records every connection's media to MP4 or WebM without transcoding.
//
// The code lives in the packages below this directory; see README.md for the
// quick start and ../design notes in docs/ for the architecture. This root
// package holds only repository-wide tests (the package import rules).
package kiroku
