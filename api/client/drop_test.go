package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/client"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// TestConnectionDropEndsStream: a daemon that goes away mid-stream ends the
// stream with an error that matches ErrUnavailable; Recv never hangs.
func TestConnectionDropEndsStream(t *testing.T) {
	_, c, d := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{Stdout: []string{"hello"}, UntilStopped: true})
	st, err := c.FollowLogs(t.Context(), id, runtime.TailAll)
	if err != nil {
		t.Fatalf("FollowLogs: %v", err)
	}
	defer st.Close()
	if e, err := runtimetest.RecvWithin(t, st, 5*time.Second); err != nil || e.Text != "hello" {
		t.Fatalf("Recv = %+v, %v; want hello", e, err)
	}
	d.srv.Close() // the daemon dies: every connection is cut
	_, err = runtimetest.RecvWithin(t, st, 5*time.Second)
	if !errors.Is(err, runtime.ErrUnavailable) || errors.Is(err, io.EOF) {
		t.Fatalf("Recv after the daemon died = %v, want ErrUnavailable (and not io.EOF)", err)
	}
	if !strings.Contains(err.Error(), "lost the connection to the switchyard daemon") {
		t.Errorf("message = %q, want it to say the connection was lost", err)
	}
}

// TestConnectionDropEndsLongCall: a Wait in progress when the daemon dies
// returns ErrUnavailable.
func TestConnectionDropEndsLongCall(t *testing.T) {
	f, c, d := newFakePair(t, nil)
	id := mustCreateStart(t, c, "web", runtimetest.Workload{UntilStopped: true})
	errc := make(chan error, 1)
	go func() {
		_, err := c.Wait(t.Context(), id)
		errc <- err
	}()
	waitForCall(t, f, "wait")
	d.srv.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, runtime.ErrUnavailable) {
			t.Errorf("Wait after the daemon died = %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait hung after the daemon died")
	}
}

// waitForCall polls until the Fake has recorded a call of method.
func waitForCall(t *testing.T, f *runtimetest.Fake, method string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range f.Calls() {
			if strings.EqualFold(c.Method, method) {
				return
			}
		}
		time.Sleep(time.Millisecond) // polling interval, not a wait for an event
	}
	t.Fatalf("the Fake saw no %s call within 5s", method)
}

// TestSilentDaemon: a daemon that accepts the call and then says nothing
// (frozen, or its host gone) ends streams and long calls after the idle
// timeout instead of hanging them.
func TestSilentDaemon(t *testing.T) {
	frozen := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/logs") {
			w.Header().Set("Content-Type", api.ContentTypeNDJSON)
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
		}
		<-r.Context().Done()
	})
	c := mustClient(t, mustServeHandler(t, frozen), client.WithIdleTimeout(300*time.Millisecond))
	id := runtime.ContainerID{Service: "web"}

	// On a loaded machine the watchdog may fire before the stream's header
	// arrives; either way the silence ends in ErrUnavailable.
	st, err := c.FollowLogs(t.Context(), id, runtime.TailAll)
	if err == nil {
		defer st.Close()
		_, err = runtimetest.RecvWithin(t, st, 5*time.Second)
	}
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "sent nothing for 300ms") {
		t.Errorf("following a silent daemon = %v, want ErrUnavailable saying it sent nothing", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := c.Wait(t.Context(), id)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, runtime.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait on a silent daemon = %v, want ErrUnavailable and DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait hung on a silent daemon")
	}

	// Quick calls have their own deadline.
	c2 := mustClient(t, mustServeHandler(t, frozen), client.WithTimeout(100*time.Millisecond))
	if _, err := c2.State(t.Context(), id); !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "did not answer within 100ms") {
		t.Errorf("State on a silent daemon = %v, want ErrUnavailable saying it did not answer", err)
	}
}

// slowWaiter is a Fake whose Wait answers only when release is closed.
type slowWaiter struct {
	*runtimetest.Fake
	release chan struct{}
}

func (s *slowWaiter) Wait(ctx context.Context, _ runtime.ContainerID) (int, error) {
	select {
	case <-s.release:
		return 7, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestLongCallHeartbeats: a wait that lasts many idle timeouts survives,
// because the daemon's heartbeats show it is alive, and then delivers its
// answer; an error after the heartbeats started keeps its kind.
func TestLongCallHeartbeats(t *testing.T) {
	rt := &slowWaiter{Fake: runtimetest.NewFake("fake"), release: make(chan struct{})}
	// The idle timeout is 100 heartbeats, so that a loaded machine's delays
	// cannot fail the test; the answer comes after 2.5 idle timeouts, which
	// only heartbeats can carry the call through.
	const idle = 2 * time.Second
	c := mustClient(t, mustServe(t, rt, server.WithHeartbeat(20*time.Millisecond)), client.WithIdleTimeout(idle))
	start := time.Now()
	time.AfterFunc(idle*5/2, func() { close(rt.release) })
	code, err := c.Wait(t.Context(), runtime.ContainerID{Service: "web"})
	if err != nil || code != 7 {
		t.Fatalf("Wait = %d, %v; want 7", code, err)
	}
	if elapsed := time.Since(start); elapsed < idle*5/2 {
		t.Errorf("Wait returned after %v, before its answer was released", elapsed)
	}

	// Stop is a long call too: a slow failing stop keeps its kind.
	f := runtimetest.NewFake("fake")
	f.FailOn("stop", errors.New("stuck")) // answered at once: a plain error response
	c2 := mustClient(t, mustServe(t, f, server.WithHeartbeat(20*time.Millisecond)))
	if err := c2.Stop(t.Context(), runtime.ContainerID{Service: "web"}, time.Second); err == nil || err.Error() != "stuck" {
		t.Errorf("Stop = %v, want stuck", err)
	}
}

// BenchmarkStateRoundTrip measures one small call over the unix socket:
// client → server → Fake → back.
func BenchmarkStateRoundTrip(b *testing.B) {
	f := runtimetest.NewFake("fake")
	h, err := server.New(f)
	if err != nil {
		b.Fatal(err)
	}
	d := serveBench(b, h)
	c, err := client.New("unix://" + d)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	id := runtime.ContainerID{Service: "web"}
	if err := c.Create(ctx, id, runtimetest.FakeSpec(runtimetest.Workload{UntilStopped: true})); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.State(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
