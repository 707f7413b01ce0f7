package statedir

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

func TestReadyRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"ok", nil},
		{"invalid argument", fmt.Errorf("runc create: exec: \"nope\": executable file not found in $PATH: %w", runtime.ErrInvalidArgument)},
		{"not found", fmt.Errorf("runc create: container does not exist: %w", runtime.ErrNotFound)},
		{"failed precondition", fmt.Errorf("runc create: not running: %w", runtime.ErrFailedPrecondition)},
		{"unavailable", fmt.Errorf("subreaper: operation not permitted: %w", runtime.ErrUnavailable)},
		{"no kind", errors.New("init pid file holds \"\"")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteReady(&buf, tc.err); err != nil {
				t.Fatal(err)
			}
			if b := buf.Bytes(); bytes.Count(b, []byte{'\n'}) != 1 || b[len(b)-1] != '\n' {
				t.Fatalf("report %q is not one line", b)
			}
			got := ReadReady(&buf)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("ReadReady of ok = %v", got)
				}
				return
			}
			want := runtime.KindFromName(runtime.KindName(tc.err))
			if want == nil {
				want = runtime.ErrUnavailable // a failure of no kind
			}
			if got == nil || got.Error() != tc.err.Error() || !errors.Is(got, want) {
				t.Fatalf("ReadReady = %v; want %q wrapping %v", got, tc.err, want)
			}
		})
	}
}

func TestReadyBadReports(t *testing.T) {
	for _, tc := range []struct {
		name, report string
		ok           bool
		kind         error
		saying       string
	}{
		{"nothing", "", false, runtime.ErrUnavailable, "without a ready report"},
		{"blank line", "\n", false, runtime.ErrUnavailable, "without a ready report"},
		{"binary garbage", "\x00\x01\xfe\xff\n", false, runtime.ErrUnavailable, "neither JSON nor text"},
		{"broken JSON", `{"ok":tr` + "\n", false, runtime.ErrUnavailable, "not valid JSON"},
		{"JSON of the wrong shape", `{"ok":"yes"}` + "\n", false, runtime.ErrUnavailable, "not valid JSON"},
		{"failure without a message", `{"ok":false,"kind":"invalid_argument"}` + "\n", false, runtime.ErrInvalidArgument, "without a message"},
		{"kind this version does not know", `{"ok":false,"kind":"exhausted","message":"too many"}` + "\n", false, runtime.ErrUnavailable, "too many"},
		{"only the first line counts", `{"ok":true}` + "\n" + "garbage\n", true, nil, ""},
		// What an earlier shim wrote.
		{"old ok", "ok\n", true, nil, ""},
		{"old failure", "runc create: exec: \"nope\": executable file not found in $PATH\n", false, runtime.ErrInvalidArgument, "runc create"},
		{"old failure of the node", "subreaper: operation not permitted\n", false, runtime.ErrUnavailable, "subreaper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ReadReady(strings.NewReader(tc.report))
			if tc.ok {
				if err != nil {
					t.Fatalf("ReadReady(%q) = %v, want ok", tc.report, err)
				}
				return
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.saying) {
				t.Fatalf("ReadReady(%q) = %v; want %v saying %q", tc.report, err, tc.kind, tc.saying)
			}
		})
	}
}

// TestReadyDoesNotHang checks that a report is read without waiting for
// the writer to close its end, and that a writer that streams something
// else without end gets an error once the bound is reached.
func TestReadyDoesNotHang(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write []byte
		ok    bool
	}{
		{"a report, the descriptor kept open", []byte(`{"ok":true}` + "\n"), true},
		{"garbage line, the descriptor kept open", []byte("garbage\n"), false},
		{"endless text without a newline", bytes.Repeat([]byte{'x'}, 3*maxReport), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			defer w.Close()      // the writer keeps its end open until the test ends
			go w.Write(tc.write) //nolint:errcheck // blocks until read; fails once w is closed
			done := make(chan error, 1)
			go func() { done <- ReadReady(r) }()
			select {
			case err := <-done:
				if (err == nil) != tc.ok {
					t.Fatalf("ReadReady = %v, want ok %v", err, tc.ok)
				}
				if err != nil && (!errors.Is(err, runtime.ErrUnavailable) || len(err.Error()) > 1024) {
					t.Errorf("ReadReady = %.2000v; want a short error wrapping unavailable", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadReady still waits on a descriptor that stays open")
			}
		})
	}
	// A reader that fails is a failure, not ok.
	if err := ReadReady(io.MultiReader(strings.NewReader("o"), errReader{})); !errors.Is(err, runtime.ErrUnavailable) {
		t.Errorf("ReadReady of a failing reader = %v, want unavailable", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("read failed") }
