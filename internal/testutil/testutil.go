// Package testutil holds what tests of several packages share: one poll
// with a deadline, one buffer safe for concurrent writers, one tar builder
// and one small disk to fill. Only tests import it.
package testutil

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"sync"
	"testing"
	"time"
)

// pollInterval is how often Eventually and Poll look again: a poll
// interval, not a wait for an event.
const pollInterval = 5 * time.Millisecond

// Poll checks cond every few milliseconds until it holds or within passes,
// and reports whether it held.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return cond()
		}
		<-tick.C
	}
	return true
}

// Eventually polls cond until it holds, and fails t, naming what it waited
// for, when within passes first.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(within, cond) {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// SyncBuffer is a bytes.Buffer that goroutines (a logger's, say) may write
// while a test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TarEntry is one entry of a tar stream Tar builds.
type TarEntry struct {
	Name, Body, Link string
	// Type is a tar type flag; 0 means a regular file.
	Type byte
	// Mode defaults to 0644 (0755 for a directory).
	Mode     int64
	UID, GID int
	// ModTime defaults to a fixed time, so that the same entries give the
	// same bytes (and digests).
	ModTime  time.Time
	Devmajor int64
}

// Tar returns a PAX tar stream of entries, in order.
func Tar(t testing.TB, entries ...TarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		mt := e.ModTime
		if mt.IsZero() {
			mt = time.Unix(1700000000, 0)
		}
		hdr := &tar.Header{Name: e.Name, Linkname: e.Link, Typeflag: typ, Mode: mode, Uid: e.UID, Gid: e.GID,
			ModTime: mt, Devmajor: e.Devmajor, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Gzip compresses b.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
