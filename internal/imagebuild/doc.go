// Package imagebuild builds the container images that switchyard's tests
// and its demo push to a registry, from what the machine has: the host's
// static busybox, Go programs compiled for wasip1/wasm, and seeded random
// bytes. Every builder returns an error instead of failing a test, so a
// real program can use it; package testimages wraps each one for tests.
//
//	img, err := imagebuild.Busybox()
//	if err != nil {
//		return err
//	}
//	ref, err := imagebuild.Reference("127.0.0.1:5000", "demo/busybox")
//	if err != nil {
//		return err
//	}
//	err = imagebuild.Push(ctx, ref, img)
//
// Images:
//   - Busybox: linux/<host arch>, /bin/busybox plus a symlink for every
//     applet, /etc/passwd and /etc/group (root, nobody), /tmp; Cmd ["sh"].
//   - CompileWasm, CompileWasmDir and WasmImage: a Go main package compiled
//     with GOOS=wasip1 GOARCH=wasm, packaged as an OCI wasm artifact
//     (ConventionArtifact) or as an image of platform wasi/wasm
//     (ConventionPlatform).
//   - Index: a multi-platform index, by default linux/<host arch> +
//     linux/arm64 + wasi/wasm.
//   - Windows: a manifest whose config says windows/amd64.
//   - Large: random content of a given size in a given number of layers,
//     for pull figures.
//
// Built images are deterministic: the same inputs give the same digests,
// because every file time is one fixed instant and random content is
// seeded by its size.
package imagebuild
