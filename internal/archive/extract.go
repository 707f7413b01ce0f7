package archive

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// Result describes an extracted stream.
type Result struct {
	// Size is the uncompressed size of the stream in bytes.
	Size int64
	// DiffID is the sha256 digest of the uncompressed stream, "sha256:...".
	DiffID string
	// Compression is what the stream was compressed with.
	Compression Compression
	// Skipped counts entries left out (device nodes, unknown types).
	Skipped int
}

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Extract unpacks the tar stream r (plain, gzip or zstd) into dir, which
// must exist. It never creates, changes or follows anything outside dir.
// An entry that tries to is an error wrapping runtime.ErrInvalidArgument
// naming the entry, as is a stream larger than the size bound. On error dir
// holds whatever was extracted so far; the caller removes it.
func Extract(ctx context.Context, r io.Reader, dir string, opts ...Option) (Result, error) {
	o := makeOptions(opts)
	zr, comp, err := Decompress(r, o.mediaType)
	if err != nil {
		return Result{}, err
	}
	defer zr.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Result{}, fmt.Errorf("extract into %s: %w", dir, err)
	}
	defer root.Close()

	h := sha256.New()
	cr := &countingReader{r: zr, max: o.maxSize, h: h}
	x := &extractor{root: root, o: o, dirs: map[string]dirMeta{}}
	tr := tar.NewReader(cr)
	for {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("reading tar: %w", wrapTar(err, cr))
		}
		if err := x.entry(hdr, tr); err != nil {
			return Result{}, wrapTar(err, cr)
		}
	}
	// The diff ID covers the whole stream, padding after the end marker too.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return Result{}, fmt.Errorf("reading tar: %w", wrapTar(err, cr))
	}
	if err := x.finishDirs(); err != nil {
		return Result{}, err
	}
	return Result{Size: cr.n, DiffID: "sha256:" + hex.EncodeToString(h.Sum(nil)), Compression: comp, Skipped: x.skipped}, nil
}

// ErrTooLarge marks a stream that unpacks to more than its bound
// (WithMaxSize); the error wraps runtime.ErrInvalidArgument too.
var ErrTooLarge = errors.New("too large")

func wrapTar(err error, cr *countingReader) error {
	if errors.Is(err, ErrTooLarge) {
		return fmt.Errorf("layer: %w (%w): it unpacks to more than %d bytes, the bound; raise the limit if the image is trusted", runtime.ErrInvalidArgument, ErrTooLarge, cr.max)
	}
	if errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrFieldTooLong) {
		return fmt.Errorf("%w: %w", runtime.ErrInvalidArgument, err)
	}
	return err
}

type countingReader struct {
	r   io.Reader
	n   int64
	max int64
	h   io.Writer
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	if c.n > c.max {
		return n, ErrTooLarge
	}
	return n, err
}

type dirMeta struct {
	mode  fs.FileMode
	mtime time.Time
}

type extractor struct {
	root    *os.Root
	o       options
	dirs    map[string]dirMeta // modes and times applied last, once contents are in
	skipped int
}

// cleanName turns a tar name into a path relative to the root, refusing
// names that climb out of it.
func cleanName(name string) (string, error) {
	n := strings.TrimLeft(name, "/")
	if n == "" {
		return ".", nil
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q: %w: the name climbs out of the target with \"..\"", name, runtime.ErrInvalidArgument)
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("entry %q: %w: NUL in name", name, runtime.ErrInvalidArgument)
	}
	return path.Clean(n), nil
}

func (x *extractor) entry(hdr *tar.Header, body io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	if dir == "" {
		dir = "."
	}
	if name != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
		}
	}

	if strings.HasPrefix(base, whiteoutPrefix) && hdr.Typeflag != tar.TypeDir {
		return x.whiteout(hdr.Name, dir, base)
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		return x.dir(hdr, name)
	case tar.TypeReg, tar.TypeGNUSparse:
		if err := x.clear(name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		return x.file(hdr, name, body)
	case tar.TypeSymlink:
		if err := x.clear(name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if err := x.root.Symlink(hdr.Linkname, name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
		}
		return x.owner(hdr, name)
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link %q: %w", hdr.Name, err)
		}
		if err := x.clear(name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		// Root.Link resolves both names inside the root: a target behind a
		// symlink that leads out is refused.
		if err := x.root.Link(target, name); err != nil {
			return fmt.Errorf("hard link %q to %q: %w", hdr.Name, hdr.Linkname, wrapFS(err))
		}
		return nil
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if hdr.Typeflag != tar.TypeFifo && !x.o.devices {
			x.skipped++
			x.o.logger.Debug("archive: device node skipped", "entry", hdr.Name)
			return nil
		}
		if err := x.clear(name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := x.mknod(dir, base, mode, int(dev)); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if err := x.owner(hdr, name); err != nil {
			return err
		}
		return x.modeTimes(hdr, name)
	default:
		// PAX global headers and vendor types carry no file.
		x.skipped++
		return nil
	}
}

// clear removes what stands at name unless it is a directory the entry
// may reuse. A later entry replaces an earlier one, as tar does.
func (x *extractor) clear(name string) error {
	if name == "." {
		return fmt.Errorf("%w: the target itself cannot be replaced", runtime.ErrInvalidArgument)
	}
	if _, err := x.root.Lstat(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return wrapFS(err)
	}
	delete(x.dirs, name)
	return wrapFS(x.root.RemoveAll(name))
}

func (x *extractor) dir(hdr *tar.Header, name string) error {
	if fi, err := x.root.Lstat(name); err == nil && !fi.IsDir() {
		if err := x.clear(name); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	if name != "." {
		if err := x.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
		}
	}
	if err := x.owner(hdr, name); err != nil {
		return err
	}
	x.dirs[name] = dirMeta{mode: tarMode(hdr), mtime: hdr.ModTime}
	return nil
}

func (x *extractor) file(hdr *tar.Header, name string, body io.Reader) error {
	f, err := x.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("entry %q: %w", hdr.Name, err)
	}
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !xattrAllowed(attr) {
			continue
		}
		// A filesystem without xattrs loses capabilities, not the file.
		if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(v), 0); err != nil {
			x.o.logger.Debug("archive: xattr not set", "entry", hdr.Name, "xattr", attr, "err", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, err)
	}
	if err := x.owner(hdr, name); err != nil {
		return err
	}
	return x.modeTimes(hdr, name)
}

// xattrAllowed keeps a layer from setting attributes that steer the
// overlay mount or the security modules.
func xattrAllowed(attr string) bool {
	return strings.HasPrefix(attr, "user.") || attr == "security.capability"
}

func (x *extractor) owner(hdr *tar.Header, name string) error {
	if !x.o.owners {
		return nil
	}
	if err := x.root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
	}
	return nil
}

// modeTimes sets the mode after the owner, since chown clears setuid bits.
func (x *extractor) modeTimes(hdr *tar.Header, name string) error {
	if err := x.root.Chmod(name, tarMode(hdr)); err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
	}
	if err := x.root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
		return fmt.Errorf("entry %q: %w", hdr.Name, wrapFS(err))
	}
	return nil
}

func tarMode(hdr *tar.Header) fs.FileMode {
	m := fs.FileMode(hdr.Mode & 0o777)
	if hdr.Mode&04000 != 0 {
		m |= fs.ModeSetuid
	}
	if hdr.Mode&02000 != 0 {
		m |= fs.ModeSetgid
	}
	if hdr.Mode&01000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// finishDirs applies directory modes and times once nothing more is
// written into them. A directory replaced by something else since is left.
func (x *extractor) finishDirs() error {
	for name, m := range x.dirs {
		fi, err := x.root.Lstat(name)
		if err != nil || !fi.IsDir() {
			continue
		}
		if err := x.root.Chmod(name, m.mode); err != nil {
			return fmt.Errorf("directory %q: %w", name, wrapFS(err))
		}
		if err := x.root.Chtimes(name, m.mtime, m.mtime); err != nil {
			return fmt.Errorf("directory %q: %w", name, wrapFS(err))
		}
	}
	return nil
}

// whiteout handles ".wh.NAME" and ".wh..wh..opq" in directory dir.
func (x *extractor) whiteout(entry, dir, base string) error {
	if base == whiteoutOpaque {
		if x.o.overlay {
			return x.setOpaque(entry, dir)
		}
		ents, err := fs.ReadDir(x.root.FS(), dir)
		if err != nil {
			return fmt.Errorf("entry %q: %w", entry, wrapFS(err))
		}
		for _, e := range ents {
			if err := x.root.RemoveAll(path.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("entry %q: %w", entry, wrapFS(err))
			}
		}
		return nil
	}
	victim := strings.TrimPrefix(base, whiteoutPrefix)
	if victim == "" || victim == "." || victim == ".." || strings.Contains(victim, "/") {
		return fmt.Errorf("entry %q: %w: whiteout names no file", entry, runtime.ErrInvalidArgument)
	}
	target := path.Join(dir, victim)
	if err := x.clear(target); err != nil {
		return fmt.Errorf("entry %q: %w", entry, err)
	}
	if !x.o.overlay {
		return nil
	}
	// overlayfs reads a 0/0 character device as "deleted in this layer".
	if err := x.mknod(dir, victim, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("entry %q: %w", entry, err)
	}
	return nil
}

func (x *extractor) setOpaque(entry, dir string) error {
	f, err := x.root.Open(dir)
	if err != nil {
		return fmt.Errorf("entry %q: %w", entry, wrapFS(err))
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		return fmt.Errorf("entry %q: marking %q opaque: %w", entry, dir, err)
	}
	return nil
}

// mknod creates base in dir. The directory is opened through the root, so
// it is inside the target, and mknodat with a bare name cannot leave it.
func (x *extractor) mknod(dir, base string, mode uint32, dev int) error {
	d, err := x.root.Open(dir)
	if err != nil {
		return wrapFS(err)
	}
	defer d.Close()
	if err := unix.Mknodat(int(d.Fd()), base, mode, dev); err != nil {
		return fmt.Errorf("mknod %q: %w", path.Join(dir, base), err)
	}
	return nil
}

// wrapFS marks os.Root's refusals (a name that resolves outside the root)
// as bad input. They are the only failures of a Root operation that carry
// no errno: everything the kernel refuses does.
func wrapFS(err error) error {
	if err == nil {
		return nil
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %w", runtime.ErrInvalidArgument, err)
	}
	return err
}
