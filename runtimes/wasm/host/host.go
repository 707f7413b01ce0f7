package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// shutdownGrace bounds how long a stopping host waits for its cancelled
// instances to record their exits.
const shutdownGrace = 10 * time.Second

// Host runs modules for one root. Create it with Serve.
type Host struct {
	root string
	log  *slog.Logger
	pid  int
	// ctx is the host's life: the per-module runtimes live in it.
	ctx context.Context
	// quit is closed by a shutdown request; Serve then returns.
	quit     chan struct{}
	quitOnce sync.Once

	mu sync.Mutex
	// modules maps a module digest to its compiled code. Guarded by mu.
	modules map[string]*compiled
	// instances maps an instance key to its latest run. Guarded by mu.
	instances map[string]*instance
	// compiles and compileTime count compilations. Guarded by mu.
	compiles    uint64
	compileTime time.Duration
}

// compiled is one module's compiled code, in a wazero runtime of its own
// whose compilation cache is the module's own directory, so that the code
// of a module whose image is gone can be reclaimed, on disk and in memory.
// ready is closed once cm or err is set, so concurrent starts of a new
// module compile it once.
type compiled struct {
	ready chan struct{}
	rt    wazero.Runtime
	cache wazero.CompilationCache
	cm    wazero.CompiledModule
	err   error
	// users counts the starts and preparations holding the module, from
	// before its compilation to the end of the instance: a module in use
	// is never reclaimed. Guarded by Host.mu.
	users int
}

// close releases the module's runtime and cache (its compiled code).
func (c *compiled) close(ctx context.Context) {
	if c.rt != nil {
		_ = c.rt.Close(ctx)
	}
	if c.cache != nil {
		_ = c.cache.Close(ctx)
	}
}

// Serve runs the host for root until ctx is done or a client asks it to
// shut down: it takes root's lock (an error wrapping runtime.ErrAlreadyExists
// when another host holds it), listens on root's socket and runs what it is
// asked to. When it stops, it ends its running instances and records their
// exits as killed.
func Serve(ctx context.Context, root string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("wasm host %s: %w", root, err)
	}
	unlock, err := lockHost(root)
	if err != nil {
		return err
	}
	defer unlock()

	if err := os.MkdirAll(filepath.Join(root, CacheDir), 0o700); err != nil {
		return fmt.Errorf("wasm host %s: compilation cache: %w", root, err)
	}
	removeStaleCache(filepath.Join(root, CacheDir), log)

	h := &Host{
		root: root, log: log, pid: os.Getpid(), ctx: ctx,
		quit:      make(chan struct{}),
		modules:   make(map[string]*compiled),
		instances: make(map[string]*instance),
	}
	defer h.closeModules(context.WithoutCancel(ctx))
	sock := filepath.Join(root, SocketName)
	_ = os.Remove(sock) // a stale socket of a dead host; we hold the lock
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("wasm host %s: %w", root, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("wasm host %s: %w", root, err)
	}
	if err := os.WriteFile(filepath.Join(root, PIDName), []byte(strconv.Itoa(h.pid)+"\n"), 0o644); err != nil {
		ln.Close()
		return fmt.Errorf("wasm host %s: %w", root, err)
	}
	srv := &http.Server{Handler: h.handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1) // written once by the serving goroutine
	go func() { served <- srv.Serve(ln) }()
	log.Info("wasm host serving", "root", root, "pid", h.pid)

	select {
	case <-ctx.Done():
	case <-h.quit:
	case err = <-served:
	}
	h.stopAll("wasm host shut down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	h.waitAll(shutCtx)
	_ = srv.Shutdown(shutCtx)
	_ = os.Remove(sock)
	_ = os.Remove(filepath.Join(root, PIDName))
	log.Info("wasm host stopped", "root", root, "pid", h.pid)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// lockHost takes root's host lock without waiting: the lock is held by the
// open file for the host's whole life and released by the kernel when the
// process dies, however it dies.
func lockHost(root string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(root, LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("wasm host %s: %w", root, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("wasm host %s: another host is running: %w", root, runtime.ErrAlreadyExists)
		}
		return nil, fmt.Errorf("wasm host %s: lock: %w", root, err)
	}
	return func() { f.Close() }, nil
}

// Info describes the host now.
func (h *Host) Info() Info {
	h.mu.Lock()
	defer h.mu.Unlock()
	inf := Info{PID: h.pid, Instances: len(h.instances), Modules: len(h.modules),
		Compiles: h.compiles, CompileTime: h.compileTime}
	for _, inst := range h.instances {
		if inst.running {
			inf.Running++
		}
	}
	return inf
}

// acquire returns m's compiled code, compiling it once per digest however
// many instances ask at the same time, and holds it against reclaim until
// release is called.
func (h *Host) acquire(ctx context.Context, m Module) (c *compiled, release func(), err error) {
	if !validDigest(m.Digest) {
		return nil, nil, fmt.Errorf("module %q: digest: want sha256:<64 hex digits>: %w", m.Digest, runtime.ErrInvalidArgument)
	}
	h.mu.Lock()
	c, ok := h.modules[m.Digest]
	if !ok {
		c = &compiled{ready: make(chan struct{})}
		h.modules[m.Digest] = c
	}
	c.users++
	h.mu.Unlock()
	release = func() {
		h.mu.Lock()
		c.users--
		h.mu.Unlock()
	}
	if ok {
		select {
		case <-c.ready:
		case <-ctx.Done():
			release()
			return nil, nil, ctx.Err()
		}
		if c.err != nil {
			release()
			return nil, nil, c.err
		}
		return c, release, nil
	}
	start := time.Now()
	// The compilation is shared, so no single caller's ctx may cancel it.
	c.err = h.compileFile(context.WithoutCancel(ctx), m, c)
	took := time.Since(start)
	h.mu.Lock()
	h.compiles++
	h.compileTime += took
	if c.err != nil {
		delete(h.modules, m.Digest) // let a later start retry
	}
	h.mu.Unlock()
	close(c.ready)
	if c.err != nil {
		c.close(context.WithoutCancel(ctx))
		release()
		return nil, nil, c.err
	}
	h.log.Info("wasm module compiled", "digest", m.Digest, "took", took)
	return c, release, nil
}

// compileFile compiles m into c: a runtime of its own with WASI, whose
// compilation cache is the module's directory under the cache.
func (h *Host) compileFile(ctx context.Context, m Module, c *compiled) error {
	bin, err := os.ReadFile(m.Path)
	if err != nil {
		return fmt.Errorf("module %s: %w", m.Digest, err)
	}
	if err := VerifyDigest(bin, m.Digest); err != nil {
		return err
	}
	if err := CheckHeader(bin); err != nil {
		return fmt.Errorf("module %s: %w", m.Digest, err)
	}
	dir := h.cacheDir(m.Digest)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("module %s: compilation cache: %w", m.Digest, err)
	}
	if m.Layer != "" && m.Layer != m.Digest {
		// Which image layer the module came from, for the agent to decide
		// when the cache can go (the module's own digest is no layer's).
		if err := os.WriteFile(filepath.Join(dir, LayerFile), []byte(m.Layer+"\n"), 0o600); err != nil {
			return fmt.Errorf("module %s: compilation cache: %w", m.Digest, err)
		}
	}
	c.cache, err = wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return fmt.Errorf("module %s: compilation cache: %w", m.Digest, err)
	}
	// CloseOnContextDone makes a cancelled instance stop at its next
	// function call or loop iteration, so a module that loops can be
	// stopped without disturbing the others.
	c.rt = wazero.NewRuntimeWithConfig(h.ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(c.cache).
		WithCloseOnContextDone(true))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, c.rt); err != nil {
		return fmt.Errorf("module %s: wasi: %w", m.Digest, err)
	}
	c.cm, err = c.rt.CompileModule(ctx, bin)
	if err != nil {
		return fmt.Errorf("module %s: compile: %w: %w", m.Digest, err, runtime.ErrInvalidArgument)
	}
	return nil
}

// cacheDir is the compilation cache of the module of digest d.
func (h *Host) cacheDir(d string) string {
	return filepath.Join(h.root, CacheDir, strings.TrimPrefix(d, "sha256:"))
}

// closeModules releases every module's runtime, when the host ends.
func (h *Host) closeModules(ctx context.Context) {
	h.mu.Lock()
	mods := h.modules
	h.modules = map[string]*compiled{}
	h.mu.Unlock()
	for _, c := range mods {
		select {
		case <-c.ready:
			c.close(ctx)
		default: // still compiling: its compiler closes it on failure
		}
	}
}

// Reclaim drops the compiled code of the modules of digests, in memory and
// on disk, except those an instance or a preparation holds (they are
// reported as kept). The agent asks for it when the modules' images are
// gone.
func (h *Host) Reclaim(ctx context.Context, digests []string) (ReclaimResult, error) {
	for _, d := range digests {
		if !validDigest(d) {
			return ReclaimResult{}, fmt.Errorf("reclaim: module %q: want sha256:<64 hex digits>: %w", d, runtime.ErrInvalidArgument)
		}
	}
	res := ReclaimResult{Reclaimed: []string{}, Kept: []string{}}
	var drop []*compiled
	h.mu.Lock()
	for _, d := range digests {
		if c, ok := h.modules[d]; ok {
			if c.users > 0 {
				res.Kept = append(res.Kept, d)
				continue
			}
			delete(h.modules, d)
			drop = append(drop, c)
		}
		// Under mu, so that no start creates the directory again while it
		// goes.
		n, err := removeDir(h.cacheDir(d))
		if err != nil {
			h.mu.Unlock()
			return res, fmt.Errorf("reclaim: module %s: %w", d, err)
		}
		if n > 0 {
			res.Reclaimed = append(res.Reclaimed, d)
			res.SpaceReclaimed += n
		}
	}
	h.mu.Unlock()
	for _, c := range drop {
		c.close(ctx)
	}
	return res, nil
}

// ReclaimOffline is Reclaim for a root whose host is not running: it
// removes the modules' cache directories while holding the host's lock. An
// error wrapping runtime.ErrAlreadyExists means a host holds the root: ask
// it instead.
func ReclaimOffline(root string, digests []string) (ReclaimResult, error) {
	unlock, err := lockHost(root)
	if err != nil {
		return ReclaimResult{}, err
	}
	defer unlock()
	res := ReclaimResult{Reclaimed: []string{}, Kept: []string{}}
	for _, d := range digests {
		if !validDigest(d) {
			return res, fmt.Errorf("reclaim: module %q: want sha256:<64 hex digits>: %w", d, runtime.ErrInvalidArgument)
		}
		n, err := removeDir(filepath.Join(root, CacheDir, strings.TrimPrefix(d, "sha256:")))
		if err != nil {
			return res, fmt.Errorf("reclaim: module %s: %w", d, err)
		}
		if n > 0 {
			res.Reclaimed = append(res.Reclaimed, d)
			res.SpaceReclaimed += n
		}
	}
	return res, nil
}

// CachedModules lists the digests of the modules with compiled code in
// root's cache, and for each the image layer it came from when that is not
// the module itself ("" otherwise).
func CachedModules(root string) (map[string]string, error) {
	ents, err := os.ReadDir(filepath.Join(root, CacheDir))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return map[string]string{}, nil
		}
		return nil, err
	}
	out := make(map[string]string, len(ents))
	for _, e := range ents {
		d := "sha256:" + e.Name()
		if !e.IsDir() || !validDigest(d) {
			continue
		}
		layer, _ := os.ReadFile(filepath.Join(root, CacheDir, e.Name(), LayerFile))
		out[d] = strings.TrimSpace(string(layer))
	}
	return out, nil
}

// removeDir removes dir and returns the bytes its files held.
func removeDir(dir string) (uint64, error) {
	var n uint64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // gone or unreadable: RemoveAll below says
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() {
			n += uint64(fi.Size())
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
	}
	return n, nil
}

// removeStaleCache removes what an older host left in the cache directory
// beside the per-module directories (one cache shared by every module, which
// nothing could reclaim).
func removeStaleCache(dir string, log *slog.Logger) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && validDigest("sha256:"+e.Name()) {
			continue
		}
		log.Info("wasm host: removing a compilation cache of an older layout", "entry", e.Name())
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// validDigest reports whether d is "sha256:" and 64 lower-case hex digits.
func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	for _, r := range hexPart {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// stopAll cancels every running instance, recording message as why.
func (h *Host) stopAll(message string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, inst := range h.instances {
		if inst.running {
			inst.signal, inst.message, inst.stopping = runtime.SIGKILL, message, true
			inst.cancel()
		}
	}
}

// waitAll waits until every instance has recorded its exit, or ctx is done.
func (h *Host) waitAll(ctx context.Context) {
	h.mu.Lock()
	var done []chan struct{}
	for _, inst := range h.instances {
		done = append(done, inst.done)
	}
	h.mu.Unlock()
	for _, d := range done {
		select {
		case <-d:
		case <-ctx.Done():
			return
		}
	}
}
