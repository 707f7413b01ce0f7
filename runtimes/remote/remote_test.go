package remote_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/remote"
)

var amd64 = platforms.MustParse("linux/amd64")

// TestConformance runs the contract's suite through the remote runtime to
// a Fake behind a real API server: over a unix socket, and over TLS with a
// bearer token and a client certificate on 127.0.0.1.
func TestConformance(t *testing.T) {
	p := mustPKI(t)
	for _, tc := range []struct {
		name string
		new  func(t *testing.T) runtime.Containers
	}{
		{"unix socket", func(t *testing.T) runtime.Containers {
			a := mustUnixAgent(t, runtimetest.NewFake("fake", amd64))
			return mustRemote(t, "vm", a.url())
		}},
		{"TLS and token", func(t *testing.T) runtime.Containers {
			a := mustTLSAgent(t, runtimetest.NewFake("fake", amd64), p, "s3cret", true)
			return mustRemote(t, "peer", a.url(), remote.WithClientOptions(
				client.WithTLSConfig(mustClientTLS(t, p, true)), client.WithToken("s3cret")))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtimetest.Run(t, runtimetest.Harness{
				New:      tc.new,
				Workload: func(_ *testing.T, w runtimetest.Workload) *runtime.CreateSpec { return runtimetest.FakeSpec(w) },
				ExecArgv: runtimetest.FakeExecArgv,
				Caps:     runtimetest.Caps{Exec: true, Rename: true},
				Timeout:  10 * time.Second,
				Parallel: true,
			})
		})
	}
}

func TestIdentity(t *testing.T) {
	arm := platforms.MustParse("linux/arm64/v8")
	f := runtimetest.NewFake("runc", amd64, arm)
	r := mustRemote(t, "wsl", mustUnixAgent(t, f).url())
	if got := r.Name(); got != "remote:wsl" {
		t.Errorf("Name = %q, want remote:wsl", got)
	}
	// Normalised at the boundary: arm64's default variant v8 is implied.
	if got := formatAll(r.Platforms()); !slices.Equal(got, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("Platforms = %v, want the delegate's linux/amd64 and linux/arm64", got)
	}
	id := mustCreateStart(t, r, "web", runtimetest.Workload{UntilStopped: true})
	list, err := r.List(t.Context())
	if err != nil || len(list) != 1 || list[0].Runtime != "remote:wsl" {
		t.Errorf("List = %+v, %v; want one container run by remote:wsl", list, err)
	}
	if d, err := r.Inspect(t.Context(), id); err != nil || d.Runtime != "remote:wsl" {
		t.Errorf("Inspect = %+v, %v; want runtime remote:wsl", d.Container, err)
	}
}

// TestErrorKinds: the delegate's errors keep their kind and name the
// delegate; a route-to-peer answer stays a *runtime.RouteToPeerError.
func TestErrorKinds(t *testing.T) {
	f := runtimetest.NewFake("fake", amd64)
	r := mustRemote(t, "wsl", mustUnixAgent(t, f).url())
	id := runtime.ContainerID{Service: "web"}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"not found", fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)},
		{"already exists", fmt.Errorf("container %s: %w", id, runtime.ErrAlreadyExists)},
		{"invalid argument", fmt.Errorf("spec: %w", runtime.ErrInvalidArgument)},
		{"not supported", fmt.Errorf("gpu: %w", runtime.ErrNotSupported)},
		{"failed precondition", fmt.Errorf("disk: %w", runtime.ErrFailedPrecondition)},
		{"unavailable on the delegate", fmt.Errorf("its own delegate: %w", runtime.ErrUnavailable)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.FailOn("create", tc.err)
			defer f.FailOn("create", nil)
			err := r.Create(t.Context(), id, runtimetest.FakeSpec(runtimetest.Workload{}))
			kind := errors.Unwrap(tc.err)
			if !errors.Is(err, kind) {
				t.Errorf("Create = %v, want it to match %v", err, kind)
			}
			if want := "delegate wsl: " + tc.err.Error(); err == nil || err.Error() != want {
				t.Errorf("message = %q, want %q", err, want)
			}
		})
	}
	rp := &runtime.RouteToPeerError{Service: "web", Platform: "windows/amd64", Reason: "no runtime serves windows; add a peer"}
	f.FailOn("create", rp)
	err := r.Create(t.Context(), id, runtimetest.FakeSpec(runtimetest.Workload{}))
	var got *runtime.RouteToPeerError
	if !errors.As(err, &got) || *got != *rp {
		t.Errorf("Create = %v, want the delegate's *RouteToPeerError %+v", err, rp)
	}
	if _, err := r.State(t.Context(), runtime.ContainerID{Service: "nope"}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("State of an unknown container = %v, want ErrNotFound", err)
	}
}

func TestNewRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, rtName, addr string
		opts               []remote.Option
	}{
		{"empty name", "", "unix:///x.sock", nil},
		{"name with a colon", "a:b", "unix:///x.sock", nil},
		{"empty address", "wsl", "", nil},
		{"plain http", "wsl", "http://10.0.0.2:7443", nil},
		{"empty platforms", "wsl", "unix:///x.sock", []remote.Option{remote.WithPlatforms()}},
		{"zero probe timeout", "wsl", "unix:///x.sock", []remote.Option{remote.WithProbeTimeout(0)}},
		{"negative refresh", "wsl", "unix:///x.sock", []remote.Option{remote.WithRefreshInterval(-time.Second)}},
		{"nil logger", "wsl", "unix:///x.sock", []remote.Option{remote.WithLogger(nil)}},
		{"bad client option", "wsl", "unix:///x.sock", []remote.Option{remote.WithClientOptions(client.WithToken(""))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := remote.New(tc.rtName, tc.addr, tc.opts...)
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				if r != nil {
					r.Close()
				}
				t.Errorf("New = %v, want ErrInvalidArgument", err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	a := mustUnixAgent(t, runtimetest.NewFake("fake", amd64))
	r, err := remote.New("wsl", a.url())
	if err != nil {
		t.Fatal(err)
	}
	// The loop is started by New; wait until it is scheduled, so that the
	// check after Close proves something.
	testutil.Eventually(t, 10*time.Second, "the refresh loop to run", refreshLoopRunning)
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close returns once the loop has returned: no stack has it any more.
	if refreshLoopRunning() {
		t.Errorf("the refresh loop still runs after Close")
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.List(t.Context()); err != nil {
		t.Errorf("List after Close = %v, want it still to work", err)
	}
}

// progressFake is a Fake whose pulls report progress.
type progressFake struct{ *runtimetest.Fake }

func (f progressFake) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	for _, status := range []string{"resolving", "downloading", "done"} {
		opts.Progress(runtime.PullProgress{ID: ref, Status: status})
	}
	return f.Fake.Pull(ctx, ref, opts)
}

// TestPull: a pull on the delegate passes its progress events through.
func TestPull(t *testing.T) {
	f := progressFake{runtimetest.NewFake("fake", amd64)}
	r := mustRemote(t, "wsl", mustUnixAgent(t, f).url())
	var events []runtime.PullProgress
	info, err := r.Pull(t.Context(), "docker.io/library/busybox:latest", runtime.PullOptions{
		Progress: func(p runtime.PullProgress) { events = append(events, p) },
	})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if info.Reference == "" || len(events) == 0 {
		t.Errorf("Pull = %+v with %d progress events, want the image and its progress", info, len(events))
	}
	imgs, err := r.ListImages(t.Context())
	if err != nil || len(imgs) != 1 {
		t.Errorf("ListImages = %+v, %v; want the pulled image", imgs, err)
	}
}

// refreshLoopRunning reports whether any goroutine is in a remote runtime's
// refresh loop.
func refreshLoopRunning() bool {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	return strings.Contains(buf.String(), "remote.(*Runtime).refreshLoop")
}
