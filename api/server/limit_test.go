package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// Connections over the limit are answered 503 at once and closed, and a
// closed connection frees its slot; idle ones do not hold the daemon.
func TestLimitConns(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	raw, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitConns(raw, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	var held []net.Conn
	for range 2 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// The third is refused with the API's error, not left hanging.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	resp, err := hc.Get("http://switchyard/")
	if err != nil {
		t.Fatalf("the connection over the limit: %v", err)
	}
	var body api.ErrorBody
	err = api.Decode(resp.Body, &body, "error")
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || err != nil || !errors.Is(api.FromHTTP(resp.StatusCode, &body.Error), runtime.ErrUnavailable) {
		t.Fatalf("over the limit: %d %+v %v", resp.StatusCode, body, err)
	}
	// Closing one frees a slot.
	_ = held[0].Close()
	ok := testutil.Poll(5*time.Second, func() bool {
		hc.CloseIdleConnections()
		resp, err := hc.Get("http://switchyard/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ok {
		t.Errorf("a freed slot was not taken again")
	}
	_ = held[1].Close()
}
