package wasm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/wasm/host"
)

// The test binary doubles as the wasm host and as an "agent" that a test
// kills: these variables select the role.
const (
	envHost  = "SWITCHYARD_TEST_WASM_HOST"
	envAgent = "SWITCHYARD_TEST_WASM_AGENT"
)

func TestMain(m *testing.M) {
	if os.Getenv(envHost) == "1" {
		os.Exit(runHost())
	}
	if os.Getenv(envAgent) != "" {
		os.Exit(runAgent())
	}
	// The tests of one run share wazero's compilation cache, so that only
	// the first compiles the test module (each test has its own host).
	dir, err := os.MkdirTemp("", "switchyard-wasm-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedCache = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// sharedCache is the compilation cache the tests of this run share; set
// once by TestMain before any test runs.
var sharedCache string

// runHost is the wasm host's main, as the hidden wasm-host command runs it.
func runHost() int {
	root := ""
	for i, a := range os.Args {
		if a == "--root" && i+1 < len(os.Args) {
			root = os.Args[i+1]
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := host.Serve(ctx, root, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
		fmt.Fprintln(os.Stderr, "wasm host:", err)
		return 1
	}
	return 0
}

// testModule is one Go program for most tests (so it is compiled once per
// host): its first argument picks what it does.
const testModule = `package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Println("hello from wasm")
		fmt.Fprintln(os.Stderr, "hello on stderr")
		return
	}
	switch args[0] {
	case "exit":
		n, _ := strconv.Atoi(args[1])
		fmt.Println("exiting with", n)
		os.Exit(n)
	case "args":
		fmt.Println("argv=" + strings.Join(os.Args, ","))
		fmt.Println("GREETING=" + os.Getenv("GREETING"))
	case "read":
		b, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "read error:", err)
			os.Exit(1)
		}
		fmt.Printf("read: %s\n", b)
	case "write":
		if err := os.WriteFile(args[1], []byte(args[2]), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write error:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", args[1])
	case "loop":
		fmt.Println("looping")
		n := 0
		for {
			n++
			if n == -1 {
				break
			}
		}
		fmt.Println(n)
	case "sleep":
		d, _ := time.ParseDuration(args[1])
		fmt.Println("sleeping", d)
		time.Sleep(d)
		fmt.Println("slept")
	case "grow":
		mb, _ := strconv.Atoi(args[1])
		var keep [][]byte
		for i := 0; i < mb; i++ {
			b := make([]byte, 1<<20)
			b[0] = byte(i)
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MiB")
	case "workload":
		code, until := 0, false
		for _, a := range args[1:] {
			switch {
			case strings.HasPrefix(a, "stdout="):
				fmt.Println(a[len("stdout="):])
			case strings.HasPrefix(a, "stderr="):
				fmt.Fprintln(os.Stderr, a[len("stderr="):])
			case strings.HasPrefix(a, "exit="):
				code, _ = strconv.Atoi(a[len("exit="):])
			case a == "until-stopped":
				until = true
			}
		}
		if until {
			time.Sleep(1000 * time.Hour)
		}
		os.Exit(code)
	case "lines":
		n, _ := strconv.Atoi(args[1])
		for i := 0; i < n; i++ {
			fmt.Printf("line %d of a chatty module\n", i)
		}
	case "waitfile":
		for {
			if _, err := os.Stat(args[1]); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Println("file appeared")
		n, _ := strconv.Atoi(args[2])
		os.Exit(n)
	}
}
`

// helloModule is the plain hello program the figures are measured with.
const helloModule = `package main

import "fmt"

func main() { fmt.Println("hello") }
`

// testEnv is a runtime over a real image store in a temporary root, with
// the test binary as its wasm host.
type testEnv struct {
	root  string
	store *images.Store
	rt    *Runtime
}

func hostCommand() Option {
	return WithHostCommand([]string{os.Args[0]}, envHost+"=1")
}

func newEnv(t testing.TB, opts ...Option) *testEnv {
	t.Helper()
	return newEnvAt(t, t.TempDir(), opts...)
}

// newEnvAt is newEnv on root, which may hold a compilation cache of its
// own (the tests' shared one is used otherwise).
func newEnvAt(t testing.TB, root string, opts ...Option) *testEnv {
	t.Helper()
	e := &testEnv{root: root}
	e.openStore(t)
	e.rt = mustRuntime(t, e, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.rt.StopHost(ctx); err != nil {
			t.Errorf("stop host: %v", err)
		}
		_ = e.rt.Close()
		if e.store != nil {
			_ = e.store.Close()
		}
	})
	return e
}

func (e *testEnv) openStore(t testing.TB) {
	t.Helper()
	s, err := images.Open(filepath.Join(e.root, "images"))
	if err != nil {
		t.Fatalf("open image store: %v", err)
	}
	e.store = s
}

func mustRuntime(t testing.TB, e *testEnv, opts ...Option) *Runtime {
	t.Helper()
	cache := filepath.Join(e.root, "wasm", host.CacheDir)
	if _, err := os.Lstat(cache); sharedCache != "" && errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(cache), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(sharedCache, cache); err != nil {
			t.Fatal(err)
		}
	}
	opts = append([]Option{hostCommand()}, opts...)
	rt, err := New(filepath.Join(e.root, "wasm"), StoreModules(e.store, filepath.Join(e.root, "wasm", "modules")), opts...)
	if err != nil {
		t.Fatalf("new runtime: %v", err)
	}
	return rt
}

// image stores img under ref and returns ref.
func (e *testEnv) image(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	if _, err := e.store.Write(context.Background(), ref, img, images.WriteOptions{}); err != nil {
		t.Fatalf("write image %s: %v", ref, err)
	}
	return ref
}

// testImage is the test module packaged as an OCI wasm artifact.
func (e *testEnv) testImage(t testing.TB) string {
	t.Helper()
	return e.image(t, "test.local/wasm/testmod:latest", testimages.WasmModule(t, testModule, testimages.ConventionArtifact))
}

func svc(ref string, args ...string) *runtime.CreateSpec {
	return &runtime.CreateSpec{Image: ref, Args: args}
}

func cid(name string) runtime.ContainerID { return runtime.ContainerID{Service: name} }

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t testing.TB, rt *Runtime, id runtime.ContainerID, s *runtime.CreateSpec) {
	t.Helper()
	if err := rt.Create(ctxT(t), id, s); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
}

func mustStart(t testing.TB, rt *Runtime, id runtime.ContainerID) {
	t.Helper()
	if err := rt.Start(ctxT(t), id); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
}

// mustRun creates, starts and waits for a container, returning its outcome.
func mustRun(t testing.TB, rt *Runtime, id runtime.ContainerID, s *runtime.CreateSpec) runtime.WaitOutcome {
	t.Helper()
	mustCreate(t, rt, id, s)
	mustStart(t, rt, id)
	o, err := rt.WaitOutcome(ctxT(t), id, runtime.WaitNotRunning)
	if err != nil {
		t.Fatalf("wait %s: %v", id, err)
	}
	return o
}

func logText(t testing.TB, rt *Runtime, id runtime.ContainerID) []string {
	t.Helper()
	entries, err := rt.Logs(ctxT(t), id, runtime.TailAll)
	if err != nil {
		t.Fatalf("logs %s: %v", id, err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, string(e.Stream)+": "+e.Text)
	}
	return out
}

func mustState(t testing.TB, rt *Runtime, id runtime.ContainerID) runtime.State {
	t.Helper()
	st, err := rt.State(ctxT(t), id)
	if err != nil {
		t.Fatalf("state %s: %v", id, err)
	}
	return st
}
