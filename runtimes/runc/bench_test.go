package runc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRunTrue is create + start + wait + remove of a container running
// `true`, the whole life of a short container through the runtime.
func BenchmarkRunTrue(b *testing.B) {
	rt := newTestRuntime(b)
	ctx := context.Background()
	svc := shSpec("bench", "true")
	svc.Command.Entrypoint = []string{"true"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := cid(fmt.Sprintf("bench%d", i))
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
}

// BenchmarkBareRuncRun is the anchor: `runc run` of an equivalent bundle
// (same spec, same overlay root filesystem), prepared once.
func BenchmarkBareRuncRun(b *testing.B) {
	rt := newTestRuntime(b)
	ctx := context.Background()
	svc := shSpec("anchor", "true")
	svc.Command.Entrypoint = []string{"true"}
	id := cid("anchor")
	if err := rt.Create(ctx, id, svc); err != nil {
		b.Fatal(err)
	}
	s, err := rt.get(id)
	if err != nil {
		b.Fatal(err)
	}
	bundle := filepath.Join(s.dir, "bundle")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(rt.opt.runc, "run", "--bundle", bundle, fmt.Sprintf("anchor-%d-%d", os.Getpid(), i))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
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
	ctx := context.Background()
	svc := shSpec("ratio", "true")
	svc.Command.Entrypoint = []string{"true"}
	anchor := cid("anchor")
	if err := rt.Create(ctx, anchor, svc); err != nil {
		b.Fatal(err)
	}
	s, err := rt.get(anchor)
	if err != nil {
		b.Fatal(err)
	}
	bundle := filepath.Join(s.dir, "bundle")
	var ours, bare time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		id := cid(fmt.Sprintf("ratio%d", i))
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
		t1 := time.Now()
		cmd := exec.Command(rt.opt.runc, "run", "--bundle", bundle, fmt.Sprintf("ratio-%d-%d", os.Getpid(), i))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("runc run: %v: %s", err, out)
		}
		ours += t1.Sub(t0)
		bare += time.Since(t1)
	}
	b.ReportMetric(float64(ours.Milliseconds())/float64(b.N), "ms-runtime/op")
	b.ReportMetric(float64(bare.Milliseconds())/float64(b.N), "ms-runc-run/op")
	b.ReportMetric(float64(ours)/float64(bare), "ratio")
}
