// Command images builds stand-ins for the container images that critest
// (the CRI validation suite, sigs.k8s.io/cri-tools v1.37.0) pulls, and
// pushes them to a registry under the originals' repository paths, so that
// a node whose pulls of registry.k8s.io, gcr.io, k8s.gcr.io and
// public.ecr.aws go to that registry first (switchyard daemon
// --registry-mirror HOST=MIRROR) runs critest without reaching them.
// docs/critest-images.md says what critest expects of each image and how
// its stand-in does it.
//
// Usage, from the repository root:
//
//	go run ./test/critest/images --registry 127.0.0.1:5000 [--busybox PATH]
//	go run ./test/critest/images --list
//
// It builds every image from the host's busybox (--busybox; a dynamically
// linked one is copied with its libraries) and from ./standin compiled for
// linux without cgo, pushes each, reports every push on stderr, and prints
// on stdout the mirror flags the agent needs, one per line:
//
//	--registry-mirror=registry.k8s.io=127.0.0.1:5000
//
// Every original host's repositories land in the one registry: their
// paths do not collide (registry.k8s.io/pause:3.9 and k8s.gcr.io/pause:3.9
// do, and are meant to be the same image). A push that would put two
// different images under one repository and tag is refused.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/switchyard/switchyard/internal/imagebuild"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "critest-images:", err)
		os.Exit(1)
	}
}

// target is one stand-in image and the references critest pulls it by.
type target struct {
	refs  []string // the originals, each host/repository:tag
	note  string   // what cannot be matched, said when it is pushed
	build func(b *builder) (v1.Image, error)
}

// critest's registries and the paths under them (pkg/validate/consts.go,
// pkg/framework).
const (
	e2e     = "registry.k8s.io/e2e-test-images/"
	staging = "gcr.io/k8s-staging-cri-tools/"
	ecr     = "public.ecr.aws/docker/library/"
)

// targets lists every image critest v1.37.0 can pull on linux.
func targets(goarch string) []target {
	userImage := func(user string) func(b *builder) (v1.Image, error) {
		return func(b *builder) (v1.Image, error) { return b.busyboxImage(nil, v1.Config{User: user}) }
	}
	marker := func(n string) func(b *builder) (v1.Image, error) {
		return func(b *builder) (v1.Image, error) { return b.busyboxImage([]entry{file(n, 0o644, nil)}, v1.Config{}) }
	}
	return []target{
		{refs: []string{e2e + "busybox:1.29-2"}, build: func(b *builder) (v1.Image, error) {
			return b.busyboxImage(nil, v1.Config{})
		}},
		{refs: []string{e2e + "nginx:1.14-2"}, build: func(b *builder) (v1.Image, error) { return b.nginx(":80", "80/tcp") }},
		{refs: []string{staging + "hostnet-nginx-" + goarch + ":latest"}, build: func(b *builder) (v1.Image, error) {
			return b.nginx(":12003", "12003/tcp")
		}},
		{refs: []string{e2e + "httpd:2.4.39-4"}, build: (*builder).httpd},
		{refs: []string{e2e + "nonewprivs:1.3"}, build: (*builder).nonewprivs},
		{refs: []string{"registry.k8s.io/pause:3.9", "k8s.gcr.io/pause:3.9"}, build: (*builder).pause},
		{refs: []string{staging + "test-image-user-uid:latest"}, build: userImage("1002")},
		{refs: []string{staging + "test-image-user-username:latest"}, build: userImage("www-data")},
		{refs: []string{staging + "test-image-user-uid-group:latest"}, build: userImage("1003:1004")},
		{refs: []string{staging + "test-image-user-username-group:latest"}, build: userImage("www-data:1004")},
		{refs: []string{staging + "test-image-predefined-group:latest"}, build: (*builder).predefinedGroup},
		{refs: []string{staging + "test-image-latest:latest"}, build: marker("test-image-latest")},
		{refs: []string{staging + "test-image-tag:test"}, build: marker("test")},
		{refs: []string{staging + "test-image-tag:all"}, build: marker("all")},
		{refs: []string{staging + "test-image-digest:latest"}, build: marker("test-image-digest"),
			note: "critest pulls it by the pinned digest sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf, which no stand-in can have"},
		{refs: []string{staging + "test-image-1:latest"}, build: marker("test-image-1")},
		{refs: []string{staging + "test-image-2:latest"}, build: marker("test-image-2")},
		{refs: []string{staging + "test-image-3:latest"}, build: marker("test-image-3")},
		{refs: []string{staging + "test-image-tags:1", staging + "test-image-tags:2", staging + "test-image-tags:3"},
			build: marker("same-image")},
		// critest -benchmark only (image listing and pulling benchmarks).
		{refs: []string{ecr + "busybox:1", ecr + "busybox:1-glibc", ecr + "busybox:1-musl", ecr + "busybox:1-uclibc",
			ecr + "busybox:1.35.0-glibc"}, build: func(b *builder) (v1.Image, error) { return b.busyboxImage(nil, v1.Config{}) }},
	}
}

// options are the parsed command line.
type options struct {
	registry string
	busybox  string
	standin  string
	goarch   string
	list     bool
}

func parse(args []string, stderr io.Writer) (options, error) {
	o := options{goarch: goruntime.GOARCH}
	fs := flag.NewFlagSet("critest-images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.registry, "registry", "", "registry host:port to push to, e.g. 127.0.0.1:5000 (required unless --list)")
	fs.StringVar(&o.busybox, "busybox", imagebuild.BusyboxPath, "busybox binary the images are made of; one whose shell runs applets without exec (Debian's busybox-static) fails critest's MaskedPaths spec, Debian's busybox package's does not")
	fs.StringVar(&o.standin, "standin", "test/critest/images/standin", "directory of the Go program that plays nginx, httpd, pause and nnp")
	fs.BoolVar(&o.list, "list", false, "print every original reference and where it is pushed, and build nothing")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: everything is given by flags (see -help)", fs.Args())
	}
	if o.list && o.registry == "" {
		o.registry = "MIRROR"
		return o, nil
	}
	if o.registry == "" {
		return o, errors.New("--registry is required, e.g. --registry 127.0.0.1:5000")
	}
	if strings.Contains(o.registry, "://") || strings.Contains(o.registry, "/") {
		return o, fmt.Errorf("--registry %q: give host:port only, without scheme or path", o.registry)
	}
	return o, nil
}

// mirrored is where the original reference orig is pushed: the registry,
// then orig's repository path and tag. It also returns orig's registry.
func mirrored(registry, orig string) (host, pushed string, err error) {
	tag, err := name.NewTag(orig, name.StrictValidation)
	if err != nil {
		return "", "", fmt.Errorf("reference %q: %w", orig, err)
	}
	return tag.RegistryStr(), registry + "/" + tag.RepositoryStr() + ":" + tag.TagStr(), nil
}

// run builds and pushes every target and prints the mirror flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	ts := targets(o.goarch)
	hosts := map[string]bool{}
	if o.list {
		for _, t := range ts {
			for _, r := range t.refs {
				_, pushed, err := mirrored(o.registry, r)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "%s -> %s\n", r, pushed)
			}
		}
		return nil
	}
	if err := probe(ctx, o.registry); err != nil {
		return err
	}
	b, err := newBuilder(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	pushedAs := map[string]v1.Hash{} // repository:tag in the registry -> digest
	for _, t := range ts {
		img, err := t.build(b)
		if err != nil {
			return fmt.Errorf("image %s: %w", t.refs[0], err)
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		for _, r := range t.refs {
			host, pushed, err := mirrored(o.registry, r)
			if err != nil {
				return err
			}
			if d, ok := pushedAs[pushed]; ok && d != digest {
				return fmt.Errorf("%s would be pushed as %s, which already holds another image (%s): two originals collide; give their hosts different mirrors", r, pushed, d)
			}
			pushedAs[pushed] = digest
			hosts[host] = true
			ref, err := imagebuild.Reference(o.registry, strings.TrimPrefix(pushed, o.registry+"/"))
			if err != nil {
				return err
			}
			if err := imagebuild.Push(ctx, ref, img); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "pushed %s %s (for %s)\n", ref, digest, r)
		}
		if t.note != "" {
			fmt.Fprintf(stderr, "note: %s: %s\n", t.refs[0], t.note)
		}
	}
	sorted := make([]string, 0, len(hosts))
	for h := range hosts {
		sorted = append(sorted, h)
	}
	sort.Strings(sorted)
	for _, h := range sorted {
		fmt.Fprintf(stdout, "--registry-mirror=%s=%s\n", h, o.registry)
	}
	return nil
}

// probe checks that something listens at the registry before anything is
// built.
func probe(ctx context.Context, registry string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", registry)
	if err != nil {
		return fmt.Errorf("registry %s is not reachable: %w; start one first (scripts/critest does, with docker-registry)", registry, err)
	}
	return conn.Close()
}

// builder holds what several images share: the busybox base layer and the
// compiled stand-in program.
type builder struct {
	goarch  string
	base    v1.Layer
	standin []byte
	tmp     string
}

func newBuilder(ctx context.Context, o options, stderr io.Writer) (*builder, error) {
	bb, err := loadBusybox(o.busybox)
	if err != nil {
		return nil, err
	}
	if bb.standalone {
		fmt.Fprintf(stderr, "warning: %s runs applets without executing them (FEATURE_SH_STANDALONE): critest's "+
			"\"runtime should support MaskedPaths\" cannot pass with it; pass --busybox with Debian's busybox package's binary\n", o.busybox)
	}
	base, err := bb.baseLayer()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "critest-images-*")
	if err != nil {
		return nil, err
	}
	b := &builder{goarch: o.goarch, base: base, tmp: tmp}
	if b.standin, err = b.compile(ctx, o.standin); err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *builder) close() { _ = os.RemoveAll(b.tmp) }

// compile builds the Go main package in dir for linux/goarch without cgo.
func (b *builder) compile(ctx context.Context, dir string) ([]byte, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("stand-in program %s: not a directory (run from the repository root, or pass --standin DIR)", dir)
	}
	out := filepath.Join(b.tmp, "standin")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+b.goarch, "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compile %s: %w\n%s", dir, err, msg)
	}
	return os.ReadFile(out)
}

// busyboxImage is the base layer, a layer of extra entries when there are
// any, and cfg with the busybox defaults (Cmd sh, PATH) where it has none.
func (b *builder) busyboxImage(extra []entry, cfg v1.Config) (v1.Image, error) {
	layers := []v1.Layer{b.base}
	if len(extra) > 0 {
		l, err := layer(extra...)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	if cfg.Env == nil {
		cfg.Env = []string{imagebuild.DefaultPath}
	}
	if cfg.Cmd == nil && cfg.Entrypoint == nil {
		cfg.Cmd = []string{"sh"}
	}
	return assemble(b.goarch, layers, cfg)
}

const nginxPage = `<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>critest stand-in: switchyard's test/critest/images, not nginx.</p>
</body>
</html>
`

// nginx is e2e-test-images/nginx (listen :80) or hostnet-nginx (:12003).
func (b *builder) nginx(listen, port string) (v1.Image, error) {
	return b.busyboxImage([]entry{
		dir("usr/share/nginx", 0o755), dir("usr/share/nginx/html", 0o755),
		file("usr/share/nginx/html/index.html", 0o644, []byte(nginxPage)),
		file("usr/sbin/nginx", 0o755, b.standin),
	}, v1.Config{
		Cmd:          []string{"nginx", "-g", "daemon off;", "-listen", listen},
		ExposedPorts: map[string]struct{}{port: {}},
		StopSignal:   "SIGTERM",
	})
}

// httpd is e2e-test-images/httpd: Cmd httpd-foreground, serving on :80.
func (b *builder) httpd() (v1.Image, error) {
	return b.busyboxImage([]entry{
		dir("usr/local/apache2", 0o755), dir("usr/local/apache2/htdocs", 0o755),
		file("usr/local/apache2/htdocs/index.html", 0o644, []byte("<html><body><h1>It works!</h1></body></html>\n")),
		file("usr/local/bin/httpd-foreground", 0o755, b.standin),
	}, v1.Config{
		Cmd:          []string{"httpd-foreground"},
		WorkingDir:   "/usr/local/apache2",
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		StopSignal:   "SIGWINCH",
	})
}

// nonewprivs is e2e-test-images/nonewprivs: a setuid-root program that
// prints its effective uid.
func (b *builder) nonewprivs() (v1.Image, error) {
	return b.busyboxImage([]entry{file("usr/local/bin/nnp", 0o4755, b.standin)},
		v1.Config{Entrypoint: []string{"/usr/local/bin/nnp"}})
}

// pause is pause:3.9: /pause alone, run as 65535:65535.
func (b *builder) pause() (v1.Image, error) {
	l, err := layer(file("pause", 0o755, b.standin))
	if err != nil {
		return nil, err
	}
	return assemble(b.goarch, []v1.Layer{l}, v1.Config{Entrypoint: []string{"/pause"}, User: "65535:65535"})
}

// predefinedGroup is test-image-predefined-group: busybox with
// default-user (uid 1000, gid 1000) also in group-defined-in-image (gid
// 50000), and USER 1000, as its Dockerfile's adduser/addgroup make it.
func (b *builder) predefinedGroup() (v1.Image, error) {
	home := dir("home/default-user", 0o755)
	home.uid, home.gid = 1000, 1000
	return b.busyboxImage([]entry{
		file("etc/passwd", 0o644, []byte(busyboxPasswd+"default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n")),
		file("etc/group", 0o644, []byte(busyboxGroup+"default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n")),
		home,
	}, v1.Config{User: "1000"})
}
