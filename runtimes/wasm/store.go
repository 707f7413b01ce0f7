package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/runtime"
)

// imageStore is what StoreModules needs of the image store.
type imageStore interface {
	Acquire(ctx context.Context, key, ref string, want []ocispec.Platform) (images.Image, error)
	Release(ctx context.Context, key string) error
	Keep(ctx context.Context, key, ref, digest string) error
	BlobPath(digest string) (string, error)
}

// StoreModules returns the ModuleSource over an image store (an
// *images.Store). A module is the image's layer of media type
// application/wasm (or application/vnd.wasm.content.layer.v1+wasm), read in
// place from the store; or, for an image of the Docker+Wasm convention
// (platform wasi/wasm), the file its entrypoint names inside its layer,
// extracted once per container under dir.
func StoreModules(store imageStore, dir string) ModuleSource {
	return &storeModules{store: store, dir: dir}
}

type storeModules struct {
	store imageStore
	dir   string
}

// Module implements ModuleSource.
func (s *storeModules) Module(ctx context.Context, key, ref string) (m Module, err error) {
	img, err := s.store.Acquire(ctx, key, ref, []ocispec.Platform{Platform()})
	if err != nil {
		return Module{}, err
	}
	defer func() {
		if err != nil {
			_ = s.Release(context.WithoutCancel(ctx), key)
		}
	}()
	cfg := img.Config.Config
	m = Module{Ref: img.Ref, ImageDigest: img.Digest, Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env, Workdir: cfg.WorkingDir}
	for p := range cfg.ExposedPorts {
		if port, proto, _ := strings.Cut(p, "/"); proto == "" || proto == "tcp" {
			if n, err := strconv.ParseUint(port, 10, 16); err == nil && n > 0 {
				m.Exposed = append(m.Exposed, uint16(n))
			}
		}
	}
	slices.Sort(m.Exposed)
	if m.Ref == "" {
		m.Ref = ref
	}
	for _, l := range img.Layers {
		if IsModuleLayer(l.MediaType) {
			p, err := s.store.BlobPath(l.Digest)
			if err != nil {
				return Module{}, err
			}
			m.Path, m.Digest, m.Layer, m.Name = p, l.Digest, l.Digest, moduleName(m.Ref)
			return m, nil
		}
	}
	if os := img.Platform.OS; os != "" && os != "wasi" && os != "wasip1" {
		return Module{}, fmt.Errorf("image %s is for %s, not a WebAssembly module: %w", ref, runtime.FormatPlatform(img.Platform), runtime.ErrNotSupported)
	}
	if len(cfg.Entrypoint) == 0 || len(img.Layers) == 0 {
		return Module{}, fmt.Errorf("image %s has no wasm layer and no entrypoint naming a module file in its layers: %w", ref, runtime.ErrInvalidArgument)
	}
	name := cfg.Entrypoint[0]
	// The top layer wins, as it would in a filesystem.
	for i := len(img.Layers) - 1; i >= 0; i-- {
		file, digest, err := s.extract(img.Layers[i].Digest, name, filepath.Join(s.dir, key))
		if err == nil {
			m.Path, m.Digest, m.Layer, m.Name = file, digest, img.Layers[i].Digest, path.Base(name)
			return m, nil
		}
		if i == 0 || !errors.Is(err, runtime.ErrInvalidArgument) {
			return Module{}, fmt.Errorf("image %s: %w", ref, err)
		}
	}
	return Module{}, fmt.Errorf("image %s: no layer holds %s: %w", ref, name, runtime.ErrInvalidArgument)
}

func (s *storeModules) extract(digest, name, dir string) (string, string, error) {
	p, err := s.store.BlobPath(digest)
	if err != nil {
		return "", "", err
	}
	f, err := os.Open(p)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	return ExtractFile(f, name, dir)
}

// HasLayer implements ModuleSource.
func (s *storeModules) HasLayer(d string) bool {
	_, err := s.store.BlobPath(d)
	return err == nil
}

// Release implements ModuleSource.
func (s *storeModules) Release(ctx context.Context, key string) error {
	if err := os.RemoveAll(filepath.Join(s.dir, key)); err != nil {
		return err
	}
	return s.store.Release(ctx, key)
}

// Keep implements ModuleSource.
func (s *storeModules) Keep(ctx context.Context, key, ref, digest string) error {
	return s.store.Keep(ctx, key, ref, digest)
}
