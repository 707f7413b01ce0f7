package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"testing"
)

// FuzzExtract feeds arbitrary streams to Extract: whatever it does with
// them, nothing outside the target may appear or change.
func FuzzExtract(f *testing.F) {
	outside := "/nonexistent-outside"
	for _, seed := range [][]entry{
		{{name: "a/b/c", body: "x"}},
		{{name: "../escape", body: "x"}},
		{{name: "link", typ: tar.TypeSymlink, link: ".."}, {name: "link/escape", body: "x"}},
		{{name: "link", typ: tar.TypeSymlink, link: outside}, {name: "hl", typ: tar.TypeLink, link: "link/x"}},
		{{name: "d/", typ: tar.TypeDir}, {name: "d/.wh..wh..opq"}, {name: "d/.wh.x"}},
		{{name: "dev", typ: tar.TypeChar, major: 1}},
		{{name: "s", typ: tar.TypeSymlink, link: "../../.."}, {name: "s", typ: tar.TypeDir}, {name: "s/f", body: "y"}},
	} {
		f.Add(mustTar(f, seed...))
	}
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, data []byte) {
		parent, target := sandbox(t)
		before := outsideState(t, parent)
		_, _ = Extract(context.Background(), bytes.NewReader(data), target, WithMaxSize(1<<20), WithOverlayWhiteouts())
		if after := outsideState(t, parent); after != before {
			t.Fatalf("outside changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}
