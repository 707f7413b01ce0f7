package images

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// FuzzLoadFile loads arbitrary files: LoadFile must answer with images or
// an error, never panic, and leave no temp files behind.
func FuzzLoadFile(f *testing.F) {
	var docker bytes.Buffer
	if err := tarball.Write(nil, mustImage(f, mustLayer(f, file{name: "a", body: "a"})), &docker); err != nil {
		f.Fatal(err)
	}
	f.Add(docker.Bytes())
	f.Add([]byte("not a tar"))
	f.Add(mustTarFiles(f, map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2}]}`}))
	f.Add(mustTarFiles(f, map[string]string{"manifest.json": `[{"Config":"c","RepoTags":["x:1"],"Layers":["../../etc/passwd"]}]`}))
	s := newStore(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in.tar")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = s.LoadFile(context.Background(), p)
		if left := entries(t, filepath.Join(s.Root(), "ingest")); len(left) != 0 {
			t.Fatalf("ingest holds %v", left)
		}
	})
}
