package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

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
		fmt.Fprintln(os.Stderr, "build-images:", err)
		os.Exit(1)
	}
}

// target is one image the demo needs.
type target struct {
	name  string // what --only selects
	repo  string // repository under the registry
	build func(ctx context.Context, o options) (v1.Image, error)
}

// targets lists the demo's images in the order they are pushed.
func targets() []target {
	return []target{
		{"busybox", "demo/busybox", func(context.Context, options) (v1.Image, error) { return imagebuild.Busybox() }},
		{"hello-wasm", "demo/hello-wasm", func(ctx context.Context, o options) (v1.Image, error) {
			module, err := imagebuild.CompileWasmDir(ctx, o.helloWasm)
			if err != nil {
				return nil, fmt.Errorf("%w (run from the repository root, or pass --hello-wasm DIR)", err)
			}
			return imagebuild.WasmImage(module, imagebuild.ConventionArtifact)
		}},
		{"hello-wasm-http", "demo/hello-wasm-http", func(ctx context.Context, o options) (v1.Image, error) {
			module, err := imagebuild.CompileWasmDir(ctx, o.helloWasmHTTP)
			if err != nil {
				return nil, fmt.Errorf("%w (run from the repository root, or pass --hello-wasm-http DIR)", err)
			}
			return imagebuild.WasmImage(module, imagebuild.ConventionArtifact)
		}},
		{"windows", "demo/windows", func(context.Context, options) (v1.Image, error) { return imagebuild.Windows() }},
	}
}

// options are the parsed command line.
type options struct {
	registry  string
	only      map[string]bool // nil = every target
	helloWasm string
	// helloWasmHTTP is the directory of the wasm web server.
	helloWasmHTTP string
	// tarball, when set, is where the one selected image is written as a
	// docker save tarball (for docker load) instead of being pushed.
	tarball string
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var only string
	fs := flag.NewFlagSet("build-images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.registry, "registry", "", "registry host:port to push to, e.g. 127.0.0.1:5000 (required)")
	fs.StringVar(&only, "only", "", "comma-separated images to build: busybox, hello-wasm, hello-wasm-http, windows (default all)")
	fs.StringVar(&o.helloWasm, "hello-wasm", "examples/hello-wasm", "directory of the Go program packaged as demo/hello-wasm")
	fs.StringVar(&o.tarball, "tarball", "", "write the one image --only selects to this file as a docker save tarball, tagged as its repository, instead of pushing")
	fs.StringVar(&o.helloWasmHTTP, "hello-wasm-http", "examples/hello-wasm-http", "directory of the Go web server packaged as demo/hello-wasm-http")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: everything is given by flags (see -help)", fs.Args())
	}
	if o.tarball != "" {
		if len(strings.Split(only, ",")) != 1 || only == "" {
			return o, errors.New("--tarball writes one image: select it with --only, e.g. --only busybox")
		}
		o.registry = "localhost"
	}
	if o.registry == "" {
		return o, errors.New("--registry is required, e.g. --registry 127.0.0.1:5000")
	}
	if strings.Contains(o.registry, "://") || strings.Contains(o.registry, "/") {
		return o, fmt.Errorf("--registry %q: give host:port only, without scheme or path", o.registry)
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			n = strings.TrimSpace(n)
			if !known(n) {
				return o, fmt.Errorf("--only: unknown image %q; choose from busybox, hello-wasm, hello-wasm-http, windows", n)
			}
			o.only[n] = true
		}
	}
	return o, nil
}

func known(name string) bool {
	for _, t := range targets() {
		if t.name == name {
			return true
		}
	}
	return false
}

// run builds and pushes the selected images, printing one line per image
// pushed to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	if o.tarball != "" {
		return save(ctx, o, stdout)
	}
	if err := probe(ctx, o.registry); err != nil {
		return err
	}
	for _, t := range targets() {
		if o.only != nil && !o.only[t.name] {
			continue
		}
		line, err := buildAndPush(ctx, o, t)
		if err != nil {
			return fmt.Errorf("image %s: %w", t.name, err)
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// buildAndPush builds t, pushes it to the registry and returns the line to
// print: reference, digest and platform.
func buildAndPush(ctx context.Context, o options, t target) (string, error) {
	img, err := t.build(ctx, o)
	if err != nil {
		return "", err
	}
	ref, err := imagebuild.Reference(o.registry, t.repo)
	if err != nil {
		return "", err
	}
	if err := imagebuild.Push(ctx, ref, img); err != nil {
		return "", explain(o.registry, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	p, err := imagebuild.PlatformOf(img)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pushed %s %s %s/%s", ref, digest, p.OS, p.Architecture), nil
}

// save writes the selected image to o.tarball, tagged as its repository
// (demo/busybox:latest), for docker load.
func save(ctx context.Context, o options, stdout io.Writer) error {
	for _, t := range targets() {
		if !o.only[t.name] {
			continue
		}
		img, err := t.build(ctx, o)
		if err != nil {
			return fmt.Errorf("image %s: %w", t.name, err)
		}
		tag, err := name.NewTag(t.repo + ":latest")
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(o.tarball, tag, img); err != nil {
			return fmt.Errorf("image %s: %w", t.name, err)
		}
		fmt.Fprintf(stdout, "saved %s to %s\n", tag, o.tarball)
	}
	return nil
}
