package registry

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

var (
	linuxAMD64 = ocispec.Platform{OS: "linux", Architecture: "amd64"}
	linuxARM64 = ocispec.Platform{OS: "linux", Architecture: "arm64"}
	wasm       = WasmPlatform()
)

func TestPullKinds(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	refs := map[string]string{
		"busybox":  testimages.Push(t, host, "busybox", testimages.Busybox(t)),
		"index":    testimages.Push(t, host, "multi", withAttestation(t, testimages.Index(t))),
		"artifact": testimages.Push(t, host, "wasm-artifact", testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionArtifact)),
		"wasi":     testimages.Push(t, host, "wasm-platform", testimages.WasmImage(t, testimages.MinimalWasm(), testimages.ConventionPlatform)),
		"windows":  testimages.Push(t, host, "windows", testimages.Windows(t)),
	}
	for _, tc := range []struct {
		name          string
		image         string
		platform      *ocispec.Platform
		wantPlatform  string // of the pulled manifest
		wantPlatforms string // recorded
		wantErr       error
	}{
		{"busybox", "busybox", nil, "linux/amd64", "linux/amd64", nil},
		{"index for linux/amd64", "index", nil, "linux/amd64", "linux/amd64,linux/arm64,wasip1/wasm", nil},
		{"index for linux/arm64", "index", &linuxARM64, "linux/arm64", "linux/amd64,linux/arm64,wasip1/wasm", nil},
		{"index for wasm", "index", &wasm, "wasip1/wasm", "linux/amd64,linux/arm64,wasip1/wasm", nil},
		{"index lacks windows", "index", &ocispec.Platform{OS: "windows", Architecture: "amd64"}, "", "", runtime.ErrNotSupported},
		{"wasm artifact", "artifact", &wasm, "wasip1/wasm", "wasip1/wasm", nil},
		{"docker wasm image", "wasi", &wasm, "wasip1/wasm", "wasip1/wasm", nil},
		{"wasm artifact on linux", "artifact", nil, "", "", runtime.ErrNotSupported},
		{"windows on linux", "windows", nil, "", "", runtime.ErrNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := mustStore(t)
			var mu sync.Mutex
			var events []runtime.PullProgress
			svc := NewImageService(st, noKeychain)
			info, err := svc.Pull(ctx, refs[tc.image], runtime.PullOptions{Policy: runtime.PullAlways, Platform: tc.platform,
				Progress: func(p runtime.PullProgress) { mu.Lock(); events = append(events, p); mu.Unlock() }})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				t.Logf("%v", err)
				return
			}
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if got := platformStrings(info.Platforms); got != tc.wantPlatforms {
				t.Errorf("recorded platforms = %q, want %q", got, tc.wantPlatforms)
			}
			want := []ocispec.Platform{linuxAMD64}
			if tc.platform != nil {
				want = []ocispec.Platform{*tc.platform}
			}
			img, err := st.Resolve(ctx, refs[tc.image], want)
			if err != nil {
				t.Fatalf("store resolve: %v", err)
			}
			if got := runtime.FormatPlatform(runtime.NormalizePlatform(img.Platform)); got != tc.wantPlatform && tc.image != "artifact" {
				t.Errorf("pulled platform = %q, want %q", got, tc.wantPlatform)
			}
			for _, l := range img.Layers {
				if _, err := st.BlobPath(l.Digest); err != nil {
					t.Errorf("layer %s not stored: %v", l.Digest, err)
				}
			}
			if len(events) == 0 || events[len(events)-1].Status != "done" {
				t.Errorf("progress events %v: want the last to be done", events)
			}
		})
	}
}

func TestPullPolicies(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	ref := testimages.Push(t, host, "busybox:1", testimages.Busybox(t))
	cnt := newCounter()
	st := mustStore(t)
	svc := NewImageService(st, noKeychain, WithTransport(cnt))

	t.Run("never, absent", func(t *testing.T) {
		_, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullNever})
		if !errors.Is(err, runtime.ErrNotFound) || !strings.Contains(err.Error(), ref) {
			t.Fatalf("err = %v; want not found naming %s", err, ref)
		}
		if reqs := cnt.take(); len(reqs) != 0 {
			t.Errorf("policy never made requests: %v", reqs)
		}
	})
	steps := []struct {
		name             string
		policy           runtime.PullPolicy
		manifests, blobs int
	}{
		{"if_not_present, absent", runtime.PullIfNotPresent, 1, 2}, // config and one layer
		{"if_not_present, present", runtime.PullIfNotPresent, 0, 0},
		{"default, present", "", 0, 0},
		{"never, present", runtime.PullNever, 0, 0},
		{"always, present", runtime.PullAlways, 1, 1}, // the manifest, and its config (read for the platform)
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			info, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: s.policy})
			if err != nil {
				t.Fatal(err)
			}
			if info.Reference != ref || info.Digest == "" || info.Size == 0 {
				t.Errorf("info = %+v", info)
			}
			reqs := cnt.take()
			if count(reqs, "manifest") != s.manifests || count(reqs, "blob") != s.blobs {
				t.Errorf("requests %v; want %d manifest and %d blob", reqs, s.manifests, s.blobs)
			}
		})
	}
	t.Run("bad policy", func(t *testing.T) {
		if _, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: "sometimes"}); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPullAuth(t *testing.T) {
	ctx := context.Background()
	host := testimages.ServeHandler(t, basicAuth("bob", "hunter2"))
	ref := testimages.Push(t, host, "private/busybox", testimages.Busybox(t), basicAuthOption("bob", "hunter2"))
	for _, tc := range []struct {
		name    string
		opts    []Option
		auth    *runtime.RegistryAuth
		wantErr error
	}{
		{"anonymous", []Option{noKeychain}, nil, ErrUnauthorized},
		{"spec auth", []Option{noKeychain}, &runtime.RegistryAuth{Username: "bob", Password: "hunter2"}, nil},
		{"keychain", []Option{WithKeychain(staticKeychain{host: {Username: "bob", Password: "hunter2"}})}, nil, nil},
		{"spec auth overrides keychain", []Option{WithKeychain(staticKeychain{host: {Username: "bob", Password: "hunter2"}})},
			&runtime.RegistryAuth{Username: "bob", Password: "wrong"}, ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewImageService(mustStore(t), tc.opts...).Pull(ctx, ref, runtime.PullOptions{Auth: tc.auth})
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestPullInterrupted cuts the connection halfway through a layer: the pull
// fails as unreachable, no partial blob is left in the store, and the next
// pull succeeds.
func TestPullInterrupted(t *testing.T) {
	ctx := context.Background()
	img := testimages.Large(t, 4<<20, 2)
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	victim, err := layers[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	var cuts atomic.Int32
	host := testimages.ServeHandler(t, onGET(
		func(p string) bool { return strings.HasSuffix(p, "/blobs/"+victim.String()) },
		func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if cuts.Add(1) == 1 {
				next.ServeHTTP(&cutWriter{ResponseWriter: w, limit: 1 << 20}, r)
				return
			}
			next.ServeHTTP(w, r)
		}))
	ref := testimages.Push(t, host, "large", img)
	st := mustStore(t)
	svc := NewImageService(st, noKeychain)

	_, err = svc.Pull(ctx, ref, runtime.PullOptions{})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("interrupted pull: err = %v, want ErrUnreachable", err)
	}
	t.Logf("interrupted: %v", err)
	if _, err := st.BlobPath(victim.String()); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("cut blob: BlobPath err = %v, want not found", err)
	}
	if left, _ := os.ReadDir(filepath.Join(st.Root(), "ingest")); len(left) != 0 {
		t.Errorf("ingest holds %d files after the failed pull", len(left))
	}
	if _, err := st.Get(ctx, ref); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("half-pulled image is listed: %v", err)
	}

	info, err := svc.Pull(ctx, ref, runtime.PullOptions{})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if _, err := st.BlobPath(victim.String()); err != nil {
		t.Errorf("after retry: %v", err)
	}
	if cuts.Load() != 2 {
		t.Errorf("victim layer fetched %d times, want 2", cuts.Load())
	}
	t.Logf("retry pulled %s (%d bytes)", info.Digest, info.Size)
}

func TestPullCorruptLayer(t *testing.T) {
	ctx := context.Background()
	img := testimages.Busybox(t)
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	host := testimages.ServeHandler(t, onGET(
		func(p string) bool { return strings.HasSuffix(p, "/blobs/"+d.String()) },
		func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			next.ServeHTTP(&corruptWriter{ResponseWriter: w}, r)
		}))
	ref := testimages.Push(t, host, "busybox", img)
	st := mustStore(t)
	_, err := NewImageService(st, noKeychain).Pull(ctx, ref, runtime.PullOptions{})
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
	if _, err := st.BlobPath(d.String()); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("corrupt blob stored: %v", err)
	}
}

func TestImageServiceManage(t *testing.T) {
	ctx := context.Background()
	host := testimages.Serve(t)
	ref := testimages.Push(t, host, "busybox", testimages.Busybox(t))
	svc := NewImageService(mustStore(t), noKeychain)
	if _, err := svc.Pull(ctx, ref, runtime.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	alias := host + "/alias:v2"
	if err := svc.TagImage(ctx, ref, alias); err != nil {
		t.Fatalf("tag: %v", err)
	}
	list, err := svc.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, i := range list {
		refs[i.Reference] = true
	}
	if !refs[ref] || !refs[alias] {
		t.Errorf("list = %+v; want %s and %s", list, ref, alias)
	}
	if err := svc.RemoveImage(ctx, host+"/nothere:1", false); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("remove absent: %v", err)
	}
	if err := svc.TagImage(ctx, ref, "Bad Ref"); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("tag to bad ref: %v", err)
	}
	for _, r := range []string{ref, alias} {
		if err := svc.RemoveImage(ctx, r, false); err != nil {
			t.Fatalf("remove %s: %v", r, err)
		}
	}
	res, err := svc.PruneImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("prune: %+v", res)
	if list, _ := svc.ListImages(ctx); len(list) != 0 {
		t.Errorf("list after remove = %+v", list)
	}
	if _, err := NewImageService(mustStore(t), WithTransport(nil)).ListImages(ctx); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("bad option: %v", err)
	}
}
