package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/archive"
	"github.com/switchyard/switchyard/runtime"
)

// Rootfs is a container's root filesystem before it is mounted: read-only
// snapshots and the container's own writable directories.
type Rootfs struct {
	// Lowerdirs are the unpacked layers, top layer first (overlayfs order).
	Lowerdirs []string
	// Upperdir receives the container's writes.
	Upperdir string
	// Workdir is overlayfs's scratch directory, on the same filesystem as
	// Upperdir.
	Workdir string
}

// legacyMountLimit is what mount(2) accepts as option data: one page.
const legacyMountLimit = 4096

// Mount mounts the root filesystem at target (an existing directory) as an
// overlay. Options that fit in one page go through mount(2); longer lists
// (many layers) are passed a layer at a time through the new mount API
// (fsopen, "lowerdir+", Linux 6.8 or later). Unmount it with Unmount.
func (r Rootfs) Mount(target string) error {
	if len(r.Lowerdirs) == 0 {
		return fmt.Errorf("overlay on %s: %w: no layers", target, runtime.ErrInvalidArgument)
	}
	data := "lowerdir=" + strings.Join(r.Lowerdirs, ":") + ",upperdir=" + r.Upperdir + ",workdir=" + r.Workdir
	special := strings.ContainsAny(strings.Join(append(append([]string{}, r.Lowerdirs...), r.Upperdir, r.Workdir), ""), ",:\\")
	if len(data) < legacyMountLimit && !special {
		if err := unix.Mount("overlay", target, "overlay", 0, data); err != nil {
			return fmt.Errorf("overlay on %s: %w", target, err)
		}
		return nil
	}
	if err := r.mountFD(target); err != nil {
		return fmt.Errorf("overlay on %s with %d layers (%d bytes of options, mount(2) takes %d): %w; this needs Linux 6.8 or later, or an image with fewer layers",
			target, len(r.Lowerdirs), len(data), legacyMountLimit, err)
	}
	return nil
}

// mountFD mounts through fsopen/fsconfig/fsmount, one layer per call, so
// the number of layers is not bounded by a page of options.
func (r Rootfs) mountFD(target string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("fsopen: %w", err)
	}
	defer unix.Close(fsfd)
	for _, d := range r.Lowerdirs {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", d); err != nil {
			return fmt.Errorf("fsconfig lowerdir+ %s: %w", d, err)
		}
	}
	if err := unix.FsconfigSetString(fsfd, "upperdir", r.Upperdir); err != nil {
		return fmt.Errorf("fsconfig upperdir: %w", err)
	}
	if err := unix.FsconfigSetString(fsfd, "workdir", r.Workdir); err != nil {
		return fmt.Errorf("fsconfig workdir: %w", err)
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fmt.Errorf("fsconfig create: %w", err)
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("fsmount: %w", err)
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// Unmount unmounts a root filesystem mounted with Rootfs.Mount. A target
// that is not mounted is not an error.
func Unmount(target string) error {
	if err := unix.Unmount(target, 0); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", target, err)
	}
	return nil
}

func checkKey(key string) error {
	if key == "" || key == "." || key == ".." || strings.ContainsAny(key, "/\x00") || len(key) > 200 {
		return fmt.Errorf("container key %q: %w: use a container id such as web-rep-0", key, runtime.ErrInvalidArgument)
	}
	return nil
}

// Acquire records that the container key uses the manifest of ref that a
// runtime serving want runs (see Resolve), so that Remove refuses it and
// the collector keeps it, and returns that manifest. Acquiring again with
// the same manifest is a no-op; with another it is an error wrapping
// runtime.ErrAlreadyExists. The record is in memory (see Keep).
func (s *Store) Acquire(ctx context.Context, key, ref string, want []ocispec.Platform) (Image, error) {
	if err := s.checkOpen(); err != nil {
		return Image{}, err
	}
	if err := checkKey(key); err != nil {
		return Image{}, err
	}
	s.usesMu.Lock()
	defer s.usesMu.Unlock()
	var img Image
	err := s.db.View(func(tx *bolt.Tx) error {
		got, err := resolve(tx, ref, want)
		img = got
		return err
	})
	if err != nil {
		return Image{}, err
	}
	if u, ok := s.uses[key]; ok {
		if u.Digest == img.Digest {
			return img, nil
		}
		return Image{}, useRefused(key, u)
	}
	s.uses[key] = use{Ref: img.Ref, Digest: img.Digest}
	return img, nil
}

// Release removes the record that container key uses an image. Releasing
// an unknown key is not an error.
func (s *Store) Release(ctx context.Context, key string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	s.usesMu.Lock()
	defer s.usesMu.Unlock()
	delete(s.uses, key)
	return nil
}

// PrepareRootfs gives container key a root filesystem of the manifest of
// ref that a runtime serving want runs (see Resolve): it acquires it, unpacks every layer not unpacked yet (each
// layer is unpacked once and shared by every container), and makes a fresh
// upper and work directory under containers/<key>. A second PrepareRootfs
// for a key that has one is an error wrapping runtime.ErrAlreadyExists; an
// image that is not a filesystem (a wasm module) is runtime.ErrNotSupported.
func (s *Store) PrepareRootfs(ctx context.Context, key, ref string, want []ocispec.Platform) (Rootfs, Image, error) {
	if err := checkKey(key); err != nil {
		return Rootfs{}, Image{}, err
	}
	s.gc.RLock()
	defer s.gc.RUnlock()
	img, err := s.Resolve(ctx, ref, want)
	if err != nil {
		return Rootfs{}, Image{}, err
	}
	for _, l := range img.Layers {
		if !isFilesystemLayer(l.MediaType) {
			return Rootfs{}, Image{}, fmt.Errorf("image %s: %w: layer %s has media type %s, not a filesystem layer", img.Ref, runtime.ErrNotSupported, l.Digest, l.MediaType)
		}
	}
	cdir := filepath.Join(s.root, "containers", key)
	if err := os.Mkdir(cdir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Rootfs{}, Image{}, fmt.Errorf("container %s: %w: it has a root filesystem; release it first", key, runtime.ErrAlreadyExists)
		}
		return Rootfs{}, Image{}, fmt.Errorf("container %s: %w", key, err)
	}
	rfs, img, err := s.prepare(ctx, key, ref, want, cdir)
	if err != nil {
		_ = os.RemoveAll(cdir)
		return Rootfs{}, Image{}, err
	}
	return rfs, img, nil
}

func (s *Store) prepare(ctx context.Context, key, ref string, want []ocispec.Platform, cdir string) (Rootfs, Image, error) {
	img, err := s.Acquire(ctx, key, ref, want)
	if err != nil {
		return Rootfs{}, Image{}, err
	}
	fail := func(err error) (Rootfs, Image, error) {
		_ = s.Release(context.WithoutCancel(ctx), key)
		return Rootfs{}, Image{}, err
	}
	rfs := Rootfs{Upperdir: filepath.Join(cdir, "upper"), Workdir: filepath.Join(cdir, "work")}
	// The layers together are bounded too: many layers each under the
	// per-layer bound must not fill the disk.
	budget := s.opts.maxImageUnpacked
	for i := len(img.Layers) - 1; i >= 0; i-- {
		limit := min(s.opts.maxUnpacked, max(budget, 1))
		dir, size, err := s.snapshot(ctx, img.Layers[i], limit)
		if errors.Is(err, archive.ErrTooLarge) && limit < s.opts.maxUnpacked {
			err = fmt.Errorf("its layers unpack to more than %d bytes in all, the bound of one image: %w", s.opts.maxImageUnpacked, err)
		}
		if err != nil {
			return fail(fmt.Errorf("image %s: %w", img.Ref, err))
		}
		if budget -= size; budget < 0 {
			return fail(fmt.Errorf("image %s: its layers unpack to more than %d bytes in all, the bound of one image: %w", img.Ref, s.opts.maxImageUnpacked, runtime.ErrInvalidArgument))
		}
		rfs.Lowerdirs = append(rfs.Lowerdirs, dir)
	}
	if len(rfs.Lowerdirs) == 0 {
		// overlayfs needs a lower layer; an image without layers gets an
		// empty one.
		dir := filepath.Join(cdir, "empty")
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fail(fmt.Errorf("container %s: %w", key, err))
		}
		rfs.Lowerdirs = []string{dir}
	}
	for _, d := range []string{rfs.Upperdir, rfs.Workdir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fail(fmt.Errorf("container %s: %w", key, err))
		}
	}
	return rfs, img, nil
}

// ReleaseRootfs removes container key's upper and work directories and its
// use record. It does not unmount: unmount first. Releasing an unknown key
// is not an error.
func (s *Store) ReleaseRootfs(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	dir := filepath.Join(s.root, "containers", key)
	// Renamed out of the way at once, deleted in the background: off the
	// removal's path. Open deletes what a store did not live to delete.
	trash := filepath.Join(s.root, "ingest", "released-"+key)
	if err := os.Rename(dir, trash); err == nil {
		go func() {
			if err := removeAllForce(trash); err != nil {
				s.opts.logger.Warn("image store: deleting a released root filesystem", "key", key, "err", err)
			}
		}()
	} else if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("container %s: removing its root filesystem: %w (is it still mounted?)", key, err)
	}
	return s.Release(ctx, key)
}
