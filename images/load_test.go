package images

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
)

func mustLayout(t *testing.T, imgs map[string]v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for ref, img := range imgs {
		var opts []layout.Option
		if ref != "" {
			opts = append(opts, layout.WithAnnotations(map[string]string{ocispec.AnnotationRefName: ref}))
		}
		if err := lp.AppendImage(img, opts...); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustTarDir writes dir as a tarball and returns its path.
func mustTarDir(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "layout.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func refsOf(imgs []Reference) []string {
	var r []string
	for _, i := range imgs {
		r = append(r, i.Name)
	}
	slices.Sort(r)
	return r
}

func TestLoadFile(t *testing.T) {
	app := mustImage(t, mustLayer(t, file{name: "app", body: "app"}))
	tool := mustImage(t, mustLayer(t, file{name: "tool", body: "tool"}))
	anon := mustImage(t, mustLayer(t, file{name: "anon", body: "anon"}))
	anonDigest, _ := anon.Digest()
	ociDir := mustLayout(t, map[string]v1.Image{"example.com/app:1": app, "example.com/tool:2": tool, "": anon})

	docker := filepath.Join(t.TempDir(), "save.tar")
	tagA, _ := name.NewTag("example.com/app:1")
	tagB, _ := name.NewTag("example.com/app:latest")
	if err := tarball.MultiRefWriteToFile(docker, map[name.Reference]v1.Image{tagA: app, tagB: app}); err != nil {
		t.Fatal(err)
	}
	dockerUntagged := filepath.Join(t.TempDir(), "untagged.tar")
	f, err := os.Create(dockerUntagged)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.Write(nil, tool, f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	toolDigest, _ := tool.Digest()

	for _, tc := range []struct {
		name string
		path string
		want []string
	}{
		{"OCI layout directory", ociDir, []string{"example.com/app:1", "example.com/tool:2", UnnamedRepository + ":" + anonDigest.Hex[:12]}},
		{"OCI layout tarball", mustTarDir(t, ociDir), []string{"example.com/app:1", "example.com/tool:2", UnnamedRepository + ":" + anonDigest.Hex[:12]}},
		{"docker save tarball", docker, []string{"example.com/app:1", "example.com/app:latest"}},
		{"untagged docker tarball", dockerUntagged, []string{UnnamedRepository + ":" + toolDigest.Hex[:12]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			got, err := s.LoadFile(ctx, tc.path)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if r := refsOf(got); !slices.Equal(r, want) {
				t.Fatalf("loaded %v, want %v", r, want)
			}
			for _, ref := range want {
				img, err := s.Resolve(ctx, ref, nil)
				if err != nil {
					t.Fatal(err)
				}
				if img.Platform.OS != "linux" || len(img.Layers) != 1 {
					t.Errorf("%s: %+v", ref, img)
				}
				if _, _, err := s.PrepareRootfs(ctx, "c-"+img.Digest[7:19]+"-"+filepath.Base(ref), ref, nil); err != nil {
					t.Errorf("%s: rootfs: %v", ref, err)
				}
			}
			if left := entries(t, filepath.Join(s.Root(), "ingest")); len(left) != 0 {
				t.Errorf("ingest holds %v", left)
			}
		})
	}
}

func TestLoadIndexKeepsEveryPlatform(t *testing.T) {
	amd := mustImage(t, mustLayer(t, file{name: "amd", body: "amd"}))
	arm := mustImage(t, mustLayer(t, file{name: "arm", body: "arm"}))
	cf, _ := arm.ConfigFile()
	cf = cf.DeepCopy()
	cf.Architecture = "arm64"
	arm, _ = mutate.ConfigFile(arm, cf)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	dir := filepath.Join(t.TempDir(), "layout")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{ocispec.AnnotationRefName: "example.com/multi:1"})); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	got, err := s.LoadFile(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].IsIndex() || formatPlatforms(got[0].PresentPlatforms()) != "linux/arm64, linux/amd64" {
		t.Fatalf("loaded %+v: want the index whole, both platforms present", got)
	}
	img, err := s.Resolve(context.Background(), "example.com/multi:1", nil)
	if err != nil || img.Platform.Architecture != "amd64" {
		t.Errorf("Resolve with no preference = %s, %v: want this machine's amd64", runtime.FormatPlatform(img.Platform), err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	s := newStore(t)
	notTar := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(notTar, []byte("not an archive at all"), 0o644)
	emptyTar := mustTarDir(t, t.TempDir())
	for _, tc := range []struct {
		name, path string
		want       error
	}{
		{"missing file", filepath.Join(t.TempDir(), "nope.tar"), runtime.ErrNotFound},
		{"not a tar", notTar, runtime.ErrInvalidArgument},
		{"a tar of neither kind", emptyTar, runtime.ErrInvalidArgument},
		{"a directory that is no layout", t.TempDir(), runtime.ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.LoadFile(context.Background(), tc.path)
			if !errors.Is(err, tc.want) {
				t.Fatalf("LoadFile = %v, want %v", err, tc.want)
			}
		})
	}
}
