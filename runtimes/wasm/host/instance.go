package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sock"
	"github.com/tetratelabs/wazero/sys"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/nspin"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// instance is one run of a module. The fields below done are guarded by
// Host.mu; exit is written before done is closed and read after.
type instance struct {
	req       StartRequest
	startedAt time.Time
	mem       *memory
	cancel    context.CancelFunc
	// done is closed once the exit record is written.
	done chan struct{}
	exit statedir.Exit
	// logsDropped counts log lines the full disk had no room for; set by
	// execute before the exit is recorded.
	logsDropped int64

	running  bool
	stopping bool
	// ending is set once the exit is being recorded: the instance has
	// ended and done closes momentarily.
	ending bool
	// signal is the signal that ended the instance; message, when set,
	// says why the host itself ended it.
	signal  runtime.Signal
	message string
}

func (inst *instance) status() Status {
	return Status{Key: inst.req.Key, Run: inst.req.Run, Running: inst.running, Stopping: inst.stopping,
		MemoryBytes: inst.mem.size.Load(), StartedAt: inst.startedAt}
}

// start records the start and runs the instance in its own goroutine, with
// its own context, so that a trap or a loop in one module never disturbs
// another.
func (h *Host) start(req StartRequest) (Status, error) {
	if req.Key == "" || req.StateDir == "" || len(req.Args) == 0 {
		return Status{}, fmt.Errorf("start: key, state dir and args[0] are required: %w", runtime.ErrInvalidArgument)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst := &instance{req: req, startedAt: time.Now().UTC(), mem: &memory{limit: req.MemoryLimit},
		cancel: cancel, done: make(chan struct{}), running: true}
	if err := h.replace(req.Key, inst); err != nil {
		cancel()
		return Status{}, fmt.Errorf("instance %s: %w", req.Name, err)
	}
	err := statedir.ReserveExit(req.StateDir)
	if err == nil {
		err = statedir.WriteStart(req.StateDir, statedir.Start{Run: req.Run, SupervisorPID: h.pid, StartedAt: inst.startedAt})
	}
	if err != nil {
		h.mu.Lock()
		delete(h.instances, req.Key)
		h.mu.Unlock()
		cancel()
		return Status{}, fmt.Errorf("instance %s: %w", req.Name, err)
	}
	go h.run(ctx, inst)
	h.mu.Lock()
	defer h.mu.Unlock()
	return inst.status(), nil
}

// replace makes inst the instance under key, unless a running instance is
// there. One whose exit is being recorded (a caller saw its exit record a
// moment early) is waited for.
func (h *Host) replace(key string, inst *instance) error {
	for {
		h.mu.Lock()
		old, ok := h.instances[key]
		if !ok || !old.running {
			if inst == nil {
				delete(h.instances, key)
			} else {
				h.instances[key] = inst
			}
			h.mu.Unlock()
			return nil
		}
		ending := old.ending
		h.mu.Unlock()
		if !ending {
			return fmt.Errorf("still running: %w", runtime.ErrFailedPrecondition)
		}
		<-old.done // closes right after the exit record is written
	}
}

// run executes the instance and records its exit: logs are flushed first,
// then the exit record is written, then waiters are told.
func (h *Host) run(ctx context.Context, inst *instance) {
	defer inst.cancel()
	out := h.execute(ctx, inst)
	h.mu.Lock()
	if inst.message != "" && out.Reason == runtime.ReasonSignal {
		out.Message = inst.message
	}
	h.mu.Unlock()
	rec := statedir.Exit{Run: inst.req.Run, SupervisorPID: h.pid, StartedAt: inst.startedAt, Outcome: out, LogsDropped: inst.logsDropped}
	h.mu.Lock()
	inst.ending = true
	h.mu.Unlock()
	if err := statedir.WriteExit(inst.req.StateDir, rec); err != nil {
		h.log.Error("wasm instance exit not recorded", "instance", inst.req.Name, "err", err)
	}
	h.mu.Lock()
	inst.exit, inst.running = rec, false
	h.mu.Unlock()
	close(inst.done)
	h.log.Debug("wasm instance exited", "instance", inst.req.Name, "code", out.ExitCode, "reason", out.Reason)
}

func (h *Host) execute(ctx context.Context, inst *instance) runtime.WaitOutcome {
	req := inst.req
	c, release, err := h.acquire(ctx, req.Module)
	if err != nil {
		return runtimeError(err.Error())
	}
	defer release()
	cm := c.cm
	if msg := inst.mem.checkMin(cm); msg != "" {
		return runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonOOMKilled, Message: msg, FinishedAt: time.Now().UTC()}
	}
	logOpts := []logfile.Option{logfile.WithRotation(req.LogMaxSize, req.LogMaxFiles)}
	if req.CRILog != "" {
		logOpts = append(logOpts, logfile.WithCRICopy(req.CRILog))
	}
	lf, err := logfile.Open(filepath.Join(req.StateDir, statedir.LogFile), logOpts...)
	if err != nil {
		return runtimeError(fmt.Sprintf("log file: %v", err))
	}
	stdout, stderr := lf.Writer(runtime.Stdout), lf.Writer(runtime.Stderr)
	fsc := wazero.NewFSConfig()
	for _, m := range req.Mounts {
		if m.ReadOnly {
			fsc = fsc.WithReadOnlyDirMount(m.HostPath, m.GuestPath)
		} else {
			fsc = fsc.WithDirMount(m.HostPath, m.GuestPath)
		}
	}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances of one module may coexist
		WithArgs(req.Args...).
		WithStdin(bytes.NewReader(nil)).
		WithStdout(stdout).WithStderr(stderr).
		WithFSConfig(fsc).
		WithSysWalltime().WithSysNanotime().
		WithNanosleep(sleeper(ctx)).
		WithRandSource(rand.Reader).
		WithStartFunctions("_start")
	for _, kv := range req.Env {
		k, v, _ := strings.Cut(kv, "=")
		cfg = cfg.WithEnv(k, v)
	}
	ictx := experimental.WithMemoryAllocator(ctx, inst.mem)
	if len(req.Listeners) > 0 {
		// The listeners' descriptors follow stdio and the mounts.
		sc := sock.NewConfig()
		var fds []string
		for i, l := range req.Listeners {
			host := l.Host
			if host == "" {
				host = "0.0.0.0"
			}
			sc = sc.WithTCPListener(host, int(l.Port))
			fd := strconv.Itoa(3 + len(req.Mounts) + i)
			fds = append(fds, fd)
			cfg = cfg.WithEnv(ListenFDEnvPrefix+strconv.Itoa(int(l.ContainerPort)), fd)
		}
		cfg = cfg.WithEnv(ListenFDsEnv, strings.Join(fds, ","))
		ictx = sock.WithConfig(ictx, sc)
	}
	if req.NetNS != "" {
		// The module's listeners are made, and its whole run spent, on a
		// thread in the pod's network namespace.
		leave, err := nspin.Enter(req.NetNS, unix.CLONE_NEWNET)
		if err != nil {
			_ = stdout.Close()
			_ = stderr.Close()
			_ = lf.Close()
			return runtimeError(fmt.Sprintf("pod network %s: %v", req.NetNS, err))
		}
		defer leave()
	}
	mod, runErr := c.rt.InstantiateModule(ictx, cm, cfg)
	if mod != nil {
		_ = mod.Close(context.WithoutCancel(ctx))
	}
	// Output is flushed before the exit is recorded: whoever sees the exit
	// finds every line.
	_ = stdout.Close()
	_ = stderr.Close()
	inst.logsDropped = lf.Dropped()
	_ = lf.Close()
	h.mu.Lock()
	sig := inst.signal
	h.mu.Unlock()
	return classify(runErr, sig, inst.mem)
}

// classify turns what InstantiateModule returned into an outcome.
func classify(err error, sig runtime.Signal, mem *memory) runtime.WaitOutcome {
	now := time.Now().UTC()
	var exitErr *sys.ExitError
	switch {
	case err == nil:
		return runtime.WaitOutcome{ExitCode: 0, Reason: runtime.ReasonExited, FinishedAt: now}
	case errors.As(err, &exitErr) && (exitErr.ExitCode() == sys.ExitCodeContextCanceled ||
		exitErr.ExitCode() == sys.ExitCodeDeadlineExceeded):
		if sig == 0 {
			sig = runtime.SIGKILL
		}
		return runtime.WaitOutcome{ExitCode: 128 + int(sig), Reason: runtime.ReasonSignal, Signal: sig.String(), FinishedAt: now}
	}
	code := 255
	if exitErr != nil {
		code = int(exitErr.ExitCode())
	}
	if refused := mem.refused.Load(); refused > 0 && code != 0 {
		return runtime.WaitOutcome{ExitCode: code, Reason: runtime.ReasonOOMKilled, FinishedAt: now,
			Message: fmt.Sprintf("linear memory limit of %s reached: growing to %s was refused (raise resources.memory)",
				mib(mem.limit), mib(refused))}
	}
	if exitErr != nil {
		return runtime.WaitOutcome{ExitCode: code, Reason: runtime.ReasonExited, FinishedAt: now}
	}
	return runtimeError(err.Error())
}

func runtimeError(msg string) runtime.WaitOutcome {
	return runtime.WaitOutcome{ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: msg, FinishedAt: time.Now().UTC()}
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// sleeper is WASI's sleep for one instance: unlike the system sleep it ends
// when the instance is cancelled, so a sleeping module stops at once.
func sleeper(ctx context.Context) sys.Nanosleep {
	return func(ns int64) {
		t := time.NewTimer(time.Duration(ns))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// memory is an instance's memory allocator: it enforces the instance's
// limit, remembers a refused growth (for a clear exit reason) and publishes
// the memory's size for stats without touching the instance's buffer.
type memory struct {
	limit   uint64 // bytes; 0 = none
	size    atomic.Uint64
	refused atomic.Uint64
}

// checkMin explains why cm cannot start under the limit, or returns "".
func (m *memory) checkMin(cm wazero.CompiledModule) string {
	if m.limit == 0 {
		return ""
	}
	var defs []interface{ Min() uint32 }
	for _, d := range cm.ExportedMemories() {
		defs = append(defs, d)
	}
	for _, d := range cm.ImportedMemories() {
		defs = append(defs, d)
	}
	for _, d := range defs {
		if need := uint64(d.Min()) * 65536; need > m.limit {
			m.refused.Store(need)
			return fmt.Sprintf("module needs %s of linear memory to start; the limit is %s (raise resources.memory)", mib(need), mib(m.limit))
		}
	}
	return ""
}

// Allocate implements experimental.MemoryAllocator.
func (m *memory) Allocate(_, max uint64) experimental.LinearMemory {
	return &linearMemory{owner: m, max: max}
}

// linearMemory backs one linear memory with a Go slice, grown by a quarter
// at a time so that a module growing page by page is not copied each time.
type linearMemory struct {
	owner *memory
	max   uint64
	buf   []byte
}

// Reallocate implements experimental.LinearMemory.
func (l *linearMemory) Reallocate(size uint64) []byte {
	// The initial allocation is never refused (checkMin ran before it):
	// wazero cannot handle a nil answer there.
	if l.buf != nil && l.owner.limit > 0 && size > l.owner.limit {
		l.owner.refused.Store(size)
		return nil
	}
	if size <= uint64(cap(l.buf)) {
		l.buf = l.buf[:size]
	} else {
		c := max(size, uint64(cap(l.buf))+uint64(cap(l.buf))/4)
		if ceiling := l.ceiling(); c > ceiling {
			c = max(size, ceiling)
		}
		nb := make([]byte, size, c)
		copy(nb, l.buf)
		l.buf = nb
	}
	l.owner.size.Store(size)
	return l.buf
}

func (l *linearMemory) ceiling() uint64 {
	if l.owner.limit > 0 && l.owner.limit < l.max {
		return l.owner.limit
	}
	return l.max
}

// Free implements experimental.LinearMemory.
func (l *linearMemory) Free() {
	l.buf = nil
	l.owner.size.Store(0)
}

// The 8-byte preamble of a core module, and the layer/version word of a
// component-model binary.
var (
	wasmMagic       = []byte{0x00, 'a', 's', 'm'}
	coreVersion     = []byte{0x01, 0x00, 0x00, 0x00}
	componentLayer1 = []byte{0x0d, 0x00, 0x01, 0x00}
)

// CheckHeader reports whether bin is a WebAssembly core module (preview 1).
// A component (WASI preview 2) wraps runtime.ErrNotSupported; anything else
// wraps runtime.ErrInvalidArgument.
func CheckHeader(bin []byte) error {
	if len(bin) < 8 || !bytes.Equal(bin[:4], wasmMagic) {
		return fmt.Errorf("not a WebAssembly module (no \\0asm header): %w", runtime.ErrInvalidArgument)
	}
	switch v := bin[4:8]; {
	case bytes.Equal(v, coreVersion):
		return nil
	case bytes.Equal(v, componentLayer1):
		return fmt.Errorf("this is a WebAssembly component (WASI preview 2); the wasm runtime runs WASI preview 1 core modules only: build for wasm32-wasip1 (GOOS=wasip1 GOARCH=wasm): %w", runtime.ErrNotSupported)
	default:
		return fmt.Errorf("unknown WebAssembly version % x (want 01 00 00 00, a core module): %w", v, runtime.ErrInvalidArgument)
	}
}

// VerifyDigest checks that bin has digest "sha256:<hex>"; an empty digest
// is not checked.
func VerifyDigest(bin []byte, digest string) error {
	if digest == "" {
		return nil
	}
	sum := sha256.Sum256(bin)
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		return fmt.Errorf("module %s: content has digest %s; the file was changed or corrupted: %w", digest, got, runtime.ErrInvalidArgument)
	}
	return nil
}

// Digest returns "sha256:<hex>" of what r yields.
func Digest(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
