package images

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	bolt "go.etcd.io/bbolt"

	"github.com/switchyard/switchyard/runtime"
)

var (
	linuxAMD64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}
	wasmP      = ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	windowsP   = ocispec.Platform{OS: "windows", Architecture: "amd64"}
)

// platformImage is a one-layer image whose config names p.
func platformImage(t testing.TB, p ocispec.Platform, body string) v1.Image {
	t.Helper()
	img := mustImage(t, mustLayer(t, file{name: "id", body: body}))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = p.OS, p.Architecture
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// wasmImage is a WebAssembly artifact (a module layer, no filesystem).
func wasmImage(t testing.TB, body string) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, static.NewLayer([]byte("\x00asm\x01\x00\x00\x00"+body), "application/wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return mutate.ConfigMediaType(img, "application/vnd.wasm.config.v0+json")
}

type entry struct {
	img v1.Image
	p   ocispec.Platform
}

func index(t testing.TB, entries ...entry) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, e := range entries {
		adds = append(adds, mutate.IndexAddendum{Add: e.img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: e.p.OS, Architecture: e.p.Architecture}}})
	}
	return mutate.AppendManifests(empty.Index, adds...)
}

func digestOfImage(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustGet(t testing.TB, s *Store, ref string) Reference {
	t.Helper()
	r, err := s.Get(context.Background(), ref)
	if err != nil {
		t.Fatalf("Get(%s): %v", ref, err)
	}
	return r
}

func TestIndexKeptWholeWithSomePlatformsPresent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux, win := platformImage(t, linuxAMD64, "linux"), platformImage(t, windowsP, "windows")
	idx := index(t, entry{linux, linuxAMD64}, entry{win, windowsP})
	got, err := s.WriteIndex(ctx, "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, linux)}, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	if !got.IsIndex() || got.Digest != idxDigest.String() {
		t.Errorf("target %s %s, want the index %s", got.MediaType, got.Digest, idxDigest)
	}
	if p := formatPlatforms(got.Platforms()); p != "linux/amd64, windows/amd64" {
		t.Errorf("platforms %s, want every entry of the index", p)
	}
	if p := formatPlatforms(got.PresentPlatforms()); p != "linux/amd64" {
		t.Errorf("present %s, want linux/amd64 alone", p)
	}
	if _, err := s.BlobPath(idxDigest.String()); err != nil {
		t.Errorf("the index's own JSON is not a blob: %v", err)
	}
	img, err := s.Resolve(ctx, "example.com/multi:1", []ocispec.Platform{linuxAMD64})
	if err != nil || img.Digest != digestOfImage(t, linux).String() {
		t.Errorf("Resolve(linux) = %s, %v", img.Digest, err)
	}
	_, err = s.Resolve(ctx, "example.com/multi:1", []ocispec.Platform{windowsP})
	if !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Resolve(windows, absent) = %v, want ErrNotFound saying it was not pulled", err)
	}
	_, err = s.Resolve(ctx, "example.com/multi:1", []ocispec.Platform{wasmP})
	if !errors.Is(err, runtime.ErrNotSupported) {
		t.Errorf("Resolve(wasm, not in the index) = %v, want ErrNotSupported", err)
	}
	// Pulling the other platform later adds it under the same reference.
	if _, err := s.WriteIndex(ctx, "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, win)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if p := formatPlatforms(mustGet(t, s, "example.com/multi:1").PresentPlatforms()); p != "linux/amd64, windows/amd64" {
		t.Errorf("present after the second pull %s, want both", p)
	}
}

// Scenarios 2 and 3: a pull of one reference never changes what another
// reports, even when they share a manifest.
func TestSharedManifestDoesNotLeakPlatforms(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux := platformImage(t, linuxAMD64, "busybox")
	wasm := wasmImage(t, "hello")
	mustWrite(t, s, "example.com/busybox:1", linux)
	mustWrite(t, s, "example.com/wasi:1", wasm)
	idx := index(t, entry{linux, linuxAMD64}, entry{wasm, wasmP}, entry{platformImage(t, windowsP, "w"), windowsP})
	if _, err := s.WriteIndex(ctx, "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, linux), digestOfImage(t, wasm)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"example.com/busybox:1": "linux/amd64",
		"example.com/wasi:1":    "wasip1/wasm",
		"example.com/multi:1":   "linux/amd64, wasip1/wasm, windows/amd64",
	} {
		if got := formatPlatforms(mustGet(t, s, ref).Platforms()); got != want {
			t.Errorf("%s: platforms %s, want %s", ref, got, want)
		}
	}
	// The same holds after a reopen (what a restarted agent routes by).
	root := s.Root()
	s.Close()
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := formatPlatforms(mustGet(t, s2, "example.com/wasi:1").Platforms()); got != "wasip1/wasm" {
		t.Errorf("after reopen wasi:1 reports %s", got)
	}
	// Removing the index leaves the single-manifest references whole.
	if err := s2.Remove(ctx, "example.com/multi:1", false); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"example.com/busybox:1", "example.com/wasi:1"} {
		if _, err := s2.Resolve(ctx, ref, nil); err != nil {
			t.Errorf("%s after removing the index: %v", ref, err)
		}
	}
}

func TestForcedRemoveKeepsWhatAContainerUses(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux := platformImage(t, linuxAMD64, "a")
	wasm := wasmImage(t, "b")
	idx := index(t, entry{linux, linuxAMD64}, entry{wasm, wasmP})
	if _, err := s.WriteIndex(ctx, "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, linux), digestOfImage(t, wasm)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	rfs, img, err := s.PrepareRootfs(ctx, "web-rep-0", "example.com/multi:1", []ocispec.Platform{linuxAMD64})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx, "mod-rep-0", "example.com/multi:1", []ocispec.Platform{wasmP}); err != nil {
		t.Fatal(err)
	}
	err = s.Remove(ctx, "example.com/multi:1", false)
	if !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("Remove in use = %v, want ErrFailedPrecondition", err)
	}
	// A second name keeps the content reachable: removing one is untagging.
	if err := s.Tag(ctx, "example.com/multi:1", "example.com/multi:alias"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, "example.com/multi:alias", false); err != nil {
		t.Fatalf("removing one of two names = %v, want untagged", err)
	}
	if err := s.Remove(ctx, "example.com/multi:1", true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "example.com/multi:1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get after forced removal = %v, want ErrNotFound", err)
	}
	// The containers' manifests, layers and snapshots stay.
	for _, l := range img.Layers {
		if _, err := s.BlobPath(l.Digest); err != nil {
			t.Errorf("layer %s of a running container was collected: %v", l.Digest, err)
		}
	}
	for _, d := range rfs.Lowerdirs {
		if entries(t, d) == nil {
			t.Errorf("snapshot %s of a running container is empty or gone", d)
		}
	}
	if _, err := s.BlobPath(digestOfImage(t, wasm).String()); err != nil {
		t.Errorf("the wasm container's manifest was collected: %v", err)
	}
	// Once released, prune reclaims everything.
	if err := s.ReleaseRootfs(ctx, "web-rep-0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "mod-rep-0"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Prune(ctx)
	if err != nil || res.SpaceReclaimed == 0 {
		t.Fatalf("Prune = %+v, %v", res, err)
	}
	if left := entries(t, filepath.Join(s.Root(), "blobs", "sha256")); len(left) != 0 {
		t.Errorf("blobs left after prune: %v", left)
	}
}

// failingIndex fails to read one of its images, as a pull that loses the
// registry half-way does.
type failingIndex struct {
	wrapped
	fail v1.Hash
}

// wrapped names the embedded index so that its ImageIndex method is
// promoted (a field named ImageIndex would hide it).
type wrapped = v1.ImageIndex

func (f failingIndex) Image(h v1.Hash) (v1.Image, error) {
	if h == f.fail {
		return nil, io.ErrUnexpectedEOF
	}
	return f.wrapped.Image(h)
}

var _ v1.ImageIndex = failingIndex{}

func TestInterruptedIndexWriteRecordsNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux, wasm := platformImage(t, linuxAMD64, "a"), wasmImage(t, "b")
	idx := index(t, entry{linux, linuxAMD64}, entry{wasm, wasmP})
	pull := []v1.Hash{digestOfImage(t, linux), digestOfImage(t, wasm)}
	_, err := s.WriteIndex(ctx, "example.com/multi:1", failingIndex{idx, digestOfImage(t, wasm)}, pull, WriteOptions{})
	if err == nil {
		t.Fatal("WriteIndex with a failing entry succeeded")
	}
	if _, err := s.Get(ctx, "example.com/multi:1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Get after the failed write = %v, want ErrNotFound", err)
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketIndexes, bucketImages} {
			if n := tx.Bucket(b).Stats().KeyN; n != 0 {
				t.Errorf("bucket %s has %d records after the failed write", b, n)
			}
		}
		return nil
	})
	// The blobs that did arrive are reused by the retry, which succeeds.
	got, err := s.WriteIndex(ctx, "example.com/multi:1", idx, pull, WriteOptions{})
	if err != nil || len(got.PresentPlatforms()) != 2 {
		t.Fatalf("retry = %+v, %v", got, err)
	}
}

// An agent root made with schema 1 (a reference mapped straight to a
// manifest digest, the index platforms written onto the manifest) opens,
// and its images still run.
func TestUpgradeFromSchema1(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustWrite(t, s, "example.com/old:1", platformImage(t, linuxAMD64, "old"))
	root := s.Root()
	// Rewrite meta.db as schema 1 had it.
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketMeta); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketIndexes); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRefs).Put([]byte("example.com/old:1"), []byte(img.Digest)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRefs).Put([]byte("example.com/gone:1"), []byte("sha256:"+strings.Repeat("0", 64))); err != nil {
			return err
		}
		legacy := `{"digest":"` + img.Digest + `","index_digest":"sha256:ab","platform":{"architecture":"amd64","os":"linux"},` +
			`"platforms":[{"architecture":"amd64","os":"windows"},{"architecture":"amd64","os":"linux"}],` +
			`"config":{},"config_media_type":"` + img.ConfigMediaType + `","config_digest":"` + img.ConfigDigest + `",` +
			`"media_type":"` + img.MediaType + `","layers":[{"digest":"` + img.Layers[0].Digest + `","diff_id":"` + img.Layers[0].DiffID +
			`","media_type":"` + img.Layers[0].MediaType + `","size":` + strconv.FormatInt(img.Layers[0].Size, 10) + `}],"size":` + strconv.FormatInt(img.Size, 10) + `}`
		return tx.Bucket(bucketImages).Put([]byte(img.Digest), []byte(legacy))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(root)
	if err != nil {
		t.Fatalf("opening a schema-1 store: %v", err)
	}
	defer s2.Close()
	ref := mustGet(t, s2, "example.com/old:1")
	if p := formatPlatforms(ref.Platforms()); p != "linux/amd64" {
		t.Errorf("upgraded reference reports %s, want its manifest's linux/amd64 (not the index's windows)", p)
	}
	if _, _, err := s2.PrepareRootfs(ctx, "old-rep-0", "example.com/old:1", []ocispec.Platform{linuxAMD64}); err != nil {
		t.Errorf("rootfs of an upgraded image: %v", err)
	}
	if _, err := s2.Get(ctx, "example.com/gone:1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("a dangling schema-1 reference = %v, want dropped", err)
	}
	// A store from a newer switchyard is refused with a way out.
	s2.Close()
	db, err := bolt.Open(filepath.Join(root, "meta.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte("schema"), []byte("99")) })
	db.Close()
	if _, err := Open(root); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Errorf("Open(schema 99) = %v, want ErrFailedPrecondition naming the way out", err)
	}
}

func TestResolveEdges(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux := platformImage(t, linuxAMD64, "l")

	// An index with nothing to pull is refused, not recorded empty.
	if _, err := s.WriteIndex(ctx, "example.com/empty:1", index(t, entry{linux, linuxAMD64}), nil, WriteOptions{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("WriteIndex with no entry to pull = %v, want ErrInvalidArgument", err)
	}

	// An entry the index gives no platform takes its manifest's.
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: linux})
	if _, err := s.WriteIndex(ctx, "example.com/np:1", idx, []v1.Hash{digestOfImage(t, linux)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, "example.com/np:1", []ocispec.Platform{linuxAMD64}); err != nil {
		t.Errorf("Resolve of an entry without an index platform = %v", err)
	}

	// A runtime of linux/amd64 runs linux/386, as the composite routes it.
	mustWrite(t, s, "example.com/i386:1", platformImage(t, ocispec.Platform{OS: "linux", Architecture: "386"}, "x"))
	if _, err := s.Resolve(ctx, "example.com/i386:1", []ocispec.Platform{linuxAMD64}); err != nil {
		t.Errorf("Resolve(386 for amd64) = %v", err)
	}

	// A digest reference must name the content written under it.
	a, b := platformImage(t, linuxAMD64, "a"), platformImage(t, linuxAMD64, "b")
	ref := "example.com/app@" + digestOfImage(t, a).String()
	if _, err := s.Write(ctx, ref, b, WriteOptions{}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("Write(%s, other content) = %v, want ErrInvalidArgument", ref, err)
	}
}

func TestRemoveByDigest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux := platformImage(t, linuxAMD64, "l")
	if _, err := s.WriteIndex(ctx, "example.com/multi:1", index(t, entry{linux, linuxAMD64}), []v1.Hash{digestOfImage(t, linux)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	entryDigest := digestOfImage(t, linux).String()
	if err := s.Remove(ctx, entryDigest, false); !errors.Is(err, runtime.ErrFailedPrecondition) || !strings.Contains(err.Error(), "example.com/multi:1") {
		t.Errorf("Remove(a platform's manifest digest) = %v, want ErrFailedPrecondition naming the index reference", err)
	}
	// A digest reference without a record removes only its repository's
	// references to that content.
	other := platformImage(t, linuxAMD64, "o")
	mustWrite(t, s, "example.com/a:1", other)
	mustWrite(t, s, "example.com/b:1", other)
	if err := s.Remove(ctx, "example.com/a@"+digestOfImage(t, other).String(), false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "example.com/a:1"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("a:1 after removing a@digest = %v, want removed", err)
	}
	if _, err := s.Get(ctx, "example.com/b:1"); err != nil {
		t.Errorf("b:1, another repository, was removed: %v", err)
	}
}

func TestUpgradeNormalisesWasiPlatform(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustWrite(t, s, "example.com/mod:1", platformImage(t, linuxAMD64, "m"))
	root := s.Root()
	err := s.db.Update(func(tx *bolt.Tx) error {
		_ = tx.DeleteBucket(bucketMeta)
		_ = tx.DeleteBucket(bucketIndexes)
		if err := tx.Bucket(bucketRefs).Put([]byte("example.com/mod:1"), []byte(img.Digest)); err != nil {
			return err
		}
		img.Platform = ocispec.Platform{OS: "wasi", Architecture: "wasm"} // as schema 1 stored it
		raw, err := json.Marshal(img)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketImages).Put([]byte(img.Digest), raw)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Acquire(ctx, "mod-rep-0", "example.com/mod:1", []ocispec.Platform{wasmP}); err != nil {
		t.Errorf("Acquire(wasip1/wasm) of an upgraded wasi/wasm image: %v", err)
	}
}

func TestCorruptRecordStopsTheCollector(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	img := mustWrite(t, s, "example.com/keep:1", platformImage(t, linuxAMD64, "k"))
	mustWrite(t, s, "example.com/gone:1", platformImage(t, linuxAMD64, "g"))
	_ = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRefs).Put([]byte("example.com/keep:1"), []byte("{not json"))
	})
	if err := s.Remove(ctx, "example.com/gone:1", false); err == nil {
		t.Errorf("Remove swept with a corrupt record in the store")
	}
	if _, err := s.BlobPath(img.Layers[0].Digest); err != nil {
		t.Errorf("a corrupt record's content was collected: %v", err)
	}
}

// An index record that does not decode stops the collector too: the
// manifests it lists are not taken for garbage.
func TestCorruptIndexStopsTheCollector(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	linux := platformImage(t, linuxAMD64, "kept")
	idx := index(t, entry{linux, linuxAMD64})
	if _, err := s.WriteIndex(ctx, "example.com/multi:1", idx, []v1.Hash{digestOfImage(t, linux)}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, s, "example.com/gone:1", platformImage(t, linuxAMD64, "g"))
	ixDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	_ = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndexes).Put([]byte(ixDigest.String()), []byte("{not json"))
	})
	if err := s.Remove(ctx, "example.com/gone:1", false); err == nil {
		t.Errorf("Remove swept with a corrupt index record in the store")
	}
	layers, err := linux.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layer, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlobPath(layer.String()); err != nil {
		t.Errorf("a manifest of a corrupt index was collected: %v", err)
	}
}

func TestReferenceWithDotSegmentsIsRefused(t *testing.T) {
	s := newStore(t)
	mustWrite(t, s, "example.com/a:1", platformImage(t, linuxAMD64, "a"))
	for _, bad := range []string{"../../x", "example.com/../x:1", "a/./b"} {
		if err := s.Tag(context.Background(), "example.com/a:1", bad); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("Tag(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
}

// The layers of one image are bounded together: many layers, each under
// the bound of one, cannot fill the disk.
func TestImageUnpackBoundCountsAllLayers(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), WithMaxUnpackedSize(64<<10), WithMaxImageUnpackedSize(100<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := strings.Repeat("z", 40<<10)
	img := mustImage(t, mustLayer(t, file{name: "a", body: big}), mustLayer(t, file{name: "b", body: big}), mustLayer(t, file{name: "c", body: big}))
	mustWrite(t, s, "example.com/layers:1", img)
	_, _, err = s.PrepareRootfs(ctx, "many-rep-0", "example.com/layers:1", nil)
	if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), "in all") {
		t.Fatalf("PrepareRootfs of 120 KiB of layers with a 100 KiB bound = %v", err)
	}
	if left := entries(t, filepath.Join(s.Root(), "containers")); len(left) != 0 {
		t.Errorf("a refused root filesystem left %v", left)
	}
	// One layer under both bounds is fine.
	mustWrite(t, s, "example.com/one:1", mustImage(t, mustLayer(t, file{name: "a", body: big})))
	if _, _, err := s.PrepareRootfs(ctx, "one-rep-0", "example.com/one:1", nil); err != nil {
		t.Fatalf("one layer: %v", err)
	}
}
