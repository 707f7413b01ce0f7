package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

var coreHeader = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

func TestCheckHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		bin  []byte
		want error
	}{
		{"core module", testimages.MinimalWasm(), nil},
		{"component", []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00, 0x07}, runtime.ErrNotSupported},
		{"unknown version", []byte{0x00, 'a', 's', 'm', 0x02, 0x00, 0x00, 0x00}, runtime.ErrInvalidArgument},
		{"not wasm", []byte("#!/bin/sh\necho hi\n"), runtime.ErrInvalidArgument},
		{"too short", []byte{0x00, 'a', 's'}, runtime.ErrInvalidArgument},
		{"empty", nil, runtime.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHeader(tc.bin)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckHeader = %v, want %v", err, tc.want)
			}
		})
	}
}

func FuzzCheckHeader(f *testing.F) {
	f.Add(testimages.MinimalWasm())
	f.Add([]byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00})
	f.Add([]byte("\x00asm"))
	f.Fuzz(func(t *testing.T, bin []byte) {
		err := CheckHeader(bin)
		ok := len(bin) >= 8 && bytes.Equal(bin[:8], coreHeader)
		if (err == nil) != ok {
			t.Fatalf("CheckHeader(% x) = %v", bin[:min(len(bin), 8)], err)
		}
		if err != nil && !errors.Is(err, runtime.ErrInvalidArgument) && !errors.Is(err, runtime.ErrNotSupported) {
			t.Fatalf("error without a kind: %v", err)
		}
	})
}

func TestVerifyDigest(t *testing.T) {
	bin := []byte("module")
	d, err := Digest(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDigest(bin, d); err != nil {
		t.Fatalf("good digest: %v", err)
	}
	if err := VerifyDigest([]byte("other"), d); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("bad digest: %v", err)
	}
}

func TestMemoryLimit(t *testing.T) {
	m := &memory{limit: 4 * 65536}
	lm := m.Allocate(65536, 65536*65536)
	if b := lm.Reallocate(65536); len(b) != 65536 {
		t.Fatalf("initial allocation %d bytes", len(b))
	}
	b := lm.Reallocate(3 * 65536)
	if len(b) != 3*65536 || m.size.Load() != 3*65536 {
		t.Fatalf("grow within the limit: len %d, size %d", len(b), m.size.Load())
	}
	b[0] = 7
	if b := lm.Reallocate(5 * 65536); b != nil || m.refused.Load() != 5*65536 {
		t.Fatalf("grow past the limit: %d bytes, refused %d", len(b), m.refused.Load())
	}
	if b := lm.Reallocate(4 * 65536); len(b) != 4*65536 || b[0] != 7 {
		t.Fatalf("grow to the limit lost content or failed: %d", len(b))
	}
	lm.Free()
	if m.size.Load() != 0 {
		t.Fatalf("size after free: %d", m.size.Load())
	}
}

func TestClassify(t *testing.T) {
	oom := &memory{limit: 65536}
	oom.refused.Store(2 * 65536)
	for _, tc := range []struct {
		name   string
		err    error
		sig    runtime.Signal
		mem    *memory
		want   runtime.WaitOutcome
		hasMsg bool
	}{
		{"returned", nil, 0, &memory{}, runtime.WaitOutcome{ExitCode: 0, Reason: runtime.ReasonExited}, false},
		{"proc_exit 3", sys.NewExitError(3), 0, &memory{}, runtime.WaitOutcome{ExitCode: 3, Reason: runtime.ReasonExited}, false},
		{"cancelled by SIGTERM", sys.NewExitError(sys.ExitCodeContextCanceled), runtime.SIGTERM, &memory{},
			runtime.WaitOutcome{ExitCode: 143, Reason: runtime.ReasonSignal, Signal: "SIGTERM"}, false},
		{"cancelled without a signal", sys.NewExitError(sys.ExitCodeContextCanceled), 0, &memory{},
			runtime.WaitOutcome{ExitCode: 137, Reason: runtime.ReasonSignal, Signal: "SIGKILL"}, false},
		{"trap", errors.New("wasm error: unreachable"), 0, &memory{},
			runtime.WaitOutcome{ExitCode: 255, Reason: runtime.ReasonRuntimeError, Message: "wasm error: unreachable"}, true},
		{"exit after refused growth", sys.NewExitError(2), 0, oom, runtime.WaitOutcome{ExitCode: 2, Reason: runtime.ReasonOOMKilled}, true},
		{"trap after refused growth", errors.New("wasm error: unreachable"), 0, oom, runtime.WaitOutcome{ExitCode: 255, Reason: runtime.ReasonOOMKilled}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, tc.sig, tc.mem)
			if got.FinishedAt.IsZero() || (got.Message != "") != tc.hasMsg {
				t.Fatalf("outcome %+v", got)
			}
			got.FinishedAt, got.Message = time.Time{}, tc.want.Message
			if got != tc.want {
				t.Fatalf("outcome %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestRecordLost checks the verdict on a run whose host went away: it does
// not overwrite the host's own record, and a later run's loss replaces an
// older run's exit. (The records themselves are package statedir's.)
func TestRecordLost(t *testing.T) {
	dir := t.TempDir()
	started := time.Now().UTC()
	real := statedir.Exit{Run: 1, SupervisorPID: 42, Outcome: runtime.WaitOutcome{ExitCode: 3, Reason: runtime.ReasonExited}}
	if err := statedir.WriteExit(dir, real); err != nil {
		t.Fatal(err)
	}
	// A loss found too late does not overwrite the host's own record...
	if got, err := RecordLost(dir, 1, 42, started); err != nil || got.Outcome.ExitCode != 3 {
		t.Fatalf("RecordLost over a real exit: %+v %v", got, err)
	}
	// ...but a later run's loss replaces an older run's exit.
	got, err := RecordLost(dir, 2, 43, started)
	if err != nil || got.Run != 2 || got.Outcome.Reason != runtime.ReasonRuntimeError || got.Outcome.Message != "wasm host exited (pid 43) while the module was running" {
		t.Fatalf("RecordLost: %+v %v", got, err)
	}
	if x, ok, err := statedir.ReadExit(dir); !ok || err != nil || x.Run != 2 {
		t.Fatalf("exit record after loss: %+v %v %v", x, ok, err)
	}
	// A record written by a host of the previous version (the same shape,
	// renamed into place by hand here) is the host's own.
	old := `{"run":3,"host_pid":44,"outcome":{"exit_code":0,"reason":"exited","finished_at":"2026-01-01T00:00:00Z"}}`
	if err := os.WriteFile(filepath.Join(dir, statedir.ExitFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := RecordLost(dir, 3, 44, started); err != nil || got.Outcome.Reason != runtime.ReasonExited || got.SupervisorPID != 44 {
		t.Fatalf("RecordLost over an old host's record: %+v %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, statedir.ExitFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := RecordLost(dir, 4, 45, started); err == nil {
		t.Fatal("RecordLost over a damaged record: no error")
	}
	// A run begun before the machine's boot was ended by its restart.
	if boot, ok := proc.Booted(); ok {
		fresh := t.TempDir()
		got, err := RecordLost(fresh, 1, 46, boot.Add(-time.Hour))
		if err != nil || got.Outcome.Message != statedir.MachineRestarted || got.Outcome.ExitCode != 255 {
			t.Fatalf("RecordLost of a run from before the boot: %+v %v", got, err)
		}
	}
}

// TestServe runs a host in this process and drives it with a Client.
func TestServe(t *testing.T) {
	root := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { served <- Serve(ctx, root, log) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	c := NewClient(filepath.Join(root, SocketName))
	t.Cleanup(c.Close)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Info(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("host does not answer")
		}
		time.Sleep(5 * time.Millisecond) // poll interval
	}
	if err := Serve(ctx, root, log); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("second host on one root: %v", err)
	}

	modPath := filepath.Join(root, "min.wasm")
	if err := os.WriteFile(modPath, testimages.MinimalWasm(), 0o644); err != nil {
		t.Fatal(err)
	}
	digest, _ := Digest(bytes.NewReader(testimages.MinimalWasm()))
	mod := Module{Path: modPath, Digest: digest}
	if err := c.Prepare(ctx, mod); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	if err := c.Prepare(ctx, Module{Path: modPath, Digest: "sha256:" + fmt.Sprintf("%064d", 0)}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("prepare with a wrong digest: %v", err)
	}
	state := t.TempDir()
	st, err := c.Start(ctx, StartRequest{Key: "k", Name: "min-rep-0", Module: mod, Args: []string{"min.wasm"}, StateDir: state, Run: 1})
	if err != nil || st.Run != 1 {
		t.Fatalf("start: %+v %v", st, err)
	}
	x, err := c.Wait(ctx, "k", 1)
	if err != nil || x.Outcome.ExitCode != 0 || x.Outcome.Reason != runtime.ReasonExited {
		t.Fatalf("wait: %+v %v", x, err)
	}
	if rec, ok, err := statedir.ReadExit(state); !ok || err != nil || rec != x {
		t.Fatalf("exit record %+v, answer %+v (%v)", rec, x, err)
	}
	if err := c.Signal(ctx, "k", "TERM"); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("signal to an ended instance: %v", err)
	}
	if err := c.Signal(ctx, "k", "USR1"); !errors.Is(err, runtime.ErrNotSupported) {
		t.Fatalf("SIGUSR1: %v", err)
	}
	if err := c.Forget(ctx, "k"); err != nil {
		t.Fatalf("forget: %v", err)
	}
	if _, err := c.Status(ctx, "k"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("status of a forgotten instance: %v", err)
	}
	inf, err := c.Info(ctx)
	if err != nil || inf.PID != os.Getpid() || inf.Compiles != 2 || inf.Modules != 1 {
		t.Fatalf("info %+v %v", inf, err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	served <- nil // for the cleanup
	if _, err := c.Info(ctx); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("info from a stopped host: %v", err)
	}
}
