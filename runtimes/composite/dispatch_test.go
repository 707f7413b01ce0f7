package composite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestCreateRoutesByDeclaredPlatform(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platform ocispec.Platform
		want     string
	}{
		{"linux amd64 goes to runc", plat("linux/amd64"), "runc"},
		{"linux arm64 goes to runc", plat("linux/arm64"), "runc"},
		{"linux 386 runs on amd64", ocispec.Platform{OS: "linux", Architecture: "386"}, "runc"},
		{"x86_64 is amd64", ocispec.Platform{OS: "Linux", Architecture: "x86_64"}, "runc"},
		{"linux without arch", ocispec.Platform{OS: "linux"}, "runc"},
		{"wasip1 goes to wasm", ocispec.Platform{OS: "wasip1", Architecture: "wasm"}, "wasm"},
		{"wasi is wasip1", ocispec.Platform{OS: "wasi", Architecture: "wasm"}, "wasm"},
		{"wasip1 without arch", ocispec.Platform{OS: "wasip1"}, "wasm"},
		{"windows goes to the delegate", ocispec.Platform{OS: "windows", Architecture: "amd64"}, "windows"},
		{"windows without arch", ocispec.Platform{OS: "windows"}, "windows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			id := runtime.ContainerID{Service: "svc", Replica: 0}
			if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/app:1", &tc.platform)); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, ok := n.c.RuntimeOf(id); !ok || got != tc.want {
				t.Fatalf("RuntimeOf = %q, %v; want %q", got, ok, tc.want)
			}
			if err := n.c.Start(t.Context(), id); err != nil {
				t.Fatalf("Start: %v", err)
			}
			for _, f := range []*runtimetest.Fake{n.runc, n.wasm, n.win} {
				got := methodsOn(f, id)
				want := []string(nil)
				if f.Name() == tc.want {
					want = []string{"create", "start"}
				}
				if !slices.Equal(got, want) {
					t.Errorf("calls on %s = %v, want %v", f.Name(), got, want)
				}
			}
		})
	}
}

// wantRouteToPeer checks err is a RouteToPeerError with the fields and a
// reason that names both remedies.
func wantRouteToPeer(t *testing.T, err error, service, platform, image, flag string) {
	t.Helper()
	var rp *runtime.RouteToPeerError
	if !errors.As(err, &rp) {
		t.Fatalf("error = %v, want a *runtime.RouteToPeerError", err)
	}
	if rp.Service != service || rp.Platform != platform || rp.Image != image {
		t.Errorf("RouteToPeerError = {Service %q, Platform %q, Image %q}, want {%q, %q, %q}",
			rp.Service, rp.Platform, rp.Image, service, platform, image)
	}
	for _, want := range []string{flag, "peer node"} {
		if !strings.Contains(rp.Reason, want) {
			t.Errorf("reason %q does not mention %q", rp.Reason, want)
		}
	}
	if image != "" && !strings.Contains(rp.Reason, image) {
		t.Errorf("reason %q does not name the image %s", rp.Reason, image)
	}
}

func TestCreateUnservedDeclaredPlatform(t *testing.T) {
	runc, wasm, win := newFakes()
	for _, tc := range []struct {
		name     string
		rts      []*runtimetest.Fake
		platform ocispec.Platform
		want     string
		flag     string
	}{
		{"linux on a windows-only node", []*runtimetest.Fake{win}, plat("linux/amd64"), "linux/amd64", "enable linux/amd64 here"},
		{"wasm without the wasm runtime", []*runtimetest.Fake{runc, win}, ocispec.Platform{OS: "wasi", Architecture: "wasm"}, "wasip1/wasm", "enable wasip1/wasm here"},
		{"windows on a linux node", []*runtimetest.Fake{runc, wasm}, ocispec.Platform{OS: "windows"}, "windows", "enable windows here"},
		{"darwin", []*runtimetest.Fake{runc, wasm, win}, ocispec.Platform{OS: "darwin", Architecture: "arm64"}, "darwin/arm64", "enable darwin/arm64 here"},
		{"linux riscv64 on an amd64 runc", []*runtimetest.Fake{runc}, plat("linux/riscv64"), "linux/riscv64", "enable linux/riscv64 here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, tc.rts...)
			id := runtime.ContainerID{Service: "lin-svc", Replica: 1}
			err := n.c.Create(t.Context(), id, svcSpec("lin-svc", "example/app:1", &tc.platform))
			wantRouteToPeer(t, err, "lin-svc", tc.want, "", tc.flag)
			if _, ok := n.c.RuntimeOf(id); ok {
				t.Errorf("a refused create left a dispatch record")
			}
			for _, f := range tc.rts {
				if calls := methodsOn(f, id); len(calls) != 0 {
					t.Errorf("%s was called: %v", f.Name(), calls)
				}
			}
		})
	}
}

func TestCreateRoutesByImagePlatforms(t *testing.T) {
	for _, tc := range []struct {
		name    string
		plats   []ocispec.Platform
		specRef string
		want    string
	}{
		{"linux image to runc", []ocispec.Platform{plat("linux/amd64")}, "example/app:1", "runc"},
		{"wasm image (Docker+Wasm convention) to wasm", []ocispec.Platform{{OS: "wasi", Architecture: "wasm"}}, "example/app:1", "wasm"},
		{"windows image to the delegate", []ocispec.Platform{{OS: "windows", Architecture: "amd64"}}, "example/app:1", "windows"},
		{"index of windows and wasm: first runtime serving any", []ocispec.Platform{{OS: "windows", Architecture: "amd64"}, {OS: "wasip1", Architecture: "wasm"}}, "example/app:1", "wasm"},
		{"index of unserved and linux", []ocispec.Platform{plat("linux/s390x"), plat("linux/arm64")}, "example/app:1", "runc"},
		{"short and long references are one image", []ocispec.Platform{{OS: "wasip1", Architecture: "wasm"}}, "index.docker.io/example/app:1", "wasm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			n.inspector.set("example/app:1", tc.plats...)
			if _, err := n.c.Pull(t.Context(), "example/app:1", runtime.PullOptions{}); err != nil {
				t.Fatalf("Pull: %v", err)
			}
			id := runtime.ContainerID{Service: "svc"}
			if err := n.c.Create(t.Context(), id, svcSpec("svc", tc.specRef, nil)); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, _ := n.c.RuntimeOf(id); got != tc.want {
				t.Fatalf("routed to %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCreateImagePlatformUnserved(t *testing.T) {
	runc, wasm, _ := newFakes()
	n := newNode(t, runc, wasm)
	n.inspector.set("example/win:1", ocispec.Platform{OS: "windows", Architecture: "amd64"})
	if _, err := n.c.Pull(t.Context(), "example/win:1", runtime.PullOptions{}); err == nil {
		t.Fatal("Pull of an image nothing here serves succeeded")
	}
	id := runtime.ContainerID{Service: "svc"}
	err := n.c.Create(t.Context(), id, svcSpec("svc", "example/win:1", nil))
	wantRouteToPeer(t, err, "svc", "windows/amd64", "example/win:1", "enable windows/amd64 here")
}

func TestCreateNothingKnownGoesToPrimary(t *testing.T) {
	n := newNode(t)
	id := runtime.ContainerID{Service: "svc"}
	if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/unknown:1", nil)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if got, _ := n.c.RuntimeOf(id); got != "runc" {
		t.Fatalf("routed to %q, want the primary runc", got)
	}
}

func TestCreateInvalid(t *testing.T) {
	n := newNode(t)
	err := n.c.Create(t.Context(), runtime.ContainerID{Service: "svc"}, nil)
	if !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Create(nil spec) = %v, want ErrInvalidArgument", err)
	}
	err = n.c.Create(t.Context(), runtime.ContainerID{Service: "a/b"}, svcSpec("a/b", "x", nil))
	if !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Create(bad id) = %v, want ErrInvalidArgument", err)
	}
	err = n.c.Create(t.Context(), runtime.ContainerID{Service: "svc"}, svcSpec("svc", "x", &ocispec.Platform{Architecture: "amd64"}))
	if !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Create(platform without OS) = %v, want ErrInvalidArgument", err)
	}
	_, err = n.c.Pull(t.Context(), "x", runtime.PullOptions{Platform: &ocispec.Platform{Architecture: "amd64"}})
	if !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Pull(platform without OS) = %v, want ErrInvalidArgument", err)
	}
	if len(n.runc.Calls()) != 0 {
		t.Errorf("invalid creates reached the runtime: %v", n.runc.Calls())
	}
}

func TestRecordPersistsThroughLifecycle(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	id := runtime.ContainerID{Service: "win-svc"}
	if err := n.c.Create(ctx, id, svcSpec("win-svc", "example/nano:1", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatalf("Create: %v", err)
	}
	steps := []struct {
		name string
		call func() error
	}{
		{"start", func() error { return n.c.Start(ctx, id) }},
		{"stop", func() error { return n.c.Stop(ctx, id, time.Second) }},
		{"remove", func() error { return n.c.Remove(ctx, id, false) }},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if got, want := methodsOn(n.win, id), []string{"create", "start", "stop", "remove"}; !slices.Equal(got, want) {
		t.Fatalf("calls on the windows runtime = %v, want %v", got, want)
	}
	if got := methodsOn(n.runc, id); len(got) != 0 {
		t.Fatalf("the primary was called: %v", got)
	}
	err := n.c.Start(ctx, id)
	if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), "no dispatch record") {
		t.Fatalf("Start after remove = %v, want ErrNotFound saying no dispatch record", err)
	}
	if len(methodsOn(n.win, id)) != 4 {
		t.Fatalf("a call after remove reached the runtime")
	}
}

// TestUnknownContainer checks every per-container method for an id that
// was never created.
func TestUnknownContainer(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	id := runtime.ContainerID{Service: "ghost"}
	for name, call := range map[string]func() error{
		"Start":        func() error { return n.c.Start(ctx, id) },
		"Stop":         func() error { return n.c.Stop(ctx, id, time.Second) },
		"Kill":         func() error { return n.c.Kill(ctx, id, "") },
		"Remove":       func() error { return n.c.Remove(ctx, id, true) },
		"Rename":       func() error { return n.c.Rename(ctx, id, runtime.ContainerID{Service: "x"}) },
		"SyncVolumes":  func() error { return n.c.SyncVolumes(ctx, id) },
		"State":        func() error { _, err := n.c.State(ctx, id); return err },
		"Inspect":      func() error { _, err := n.c.Inspect(ctx, id); return err },
		"Stats":        func() error { _, err := n.c.Stats(ctx, id); return err },
		"PID":          func() error { _, err := n.c.PID(ctx, id); return err },
		"IP":           func() error { _, err := n.c.IP(ctx, id); return err },
		"PortOverride": func() error { _, err := n.c.PortOverride(ctx, id); return err },
		"Wait":         func() error { _, err := n.c.Wait(ctx, id); return err },
		"WaitOutcome":  func() error { _, err := n.c.WaitOutcome(ctx, id, runtime.WaitRemoved); return err },
		"Logs":         func() error { _, err := n.c.Logs(ctx, id, runtime.TailAll); return err },
		"FollowLogs":   func() error { _, err := n.c.FollowLogs(ctx, id, runtime.TailAll); return err },
		"Exec":         func() error { _, err := n.c.Exec(ctx, id, []string{"true"}); return err },
		"ExecStream":   func() error { _, err := n.c.ExecStream(ctx, id, []string{"true"}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), "no dispatch record") {
				t.Fatalf("%s = %v, want ErrNotFound saying no dispatch record", name, err)
			}
		})
	}
	for _, f := range []*runtimetest.Fake{n.runc, n.wasm, n.win} {
		if got := methodsOn(f, id); len(got) != 0 {
			t.Errorf("%s was called for an unknown id: %v", f.Name(), got)
		}
	}
}

func TestFailedCreateLeavesNoRecord(t *testing.T) {
	n := newNode(t)
	n.wasm.FailOn("create", fmt.Errorf("module does not compile: %w", runtime.ErrInvalidArgument))
	id := runtime.ContainerID{Service: "mod"}
	err := n.c.Create(t.Context(), id, svcSpec("mod", "example/mod:1", &ocispec.Platform{OS: "wasip1"}))
	if !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Fatalf("Create = %v, want the runtime's error", err)
	}
	if _, ok := n.c.RuntimeOf(id); ok {
		t.Fatal("a failed create left a dispatch record")
	}
	if _, err := n.c.State(t.Context(), id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("State after a failed create = %v, want ErrNotFound", err)
	}
	// The id is free again: the same create succeeds once the runtime does.
	n.wasm.FailOn("create", nil)
	if err := n.c.Create(t.Context(), id, svcSpec("mod", "example/mod:1", &ocispec.Platform{OS: "wasip1"})); err != nil {
		t.Fatalf("second Create: %v", err)
	}
}

func TestCreateDuplicateAcrossRuntimes(t *testing.T) {
	n := newNode(t)
	id := runtime.ContainerID{Service: "svc"}
	if err := n.c.Create(t.Context(), id, svcSpec("svc", "x", nil)); err != nil {
		t.Fatal(err)
	}
	err := n.c.Create(t.Context(), id, svcSpec("svc", "x", &ocispec.Platform{OS: "windows"}))
	if !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("second Create on another runtime = %v, want ErrAlreadyExists", err)
	}
	if got := methodsOn(n.win, id); len(got) != 0 {
		t.Fatalf("the second runtime was asked to create: %v", got)
	}
	if got, _ := n.c.RuntimeOf(id); got != "runc" {
		t.Fatalf("the record moved to %q", got)
	}
}

func TestRemoveKeepsOrDropsRecord(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       error
		keepRecord bool
	}{
		{"success drops it", nil, false},
		{"running without force keeps it", fmt.Errorf("running: %w", runtime.ErrFailedPrecondition), true},
		{"an unreachable runtime keeps it", fmt.Errorf("delegate down: %w", runtime.ErrUnavailable), true},
		{"a cancelled remove keeps it", fmt.Errorf("remove: %w", context.Canceled), true},
		{"an unknown failure keeps it", errors.New("runc broke"), true},
		{"runtime lost it drops it", fmt.Errorf("x: %w", runtime.ErrNotFound), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			id := runtime.ContainerID{Service: "svc"}
			if err := n.c.Create(t.Context(), id, svcSpec("svc", "x", nil)); err != nil {
				t.Fatal(err)
			}
			n.runc.FailOn("remove", tc.fail)
			err := n.c.Remove(t.Context(), id, false)
			if !errors.Is(err, tc.fail) {
				t.Fatalf("Remove = %v, want %v", err, tc.fail)
			}
			if _, ok := n.c.RuntimeOf(id); ok != tc.keepRecord {
				t.Fatalf("record kept = %v, want %v", ok, tc.keepRecord)
			}
		})
	}
}

func TestRemoveRunningThenForce(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	id := runtime.ContainerID{Service: "svc"}
	if err := n.c.Create(ctx, id, svcSpec("svc", "x", nil)); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Remove(ctx, id, false); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Remove(running) = %v, want ErrFailedPrecondition", err)
	}
	if err := n.c.Stop(ctx, id, time.Second); err != nil {
		t.Fatalf("Stop after a refused remove: %v", err)
	}
	if err := n.c.Remove(ctx, id, false); err != nil {
		t.Fatalf("Remove(stopped): %v", err)
	}
}

func TestRenameMovesRecord(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	a := runtime.ContainerID{Service: "a"}
	b := runtime.ContainerID{Service: "b"}
	w := runtime.ContainerID{Service: "w"}
	if err := n.c.Create(ctx, a, svcSpec("a", "x", &ocispec.Platform{OS: "wasip1"})); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Create(ctx, w, svcSpec("w", "x", &ocispec.Platform{OS: "windows"})); err != nil {
		t.Fatal(err)
	}
	if err := n.c.Rename(ctx, a, w); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("Rename onto a container of another runtime = %v, want ErrAlreadyExists", err)
	}
	n.wasm.FailOn("rename", fmt.Errorf("busy: %w", runtime.ErrUnavailable))
	if err := n.c.Rename(ctx, a, b); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("Rename with a failing runtime = %v", err)
	}
	if _, ok := n.c.RuntimeOf(b); ok {
		t.Fatal("a failed rename left the new name reserved")
	}
	n.wasm.FailOn("rename", nil)
	if err := n.c.Rename(ctx, a, b); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, ok := n.c.RuntimeOf(a); ok {
		t.Error("the old name still has a record")
	}
	if got, _ := n.c.RuntimeOf(b); got != "wasm" {
		t.Errorf("the new name routes to %q, want wasm", got)
	}
	if err := n.c.Start(ctx, b); err != nil {
		t.Fatalf("Start of the renamed container: %v", err)
	}
}

func TestForwardsEveryCall(t *testing.T) {
	n := newNode(t)
	ctx := t.Context()
	id := runtime.ContainerID{Service: "m"}
	if err := n.c.Create(ctx, id, svcSpec("m", "x", &ocispec.Platform{OS: "wasip1"})); err != nil {
		t.Fatal(err)
	}
	n.wasm.SetExec(func(runtime.ContainerID, []string) (runtime.ExecResult, error) {
		return runtime.ExecResult{ExitCode: 7, Stdout: "out"}, nil
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(n.c.Start(ctx, id))
	must(n.c.SyncVolumes(ctx, id))
	_, err := n.c.Stats(ctx, id)
	must(err)
	_, err = n.c.IP(ctx, id)
	must(err)
	_, err = n.c.PortOverride(ctx, id)
	must(err)
	pid, err := n.c.PID(ctx, id)
	must(err)
	if pid == 0 {
		t.Error("PID of a running container is 0")
	}
	r, err := n.c.Exec(ctx, id, []string{"x"})
	if err != nil || r.ExitCode != 7 {
		t.Errorf("Exec = %+v, %v", r, err)
	}
	st, err := n.c.ExecStream(ctx, id, []string{"x"})
	must(err)
	must(st.Close())
	must(n.c.Kill(ctx, id, "TERM"))
	o, err := n.c.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil || o.Signal != "SIGTERM" {
		t.Errorf("WaitOutcome = %+v, %v", o, err)
	}
	d, err := n.c.Inspect(ctx, id)
	if err != nil || d.Runtime != "wasm" {
		t.Errorf("Inspect = %+v, %v; want Runtime wasm", d, err)
	}
	want := []string{"create", "start", "syncvolumes", "stats", "ip", "portoverride", "pid", "exec", "execstream", "kill", "waitoutcome", "inspect"}
	if got := methodsOn(n.wasm, id); !slices.Equal(got, want) {
		t.Errorf("calls on wasm = %v, want %v", got, want)
	}
}

func TestNewRejectsBadArguments(t *testing.T) {
	runc, _, _ := newFakes()
	for _, tc := range []struct {
		name string
		rts  []runtime.Containers
		opts []Option
	}{
		{"no runtimes", nil, nil},
		{"nil runtime", []runtime.Containers{runc, nil}, nil},
		{"nil logger", []runtime.Containers{runc}, []Option{WithLogger(nil)}},
		{"negative retry interval", []runtime.Containers{runc}, []Option{WithListRetryInterval(-time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(context.Background(), tc.rts, tc.opts...); !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("New = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestIdentity(t *testing.T) {
	runc, wasm, win := newFakes()
	dup := runtimetest.NewFake("remote:wsl", plat("linux/amd64"))
	c := mustNew(t, []runtime.Containers{runc, wasm, dup, win})
	if c.Name() != "composite" {
		t.Errorf("Name = %q", c.Name())
	}
	var got []string
	for _, p := range c.Platforms() {
		got = append(got, runtime.FormatPlatform(p))
	}
	want := []string{"linux/amd64", "linux/arm64", "wasip1/wasm", "windows/amd64"}
	if !slices.Equal(got, want) {
		t.Errorf("Platforms = %v, want %v", got, want)
	}
	rts := c.Runtimes()
	if len(rts) != 4 || rts[0] != runtime.Containers(runc) {
		t.Errorf("Runtimes = %v", rts)
	}
	rts[0] = nil
	if c.Runtimes()[0] == nil {
		t.Error("Runtimes exposes the composite's own slice")
	}
}

// A runtime's platforms are read at every routing decision: a delegate that
// reports a new list (it came back, or was upgraded) is routed to at once.
func TestRoutingFollowsChangedPlatforms(t *testing.T) {
	runc := runtimetest.NewFake("runc", plat("linux/amd64"))
	remote := runtimetest.NewFake("remote:peer", plat("linux/arm64"))
	n := newNode(t, runc, remote)
	riscv := plat("linux/riscv64")
	id := runtime.ContainerID{Service: "svc"}
	var rtp *runtime.RouteToPeerError
	if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/app:1", &riscv)); !errors.As(err, &rtp) {
		t.Fatalf("Create before the delegate serves riscv64 = %v, want a RouteToPeerError", err)
	}
	remote.SetPlatforms(plat("linux/arm64"), riscv)
	if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/app:1", &riscv)); err != nil {
		t.Fatalf("Create after the delegate reports riscv64: %v", err)
	}
	if got, _ := n.c.RuntimeOf(id); got != "remote:peer" {
		t.Errorf("routed to %q, want remote:peer", got)
	}
	if got := formatAll(n.c.Platforms()); got != "linux/amd64, linux/arm64, linux/riscv64" {
		t.Errorf("Platforms() = %s", got)
	}
}

// An image that reached a runtime's store without a pull through the
// composite (loaded, or tagged) is still routed by its platforms.
func TestCreateRoutesImageLoadedAfterStart(t *testing.T) {
	n := newNode(t)
	n.wasm.AddImage(runtime.ImageInfo{Reference: "example/loaded:1", Digest: "sha256:11", Platforms: []ocispec.Platform{plat("wasip1/wasm")}})
	id := runtime.ContainerID{Service: "svc"}
	if err := n.c.Create(t.Context(), id, svcSpec("svc", "example/loaded:1", nil)); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.c.RuntimeOf(id); got != "wasm" {
		t.Errorf("a loaded wasm image went to %q", got)
	}
}

// Without a remedy hook the answer names the platform, not a program's
// flags: the composite does not know how its node is assembled.
func TestDefaultRemedyNamesNoFlags(t *testing.T) {
	runc, _, _ := newFakes()
	c := mustNew(t, []runtime.Containers{runc})
	p := ocispec.Platform{OS: "windows", Architecture: "amd64"}
	err := c.Create(t.Context(), runtime.ContainerID{Service: "w"}, svcSpec("w", "example/w:1", &p))
	wantRouteToPeer(t, err, "w", "windows/amd64", "", "add a runtime that serves windows/amd64 to this node")
	if strings.Contains(err.Error(), "--") {
		t.Errorf("the default remedy names a flag: %v", err)
	}
}
