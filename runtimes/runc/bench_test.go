package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/runtime"
)

// trueSpec is a service that runs `true` and exits 0 at once.
func trueSpec(name string) *runtime.CreateSpec {
	svc := shSpec(name, "true")
	svc.Entrypoint = []string{"true"}
	return svc
}

// runTrue is the whole life of a short container through the runtime:
// create, start, wait, remove.
func runTrue(b *testing.B, rt *Runtime, id runtime.ContainerID, svc *runtime.CreateSpec) {
	b.Helper()
	ctx := context.Background()
	if err := rt.Create(ctx, id, svc); err != nil {
		b.Fatal(err)
	}
	if err := rt.Start(ctx, id); err != nil {
		b.Fatal(err)
	}
	if code, err := rt.Wait(ctx, id); err != nil || code != 0 {
		b.Fatalf("Wait = %d, %v", code, err)
	}
	if err := rt.Remove(ctx, id, false); err != nil {
		b.Fatal(err)
	}
}

// anchorBundle prepares, once, the bundle the bare `runc run` anchor runs:
// the runtime's own config for `true` (same security profile, same overlay
// root filesystem), in a directory of its own, with the container's cgroup
// path dropped so that every anchor run gets a fresh cgroup, as a bare
// `runc run` of a prepared bundle does.
func anchorBundle(b *testing.B, rt *Runtime) string {
	b.Helper()
	id := cid("anchor")
	if err := rt.Create(context.Background(), id, trueSpec("anchor")); err != nil {
		b.Fatal(err)
	}
	s, err := rt.get(id)
	if err != nil {
		b.Fatal(err)
	}
	created := filepath.Join(s.dir, "bundle")
	raw, err := os.ReadFile(filepath.Join(created, "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		b.Fatal(err)
	}
	cfg["root"] = map[string]any{"path": filepath.Join(created, "rootfs")}
	if linux, ok := cfg["linux"].(map[string]any); ok {
		delete(linux, "cgroupsPath")
	}
	dir := b.TempDir()
	out, err := json.Marshal(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// runcRun is one bare `runc run` of bundle, the anchor's unit of work.
func runcRun(b *testing.B, rt *Runtime, bundle, name string) {
	b.Helper()
	cmd := exec.Command(rt.opt.runc, "run", "--bundle", bundle, fmt.Sprintf("%s-%d", name, os.Getpid()))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("runc run: %v: %s", err, out)
	}
}

// BenchmarkRunTrue is create + start + wait + remove of a container running
// `true`, the whole life of a short container through the runtime.
func BenchmarkRunTrue(b *testing.B) {
	rt := newTestRuntime(b)
	svc := trueSpec("bench")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runTrue(b, rt, cid(fmt.Sprintf("bench%d", i)), svc)
	}
}

// BenchmarkBareRuncRun is the anchor: `runc run` of an equivalent bundle
// (same spec, same overlay root filesystem), prepared once.
func BenchmarkBareRuncRun(b *testing.B) {
	rt := newTestRuntime(b)
	bundle := anchorBundle(b, rt)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runcRun(b, rt, bundle, fmt.Sprintf("anchor-%d", i))
	}
}

// BenchmarkStart100 creates and starts 100 long-running containers one
// after the other (one op = 100 containers), then removes them untimed.
func BenchmarkStart100(b *testing.B) {
	rt := newTestRuntime(b)
	for i := 0; i < b.N; i++ {
		for j := 0; j < 100; j++ {
			id := cid(fmt.Sprintf("seq%d-%d", i, j))
			mustRun(b, rt, id, shSpec(id.Service, "exec sleep 1000"))
		}
		b.StopTimer()
		removeAll(b, rt)
		b.StartTimer()
	}
}

// BenchmarkRatio interleaves the two above, one of each per iteration, so
// that both see the same machine load, and reports their ratio.
func BenchmarkRatio(b *testing.B) {
	rt := newTestRuntime(b)
	svc := trueSpec("ratio")
	bundle := anchorBundle(b, rt)
	var ours, bare time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		runTrue(b, rt, cid(fmt.Sprintf("ratio%d", i)), svc)
		t1 := time.Now()
		runcRun(b, rt, bundle, fmt.Sprintf("ratio-%d", i))
		ours += t1.Sub(t0)
		bare += time.Since(t1)
	}
	b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "ms-runtime/op")
	b.ReportMetric(float64(bare.Milliseconds())/float64(b.N), "ms-runc-run/op")
	b.ReportMetric(float64(ours)/float64(bare), "ratio")
}
