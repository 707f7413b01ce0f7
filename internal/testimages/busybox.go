package testimages

import (
	"compress/gzip"
	"os"
	"os/exec"
	"path"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
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

// Busybox returns a linux image for the host's architecture (amd64 on the
// machines switchyard is tested on) whose single layer holds the host's
// static /bin/busybox, a symlink to it for every applet busybox lists (sh,
// echo, cat, ls, sleep, true, false, mount, id, head, dd, ...), /etc/passwd
// and /etc/group with root and nobody, and the directories /tmp (1777),
// /root, /proc, /sys, /dev and /etc. The config says Cmd ["sh"] and sets
// PATH. It fails the test when busybox is missing (install busybox-static).
func Busybox(t testing.TB) v1.Image {
	t.Helper()
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		t.Fatalf("testimages: read %s (install the busybox-static package): %v", BusyboxPath, err)
	}
	out, err := exec.Command(BusyboxPath, "--list-full").Output()
	if err != nil {
		t.Fatalf("testimages: %s --list-full: %v", BusyboxPath, err)
	}
	img := image(t, []v1.Layer{gzipLayer(t, types.OCILayer, gzip.BestSpeed, busyboxEntries(bin, string(out))...)},
		v1.Config{Cmd: []string{"sh"}, Env: []string{DefaultPath}, WorkingDir: "/"},
		v1.Platform{OS: "linux", Architecture: goruntime.GOARCH})
	return img
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

// image assembles an OCI image of layers with cfg for platform p.
func image(t testing.TB, layers []v1.Layer, cfg v1.Config, p v1.Platform) v1.Image {
	t.Helper()
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		t.Fatalf("testimages: append layers: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("testimages: config file: %v", err)
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = p.OS, p.Architecture, p.Variant, p.OSVersion
	cf.Created = v1.Time{Time: epoch}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("testimages: set config: %v", err)
	}
	return img
}
