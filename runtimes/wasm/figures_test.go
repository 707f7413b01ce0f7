package wasm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

// envFigures turns on TestFigures, which measures this runtime against the
// bare wazero CLI (needs hyperfine and wazero on PATH or in GOPATH/bin).
const envFigures = "SWITCHYARD_WASM_FIGURES"

// BenchmarkWarmStart is one create+start+wait of the hello module with the
// host running and the module compiled: what a start costs.
func BenchmarkWarmStart(b *testing.B) {
	e := newEnv(b)
	ref := e.image(b, "test.local/wasm/hello:latest", testimages.WasmModule(b, helloModule, testimages.ConventionArtifact))
	ctx := ctxT(b)
	mustRun(b, e.rt, cid("warmup"), svc(ref))
	b.ResetTimer()
	for i := range b.N {
		id := runtime.ContainerID{Service: "bench", Replica: uint32(i)}
		if o := mustRun(b, e.rt, id, svc(ref)); o.ExitCode != 0 {
			b.Fatalf("outcome %+v", o)
		}
		b.StopTimer()
		if err := e.rt.Remove(ctx, id, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func TestFigures(t *testing.T) {
	if os.Getenv(envFigures) == "" {
		t.Skip("set " + envFigures + "=1 to measure the figures")
	}
	hyperfine, err := exec.LookPath("hyperfine")
	if err != nil {
		t.Skip("hyperfine is not installed")
	}
	wazeroCLI, err := exec.LookPath("wazero")
	if err != nil {
		if gp, err2 := exec.Command("go", "env", "GOPATH").Output(); err2 == nil {
			wazeroCLI = filepath.Join(strings.TrimSpace(string(gp)), "bin", "wazero")
		}
	}
	if _, err := os.Stat(wazeroCLI); err != nil {
		t.Skip("the wazero CLI is not installed")
	}
	hello := testimages.CompileWasm(t, helloModule)
	dir := t.TempDir()
	helloPath := filepath.Join(dir, "hello.wasm")
	if err := os.WriteFile(helloPath, hello, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("hello module: %.1f MB", float64(len(hello))/1e6)

	// The CLI first: warm (its cache filled by the warmup runs) and cold.
	cache := filepath.Join(dir, "cli-cache")
	cliWarm := hyperfineMean(t, hyperfine, dir, "--warmup", "3", "--runs", "20",
		fmt.Sprintf("%s run -cachedir %s %s", wazeroCLI, cache, helloPath))
	cliCold := hyperfineMean(t, hyperfine, dir, "--runs", "3", "--prepare", "rm -rf "+cache,
		fmt.Sprintf("%s run -cachedir %s %s", wazeroCLI, cache, helloPath))

	// Ours, cold: a new root, so no host and an empty compilation cache
	// (the shared test cache is not used).
	var cold []time.Duration
	for i := range 3 {
		e := &testEnv{root: t.TempDir()}
		e.openStore(t)
		rt, err := New(filepath.Join(e.root, "wasm"), StoreModules(e.store, filepath.Join(e.root, "wasm", "modules")), hostCommand())
		if err != nil {
			t.Fatal(err)
		}
		e.rt = rt
		ref := e.image(t, "test.local/wasm/hello:latest", testimages.WasmImage(t, hello, testimages.ConventionArtifact))
		began := time.Now()
		mustRun(t, rt, runtime.ContainerID{Service: "cold", Replica: uint32(i)}, svc(ref))
		cold = append(cold, time.Since(began))
		if err := rt.StopHost(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		_ = e.store.Close()
	}

	// Ours, warm: host running, module compiled.
	e := newEnv(t)
	ref := e.image(t, "test.local/wasm/hello:latest", testimages.WasmImage(t, hello, testimages.ConventionArtifact))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	mustRun(t, e.rt, cid("warmup"), svc(ref))
	const warmRuns = 50
	var warm time.Duration
	for i := range warmRuns {
		id := runtime.ContainerID{Service: "warm", Replica: uint32(i)}
		began := time.Now()
		mustRun(t, e.rt, id, svc(ref))
		warm += time.Since(began)
		if err := e.rt.Remove(ctx, id, false); err != nil {
			t.Fatal(err)
		}
	}
	warm /= warmRuns

	// Sustained: 1,000 sequential short-lived instances (create, start,
	// wait, remove).
	const seqRuns = 1000
	began := time.Now()
	for i := range seqRuns {
		id := runtime.ContainerID{Service: "seq", Replica: uint32(i)}
		mustRun(t, e.rt, id, svc(ref))
		if err := e.rt.Remove(ctx, id, false); err != nil {
			t.Fatal(err)
		}
	}
	seq := time.Since(began)

	// Memory: 100 sleeping instances of the test module.
	sleepRef := e.testImage(t)
	mustRun(t, e.rt, cid("sleep-warmup"), svc(sleepRef, "exit", "0"))
	inf, err := e.rt.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rssBefore := rss(t, inf.PID)
	const instances = 100
	for i := range instances {
		id := runtime.ContainerID{Service: "sleeper", Replica: uint32(i)}
		mustCreate(t, e.rt, id, svc(sleepRef, "sleep", "1h"))
		mustStart(t, e.rt, id)
	}
	var linear uint64
	for i := range instances {
		id := runtime.ContainerID{Service: "sleeper", Replica: uint32(i)}
		var st runtime.Stats
		testutil.Eventually(t, 30*time.Second, "instance memory", func() bool {
			st, err = e.rt.Stats(ctx, id)
			return err == nil && st.MemoryBytes > 0
		})
		linear += st.MemoryBytes
	}
	// Let every sleeper reach its sleep (it logged "sleeping").
	for i := range instances {
		id := runtime.ContainerID{Service: "sleeper", Replica: uint32(i)}
		testutil.Eventually(t, 30*time.Second, "sleeper logs", func() bool { return len(logText(t, e.rt, id)) > 0 })
	}
	rssAfter := rss(t, inf.PID)
	for i := range instances {
		if err := e.rt.Remove(ctx, runtime.ContainerID{Service: "sleeper", Replica: uint32(i)}, true); err != nil {
			t.Fatal(err)
		}
	}

	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	t.Logf("warm start (create+start+wait), mean of %d: ours %s; wazero run with cache %s; ratio %.3f",
		warmRuns, ms(warm), ms(cliWarm), float64(warm)/float64(cliWarm))
	t.Logf("cold start (no host, empty caches): ours %v; wazero run, empty cache %s; ratio %.2f",
		cold, ms(cliCold), float64(mean(cold))/float64(cliCold))
	t.Logf("%d sequential instances in %s: %.0f starts/s", seqRuns, seq.Round(time.Millisecond), seqRuns/seq.Seconds())
	t.Logf("%d sleeping instances: host RSS %.1f MiB -> %.1f MiB, %.2f MiB each; linear memory %.2f MiB each",
		instances, mib64(rssBefore), mib64(rssAfter), mib64((rssAfter-rssBefore)/instances), mib64(linear/instances))
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func mib64(n uint64) float64 { return float64(n) / (1 << 20) }

// hyperfineMean runs one command under hyperfine and returns its mean.
func hyperfineMean(t *testing.T, hyperfine, dir string, args ...string) time.Duration {
	t.Helper()
	out := filepath.Join(dir, "hyperfine.json")
	cmd := exec.Command(hyperfine, append([]string{"-N", "--export-json", out}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if msg, err := cmd.Output(); err != nil {
		t.Fatalf("hyperfine: %v\n%s\n%s", err, msg, stderr.Bytes())
	}
	var res struct {
		Results []struct {
			Mean float64 `json:"mean"`
		} `json:"results"`
	}
	b, err := os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil || len(res.Results) == 0 {
		t.Fatalf("hyperfine results: %v", err)
	}
	return time.Duration(res.Results[0].Mean * float64(time.Second))
}

// rss is a process's resident set in bytes.
func rss(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
