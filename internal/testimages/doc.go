// Package testimages builds the container images switchyard's tests pull,
// store and run, and serves them from an in-process registry on 127.0.0.1.
// Everything is built at test time from what the machine has: the host's
// static busybox, Go programs compiled for wasip1/wasm, and random bytes.
//
//	host := testimages.Serve(t)
//	ref := testimages.Push(t, host, "busybox", testimages.Busybox(t))
//	// ref is "127.0.0.1:PORT/busybox:latest"; pull it, run it.
//
// Images:
//   - Busybox: linux/<host arch>, /bin/busybox plus a symlink for every
//     applet, /etc/passwd and /etc/group (root, nobody), /tmp; Cmd ["sh"].
//   - WasmModule: a Go main package compiled with GOOS=wasip1 GOARCH=wasm,
//     packaged as an OCI wasm artifact (ConventionArtifact) or as an image
//     of platform wasi/wasm (ConventionPlatform).
//   - Index: a multi-platform index, by default linux/<host arch> +
//     linux/arm64 + wasi/wasm.
//   - Windows: a manifest whose config says windows/amd64.
//   - Large: random content of a given size in a given number of layers,
//     for pull figures.
//
// Every helper fails the test (t.Fatal) when it cannot build what was asked,
// so callers need no error handling. Built images are deterministic: the
// same inputs give the same digests.
package testimages
