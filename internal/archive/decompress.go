package archive

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/switchyard/switchyard/runtime"
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Compression names a stream's compression.
type Compression string

// The compressions Decompress understands.
const (
	None Compression = "none"
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// Decompress returns the uncompressed content of r, detecting gzip and
// zstd by their magic bytes. A mediaType ending in +gzip or +zstd that the
// content contradicts is an error wrapping runtime.ErrInvalidArgument.
func Decompress(r io.Reader, mediaType string) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	var c Compression
	switch {
	case bytes.HasPrefix(head, magicGzip):
		c = Gzip
	case bytes.HasPrefix(head, magicZstd):
		c = Zstd
	default:
		c = None
	}
	if want := mediaTypeCompression(mediaType); want != "" && want != c {
		return nil, c, fmt.Errorf("layer of media type %s: %w: the content is %s-compressed", mediaType, runtime.ErrInvalidArgument, c)
	}
	switch c {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("gzip: %w: %w", runtime.ErrInvalidArgument, err)
		}
		return zr, c, nil
	case Zstd:
		// One decoder goroutine and a bounded window keep a hostile stream
		// from claiming much memory.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, c, fmt.Errorf("zstd: %w: %w", runtime.ErrInvalidArgument, err)
		}
		return zstdCloser{zr}, c, nil
	}
	return io.NopCloser(br), c, nil
}

func mediaTypeCompression(mt string) Compression {
	switch {
	case strings.HasSuffix(mt, "+gzip"), strings.HasSuffix(mt, ".gzip"):
		return Gzip
	case strings.HasSuffix(mt, "+zstd"), strings.HasSuffix(mt, ".zstd"):
		return Zstd
	}
	return ""
}

type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Read(p []byte) (int, error) { return z.d.Read(p) }
func (z zstdCloser) Close() error               { z.d.Close(); return nil }
