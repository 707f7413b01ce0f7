package images

import "strings"

// isCompressed reports whether a layer media type names compressed content.
func isCompressed(mt string) bool {
	return strings.HasSuffix(mt, "gzip") || strings.HasSuffix(mt, "zstd")
}

// isImageConfig reports whether mt is an OCI or Docker image config.
func isImageConfig(mt string) bool {
	switch mt {
	case "application/vnd.oci.image.config.v1+json",
		"application/vnd.docker.container.image.v1+json":
		return true
	}
	return false
}

// isWasmArtifact reports whether a config media type or the layers mark a
// WebAssembly artifact rather than a filesystem image.
func isWasmArtifact(configMT string, layers []Layer) bool {
	if strings.HasPrefix(configMT, "application/vnd.wasm.config.") {
		return true
	}
	for _, l := range layers {
		if l.MediaType == "application/wasm" || strings.HasPrefix(l.MediaType, "application/vnd.wasm.content.layer.") {
			return true
		}
	}
	return false
}

// isFilesystemLayer reports whether a layer can be unpacked as a tar
// stream. An empty media type is accepted: the content is sniffed.
func isFilesystemLayer(mt string) bool {
	if mt == "" {
		return true
	}
	return strings.Contains(mt, ".layer.") && strings.Contains(mt, "tar") ||
		strings.HasPrefix(mt, "application/vnd.docker.image.rootfs.")
}
