package imagebuild

import (
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path"
	goruntime "runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is where the host's static busybox is read from (Debian's
// busybox-static package).
const BusyboxPath = "/bin/busybox"

// DefaultPath is the PATH in the Busybox image's environment.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group  = "root:x:0:\nnobody:x:65534:\n"
)

// Busybox returns a linux image for the host's architecture whose single
// layer holds the host's static /bin/busybox, a symlink to it for every
// applet busybox lists (sh, echo, cat, ls, sleep, true, false, mount, id,
// head, dd, ...), /etc/passwd and /etc/group with root and nobody, and the
// directories /tmp (1777), /root, /proc, /sys, /dev and /etc. The config
// says Cmd ["sh"] and sets PATH. When busybox is missing the error wraps
// fs.ErrNotExist and says to install busybox-static.
func Busybox() (v1.Image, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: read %s (install the busybox-static package): %w", BusyboxPath, err)
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("imagebuild: %s --list-full: %w", BusyboxPath, err)
	}
	layer, err := gzipLayer(types.OCILayer, gzip.BestSpeed, busyboxEntries(bin, string(out))...)
	if err != nil {
		return nil, err
	}
	return assemble(ociBase(), []v1.Layer{layer},
		v1.Config{Cmd: []string{"sh"}, Env: []string{DefaultPath}, WorkingDir: "/"},
		v1.Platform{OS: "linux", Architecture: goruntime.GOARCH})
}

// busyboxEntries lays out the busybox layer: directories first, then the
// binary, then one absolute symlink per applet (what busybox --install -s
// makes), then the account files.
func busyboxEntries(bin []byte, list string) []entry {
	dirs := map[string]bool{"bin": true, "sbin": true, "usr": true, "usr/bin": true, "usr/sbin": true,
		"etc": true, "root": true, "proc": true, "sys": true, "dev": true}
	var links []string
	for _, l := range strings.Fields(list) {
		l = strings.TrimPrefix(path.Clean("/"+l), "/")
		if l == "bin/busybox" || l == "" {
			continue
		}
		links = append(links, l)
		for d := path.Dir(l); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	sort.Strings(links)
	var es []entry
	for _, d := range sorted {
		mode := int64(0o755)
		if d == "root" {
			mode = 0o700
		}
		es = append(es, dir(d+"/", mode))
	}
	es = append(es, dir("tmp/", 0o1777), file("bin/busybox", 0o755, bin))
	for _, l := range links {
		es = append(es, symlink(l, "/bin/busybox"))
	}
	return append(es, file("etc/passwd", 0o644, []byte(passwd)), file("etc/group", 0o644, []byte(group)))
}
