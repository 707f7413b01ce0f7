// Package inputframe is the framing of what a client sends a process that
// takes input: bytes for its standard input, its terminal's new size, and
// the end of the client's input, one frame after another on one stream.
// The shim's attach socket and switchyard's API carry it alike.
//
// A frame is its kind (1 byte), its payload's length (4 bytes, big-endian)
// and the payload.
package inputframe

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The kinds of frame.
const (
	// Input carries bytes for the standard input.
	Input byte = iota
	// Resize carries a terminal's new size: rows and columns, 2 bytes
	// each, big-endian.
	Resize
	// End says the client's input has ended.
	End
)

// MaxPayload bounds a frame's payload; Read refuses a larger one.
const MaxPayload = 1 << 20

// Append appends a frame of kind with payload to b.
func Append(b []byte, kind byte, payload []byte) []byte {
	b = append(b, kind, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(b[len(b)-4:], uint32(len(payload)))
	return append(b, payload...)
}

// AppendResize appends a Resize frame.
func AppendResize(b []byte, rows, cols uint16) []byte {
	var p [4]byte
	binary.BigEndian.PutUint16(p[:], rows)
	binary.BigEndian.PutUint16(p[2:], cols)
	return Append(b, Resize, p[:])
}

// Size reads a Resize payload; ok is false for a payload of another
// length.
func Size(payload []byte) (rows, cols uint16, ok bool) {
	if len(payload) != 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(payload), binary.BigEndian.Uint16(payload[2:]), true
}

// Reader reads frames from a stream.
type Reader struct {
	r   io.Reader
	buf []byte
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: r} }

// Next reads the next frame. Its payload is valid until the next call. At
// the end of the stream between frames it returns io.EOF; a frame cut
// short or larger than MaxPayload is an error.
func (fr *Reader) Next() (kind byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return 0, nil, fmt.Errorf("input frame: cut short in its header")
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxPayload {
		return 0, nil, fmt.Errorf("input frame: %d bytes, more than the %d a frame may carry", n, MaxPayload)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	p := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, p); err != nil {
		return 0, nil, fmt.Errorf("input frame: cut short: %w", err)
	}
	return hdr[0], p, nil
}

// Writer writes a client's input as frames: its Write sends Input frames
// (in pieces of at most 64 KiB), Resize a Resize frame, and Close an End
// frame, then closes the stream when it is a Closer. It is not safe for
// concurrent use; callers that resize while input flows hold a lock.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// maxChunk is the most input one frame carries when written.
const maxChunk = 64 << 10

// Write implements io.Writer.
func (fw *Writer) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxChunk)]
		fw.buf = Append(fw.buf[:0], Input, chunk)
		if _, err := fw.w.Write(fw.buf); err != nil {
			return n, err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// Resize sends a terminal's new size.
func (fw *Writer) Resize(rows, cols uint16) error {
	_, err := fw.w.Write(AppendResize(nil, rows, cols))
	return err
}

// Close sends End and closes the stream if it can be closed.
func (fw *Writer) Close() error {
	_, err := fw.w.Write(Append(nil, End, nil))
	if c, ok := fw.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
