package server_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/api/server"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// mustServer serves a Fake with opts over loopback HTTP.
func mustServer(t *testing.T, opts ...server.Option) (*runtimetest.Fake, *httptest.Server) {
	t.Helper()
	f := runtimetest.NewFake("fake")
	h, err := server.New(f, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return f, ts
}

func mustDo(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestBadRequests: bad bodies and parameters are invalid_argument (or
// not_found for routes that do not exist) with a message that says what is
// wrong, and the runtime is never called.
func TestBadRequests(t *testing.T) {
	f, ts := mustServer(t, server.WithMaxBodyBytes(256))
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		kind                     api.Kind
		msg                      string
	}{
		{"truncated JSON", "POST", "/v1/containers/web-rep-0", `{"image":`, 400, api.KindInvalidArgument, "ends too early"},
		{"syntax error", "POST", "/v1/containers/web-rep-0", `{"image" "web"}`, 400, api.KindInvalidArgument, "invalid JSON at byte"},
		{"unknown field", "POST", "/v1/containers/web-rep-0", `{"image":"web","colour":"red"}`, 400, api.KindInvalidArgument, `unknown field "colour"`},
		{"wrong type", "POST", "/v1/containers/web-rep-0", `{"image":5}`, 400, api.KindInvalidArgument, "image: got a JSON number, want a string"},
		{"no image", "POST", "/v1/containers/web-rep-0", `{"args":["x"]}`, 400, api.KindInvalidArgument, "image: empty"},
		{"env without =", "POST", "/v1/containers/web-rep-0", `{"image":"x","env":["A"]}`, 400, api.KindInvalidArgument, "want KEY=VALUE"},
		{"volume name escapes", "POST", "/v1/containers/web-rep-0", `{"image":"x","volumes":[{"name":"..","path":"/d"}]}`, 400, api.KindInvalidArgument, "volume name"},
		{"relative volume path", "POST", "/v1/containers/web-rep-0", `{"image":"x","volumes":[{"name":"v","path":"d"}]}`, 400, api.KindInvalidArgument, "absolute path"},
		{"null body", "POST", "/v1/containers/web-rep-0", `null`, 400, api.KindInvalidArgument, "the body is null"},
		{"empty body", "POST", "/v1/containers/web-rep-0", ``, 400, api.KindInvalidArgument, "the body is empty"},
		{"two objects", "POST", "/v1/containers/web-rep-0", `{} {}`, 400, api.KindInvalidArgument, "after the JSON object"},
		{"a deployment field", "POST", "/v1/containers/web-rep-0", `{"image":"x","rtype":"job"}`, 400, api.KindInvalidArgument, `unknown field "rtype"`},
		{"negative memory", "POST", "/v1/containers/web-rep-0", `{"image":"x","resources":{"memory_bytes":-1}}`, 400, api.KindInvalidArgument, "memory_bytes"},
		{"platform without os", "POST", "/v1/containers/web-rep-0", `{"image":"x","platform":{"architecture":"amd64"}}`, 400, api.KindInvalidArgument, "platform"},
		{"body too large", "POST", "/v1/containers/web-rep-0", `{"image":"` + strings.Repeat("x", 300) + `"}`, 400, api.KindInvalidArgument, "larger than 256 bytes"},
		{"bad id", "POST", "/v1/containers/web/start", ``, 400, api.KindInvalidArgument, "want <service>-rep-<n>"},
		{"bad rename target", "POST", "/v1/containers/web-rep-0/rename?to=x", ``, 400, api.KindInvalidArgument, "want <service>-rep-<n>"},
		{"bad tail", "GET", "/v1/containers/web-rep-0/logs?tail=many", ``, 400, api.KindInvalidArgument, "tail="},
		{"bad follow", "GET", "/v1/containers/web-rep-0/logs?follow=maybe", ``, 400, api.KindInvalidArgument, "want true or false"},
		{"bad timeout", "POST", "/v1/containers/web-rep-0/stop?timeout=-1s", ``, 400, api.KindInvalidArgument, "timeout="},
		{"bad force", "DELETE", "/v1/containers/web-rep-0?force=yes%21", ``, 400, api.KindInvalidArgument, "force="},
		{"bad condition", "POST", "/v1/containers/web-rep-0/wait-outcome?condition=soon", ``, 400, api.KindInvalidArgument, "wait condition"},
		{"bad exec body", "POST", "/v1/containers/web-rep-0/exec", `{"argv":"ls"}`, 400, api.KindInvalidArgument, "argv: got a JSON string, want a list"},
		{"unknown version", "GET", "/v2/info", ``, 404, api.KindNotFound, "speaks API v1"},
		{"wrong method", "PUT", "/v1/info", ``, 404, api.KindNotFound, "no route for PUT /v1/info"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.ResetCalls()
			resp, b := mustDo(t, tc.method, ts.URL+tc.path, tc.body)
			var body api.ErrorBody
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("body %q is not an ErrorBody: %v", b, err)
			}
			if resp.StatusCode != tc.status || body.Error.Kind != tc.kind || !strings.Contains(body.Error.Message, tc.msg) {
				t.Errorf("got %d %s %q, want %d %s containing %q", resp.StatusCode, body.Error.Kind, body.Error.Message, tc.status, tc.kind, tc.msg)
			}
			if calls := f.Calls(); len(calls) != 0 {
				t.Errorf("the runtime was called: %+v", calls)
			}
		})
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	_, ts := mustServer(t)
	for _, path := range []string{"/v1/containers", "/v1/images"} {
		if _, b := mustDo(t, "GET", ts.URL+path, ""); strings.TrimSpace(string(b)) != "[]" {
			t.Errorf("GET %s = %s, want []", path, b)
		}
	}
}

func TestExtraRoutesAndMiddleware(t *testing.T) {
	var seen []string
	_, ts := mustServer(t,
		server.WithRoutes(func(mux *http.ServeMux) {
			mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "up 1\n") })
		}),
		server.WithMiddleware(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = append(seen, r.URL.Path)
				next.ServeHTTP(w, r)
			})
		}))
	if resp, b := mustDo(t, "GET", ts.URL+"/metrics", ""); resp.StatusCode != 200 || string(b) != "up 1\n" {
		t.Errorf("GET /metrics = %d %q, want the added route", resp.StatusCode, b)
	}
	if resp, _ := mustDo(t, "GET", ts.URL+"/v1/platforms", ""); resp.StatusCode != 200 {
		t.Errorf("GET /v1/platforms = %d, want 200", resp.StatusCode)
	}
	if strings.Join(seen, ",") != "/metrics,/v1/platforms" {
		t.Errorf("middleware saw %v, want both requests", seen)
	}
}

func TestBadOptions(t *testing.T) {
	for _, opt := range []server.Option{server.WithLogger(nil), server.WithMaxBodyBytes(0), server.WithHeartbeat(0), server.WithRoutes(nil), server.WithMiddleware(nil)} {
		if _, err := server.New(runtimetest.NewFake("fake"), opt); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("New with a bad option = %v, want ErrInvalidArgument", err)
		}
	}
}

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "switchyard.sock")
	ln, err := server.ListenUnix(sock, 0o660)
	if err != nil {
		t.Fatalf("ListenUnix: %v", err)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, %v; want 0660", fi.Mode(), err)
	}
	if _, err := server.ListenUnix(sock, 0o660); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("second ListenUnix on a live socket = %v, want ErrAlreadyExists", err)
	}
	ln.Close()
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v, want it removed", err)
	}

	// A stale socket (its daemon died without removing it) is replaced.
	stale, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ln, err = server.ListenUnix(sock, 0o600)
	if err != nil {
		t.Fatalf("ListenUnix over a stale socket: %v", err)
	}
	ln.Close()

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.ListenUnix(file, 0o660); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("ListenUnix on a regular file = %v, want ErrAlreadyExists", err)
	}
}
