package imagebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
)

// CompileWasm compiles goMainSource (the text of one Go file of package
// main, standard library only) with GOOS=wasip1 GOARCH=wasm and returns the
// module. Built modules are cached by source hash under the system temp
// dir, so a second call costs no compilation. A source that does not
// compile gives an error carrying the compiler's output.
func CompileWasm(ctx context.Context, goMainSource string) ([]byte, error) {
	sum := sha256.Sum256([]byte(goruntime.Version() + "\x00" + goMainSource))
	cacheDir := filepath.Join(os.TempDir(), "switchyard-testimages", "wasm")
	cached := filepath.Join(cacheDir, hex.EncodeToString(sum[:])+".wasm")
	if b, err := os.ReadFile(cached); err == nil {
		return b, nil
	}
	src, err := os.MkdirTemp("", "imagebuild-src-*")
	if err != nil {
		return nil, fmt.Errorf("imagebuild: source dir: %w", err)
	}
	defer os.RemoveAll(src)
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module wasmtest\n\ngo 1.21\n"), 0o644); err != nil {
		return nil, fmt.Errorf("imagebuild: write go.mod: %w", err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(goMainSource), 0o644); err != nil {
		return nil, fmt.Errorf("imagebuild: write main.go: %w", err)
	}
	// -mod=mod: the throwaway module has no go.sum to keep read-only.
	b, err := goBuildWasm(ctx, src, "-mod=mod")
	if err != nil {
		return nil, err
	}
	publish(cacheDir, cached, b)
	return b, nil
}

// CompileWasmDir compiles the Go main package in dir with GOOS=wasip1
// GOARCH=wasm, inside whatever module holds dir, and returns the module.
// It is not cached beyond the go command's own build cache.
func CompileWasmDir(ctx context.Context, dir string) ([]byte, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("imagebuild: wasm source %s: %w", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("imagebuild: wasm source %s: not a directory; give the directory of a main package", dir)
	}
	return goBuildWasm(ctx, dir)
}

// goBuildWasm runs go build for wasip1/wasm in dir with the extra GOFLAGS
// and returns the built module.
func goBuildWasm(ctx context.Context, dir string, goflags ...string) ([]byte, error) {
	// go test puts its own GOROOT/bin first on PATH, so under test this is
	// the same toolchain that built the test.
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("imagebuild: the go command is needed to build wasm modules (put it on PATH): %w", err)
	}
	outDir, err := os.MkdirTemp("", "imagebuild-out-*")
	if err != nil {
		return nil, fmt.Errorf("imagebuild: output dir: %w", err)
	}
	defer os.RemoveAll(outDir)
	out := filepath.Join(outDir, "module.wasm")
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	flags := "-buildvcs=false"
	for _, f := range goflags {
		flags += " " + f
	}
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOWORK=off",
		"GOFLAGS="+flags, "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("imagebuild: compile wasm module in %s: %w\n%s", dir, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("imagebuild: read built module: %w", err)
	}
	return b, nil
}

// publish stores b at cached atomically, since parallel test binaries may
// build the same source. A cache that cannot be written only costs the
// next caller a compilation, so failures are ignored.
func publish(cacheDir, cached string, b []byte) {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return
	}
	f, err := os.CreateTemp(cacheDir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr != nil || cerr != nil || os.Rename(f.Name(), cached) != nil {
		_ = os.Remove(f.Name())
	}
}
