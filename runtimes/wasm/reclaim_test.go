package wasm

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

// The compiled code of a module stays while its image is in the store or a
// container uses it, and goes, in the host's memory and on disk, once
// neither holds: for a module that is its image's layer, for one extracted
// from a layer, and with the host not running.
func TestReclaimCompiledCode(t *testing.T) {
	root := t.TempDir()
	cache := filepath.Join(root, "wasm", host.CacheDir)
	if err := os.MkdirAll(cache, 0o700); err != nil { // this test's own, not the shared one
		t.Fatal(err)
	}
	e := newEnvAt(t, root)
	ctx := ctxT(t)
	artifact := e.image(t, "test.local/wasm/artifact:1", testimages.WasmModule(t, testModule, testimages.ConventionArtifact))
	platform := e.image(t, "test.local/wasm/platform:1", testimages.WasmModule(t, helloModule, testimages.ConventionPlatform))
	digestOf := map[string]string{}
	for i, ref := range []string{artifact, platform} {
		id := cid("reclaim-" + string(rune('a'+i)))
		args := []string{"exit", "0"}
		if ref == platform {
			args = nil
		}
		if o := mustRun(t, e.rt, id, svc(ref, args...)); o.ExitCode != 0 {
			t.Fatalf("%s: %+v", ref, o)
		}
		_, rec, err := e.rt.lookup(id)
		if err != nil {
			t.Fatal(err)
		}
		digestOf[ref] = rec.Module.Digest
		if err := e.rt.Remove(ctx, id, false); err != nil {
			t.Fatal(err)
		}
	}
	cached := func() []string {
		t.Helper()
		m, err := host.CachedModules(e.rt.root)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for d := range m {
			out = append(out, d)
		}
		slices.Sort(out)
		return out
	}
	reclaim := func(want ...string) {
		t.Helper()
		res, err := e.rt.ReclaimImages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		if !slices.Equal(res.Deleted, want) || len(want) > 0 && res.SpaceReclaimed == 0 {
			t.Fatalf("reclaimed %v (%d bytes), want %v", res.Deleted, res.SpaceReclaimed, want)
		}
	}
	modules := func(want int) {
		t.Helper()
		inf, err := e.rt.HostInfo(ctx)
		if err != nil || inf.Modules != want {
			t.Fatalf("host: %+v, %v; want %d modules in memory", inf, err, want)
		}
	}
	if got := cached(); len(got) != 2 {
		t.Fatalf("cached %v, want both modules", got)
	}
	modules(2)
	reclaim() // both images are there

	// The extracted module's layer goes with its image.
	if err := e.store.Remove(ctx, platform, false); err != nil {
		t.Fatal(err)
	}
	reclaim(digestOf[platform])
	modules(1)
	if got := cached(); !slices.Equal(got, []string{digestOf[artifact]}) {
		t.Fatalf("cached %v after the platform image went", got)
	}

	// A container keeps its module's code after its image went.
	kept := cid("reclaim-kept")
	mustCreate(t, e.rt, kept, svc(artifact, "exit", "0"))
	if err := e.store.Remove(ctx, artifact, true); err != nil {
		t.Fatal(err)
	}
	reclaim()
	if err := e.rt.Remove(ctx, kept, false); err != nil {
		t.Fatal(err)
	}
	reclaim() // untagged while in use: the store keeps it until a prune
	if _, err := e.store.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	reclaim(digestOf[artifact])
	modules(0)
	if got := cached(); len(got) != 0 {
		t.Fatalf("cached %v, want none", got)
	}

	// With no host running, the runtime removes the directory itself.
	again := e.image(t, "test.local/wasm/again:1", testimages.WasmModule(t, testModule, testimages.ConventionArtifact))
	if o := mustRun(t, e.rt, cid("reclaim-again"), svc(again, "exit", "0")); o.ExitCode != 0 {
		t.Fatalf("%+v", o)
	}
	if err := e.rt.Remove(ctx, cid("reclaim-again"), false); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.StopHost(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Remove(ctx, again, false); err != nil {
		t.Fatal(err)
	}
	reclaim(digestOf[artifact])
	if got := cached(); len(got) != 0 {
		t.Fatalf("cached %v with the host stopped, want none", got)
	}
}
