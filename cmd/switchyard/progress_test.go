package main

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// Without a terminal a pull says when it begins and, while the registry
// is silent, what it waits for and how long, every quietEvery; once the
// registry speaks again, or the pull is done, it says nothing more. An
// image already here prints nothing.
func TestPullDisplayPlain(t *testing.T) {
	var out testutil.SyncBuffer
	p := newPullDisplayAt(&out, false, "127.0.0.1:5000/app:1") // the test drives the clock
	t0 := time.Now()
	p.tick(t0.Add(time.Minute))
	if out.String() != "" {
		t.Fatalf("before any event: %q", out.String())
	}
	p.updateAt(runtime.PullProgress{ID: "127.0.0.1:5000/app:1", Status: "resolving"}, t0)
	for s := 1; s <= 25; s++ {
		p.tick(t0.Add(time.Duration(s) * time.Second))
	}
	want := "pulling 127.0.0.1:5000/app:1 from 127.0.0.1:5000\n" +
		"waiting for 127.0.0.1:5000 to answer (silent for 3s)\n" +
		"waiting for 127.0.0.1:5000 to answer (silent for 13s)\n" +
		"waiting for 127.0.0.1:5000 to answer (silent for 23s)\n"
	if out.String() != want {
		t.Fatalf("plain display:\n%s\nwant:\n%s", out.String(), want)
	}
	t1 := t0.Add(30 * time.Second)
	p.updateAt(runtime.PullProgress{ID: "sha256:" + strings.Repeat("a", 64), Status: "downloading", Current: 10, Total: 100}, t1)
	p.tick(t1.Add(2 * time.Second))
	p.tick(t1.Add(4 * time.Second))
	if !strings.HasSuffix(out.String(), "waiting for 127.0.0.1:5000 to send more data (silent for 4s)\n") {
		t.Fatalf("a stalled download: %q", out.String())
	}
	p.updateAt(runtime.PullProgress{ID: "127.0.0.1:5000/app:1", Status: "done", Current: 100, Total: 100}, t1.Add(5*time.Second))
	before := out.String()
	p.tick(t1.Add(time.Minute))
	if out.String() != before {
		t.Fatalf("after the pull: %q", strings.TrimPrefix(out.String(), before))
	}
	// Closed, it draws nothing more, whatever comes late.
	p.close()
	p.update(runtime.PullProgress{ID: "127.0.0.1:5000/app:1", Status: "resolving"})
	p.tick(t1.Add(2 * time.Minute))
	if out.String() != before {
		t.Fatalf("after close: %q", strings.TrimPrefix(out.String(), before))
	}
}

// On a terminal the silence is a line of its own, redrawn in place, and
// goes when the registry speaks again.
func TestPullDisplayTerminal(t *testing.T) {
	var out testutil.SyncBuffer
	p := newPullDisplayAt(&out, true, "example.com/app:1")
	t0 := time.Now()
	p.updateAt(runtime.PullProgress{ID: "example.com/app:1", Status: "resolving"}, t0)
	p.tick(t0.Add(5 * time.Second))
	if !strings.Contains(out.String(), "\x1b[2Kwaiting for example.com to answer (silent for 5s)\n") {
		t.Fatalf("terminal display: %q", out.String())
	}
	n := len(out.String())
	p.updateAt(runtime.PullProgress{ID: "example.com/app:1", Status: "done"}, t0.Add(6*time.Second))
	if got := out.String()[n:]; strings.Contains(got, "waiting") || !strings.HasPrefix(got, "\x1b[2A") {
		t.Fatalf("after the registry spoke: %q; want the two lines redrawn without the waiting one", got)
	}
}
