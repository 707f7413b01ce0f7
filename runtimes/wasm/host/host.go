package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
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
	rt   wazero.Runtime
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

// compiled is one module's compiled code; ready is closed once cm or err
// is set, so concurrent starts of a new module compile it once.
type compiled struct {
	ready chan struct{}
	cm    wazero.CompiledModule
	err   error
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

	cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(root, CacheDir))
	if err != nil {
		return fmt.Errorf("wasm host %s: compilation cache: %w", root, err)
	}
	defer cache.Close(context.WithoutCancel(ctx))
	// CloseOnContextDone makes a cancelled instance stop at its next
	// function call or loop iteration, so a module that loops can be stopped
	// without disturbing the others.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true))
	defer rt.Close(context.WithoutCancel(ctx))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fmt.Errorf("wasm host %s: wasi: %w", root, err)
	}

	h := &Host{
		root: root, log: log, pid: os.Getpid(), rt: rt,
		quit:      make(chan struct{}),
		modules:   make(map[string]*compiled),
		instances: make(map[string]*instance),
	}
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

// compile returns m's compiled code, compiling it once per digest however
// many instances ask at the same time.
func (h *Host) compile(ctx context.Context, m Module) (wazero.CompiledModule, error) {
	h.mu.Lock()
	c, ok := h.modules[m.Digest]
	if !ok {
		c = &compiled{ready: make(chan struct{})}
		h.modules[m.Digest] = c
	}
	h.mu.Unlock()
	if ok {
		select {
		case <-c.ready:
			return c.cm, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	start := time.Now()
	// The compilation is shared, so no single caller's ctx may cancel it.
	c.cm, c.err = h.compileFile(context.WithoutCancel(ctx), m)
	took := time.Since(start)
	h.mu.Lock()
	h.compiles++
	h.compileTime += took
	if c.err != nil {
		delete(h.modules, m.Digest) // let a later start retry
	}
	h.mu.Unlock()
	close(c.ready)
	if c.err == nil {
		h.log.Info("wasm module compiled", "digest", m.Digest, "took", took)
	}
	return c.cm, c.err
}

func (h *Host) compileFile(ctx context.Context, m Module) (wazero.CompiledModule, error) {
	bin, err := os.ReadFile(m.Path)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Digest, err)
	}
	if err := VerifyDigest(bin, m.Digest); err != nil {
		return nil, err
	}
	if err := CheckHeader(bin); err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Digest, err)
	}
	cm, err := h.rt.CompileModule(ctx, bin)
	if err != nil {
		return nil, fmt.Errorf("module %s: compile: %w: %w", m.Digest, err, runtime.ErrInvalidArgument)
	}
	return cm, nil
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
