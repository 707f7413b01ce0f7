package registry

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// A registry that accepts the connection and never answers fails the pull
// after the header bound, saying so, instead of hanging it.
func TestSilentRegistryFailsThePull(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // accepted, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for c := range held {
			c.Close()
		}
	})
	svc := NewImageService(mustStore(t), noKeychain, WithTimeouts(300*time.Millisecond, 300*time.Millisecond))
	start := time.Now()
	_, err = svc.Pull(context.Background(), ln.Addr().String()+"/silent:1", runtime.PullOptions{Policy: runtime.PullAlways})
	if !errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "sent no answer") {
		t.Fatalf("Pull from a silent registry = %v, want unavailable saying it sent no answer", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the pull took %v to fail", took)
	}
}

// A body that stops half-way fails after the stall bound; one that is slow
// but keeps moving is not cut.
func TestStalledAndSlowDownloads(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pause time.Duration // between pieces of a layer
		stall bool          // stop after the first piece
		fails bool
	}{
		{"stalled", 0, true, true},
		{"slow but moving", 100 * time.Millisecond, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := testimages.ServeHandler(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !strings.Contains(r.URL.Path, "/blobs/") || r.Method != http.MethodGet {
						h.ServeHTTP(w, r)
						return
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, r)
					body := rec.Body.Bytes()
					for k, vs := range rec.Header() {
						w.Header()[k] = vs
					}
					w.WriteHeader(rec.Code)
					piece := max(len(body)/8, 1)
					for off := 0; off < len(body); off += piece {
						if _, err := w.Write(body[off:min(off+piece, len(body))]); err != nil {
							return
						}
						w.(http.Flusher).Flush()
						if tc.stall {
							<-r.Context().Done()
							return
						}
						time.Sleep(tc.pause) // the registry's pace, not a wait in the test
					}
				})
			})
			ref := testimages.Push(t, host, "trickle", testimages.Busybox(t))
			svc := NewImageService(mustStore(t), noKeychain, WithTimeouts(5*time.Second, 400*time.Millisecond))
			_, err := svc.Pull(context.Background(), ref, runtime.PullOptions{Policy: runtime.PullAlways})
			switch {
			case tc.fails && (!errors.Is(err, runtime.ErrUnavailable) || !strings.Contains(err.Error(), "sent nothing for")):
				t.Fatalf("Pull = %v, want unavailable saying the download stalled", err)
			case !tc.fails && err != nil:
				t.Fatalf("a slow but moving download failed: %v", err)
			}
		})
	}
}

// A consumer that is slow between reads (a slow disk, a blocked progress
// report) is not taken for a stalled registry: only a read that waits
// counts.
func TestSlowConsumerIsNotAStall(t *testing.T) {
	body := strings.Repeat("x", 64<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	o, err := makeOptions([]Option{WithTimeouts(5*time.Second, 100*time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	g := &guardTransport{base: http.DefaultTransport, o: &o, pings: &pingCache{entries: map[string]pingEntry{}}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/x/blobs/upload", nil)
	resp, err := g.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1024)
	got := 0
	for i := 0; ; i++ {
		n, err := resp.Body.Read(buf)
		got += n
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("after %d bytes: %v", got, err)
			}
			break
		}
		if i < 3 {
			time.Sleep(250 * time.Millisecond) // the consumer's pace, past the stall bound
		}
	}
	if got != len(body) {
		t.Fatalf("read %d bytes of %d", got, len(body))
	}
}
