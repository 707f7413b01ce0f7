package remote_test

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/platforms"

	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/runtimes/remote"
)

// TestDelegateDownAndBack: a delegate that goes away makes its calls fail
// with ErrUnavailable naming it and its address, keeps claiming its
// platforms, and works again through the same Runtime once it is back.
func TestDelegateDownAndBack(t *testing.T) {
	f := runtimetest.NewFake("fake", amd64)
	a := mustUnixAgent(t, f)
	r := mustRemote(t, "wsl", a.url())
	id := mustCreateStart(t, r, "web", runtimetest.Workload{UntilStopped: true})

	a.stop()
	wantDown := func(what string, err error) {
		t.Helper()
		want := "delegate wsl (" + a.url() + ") is unreachable"
		if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s with the delegate down = %v, want ErrUnavailable saying %q", what, err, want)
		}
	}
	_, err := r.State(t.Context(), id)
	t.Logf("State: %v", err)
	wantDown("State", err)
	wantDown("Create", r.Create(t.Context(), runtime.ContainerID{Service: "db"}, runtimetest.FakeSpec(runtimetest.Workload{})))
	_, err = r.ListImages(t.Context())
	wantDown("ListImages", err)
	_, err = r.FollowLogs(t.Context(), id, runtime.TailAll)
	wantDown("FollowLogs", err)
	if got := formatAll(r.Platforms()); !slices.Equal(got, []string{"linux/amd64"}) {
		t.Errorf("Platforms with the delegate down = %v, want the last known linux/amd64", got)
	}

	a.start()
	st, err := r.State(t.Context(), id)
	if err != nil || st.Status != runtime.StatusRunning {
		t.Fatalf("State after the delegate came back = %v, %v; want running", st, err)
	}
	if err := r.Stop(t.Context(), id, time.Second); err != nil {
		t.Errorf("Stop after the delegate came back: %v", err)
	}
}

// TestDownAtNew: a delegate that is down when the agent starts claims the
// platforms given with WithPlatforms, its creates fail naming it, and once
// it answers its own list replaces them, without any call on our side.
func TestDownAtNew(t *testing.T) {
	arm := platforms.MustParse("linux/arm64")
	f := runtimetest.NewFake("fake", arm)
	a := mustUnixAgent(t, f)
	a.stop()

	r := mustRemote(t, "wsl", a.url(), remote.WithPlatforms(amd64), remote.WithRefreshInterval(time.Hour), remote.WithProbeTimeout(time.Second))
	if got := formatAll(r.Platforms()); !slices.Equal(got, []string{"linux/amd64"}) {
		t.Errorf("Platforms of a delegate down at New = %v, want the static linux/amd64", got)
	}
	err := r.Create(t.Context(), runtime.ContainerID{Service: "web"}, runtimetest.FakeSpec(runtimetest.Workload{}))
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "delegate wsl") {
		t.Errorf("Create with the delegate down = %v, want ErrUnavailable naming delegate wsl", err)
	}

	a.start()
	// Platforms asks the refresh loop to probe while nothing is known.
	testutil.Eventually(t, 10*time.Second, "Platforms shows the delegate's own list", func() bool {
		return slices.Equal(formatAll(r.Platforms()), []string{"linux/arm64"})
	})

	none := mustRemote(t, "vm", a.url()+".missing", remote.WithProbeTimeout(time.Second))
	if got := none.Platforms(); len(got) != 0 {
		t.Errorf("Platforms of a delegate never seen, without WithPlatforms = %v, want none", got)
	}
}

// TestPlatformsNeverBlock: with a delegate that accepts connections and
// never answers, Platforms still returns at once, with the static list.
func TestPlatformsNeverBlock(t *testing.T) {
	p := mustPKI(t)
	ln := mustSilentListener(t, "tcp", "127.0.0.1:0")
	r := mustRemote(t, "wsl", "https://"+ln, remote.WithPlatforms(amd64),
		remote.WithProbeTimeout(200*time.Millisecond),
		remote.WithClientOptions(client.WithTLSConfig(mustClientTLS(t, p, false))))
	start := time.Now()
	for range 100 {
		if got := r.Platforms(); len(got) != 1 {
			t.Fatalf("Platforms = %v, want linux/amd64", got)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 Platforms calls took %v with a silent delegate, want no network wait", d)
	}
}

// TestStreamCutMidway: a delegate that dies while a log follow, an exec
// stream and a wait are open ends each of them with ErrUnavailable naming
// the delegate; none hangs.
func TestStreamCutMidway(t *testing.T) {
	f := runtimetest.NewFake("fake", amd64)
	a := mustUnixAgent(t, f)
	r := mustRemote(t, "wsl", a.url())
	id := mustCreateStart(t, r, "web", runtimetest.Workload{Stdout: []string{"hello"}, UntilStopped: true})

	logs, err := r.FollowLogs(t.Context(), id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer logs.Close()
	if e, err := runtimetest.RecvWithin(t, logs, 5*time.Second); err != nil || e.Text != "hello" {
		t.Fatalf("Recv = %+v, %v; want hello", e, err)
	}
	waited := make(chan error, 1)
	go func() {
		_, err := r.Wait(t.Context(), id)
		waited <- err
	}()
	testutil.Eventually(t, 10*time.Second, "the delegate is waiting", func() bool {
		return slices.ContainsFunc(f.Calls(), func(c runtimetest.Call) bool { return strings.EqualFold(c.Method, "wait") })
	})

	a.stop() // every connection is cut
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, runtime.ErrUnavailable) || errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "delegate wsl (") {
			t.Errorf("%s after the delegate died = %v, want ErrUnavailable naming the delegate (not EOF)", what, err)
		}
	}
	_, err = runtimetest.RecvWithin(t, logs, 5*time.Second)
	t.Logf("Recv: %v", err)
	check("follow logs", err)
	select {
	case err := <-waited:
		check("wait", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Wait hung after the delegate died")
	}
}

// mustSilentListener accepts connections on network and address and never
// says a word, like a host that hangs; it returns the address it listens
// on.
func mustSilentListener(t *testing.T, network, address string) string {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestPlatformsRefreshAfterOutage: when a call gets through after an
// outage, the delegate's platforms are asked for again (it may have come
// back with another configuration), and the outage and the return are
// logged.
func TestPlatformsRefreshAfterOutage(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	before := mustAgent(t, runtimetest.NewFake("fake", amd64), "unix", sock, nil)
	var logs testutil.SyncBuffer
	r := mustRemote(t, "wsl", before.url(), remote.WithRefreshInterval(time.Hour),
		remote.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if got := formatAll(r.Platforms()); !slices.Equal(got, []string{"linux/amd64"}) {
		t.Fatalf("Platforms = %v, want linux/amd64", got)
	}
	before.stop()
	if _, err := r.List(t.Context()); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("List with the delegate down = %v, want ErrUnavailable", err)
	}

	mustAgent(t, runtimetest.NewFake("fake", platforms.MustParse("linux/arm64")), "unix", sock, nil)
	if _, err := r.List(t.Context()); err != nil {
		t.Fatalf("List after the delegate came back: %v", err)
	}
	testutil.Eventually(t, 10*time.Second, "Platforms shows the delegate's new list", func() bool {
		return slices.Equal(formatAll(r.Platforms()), []string{"linux/arm64"})
	})
	for _, want := range []string{"delegate is unreachable", "delegate is reachable again", "address=unix://" + sock} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not say %q:\n%s", want, logs.String())
		}
	}
}

// TestSilentDelegate: a delegate that accepts connections and never
// answers fails quick calls after the call timeout and long calls after
// the idle timeout, with ErrUnavailable naming it; nothing hangs.
func TestSilentDelegate(t *testing.T) {
	sock := mustSilentListener(t, "unix", filepath.Join(t.TempDir(), "silent.sock"))
	r := mustRemote(t, "wsl", "unix://"+sock, remote.WithPlatforms(amd64), remote.WithProbeTimeout(100*time.Millisecond),
		remote.WithClientOptions(client.WithTimeout(300*time.Millisecond), client.WithIdleTimeout(300*time.Millisecond)))
	id := runtime.ContainerID{Service: "web"}
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"state (quick)", func() error { _, err := r.State(t.Context(), id); return err }},
		{"wait (long)", func() error { _, err := r.Wait(t.Context(), id); return err }},
		{"follow logs (stream)", func() error { _, err := r.FollowLogs(t.Context(), id, 0); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errc := make(chan error, 1)
			go func() { errc <- tc.call() }()
			select {
			case err := <-errc:
				if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "delegate wsl (unix://") {
					t.Errorf("%s = %v, want ErrUnavailable naming the delegate", tc.name, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s hung on a silent delegate", tc.name)
			}
		})
	}
}
