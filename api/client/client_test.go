package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/spec"
)

// TestConformance runs the contract's suite through the whole wire:
// client → unix socket → server → Fake.
func TestConformance(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T) runtime.Containers {
			f, c, _ := newFakePair(t, nil)
			return identified{c, f}
		},
		Workload: func(_ *testing.T, w runtimetest.Workload) *runtime.CreateSpec { return runtimetest.FakeSpec(w) },
		ExecArgv: runtimetest.FakeExecArgv,
		Caps:     runtimetest.Caps{Exec: true, Rename: true},
		Timeout:  10 * time.Second,
		Parallel: true,
	})
}

func TestIdentity(t *testing.T) {
	f := runtimetest.NewFake("runc", platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64/v8"))
	c := mustClient(t, mustServe(t, f, server.WithVersion("1.2.3")))
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name != "runc" || info.Version != "1.2.3" || info.APIVersion != api.Version || len(info.Platforms) != 2 {
		t.Errorf("Info = %+v, want runc 1.2.3 with 2 platforms", info)
	}
	if len(info.Platforms) != 2 || info.Platforms[1].Variant != "v8" {
		t.Errorf("Platforms = %+v, want linux/amd64 and linux/arm64/v8", info.Platforms)
	}
}

// TestErrorKindsRoundTrip checks that every kind survives the wire: the
// client's error matches the same runtime sentinel and keeps the message.
func TestErrorKindsRoundTrip(t *testing.T) {
	sentinels := []error{runtime.ErrNotFound, runtime.ErrAlreadyExists, runtime.ErrInvalidArgument,
		runtime.ErrNotSupported, runtime.ErrFailedPrecondition, runtime.ErrUnavailable}
	for _, tc := range []struct {
		name string
		err  error // what the runtime returns
		want error // the sentinel the client's error must match; nil for none
		kind api.Kind
	}{
		{"not found", fmt.Errorf("container web-rep-0: %w", runtime.ErrNotFound), runtime.ErrNotFound, api.KindNotFound},
		{"already exists", fmt.Errorf("container web-rep-0: %w", runtime.ErrAlreadyExists), runtime.ErrAlreadyExists, api.KindAlreadyExists},
		{"invalid argument", fmt.Errorf("signal %q: %w", "FOO", runtime.ErrInvalidArgument), runtime.ErrInvalidArgument, api.KindInvalidArgument},
		{"not supported", fmt.Errorf("exec: %w", runtime.ErrNotSupported), runtime.ErrNotSupported, api.KindNotSupported},
		{"failed precondition", fmt.Errorf("container web-rep-0 is running: %w", runtime.ErrFailedPrecondition), runtime.ErrFailedPrecondition, api.KindFailedPrecondition},
		{"unavailable", fmt.Errorf("delegate wsl: %w", runtime.ErrUnavailable), runtime.ErrUnavailable, api.KindUnavailable},
		{"deadline is unavailable", fmt.Errorf("runc state: %w", context.DeadlineExceeded), runtime.ErrUnavailable, api.KindUnavailable},
		{"no kind is internal", errors.New("disk on fire"), nil, api.KindInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, _ := newFakePair(t, nil)
			f.FailOn("state", tc.err)
			_, err := c.State(t.Context(), runtime.ContainerID{Service: "web"})
			if err == nil {
				t.Fatal("State succeeded, want an error")
			}
			if err.Error() != tc.err.Error() {
				t.Errorf("message = %q, want %q", err, tc.err)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tc.want) {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, s == tc.want)
				}
			}
			var re *api.RemoteError
			if !errors.As(err, &re) || re.Kind != tc.kind {
				t.Errorf("kind = %+v, want %s", re, tc.kind)
			}
		})
	}
}

func TestRouteToPeerRoundTrip(t *testing.T) {
	f, c, _ := newFakePair(t, nil)
	want := &runtime.RouteToPeerError{Service: "iis", Platform: "windows/amd64", Image: "windows/iis:ltsc2022",
		Reason: "no runtime here serves windows/amd64: enable one with --windows-delegate, or add a windows/amd64 peer node"}
	f.FailOn("create", fmt.Errorf("create iis-rep-0: %w", want))
	err := c.Create(t.Context(), runtime.ContainerID{Service: "iis"}, &runtime.CreateSpec{Image: want.Image})
	var rp *runtime.RouteToPeerError
	if !errors.As(err, &rp) {
		t.Fatalf("Create error %v (%T) is not a *RouteToPeerError", err, err)
	}
	if *rp != *want {
		t.Errorf("RouteToPeerError = %+v, want %+v", *rp, *want)
	}
	if want := "create iis-rep-0: " + want.Error(); err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

// TestFollowLogs: a follower gets the tail, then lines written after the
// call, and io.EOF once the container exits.
func TestFollowLogs(t *testing.T) {
	f, c, _ := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{Stdout: []string{"one", "two"}, UntilStopped: true})
	st, err := c.FollowLogs(t.Context(), id, 1)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer st.Close()
	if e, err := runtimetest.RecvWithin(t, st, 5*time.Second); err != nil || e.Text != "two" {
		t.Fatalf("first Recv = %+v, %v; want the tail line two", e, err)
	}
	for _, line := range []string{"three", "four"} {
		if err := f.WriteLog(id, runtime.Stderr, line); err != nil {
			t.Fatal(err)
		}
		if e, err := runtimetest.RecvWithin(t, st, 5*time.Second); err != nil || e.Text != line || e.Stream != runtime.Stderr {
			t.Fatalf("Recv = %+v, %v; want stderr line %s", e, err, line)
		}
	}
	if err := f.Exit(id, 0); err != nil {
		t.Fatal(err)
	}
	if e, err := runtimetest.RecvWithin(t, st, 5*time.Second); !errors.Is(err, io.EOF) {
		t.Fatalf("Recv after exit = %+v, %v; want io.EOF", e, err)
	}
	if _, err := st.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("second Recv after the end = %v, want io.EOF again", err)
	}
}

func TestFollowLogsCloseUnblocksRecv(t *testing.T) {
	_, c, _ := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{UntilStopped: true})
	st, err := c.FollowLogs(t.Context(), id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := st.Recv()
		errc <- err
	}()
	st.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Recv after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Recv")
	}
}

func TestFollowLogsContextCancel(t *testing.T) {
	_, c, _ := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{UntilStopped: true})
	ctx, cancel := context.WithCancel(t.Context())
	st, err := c.FollowLogs(ctx, id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer st.Close()
	cancel()
	if _, err := runtimetest.RecvWithin(t, st, 5*time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Recv after cancel = %v, want context.Canceled", err)
	}
}

func TestExecStreamOrder(t *testing.T) {
	f, c, _ := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{UntilStopped: true})
	f.SetExec(func(_ runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
		return runtime.ExecResult{ExitCode: 3, Stdout: strings.Join(argv, " "), Stderr: "warning\n"}, nil
	})
	st, err := c.ExecStream(t.Context(), id, []string{"echo", "hi"})
	if err != nil {
		t.Fatalf("ExecStream: %v", err)
	}
	defer st.Close()
	var got []string
	for {
		ev, err := runtimetest.RecvWithin(t, st, 5*time.Second)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		got = append(got, fmt.Sprintf("%s:%q:%d", ev.Kind, ev.Data, ev.ExitCode))
	}
	want := []string{`stdout:"echo hi":0`, `stderr:"warning\n":0`, `exit:"":3`}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events = %v, want %v", got, want)
	}
}

// progressFake is a Fake whose Pull reports progress first.
type progressFake struct {
	*runtimetest.Fake
	events []runtime.PullProgress
}

func (p *progressFake) Pull(ctx context.Context, ref string, opts runtime.PullOptions) (runtime.ImageInfo, error) {
	for _, ev := range p.events {
		if opts.Progress != nil {
			opts.Progress(ev)
		}
	}
	return p.Fake.Pull(ctx, ref, opts)
}

func TestPullProgress(t *testing.T) {
	rt := &progressFake{
		Fake: runtimetest.NewFake("fake", platforms.MustParse("linux/amd64")),
		events: []runtime.PullProgress{
			{ID: "busybox", Status: "resolving"},
			{ID: "sha256:aaa", Status: "downloading", Current: 10, Total: 100},
			{ID: "sha256:aaa", Status: "done", Current: 100, Total: 100},
		},
	}
	c := mustClient(t, mustServe(t, rt))
	var got []runtime.PullProgress
	plat := platforms.MustParse("linux/arm64/v8")
	info, err := c.Pull(t.Context(), "busybox", runtime.PullOptions{
		Policy:   spec.PullAlways,
		Auth:     &spec.RegistryAuth{Username: "u", Password: "p"},
		Platform: &plat,
		Progress: func(p runtime.PullProgress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if info.Reference != "busybox" || len(info.Platforms) != 1 || info.Platforms[0].Architecture != "arm64" {
		t.Errorf("Pull = %+v, want busybox for linux/arm64/v8", info)
	}
	// Events for one ID may be coalesced, never reordered; the last one of
	// each ID always arrives.
	if len(got) < 2 || got[0] != rt.events[0] || got[len(got)-1] != rt.events[2] {
		t.Errorf("progress = %+v, want resolving first and the layer's done last", got)
	}
	// A failing pull with no progress is a plain error response.
	rt.events = nil
	_, err = c.Pull(t.Context(), "nothing:here", runtime.PullOptions{Policy: spec.PullNever})
	if !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Pull(never) of an absent image = %v, want ErrNotFound", err)
	}
}

func TestImages(t *testing.T) {
	_, c, _ := newFakePair(t, nil)
	ctx := t.Context()
	if _, err := c.Pull(ctx, "busybox:latest", runtime.PullOptions{}); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if err := c.TagImage(ctx, "busybox:latest", "mine:1"); err != nil {
		t.Fatalf("TagImage: %v", err)
	}
	imgs, err := c.ListImages(ctx)
	if err != nil || len(imgs) != 2 {
		t.Fatalf("ListImages = %+v, %v; want 2 images", imgs, err)
	}
	if err := c.RemoveImage(ctx, "mine:1", false); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	if err := c.RemoveImage(ctx, "mine:1", true); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second RemoveImage = %v, want ErrNotFound", err)
	}
	if _, err := c.PruneImages(ctx); err != nil {
		t.Errorf("PruneImages: %v", err)
	}
}

func TestInspectorValues(t *testing.T) {
	_, c, _ := newFakePair(t, nil)
	ctx := t.Context()
	id := mustCreateStart(t, c, "web", runtimetest.Workload{UntilStopped: true})
	if pid, err := c.PID(ctx, id); err != nil || pid == 0 {
		t.Errorf("PID = %d, %v; want a pid", pid, err)
	}
	if ip, err := c.IP(ctx, id); err != nil || ip.IsValid() {
		t.Errorf("IP = %v, %v; want the zero address", ip, err)
	}
	if port, err := c.PortOverride(ctx, id); err != nil || port != 0 {
		t.Errorf("PortOverride = %d, %v; want 0", port, err)
	}
	if err := c.SyncVolumes(ctx, id); err != nil {
		t.Errorf("SyncVolumes: %v", err)
	}
	if err := c.Kill(ctx, id, "TERM"); err != nil {
		t.Errorf("Kill: %v", err)
	}
	o, err := c.WaitOutcome(ctx, id, runtime.WaitNotRunning)
	if err != nil || o.Reason != runtime.ReasonSignal || o.Signal != "SIGTERM" {
		t.Errorf("WaitOutcome = %+v, %v; want ended by SIGTERM", o, err)
	}
}

func TestDaemonNotRunning(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves a socket file nobody listens on
	for _, tc := range []struct{ name, addr string }{
		{"no socket file", "unix://" + filepath.Join(dir, "missing.sock")},
		{"stale socket file", stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(tc.addr)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = c.State(t.Context(), runtime.ContainerID{Service: "web"})
			if !errors.Is(err, runtime.ErrUnavailable) {
				t.Fatalf("State = %v, want ErrUnavailable", err)
			}
			want := "cannot reach the switchyard daemon at unix://" + strings.TrimPrefix(tc.addr, "unix://") + ": is it running? start it with `switchyard daemon`"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message = %q, want it to start with %q", err, want)
			}
		})
	}
}

func TestNewAddress(t *testing.T) {
	for _, tc := range []struct {
		name, addr, want string // want "" = invalid
	}{
		{"unix url", "unix:///run/switchyard/switchyard.sock", "unix:///run/switchyard/switchyard.sock"},
		{"bare path", "/run/x.sock", "unix:///run/x.sock"},
		{"relative path", "x.sock", "unix://x.sock"},
		{"https", "https://node1:7443", "https://node1:7443"},
		{"https default port", "https://node1", "https://node1:443"},
		{"empty", "", ""},
		{"unix without path", "unix://", ""},
		{"plain http", "http://node1:80", ""},
		{"plain http on loopback", "http://127.0.0.1:7080", "http://127.0.0.1:7080"},
		{"plain http on localhost, default port", "http://localhost", "http://localhost:80"},
		{"other scheme", "tcp://node1:80", ""},
		{"https with path", "https://node1:7443/v1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := client.New(tc.addr)
			if tc.want == "" {
				if !errors.Is(err, runtime.ErrInvalidArgument) {
					t.Fatalf("New(%q) = %v, want ErrInvalidArgument", tc.addr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q): %v", tc.addr, err)
			}
			if c.Address() != tc.want {
				t.Errorf("Address = %q, want %q", c.Address(), tc.want)
			}
		})
	}
	for _, opt := range []client.Option{client.WithTimeout(0), client.WithDialTimeout(-1), client.WithIdleTimeout(0), client.WithTLSConfig(nil), client.WithToken("")} {
		if _, err := client.New("/x.sock", opt); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("New with a bad option = %v, want ErrInvalidArgument", err)
		}
	}
}

// identified gives the client the identity of what it serves, as the
// remote runtime does with the daemon's answer: the client alone has none.
type identified struct {
	*client.Client
	id runtime.Identity
}

func (i identified) Name() string                  { return i.id.Name() }
func (i identified) Platforms() []ocispec.Platform { return i.id.Platforms() }

// Run creates and starts in one request, its wait begun before the start;
// a create that fails is its error, with its kind, and nothing starts.
func TestRun(t *testing.T) {
	f, c, _ := newFakePair(t, nil)
	checkRun(t, f, c)
}

// TestRunOnAnOlderDaemon: a daemon without the run route (one started
// before an upgrade of the client) answers "no route"; Run does the same
// in three requests, with the same answers.
func TestRunOnAnOlderDaemon(t *testing.T) {
	f := runtimetest.NewFake("fake", platforms.MustParse("linux/amd64"))
	h, err := server.New(f)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	older := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/run") {
			// What a daemon without the route answers.
			asked++
			r.URL.Path += "-unknown"
		}
		h.ServeHTTP(w, r)
	})
	c := mustClient(t, mustServeHandler(t, older))
	checkRun(t, f, c)
	if asked != 4 {
		t.Errorf("the run route was asked %d times, want 4 (once a Run)", asked)
	}
	// A missing object is not a missing route.
	if _, err := c.State(t.Context(), runtime.ContainerID{Service: "none"}); api.IsNoRoute(err) || !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("State of a missing container = %v: want not found, not a missing route", err)
	}
}

// checkRun runs c.Run four ways against a daemon serving f: with a wait,
// without, over a taken name, with a bad wait condition.
func checkRun(t *testing.T, f *runtimetest.Fake, c *client.Client) {
	t.Helper()
	ctx := t.Context()
	id := runtime.ContainerID{Service: "one"}
	outcome, err := c.Run(ctx, id, runtimetest.FakeSpec(runtimetest.Workload{Stdout: []string{"hi"}, ExitCode: 3}), runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	o, err := outcome()
	if err != nil || o.ExitCode != 3 || o.Reason != runtime.ReasonExited {
		t.Errorf("Run's outcome = %+v, %v; want exit 3", o, err)
	}
	if entries, err := c.Logs(ctx, id, runtime.TailAll); err != nil || len(entries) != 1 || entries[0].Text != "hi" {
		t.Errorf("Logs = %+v, %v; want the workload's line", entries, err)
	}

	// Without a wait: started, and no outcome to read.
	bg := runtime.ContainerID{Service: "bg"}
	outcome, err = c.Run(ctx, bg, runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true}), "")
	if err != nil || outcome != nil {
		t.Fatalf("Run without a wait = %v, %v; want no outcome", outcome != nil, err)
	}
	if st, err := c.State(ctx, bg); err != nil || st.Status != runtime.StatusRunning {
		t.Errorf("State after Run = %+v, %v; want running", st, err)
	}

	// The name taken: the create's error, with its kind.
	if _, err := c.Run(ctx, bg, runtimetest.FakeSpec(runtimetest.Workload{}), ""); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("Run of a taken name = %v, want ErrAlreadyExists", err)
	}
	// A bad wait condition: refused before anything is made.
	bad := runtime.ContainerID{Service: "bad"}
	if _, err := c.Run(ctx, bad, runtimetest.FakeSpec(runtimetest.Workload{}), "sometime"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Run with wait=sometime = %v, want ErrInvalidArgument", err)
	}
	if _, err := f.State(ctx, bad); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("after a refused Run the container exists: %v", err)
	}
}
