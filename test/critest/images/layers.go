package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's modification time and every image's creation
// time (internal/imagebuild's), so that digests do not change between runs.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// entry is one tar entry of a layer.
type entry struct {
	name     string // relative to the root, no leading slash
	typeflag byte
	mode     int64 // permission bits, setuid included
	uid, gid int
	linkname string
	data     []byte
}

func dir(name string, mode int64) entry {
	return entry{name: name + "/", typeflag: tar.TypeDir, mode: mode}
}

func file(name string, mode int64, data []byte) entry {
	return entry{name: name, typeflag: tar.TypeReg, mode: mode, data: data}
}

// hardlink makes name a second name of target (both relative to the root,
// target earlier in the same layer), as the docker library busybox image
// installs its applets.
func hardlink(name, target string) entry {
	return entry{name: name, typeflag: tar.TypeLink, mode: 0o755, linkname: target}
}

// layer writes entries into a gzip-compressed OCI tar layer.
func layer(entries ...entry) (v1.Layer, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{
			Name: e.name, Typeflag: e.typeflag, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.linkname, Size: int64(len(e.data)), ModTime: epoch, Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("tar data %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// assemble makes a linux/goarch OCI image of layers with config cfg, as
// internal/imagebuild builds its own.
func assemble(goarch string, layers []v1.Layer, cfg v1.Config) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", goarch
	cf.Created = v1.Time{Time: epoch}
	return mutate.ConfigFile(img, cf)
}

// The account files of the docker library busybox image that critest's
// own images start from (FROM busybox): www-data (33) is there, which
// test-image-user-username names.
const (
	busyboxPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
	busyboxGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`
)

// Stand-ins for the two commands critest runs that busybox builds often
// lack: procps' pgrep (execSync-with-timeout runs "pgrep sleep || true")
// and util-linux' ipcs (the HostIpc specs look for a host segment's id in
// "ipcs -m"). They are installed in /usr/bin only when the busybox has no
// such applet.
var scriptStandIns = map[string]string{
	"pgrep": `#!/bin/sh
# critest stand-in for procps pgrep NAME: the pid of every process named NAME.
found=1
for d in /proc/[0-9]*; do
	if [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ]; then echo "${d#/proc/}"; found=0; fi
done
exit $found
`,
	"ipcs": `#!/bin/sh
# critest stand-in for util-linux ipcs -m: this IPC namespace's shared memory
# segments, from /proc/sysvipc/shm.
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch"
tail -n +2 /proc/sysvipc/shm | while read -r key shmid perms size cpid lpid nattch uid rest; do
	echo "$key $shmid $uid $perms $size $nattch"
done
`,
}

// busybox is what the base layer is made of: the binary, its applets and,
// for a dynamically linked one, the libraries it loads.
type busybox struct {
	path       string
	bin        []byte
	applets    []string
	libs       map[string][]byte // path in the image (no leading slash) -> content
	standalone bool              // its shell runs applets without executing a file
}

// loadBusybox reads the busybox at p, lists its applets and, when it is
// dynamically linked, collects its loader and libraries as ldd reports them.
func loadBusybox(p string) (*busybox, error) {
	bin, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read busybox %s (install busybox-static, or pass --busybox): %w", p, err)
	}
	out, err := exec.Command(p, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", p, err)
	}
	bb := &busybox{path: p, bin: bin, libs: map[string][]byte{}}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" && !strings.Contains(a, "/") {
			bb.applets = append(bb.applets, a)
		}
	}
	sort.Strings(bb.applets)
	f, err := elf.Open(p)
	if err != nil {
		return nil, fmt.Errorf("busybox %s: %w", p, err)
	}
	dynamic := false
	for _, prog := range f.Progs {
		dynamic = dynamic || prog.Type == elf.PT_INTERP
	}
	f.Close()
	if dynamic {
		if err := bb.collectLibs(); err != nil {
			return nil, err
		}
	}
	// A shell built with FEATURE_SH_STANDALONE (Debian's busybox-static)
	// finds "ls" with an empty PATH: it runs applets in-process, which a
	// masked /bin/ls cannot stop.
	probe := exec.Command(p, "sh", "-c", "PATH=/nonexistent; ls / >/dev/null 2>&1 && echo standalone")
	if out, err := probe.Output(); err == nil && strings.TrimSpace(string(out)) == "standalone" {
		bb.standalone = true
	}
	return bb, nil
}

// collectLibs reads the files ldd lists for the busybox: "name => /path
// (addr)" lines and the loader's "/path (addr)" line.
func (bb *busybox) collectLibs() error {
	out, err := exec.Command("ldd", bb.path).Output()
	if err != nil {
		return fmt.Errorf("ldd %s (a dynamically linked busybox needs its libraries copied in): %w", bb.path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var lib string
		switch {
		case len(f) >= 3 && f[1] == "=>" && strings.HasPrefix(f[2], "/"):
			lib = f[2]
		case len(f) >= 1 && strings.HasPrefix(f[0], "/"):
			lib = f[0]
		default:
			continue // linux-vdso.so.1 has no file
		}
		b, err := os.ReadFile(lib)
		if err != nil {
			return fmt.Errorf("library %s of %s: %w", lib, bb.path, err)
		}
		bb.libs[strings.TrimPrefix(path.Clean(lib), "/")] = b
	}
	return sc.Err()
}

// baseLayer lays out a root file system like the docker library busybox
// image's: /bin/busybox with every applet as a hard link beside it in /bin
// (not symlinks: a masked /bin/ls must not mask busybox itself), the
// account files, /tmp, /var/run, the stand-in scripts for missing applets
// and, for a dynamic busybox, its libraries at their host paths.
func (bb *busybox) baseLayer() (v1.Layer, error) {
	dirs := map[string]int64{"bin": 0o755, "dev": 0o755, "etc": 0o755, "home": 0o755, "proc": 0o555,
		"root": 0o700, "sys": 0o555, "tmp": 0o1777, "usr": 0o755, "usr/bin": 0o755, "usr/sbin": 0o755,
		"usr/local": 0o755, "usr/local/bin": 0o755, "var": 0o755, "var/run": 0o755, "var/www": 0o755,
		"var/spool": 0o755, "var/spool/mail": 0o755}
	libNames := make([]string, 0, len(bb.libs))
	for l := range bb.libs {
		libNames = append(libNames, l)
		for d := path.Dir(l); d != "."; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	sort.Strings(libNames)
	dirNames := make([]string, 0, len(dirs))
	for d := range dirs {
		dirNames = append(dirNames, d)
	}
	sort.Strings(dirNames)
	var es []entry
	for _, d := range dirNames {
		es = append(es, dir(d, dirs[d]))
	}
	for _, l := range libNames {
		es = append(es, file(l, 0o755, bb.libs[l]))
	}
	es = append(es, file("bin/busybox", 0o755, bb.bin))
	have := map[string]bool{}
	for _, a := range bb.applets {
		have[a] = true
		es = append(es, hardlink("bin/"+a, "bin/busybox"))
	}
	for _, name := range []string{"ipcs", "pgrep"} {
		if !have[name] {
			es = append(es, file("usr/bin/"+name, 0o755, []byte(scriptStandIns[name])))
		}
	}
	es = append(es,
		file("etc/passwd", 0o644, []byte(busyboxPasswd)),
		file("etc/group", 0o644, []byte(busyboxGroup)),
		file("etc/nsswitch.conf", 0o644, []byte("passwd: files\ngroup: files\nhosts: files dns\n")))
	return layer(es...)
}
