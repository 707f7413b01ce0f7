package wasm

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/switchyard/switchyard/runtime"
)

// ModuleSource finds the module of an image and records that a container
// uses the image (so the image store refuses to remove it). StoreModules
// adapts the image store; tests may use their own.
type ModuleSource interface {
	// Module records that key uses ref and returns ref's module. An image
	// not in the store wraps runtime.ErrNotFound; an image without a module
	// wraps runtime.ErrInvalidArgument.
	Module(ctx context.Context, key, ref string) (Module, error)
	// Release drops key's use record; releasing an unknown key succeeds.
	Release(ctx context.Context, key string) error
	// Keep records again that key uses manifest digest of image ref, when
	// the runtime starts (the image store keeps uses in memory).
	Keep(ctx context.Context, key, ref, digest string) error
	// HasLayer reports whether an image layer of digest d is still in the
	// store: the compiled code of a module from a layer no image has any
	// more can go.
	HasLayer(d string) bool
}

// Module is a module file and the parts of its image's config that say how
// to run it.
type Module struct {
	// Ref is the image reference, ImageDigest its manifest digest.
	Ref, ImageDigest string
	// Path is the module file; Digest its "sha256:<hex>".
	Path, Digest string
	// Layer is the digest of the image layer the module is (then equal
	// to Digest) or was extracted from.
	Layer string
	// Name is the module's name, argv[0] when neither the image nor the
	// spec names an entrypoint.
	Name string
	// Entrypoint, Cmd, Env and Workdir come from the image config.
	Entrypoint, Cmd, Env []string
	Workdir              string
	// Exposed are the TCP ports the image's config exposes, in order: a
	// module in a pod serves them in the pod's network.
	Exposed []uint16
}

// Media types of a layer that is the module itself.
const (
	mediaTypeWasm      = "application/wasm"
	mediaTypeWasmLayer = "application/vnd.wasm.content.layer.v1+wasm"
)

// IsModuleLayer reports whether a layer of media type mt is a module (the
// OCI wasm artifact convention) rather than a tar of files.
func IsModuleLayer(mt string) bool {
	return mt == mediaTypeWasm || mt == mediaTypeWasmLayer
}

// maxModuleSize bounds a module extracted from a layer.
const maxModuleSize = 1 << 30

// ExtractFile copies the regular file name (an absolute or relative path
// inside the layer) out of the tar layer r (gzip-compressed or not) into
// dir, named by its digest, and returns its path and digest. A missing file,
// a link in its place or a damaged layer wraps runtime.ErrInvalidArgument.
func ExtractFile(r io.Reader, name, dir string) (file, digest string, err error) {
	want := path.Clean("/" + name)
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(4); len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", "", fmt.Errorf("layer: %w: %w", err, runtime.ErrInvalidArgument)
		}
		defer zr.Close()
		src = zr
	} else if len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd {
		return "", "", fmt.Errorf("layer: zstd-compressed layers are not supported for wasm modules; push the image with gzip or uncompressed layers: %w", runtime.ErrNotSupported)
	}
	tr := tar.NewReader(src)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", "", fmt.Errorf("layer has no file %s (the entrypoint names it): %w", want, runtime.ErrInvalidArgument)
		}
		if err != nil {
			return "", "", fmt.Errorf("layer: %w: %w", err, runtime.ErrInvalidArgument)
		}
		if path.Clean("/"+hdr.Name) != want {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return "", "", fmt.Errorf("layer: %s is a link to %q; point the entrypoint at the module file itself: %w", want, hdr.Linkname, runtime.ErrInvalidArgument)
		default:
			return "", "", fmt.Errorf("layer: %s is not a regular file: %w", want, runtime.ErrInvalidArgument)
		}
		if hdr.Size > maxModuleSize {
			return "", "", fmt.Errorf("layer: %s is %d bytes, more than the %d a module may have: %w", want, hdr.Size, maxModuleSize, runtime.ErrInvalidArgument)
		}
		return storeFile(layerReader{io.LimitReader(tr, hdr.Size)}, dir)
	}
}

// layerReader marks read errors (a truncated or damaged layer) as the
// layer's fault, so they are not mistaken for errors writing the module.
type layerReader struct{ r io.Reader }

func (l layerReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("layer: %w: %w", err, runtime.ErrInvalidArgument)
	}
	return n, err
}

// storeFile writes r into dir under its digest, atomically.
func storeFile(r io.Reader, dir string) (file, digest string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(dir, ".module-*")
	if err != nil {
		return "", "", err
	}
	defer os.Remove(tmp.Name()) // after the rename this is a no-op
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("module: %w", err)
	}
	hexsum := hex.EncodeToString(h.Sum(nil))
	file = filepath.Join(dir, "sha256-"+hexsum+".wasm")
	if err := os.Rename(tmp.Name(), file); err != nil {
		return "", "", err
	}
	return file, "sha256:" + hexsum, nil
}

// moduleName is the name a module is known by: the base of its entrypoint
// or, for an artifact, of the image's repository.
func moduleName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	base := path.Base(ref)
	if i := strings.LastIndex(base, ":"); i > 0 {
		base = base[:i]
	}
	if base == "" || base == "." || base == "/" {
		return "module.wasm"
	}
	return base + ".wasm"
}
