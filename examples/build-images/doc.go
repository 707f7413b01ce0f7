// Command build-images is the demo's image builder. It builds the three
// images the demo deploys and pushes them to a registry:
//
//	<registry>/demo/busybox:latest     linux/<host arch>, the host's static busybox
//	<registry>/demo/hello-wasm:latest  examples/hello-wasm compiled for wasip1/wasm, as an OCI wasm artifact
//	<registry>/demo/windows:latest     a windows/amd64 image (nothing on a Linux node runs it)
//
// Usage, from the repository root:
//
//	go run ./examples/build-images --registry 127.0.0.1:5000 [--only busybox,hello-wasm]
//
// It prints one line per image pushed (reference, digest, platform) and
// exits non-zero with the reason when it cannot. Plain HTTP is used only for
// a registry on a loopback address or localhost; any other is spoken to
// over HTTPS.
package main
