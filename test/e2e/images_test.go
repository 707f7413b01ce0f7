package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/switchyard/switchyard/internal/testimages"
)

// imageRow is one row of `switchyard images --format json`.
type imageRow struct {
	Reference string   `json:"reference"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"media_type"`
	Runtimes  []string `json:"runtimes"`
	Manifests []struct {
		Platform struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
		Present bool `json:"present"`
	} `json:"manifests"`
}

// platforms formats the row's platforms, absent ones with a leading "-".
func (r imageRow) platforms() string {
	var out []string
	for _, m := range r.Manifests {
		p := m.Platform.OS + "/" + m.Platform.Architecture
		if !m.Present {
			p = "-" + p
		}
		out = append(out, p)
	}
	return strings.Join(out, ",")
}

// imagesByRef returns `images --format json` by reference.
func (e *env) imagesByRef() map[string]imageRow {
	e.t.Helper()
	var rows []imageRow
	if err := json.Unmarshal([]byte(e.ok("images", "--format", "json")), &rows); err != nil {
		e.t.Fatal(err)
	}
	m := map[string]imageRow{}
	for _, r := range rows {
		m[r.Reference] = r
	}
	return m
}

// fetch reads an image back from the test registry.
func fetch(t *testing.T, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// pushIndex pushes an OCI index of the given entries under repo.
func pushIndex(t *testing.T, host, repo string, entries map[v1.Image]v1.Platform) string {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for img, p := range entries {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return testimages.Push(t, host, repo, idx)
}

// The four ways one store mapping a reference to one manifest went wrong,
// through the CLI against a real agent and a real registry.
func TestImagesBelongToTheNode(t *testing.T) {
	e := newEnv(t)
	host := strings.SplitN(e.images.busybox, "/", 2)[0]
	busybox, wasm, windows := fetch(t, e.images.busybox), fetch(t, e.images.wasm), fetch(t, e.images.windows)
	linuxP := v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}
	hostLinux := "linux/" + goruntime.GOARCH
	wasiP := v1.Platform{OS: "wasi", Architecture: "wasm"} // the Docker+Wasm spelling
	winP := v1.Platform{OS: "windows", Architecture: "amd64"}
	multiWin := pushIndex(t, host, "e2e/multi-win:1", map[v1.Image]v1.Platform{busybox: linuxP, windows: winP})
	multiWasm := pushIndex(t, host, "e2e/multi-wasm:1", map[v1.Image]v1.Platform{busybox: linuxP, wasm: wasiP})

	// 1: a single linux manifest.
	e.ok("run", "--rm", e.images.busybox, "true")
	if r := e.imagesByRef()[e.images.busybox]; r.platforms() != hostLinux || strings.Join(r.Runtimes, ",") != "runc" {
		t.Fatalf("busybox after run: %s on %v", r.platforms(), r.Runtimes)
	}

	// 2: an index holding the same linux manifest and a windows entry
	// does not change what busybox reports.
	e.ok("pull", multiWin)
	imgs := e.imagesByRef()
	if got := imgs[e.images.busybox].platforms(); got != hostLinux {
		t.Errorf("scenario 2: busybox reports %s after another reference's pull, want %s", got, hostLinux)
	}
	if got := imgs[multiWin].platforms(); !samePlatformSet(got, hostLinux+",-windows/amd64") {
		t.Errorf("scenario 2: the index reports %s, want linux present and windows absent", got)
	}
	if !strings.Contains(e.ok("images"), "(not pulled: windows/amd64)") {
		t.Errorf("scenario 2: `images` does not mark the absent platform:\n%s", e.ok("images"))
	}

	// 3: an index whose wasm entry is an image pulled already under its
	// own name: that name keeps wasip1/wasm alone, and after a restart a
	// spec that names no platform still runs it on wasm.
	e.ok("pull", e.images.wasm)
	e.ok("pull", multiWasm)
	if r := e.imagesByRef()[e.images.wasm]; r.platforms() != "wasip1/wasm" || strings.Join(r.Runtimes, ",") != "wasm" {
		t.Errorf("scenario 3: %s reports %s on %v, want wasip1/wasm on wasm", e.images.wasm, r.platforms(), r.Runtimes)
	}
	e.stopDaemon()
	e.startDaemon()
	spec := e.writeSpec("wasi.yaml", `version: v1
deployment: scen3
services:
  mod:
    rtype: job
    image:
      name: `+e.images.wasm+`
      pull_policy: never
`)
	e.ok("up", "-f", spec)
	waitFor(t, "the wasm job to exit", time.Minute, func() bool { return e.psAll()["scen3-mod-rep-0"].exited(0) })
	if row := e.psAll()["scen3-mod-rep-0"]; row.Runtime != "wasm" {
		t.Errorf("scenario 3: after a restart the wasm image ran on %s", row.Runtime)
	}
	e.ok("down", "-f", spec)

	// 4: pull always of an index of linux/amd64 and wasi/wasm fetches both
	// under the one reference; the same reference runs on runc and on wasm
	// at once, as the declared platform (or the runtime order) says.
	out := e.ok("pull", multiWasm)
	if !strings.Contains(out, "runc, wasm") {
		t.Errorf("scenario 4: pull output %q, want it on runc and wasm", out)
	}
	if r := e.imagesByRef()[multiWasm]; !samePlatformSet(r.platforms(), hostLinux+",wasip1/wasm") {
		t.Errorf("scenario 4: %s reports %s, want both present", multiWasm, r.platforms())
	}
	e.ok("run", "-d", "--pull", "always", "--name", "lin", multiWasm, "sleep", "1000")
	e.ok("run", "-d", "--pull", "always", "--platform", "wasip1/wasm", "--name", "mod", multiWasm, "sleep")
	ps := e.psAll()
	if ps["lin-rep-0"].Runtime != "runc" || ps["mod-rep-0"].Runtime != "wasm" {
		t.Fatalf("scenario 4: lin on %q, mod on %q; want runc and wasm", ps["lin-rep-0"].Runtime, ps["mod-rep-0"].Runtime)
	}
	waitFor(t, "the module to log", time.Minute, func() bool {
		return strings.Contains(e.sy("logs", "mod").stdout, "wasm: sleeping")
	})

	// rmi of a reference running containers use: while another name
	// reaches their manifests it only untags; as the last name it is
	// refused, then forced, and the containers keep their content until
	// they are removed.
	e.ok("rmi", e.images.busybox, e.images.wasm, multiWin)
	if res := e.sy("rmi", multiWasm); res.code == 0 || !strings.Contains(res.stderr, "used by container") {
		t.Errorf("rmi in use: exit %d, %s; want refused naming the containers", res.code, res.stderr)
	}
	// The store keeps uses in memory and the runtimes record them again
	// when the agent starts: after a kill and a restart, still refused,
	// for the Linux container and the module alike.
	e.killDaemon()
	e.startDaemon()
	if res := e.sy("rmi", multiWasm); res.code == 0 || !strings.Contains(res.stderr, "lin-rep-0") || !strings.Contains(res.stderr, "mod-rep-0") {
		t.Errorf("rmi in use after an agent restart: exit %d, %s; want refused naming lin and mod", res.code, res.stderr)
	}
	e.ok("rmi", "-f", multiWasm)
	if _, ok := e.imagesByRef()[multiWasm]; ok {
		t.Errorf("rmi -f left %s listed", multiWasm)
	}
	if out := e.ok("exec", "lin", "cat", "/etc/passwd"); !strings.Contains(out, "root") {
		t.Errorf("after rmi -f the running container's rootfs: %q", out)
	}
	e.ok("rm", "-f", "lin", "mod")
	e.ok("image", "prune")
	// No wasm image is left, so no compiled code is either.
	if ents, err := os.ReadDir(filepath.Join(e.root, "wasm", "cache")); err != nil || len(ents) != 0 {
		t.Errorf("after the last wasm image went, the compilation cache holds %v (%v); want nothing", ents, err)
	}
}

// samePlatformSet compares comma-separated lists as sets.
func samePlatformSet(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	if len(as) != len(bs) {
		return false
	}
	for _, x := range as {
		found := false
		for _, y := range bs {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// A pull from a registry that accepts the connection and never answers
// says, while it waits, what it waits for: the user is not left with a
// silent terminal until the daemon's deadline.
func TestPullSaysWhatItWaitsFor(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, build.bin, "pull", ln.Addr().String()+"/silent/app:1")
	cmd.Env = append(os.Environ(), "SWITCHYARD_SOCKET="+e.sock)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	want := "waiting for " + ln.Addr().String() + " to answer (silent for "
	sc := bufio.NewScanner(stderr)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.HasPrefix(sc.Text(), want) {
			return
		}
	}
	t.Fatalf("the pull's stderr ended without saying what it waits for: %q", seen)
}
