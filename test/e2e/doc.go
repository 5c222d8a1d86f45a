// Package e2e holds kiroku's end-to-end tests: the official sora-js-sdk in
// headless Chromium against an in-process SFU and signaling server.
//
// The tests need root: TestMain re-runs the test binary inside a private
// network namespace (test/browser/netns.sh) where the SFU announces only
// 198.18.0.1 and pages and signaling use 127.0.0.1, so no traffic can
// leave the machine. Chromium is driven by test/browser/driver.mjs
// (playwright-core); `make deps-node` installs its modules.
package e2e
