// Package e2e holds switchyard's end-to-end tests: they build the
// switchyard binary once, serve test images from a registry on 127.0.0.1,
// start `switchyard daemon` on a temporary root and socket, and drive the
// CLI with os/exec exactly as a user does — run, exec, logs, stop, rm, ps,
// up and down, on both the runc and the wasm runtime — including a SIGKILL
// of the agent and its restart on the same root.
//
// The tests need root and runc on PATH (and Debian's busybox-static for the
// Linux test image); without them they skip, saying why. They clean up
// everything they start: containers, the agent, the shared wasm host,
// mounts and temporary directories.
//
//	go test ./test/e2e
//
// figures.sh beside the tests measures the CLI and agent figures recorded
// in BENCHMARKS.md.
package e2e
