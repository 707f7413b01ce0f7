package e2e

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// sleeper is a shell command line that prints one line and then waits
// until it is stopped; it ends at once on SIGTERM (a PID 1 without a
// handler would ignore it and make every stop wait for the SIGKILL).
const sleeper = `trap "exit 0" TERM; echo up; sleep 3600 & wait`

// TestMixedDeployment deploys a Linux service and a WebAssembly job, neither
// of which declares a platform, and checks that each landed on the runtime
// its image's manifest asks for.
func TestMixedDeployment(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("mixed.yaml", fmt.Sprintf(`version: v1
deployment: demo
services:
  web:
    rtype: service
    image:
      name: %s
      pull_policy: if_not_present
    command:
      entrypoint: ["/bin/sh", "-c"]
      args:
        - 'trap "exit 0" TERM; i=0; while true; do i=$((i+1)); echo "web: tick $i"; sleep 0.2; done'
    resources:
      cpu: 0.5
      memory: 64Mi
    scale:
      mode: fixed
      replicas: 1
  hello:
    rtype: job
    image:
      name: %s
    env:
      NAME: switchyard
    resources:
      memory: 32Mi
`, e.images.busybox, e.images.wasm))

	out := e.ok("up", "-f", file)
	for _, want := range []string{"created   demo-web-rep-0", "created   demo-hello-rep-0"} {
		if !strings.Contains(out, want) {
			t.Errorf("up printed %q, want a line %q", out, want)
		}
	}
	e.ok("wait", "demo-hello-rep-0")

	rows := e.psAll()
	for _, tc := range []struct {
		name, runtime, platform, state string
	}{
		{"demo-web-rep-0", "runc", "linux/" + goruntime.GOARCH, "running"},
		{"demo-hello-rep-0", "wasm", "wasip1/wasm", "exited"},
	} {
		r, ok := rows[tc.name]
		if !ok {
			t.Errorf("ps -a lacks %s: %v", tc.name, names(rows, ""))
			continue
		}
		if r.Runtime != tc.runtime || r.Platform != tc.platform || r.State != tc.state {
			t.Errorf("ps: %s = runtime %s, platform %s, state %s; want %s, %s, %s",
				tc.name, r.Runtime, r.Platform, r.State, tc.runtime, tc.platform, tc.state)
		}
	}
	if r := rows["demo-hello-rep-0"]; !r.exited(0) {
		t.Errorf("the wasm job: %+v, want exited (0)", r)
	}

	if got := e.ok("logs", "demo-hello-rep-0"); got != "hello from wasm, switchyard\n" {
		t.Errorf("logs of the wasm job: %q", got)
	}
	waitFor(t, "the web service's third tick", 30*time.Second, func() bool {
		return strings.Contains(e.ok("logs", "demo-web-rep-0"), "web: tick 3\n")
	})
	if got := e.ok("logs", "--tail", "2", "demo-web-rep-0"); strings.Count(got, "web: tick ") != 2 {
		t.Errorf("logs --tail 2 of the web service: %q", got)
	}

	out = e.ok("down", "-f", file)
	for _, want := range []string{"removed   demo-web-rep-0", "removed   demo-hello-rep-0"} {
		if !strings.Contains(out, want) {
			t.Errorf("down printed %q, want a line %q", out, want)
		}
	}
	if left := names(e.psAll(), "demo-"); len(left) != 0 {
		t.Errorf("after down, ps -a still shows %v", left)
	}
}

// convSpec is the deployment of TestUpConvergence: service a with the given
// replicas and env value, and service b unless withB is false.
func convSpec(image string, replicas int, value string, withB bool) string {
	s := fmt.Sprintf(`version: v1
deployment: conv
services:
  a:
    rtype: service
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['%[2]s']
    env:
      VALUE: "%[3]s"
    scale:
      mode: fixed
      replicas: %[4]d
`, image, sleeper, value, replicas)
	if withB {
		s += fmt.Sprintf(`  b:
    rtype: service
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['%[2]s']
`, image, sleeper)
	}
	return s
}

// TestUpConvergence runs up again and again on a changing spec and checks
// that each run changes exactly what the spec changed.
func TestUpConvergence(t *testing.T) {
	e := newEnv(t)
	img := e.images.busybox
	file := e.writeSpec("conv.yaml", convSpec(img, 1, "one", true))

	// created returns the creation time of every replica of the deployment.
	created := func() map[string]time.Time {
		m := map[string]time.Time{}
		for n, r := range e.psAll() {
			if strings.HasPrefix(n, "conv-") {
				m[n] = r.Created
			}
		}
		return m
	}
	up := func(yaml string) string {
		t.Helper()
		e.writeSpec("conv.yaml", yaml)
		return e.ok("up", "-f", file)
	}

	out := e.ok("up", "-f", file)
	if want := "created   conv-a-rep-0\ncreated   conv-b-rep-0\n"; out != want {
		t.Fatalf("first up printed %q, want %q", out, want)
	}
	first := created()

	steps := []struct {
		name        string
		yaml        string
		wantOut     []string // lines up prints, in any order
		wantNames   []string
		kept, fresh []string // replicas that must keep / must change their creation time
	}{
		{
			name:      "unchanged",
			yaml:      convSpec(img, 1, "one", true),
			wantOut:   []string{"deployment conv: nothing to change"},
			wantNames: []string{"conv-a-rep-0", "conv-b-rep-0"},
			kept:      []string{"conv-a-rep-0", "conv-b-rep-0"},
		},
		{
			name:      "scale 1 to 3",
			yaml:      convSpec(img, 3, "one", true),
			wantOut:   []string{"created   conv-a-rep-1", "created   conv-a-rep-2"},
			wantNames: []string{"conv-a-rep-0", "conv-a-rep-1", "conv-a-rep-2", "conv-b-rep-0"},
			kept:      []string{"conv-a-rep-0", "conv-b-rep-0"},
		},
		{
			name:      "env changed",
			yaml:      convSpec(img, 3, "two", true),
			wantOut:   []string{"replaced  conv-a-rep-0", "replaced  conv-a-rep-1", "replaced  conv-a-rep-2"},
			wantNames: []string{"conv-a-rep-0", "conv-a-rep-1", "conv-a-rep-2", "conv-b-rep-0"},
			kept:      []string{"conv-b-rep-0"},
			fresh:     []string{"conv-a-rep-0", "conv-a-rep-1", "conv-a-rep-2"},
		},
		{
			name:      "service removed",
			yaml:      convSpec(img, 3, "two", false),
			wantOut:   []string{"removed   conv-b-rep-0"},
			wantNames: []string{"conv-a-rep-0", "conv-a-rep-1", "conv-a-rep-2"},
			kept:      []string{"conv-a-rep-0", "conv-a-rep-1", "conv-a-rep-2"},
		},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out := up(st.yaml)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			// Unchanged replicas may be listed too; what changed must be
			// exactly what the spec changed.
			var changed []string
			for _, l := range lines {
				if !strings.HasPrefix(l, "unchanged ") {
					changed = append(changed, l)
				}
			}
			slices.Sort(changed)
			want := slices.Sorted(slices.Values(st.wantOut))
			if !slices.Equal(changed, want) {
				t.Errorf("up printed %q, want the lines %q", out, want)
			}
			now := created()
			if got := slices.Sorted(func(yield func(string) bool) {
				for n := range now {
					if !yield(n) {
						return
					}
				}
			}); !slices.Equal(got, st.wantNames) {
				t.Errorf("replicas after up: %v, want %v", got, st.wantNames)
			}
			for _, n := range st.kept {
				if !now[n].Equal(prev[n]) {
					t.Errorf("%s was recreated (created %v, before %v); want it kept", n, now[n], prev[n])
				}
			}
			for _, n := range st.fresh {
				if now[n].Equal(prev[n]) {
					t.Errorf("%s kept its creation time %v; want it replaced", n, now[n])
				}
			}
			for n, r := range e.psAll() {
				if strings.HasPrefix(n, "conv-") && r.State != "running" {
					t.Errorf("%s is %s after up, want running", n, r.State)
				}
			}
			prev = now
		})
	}

	out = e.ok("down", "conv")
	if got := strings.Count(out, "removed   conv-a-rep-"); got != 3 {
		t.Errorf("down printed %q, want three removed replicas of a", out)
	}
	if left := names(e.psAll(), "conv-"); len(left) != 0 {
		t.Errorf("after down, ps -a still shows %v", left)
	}
	if res := e.sy("down", "conv"); res.code == 0 || !strings.Contains(res.stderr, "not deployed") {
		t.Errorf("second down: exit %d, stderr %q; want an error saying it is not deployed", res.code, res.stderr)
	}
}

// TestRestartPolicy checks that a crashing service is restarted with
// back-off and that a job is left exited.
func TestRestartPolicy(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("crash.yaml", fmt.Sprintf(`version: v1
deployment: crash
services:
  crasher:
    rtype: service
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['echo crashing; exit 1']
  once:
    rtype: job
    image:
      name: %[1]s
    command:
      entrypoint: ["/bin/sh", "-c"]
      args: ['echo once; exit 1']
`, e.images.busybox))
	e.ok("up", "-f", file)

	const restarts = `switchyard_replica_restarts_total{service="crash-crasher"}`
	waitFor(t, "two restarts of the crashing service", 60*time.Second, func() bool {
		return e.metric(restarts) >= 2
	})
	waitFor(t, "the crashing service's output of several runs", 30*time.Second, func() bool {
		return strings.Count(e.ok("logs", "crash-crasher-rep-0"), "crashing\n") >= 2
	})

	rows := e.psAll()
	if r := rows["crash-once-rep-0"]; !r.exited(1) {
		t.Errorf("the job: %+v, want exited (1)", r)
	}
	if got := e.ok("logs", "crash-once-rep-0"); got != "once\n" {
		t.Errorf("logs of the job: %q, want it to have run once", got)
	}
	if n := e.metric(`switchyard_replica_restarts_total{service="crash-once"}`); n != 0 {
		t.Errorf("the job was restarted %v times, want 0", n)
	}
	e.ok("down", "crash")
}
