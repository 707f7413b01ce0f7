// Package registry speaks to OCI registries for switchyard: it parses
// references, reads images' platforms without downloading layers, and pulls
// images into the local store (package images). It wraps
// go-containerregistry rather than reimplementing the distribution
// protocol.
//
// Platform inspection, for routing a container to the runtime that can run
// it, costs one request for an index and two for a single manifest
// (manifest and config), plus the registry's version check (GET /v2/) and
// any token exchange the first time a repository is used; keep one
// Inspector (or ImageService) to pay those once:
//
//	in := registry.NewInspector(registry.WithInsecureRegistries("myregistry:5000"))
//	ps, err := in.InspectPlatforms(ctx, "busybox", nil) // [linux/amd64 linux/arm/v6 ...]
//
// Pulling goes through an ImageService over a shared store, which the runc
// and wasm runtimes embed:
//
//	svc := registry.NewImageService(store, registry.WithPlatforms(registry.WasmPlatform()))
//	info, err := svc.Pull(ctx, "127.0.0.1:5000/hello:1", runtime.PullOptions{Policy: runtime.PullAlways})
//
// Platforms are normalised once, here: containerd's normalisation, and the
// Docker+Wasm platform wasi/wasm is the same as wasip1/wasm (WasmPlatform).
//
// Plain HTTP is used only for loopback registries (localhost, 127.0.0.0/8,
// ::1) and those given to WithInsecureRegistries; every other registry is
// HTTPS only.
//
// Registry mirrors (WithMirrors; ParseMirror reads the daemon's
// --registry-mirror HOST=MIRROR) are tried before the registry they mirror,
// by Pull and InspectPlatforms alike; a mirror that lacks the image or
// fails hands over to the next, and the image keeps the name it was asked
// for:
//
//	svc := registry.NewImageService(store, registry.WithMirrors(map[string][]string{
//		"registry.k8s.io": {"http://10.0.0.5:5000"},
//		"docker.io":       {"mirror.example.com/hub"},
//	}))
//
// Errors wrap the kinds of package runtime (ErrNotFound for an image the
// registry lacks, ErrInvalidArgument for a bad reference, ErrUnavailable
// for a registry that fails or is down) and this package's ErrUnauthorized,
// ErrUnreachable, ErrBadContent and ErrDigestMismatch; test them with
// errors.Is.
package registry
