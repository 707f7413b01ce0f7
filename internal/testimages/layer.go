package testimages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is the modification time of every entry, so that layers (and so
// digests) do not change from run to run.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// entry is one tar entry of a layer being built.
type entry struct {
	name     string
	typeflag byte
	mode     int64
	linkname string
	data     []byte
}

func dir(name string, mode int64) entry { return entry{name: name, typeflag: tar.TypeDir, mode: mode} }

func file(name string, mode int64, data []byte) entry {
	return entry{name: name, typeflag: tar.TypeReg, mode: mode, data: data}
}

func symlink(name, target string) entry {
	return entry{name: name, typeflag: tar.TypeSymlink, mode: 0o777, linkname: target}
}

// gzipLayer writes entries into a gzip-compressed tar layer of media type
// mt. level is a compress/gzip level; random content uses NoCompression to
// stay fast, since it would not shrink anyway.
func gzipLayer(t testing.TB, mt types.MediaType, level int, entries ...entry) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		t.Fatalf("testimages: gzip writer: %v", err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:     e.name,
			Typeflag: e.typeflag,
			Mode:     e.mode,
			Linkname: e.linkname,
			Size:     int64(len(e.data)),
			ModTime:  epoch,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("testimages: tar header %s: %v", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatalf("testimages: tar data %s: %v", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("testimages: tar close: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("testimages: gzip close: %v", err)
	}
	return bytesLayer(t, buf.Bytes(), mt)
}

// bytesLayer makes a layer of already gzip-compressed tar bytes; tarball
// sees the gzip magic and serves them as they are, computing the diff ID by
// decompressing.
func bytesLayer(t testing.TB, compressed []byte, mt types.MediaType) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(compressed)), nil
	}, tarball.WithMediaType(mt))
	if err != nil {
		t.Fatalf("testimages: layer: %v", err)
	}
	return l
}
