package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	ln := LimitConns(raw, 2, 0)
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

// Past maxRefusing connections being answered, one over the limit is
// closed without an answer, and below TLS it always is: the refusals hold
// no more descriptors than that, and a TLS client gets no plain text.
func TestLimitConnsRefusalsAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wrap   func(net.Listener) net.Listener
		before int // silent connections refused first
	}{
		{"flood", func(ln net.Listener) net.Listener { return LimitConns(ln, 1, 0) }, maxRefusing},
		{"below TLS", func(ln net.Listener) net.Listener { return limitConnsSilent(ln, 1, 0) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "s.sock")
			raw, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			ln := tc.wrap(raw)
			t.Cleanup(func() { _ = ln.Close() })
			go func() {
				for {
					if _, err := ln.Accept(); err != nil { // held, never closed
						return
					}
				}
			}()
			dial := func() net.Conn {
				c, err := net.Dial("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				return c
			}
			dial() // takes the one slot
			for range tc.before {
				dial() // sends nothing: its refusal waits for a request head
			}
			c := dial()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := c.Read(make([]byte, 512))
			if n != 0 || !errors.Is(err, io.EOF) {
				t.Fatalf("read %d bytes, %v; want the connection closed without an answer", n, err)
			}
		})
	}
}

// One client may hold perClient connections; the next of that client is
// refused with a 503 that names it, while another client still gets in,
// and a closed connection gives the client its slot back. Over TCP a
// client is its address (127.0.0.2 is another client than 127.0.0.1); on a
// unix socket it is the peer process.
func TestLimitConnsPerClient(t *testing.T) {
	serve := func(t *testing.T, raw net.Listener) {
		ln := LimitConns(raw, 10, 2)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{}")) })}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	get := func(t *testing.T, dial func() (net.Conn, error)) (int, string) {
		t.Helper()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(context.Context, string, string) (net.Conn, error) { return dial() }}}
		defer hc.CloseIdleConnections()
		resp, err := hc.Get("http://switchyard/")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	check := func(t *testing.T, dial, other func() (net.Conn, error), who string) {
		var held []net.Conn
		for range 2 {
			c, err := dial()
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		code, body := get(t, dial)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "this client ("+who) || !strings.Contains(body, "2 connections") {
			t.Fatalf("the client's third connection: %d %s; want 503 naming the client", code, body)
		}
		if other != nil {
			if code, body := get(t, other); code != http.StatusOK {
				t.Fatalf("another client: %d %s; want it served", code, body)
			}
		}
		_ = held[0].Close()
		if !testutil.Poll(5*time.Second, func() bool { code, _ := get(t, dial); return code == http.StatusOK }) {
			t.Fatal("a closed connection did not give the client its slot back")
		}
		_ = held[1].Close()
	}
	t.Run("tcp", func(t *testing.T) {
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		serve(t, raw)
		addr := raw.Addr().String()
		from := func(ip string) func() (net.Conn, error) {
			return func() (net.Conn, error) {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
				return d.Dial("tcp", addr)
			}
		}
		check(t, from("127.0.0.1"), from("127.0.0.2"), "127.0.0.1")
	})
	t.Run("unix", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "s.sock")
		raw, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		serve(t, raw)
		check(t, func() (net.Conn, error) { return net.Dial("unix", sock) }, nil, "pid "+strconv.Itoa(os.Getpid()))
	})
}
