// Package testimages gives switchyard's tests the images they pull, store
// and run, and serves them from an in-process registry on 127.0.0.1. The
// images are built by package imagebuild; every helper here is a thin
// wrapper that fails the test (t.Fatal) instead of returning an error, so
// callers need no error handling.
//
//	host := testimages.Serve(t)
//	ref := testimages.Push(t, host, "busybox", testimages.Busybox(t))
//	// ref is "127.0.0.1:PORT/busybox:latest"; pull it, run it.
//
// Images (see imagebuild for their exact contents):
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
// Built images are deterministic: the same inputs give the same digests.
package testimages
