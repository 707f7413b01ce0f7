package shim

import (
	"io"
	"net"
	"os"
	"testing"

	"github.com/switchyard/switchyard/internal/inputframe"
)

// A client's input reaches the container's input in frames, and its end
// closes the input of a container whose input ends with its first client's.
func TestAttachCarriesInputAndItsEnd(t *testing.T) {
	r, dial := serveTestAttach(t)
	conn, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	b = inputframe.Append(b, inputframe.Input, []byte("hello "))
	b = inputframe.AppendResize(b, 24, 80) // no terminal: ignored
	b = inputframe.Append(b, inputframe.Input, []byte("world"))
	b = inputframe.Append(b, inputframe.End, nil)
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r) // ends when the shim closes the input
	if err != nil || string(got) != "hello world" {
		t.Fatalf("input = %q, %v; want hello world, then end-of-file", got, err)
	}
	conn.Close()
}

// A frame that claims more than a frame may carry ends that client, and
// the server goes on serving others.
func TestAttachRefusesOversizedFrames(t *testing.T) {
	r, dial := serveTestAttach(t)
	bad, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Write([]byte{inputframe.Input, 0xff, 0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Read(make([]byte, 1)); err == nil {
		t.Fatal("the server kept a client that sent an oversized frame")
	}
	good, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if _, err := good.Write(inputframe.Append(inputframe.Append(nil, inputframe.Input, []byte("ok")), inputframe.End, nil)); err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "ok" {
		t.Fatalf("input after a bad client = %q; want ok", got)
	}
}

// serveTestAttach serves an attach socket whose input, ending with its
// first client's, is the returned reader; dial connects to it.
func serveTestAttach(t *testing.T) (*os.File, func() (net.Conn, error)) {
	t.Helper()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	srv, err := serveAttach(dir, w, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.close)
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return r, func() (net.Conn, error) { return net.Dial("unix", SocketPath(d)) }
}
