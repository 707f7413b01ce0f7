package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
	"github.com/switchyard/switchyard/spec"
)

func TestUpCreatesAndStartsReplicas(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	res := mustUp(t, a, deployment("shop", service("web", 3, forever)))
	if want := ids("shop", "web", 0, 1, 2); !slices.Equal(res.Created, want) {
		t.Fatalf("Created = %v, want %v", res.Created, want)
	}
	for n := range uint32(3) {
		id := replicaID("shop", "web", n)
		if st := mustState(t, f, id); st.Status != runtime.StatusRunning {
			t.Errorf("%s is %s, want running", id, st)
		}
		if !a.supervised(id) {
			t.Errorf("%s is not supervised", id)
		}
	}
	if got := countCalls(f, "pull", runtime.ContainerID{}); got != 1 {
		t.Errorf("pulls = %d, want 1", got)
	}
}

// A public tcp endpoint is held by the agent's balancer, whatever the
// replica count, and no replica publishes it; a udp one, which the
// balancer does not serve, is published by the first replica alone. A
// cron service gets no replica until it runs.
func TestUpBalancesPublicEndpointsAndRegistersCron(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	web := service("web", 3, forever)
	web.Endpoints = []spec.Endpoint{
		{Name: "http", Protocol: "http", Port: port, TargetPort: 80, Expose: "public"},
		{Name: "dns", Protocol: "udp", Port: 15353, TargetPort: 53, Expose: "public"},
	}
	cron := service("nightly", 1, forever)
	cron.RType, cron.Schedule = spec.RTypeCron, "0 0 3 * * *"
	res := mustUp(t, a, deployment("shop", web, cron))
	if want := ids("shop", "web", 0, 1, 2); !slices.Equal(res.Created, want) {
		t.Fatalf("Created = %v, want %v (no replica for the cron service)", res.Created, want)
	}
	for n := range uint32(3) {
		d, err := f.Inspect(t.Context(), replicaID("shop", "web", n))
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if n == 0 {
			want = 1 // the udp port
		}
		if len(d.Ports) != want || want == 1 && d.Ports[0].Proto() != "udp" {
			t.Errorf("replica %d publishes %v; want the udp port on replica 0 alone", n, d.Ports)
		}
	}
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		t.Fatalf("the balancer does not listen on %d: %v", port, err)
	}
	c.Close()
}

func TestUpConverges(t *testing.T) {
	web := func(replicas uint32) *runtimetestSpec { return service("web", replicas, forever) }
	for _, tc := range []struct {
		name              string
		first, second     []*runtimetestSpec
		wantCreated       []string
		wantRemoved       []string
		wantReplaced      []string
		wantUnchanged     []string
		wantNoMutatingOps bool
	}{
		{
			name:  "unchanged spec changes nothing",
			first: []*runtimetestSpec{web(3)}, second: []*runtimetestSpec{web(3)},
			wantUnchanged: ids("shop", "web", 0, 1, 2), wantNoMutatingOps: true,
		},
		{
			name:  "changed image replaces",
			first: []*runtimetestSpec{web(2)}, second: []*runtimetestSpec{withImage(web(2), "runtimetest/fake:2")},
			wantReplaced: ids("shop", "web", 0, 1),
		},
		{
			name:  "changed env replaces",
			first: []*runtimetestSpec{web(1)}, second: []*runtimetestSpec{withEnv(web(1), "MODE", "fast")},
			wantReplaced: ids("shop", "web", 0),
		},
		{
			name:  "scale down removes the surplus",
			first: []*runtimetestSpec{web(3)}, second: []*runtimetestSpec{web(1)},
			wantRemoved: ids("shop", "web", 1, 2), wantUnchanged: ids("shop", "web", 0),
		},
		{
			name:  "scale up adds",
			first: []*runtimetestSpec{web(1)}, second: []*runtimetestSpec{web(3)},
			wantCreated: ids("shop", "web", 1, 2), wantUnchanged: ids("shop", "web", 0),
		},
		{
			name:  "service gone from the spec is removed",
			first: []*runtimetestSpec{web(1), service("db", 2, forever)}, second: []*runtimetestSpec{web(1)},
			wantRemoved: ids("shop", "db", 1, 0), wantUnchanged: ids("shop", "web", 0),
		},
		{
			name:  "new service is added",
			first: []*runtimetestSpec{web(1)}, second: []*runtimetestSpec{web(1), service("db", 1, forever)},
			wantCreated: ids("shop", "db", 0), wantUnchanged: ids("shop", "web", 0),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := runtimetest.NewFake("fake")
			a := mustNew(t, testConfig(t), f)
			mustUp(t, a, deployment("shop", tc.first...))
			f.ResetCalls()
			res := mustUp(t, a, deployment("shop", tc.second...))
			check := func(what string, got, want []string) {
				if !slices.Equal(got, want) {
					t.Errorf("%s = %v, want %v", what, got, want)
				}
			}
			check("Created", res.Created, tc.wantCreated)
			check("Removed", res.Removed, tc.wantRemoved)
			check("Replaced", res.Replaced, tc.wantReplaced)
			check("Unchanged", res.Unchanged, tc.wantUnchanged)
			if tc.wantNoMutatingOps {
				for _, m := range []string{"create", "start", "stop", "remove", "kill"} {
					if n := countCalls(f, m, runtime.ContainerID{}); n != 0 {
						t.Errorf("an unchanged Up called %s %d times (calls: %v)", m, n, methodsCalled(f))
					}
				}
			}
			// What the runtime holds is exactly what the second spec asks for.
			cs, err := f.List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.ID.String())
				if c.State.Status != runtime.StatusRunning {
					t.Errorf("%s is %s, want running", c.ID, c.State)
				}
			}
			want := slices.Concat(tc.wantCreated, tc.wantReplaced, tc.wantUnchanged)
			slices.Sort(got)
			slices.Sort(want)
			check("containers", got, want)
			for _, id := range tc.wantRemoved {
				cid, _ := runtime.ParseContainerID(id)
				if a.supervised(cid) {
					t.Errorf("removed %s is still supervised", id)
				}
			}
		})
	}
}

func TestServiceReplicaIsRestartedAfterEveryCrash(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	mustUp(t, a, deployment("shop", service("web", 1, forever)))
	id := replicaID("shop", "web", 0)
	for crash := 1; crash <= 3; crash++ {
		starts := countCalls(f, "start", id)
		if err := f.Exit(id, 137); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, fmt.Sprintf("restart after crash %d", crash), func() bool {
			return countCalls(f, "start", id) > starts && mustState(t, f, id).Status == runtime.StatusRunning
		})
	}
	// The counter is bumped just after the start returns.
	testutil.Eventually(t, 10*time.Second, "three restarts to be counted", func() bool { return testutilCounter(t, a, "web") == 3 })
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	// A replica that exits at once after every start is restarted with a
	// delay that doubles from Initial up to Max: the supervisor says which
	// delay it waits before each restart, and the waits bound the starts.
	f := runtimetest.NewFake("fake")
	b := Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond, Reset: time.Hour}
	var log testutil.SyncBuffer
	a := mustNew(t, testConfig(t), f, WithRestartBackoff(b), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	crashing := service("web", 1, runtimetest.Workload{ExitCode: 1})
	start := time.Now()
	mustUp(t, a, deployment("shop", crashing))
	id := replicaID("shop", "web", 0)
	testutil.Eventually(t, 10*time.Second, "six starts", func() bool { return countCalls(f, "start", id) >= 6 })
	took := time.Since(start)
	var delays []string
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, "restarting") {
			if _, in, ok := strings.Cut(line, " in="); ok {
				delays = append(delays, strings.Fields(in)[0])
			}
		}
	}
	want := []string{"10ms", "20ms", "40ms", "40ms", "40ms"}
	if len(delays) < len(want) || !slices.Equal(delays[:len(want)], want) {
		t.Errorf("restart delays %v, want them to double from 10ms to the 40ms maximum: %v", delays, want)
	}
	// Starts 2..6 follow pauses of 10, 20, 40, 40, 40 ms: 150 ms at least.
	if took < 150*time.Millisecond {
		t.Errorf("six starts took %v; the back-off should make it at least 150ms", took)
	}
}

func TestJobReplicaIsLeftExited(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	job := service("migrate", 1, runtimetest.Workload{Stdout: []string{"done"}})
	job.RType = "job"
	crashing := service("web", 1, runtimetest.Workload{ExitCode: 2})
	mustUp(t, a, deployment("shop", job, crashing))
	jobID, webID := replicaID("shop", "migrate", 0), replicaID("shop", "web", 0)
	// While the supervisor restarts the crashing service replica several
	// times, the job stays exited and is started only once.
	testutil.Eventually(t, 10*time.Second, "the crashing service to be restarted three times", func() bool {
		return countCalls(f, "start", webID) >= 4
	})
	if st := mustState(t, f, jobID); st.Status != runtime.StatusExited {
		t.Errorf("job replica is %s, want exited", st)
	}
	if n := countCalls(f, "start", jobID); n != 1 {
		t.Errorf("job replica started %d times, want 1", n)
	}
	if a.supervised(jobID) {
		t.Error("job replica is supervised")
	}
}

func TestDownRemovesEverything(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	mustUp(t, a, deployment("shop", service("web", 2, forever), service("db", 1, forever)))
	mustUp(t, a, deployment("blog", service("web", 1, forever)))
	res, err := a.Down(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Concat(ids("shop", "web", 1, 0), ids("shop", "db", 0)); !slices.Equal(res.Removed, want) {
		t.Errorf("Removed = %v, want %v", res.Removed, want)
	}
	cs, _ := f.List(t.Context())
	if len(cs) != 1 || cs[0].ID != replicaID("blog", "web", 0) {
		t.Errorf("containers after Down = %v, want only blog's", cs)
	}
	if n := countCalls(f, "stop", replicaID("shop", "db", 0)); n != 1 {
		t.Errorf("db replica stopped %d times before removal, want 1", n)
	}
	if a.supervised(replicaID("shop", "web", 0)) {
		t.Error("a replica of a deployment taken down is still supervised")
	}
	if _, err := a.Down(t.Context(), "shop"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second Down = %v, want ErrNotFound", err)
	}
	list, err := a.Deployments(t.Context())
	if err != nil || len(list) != 1 || list[0].Name != "blog" {
		t.Errorf("Deployments = %+v, %v; want only blog", list, err)
	}
}

func TestUpFailures(t *testing.T) {
	t.Run("pull fails: nothing is created", func(t *testing.T) {
		f := runtimetest.NewFake("fake")
		a := mustNew(t, testConfig(t), f)
		f.FailOn("pull", fmt.Errorf("registry down: %w", runtime.ErrUnavailable))
		_, err := a.Up(t.Context(), deployment("shop", service("web", 2, forever)))
		if !errors.Is(err, runtime.ErrUnavailable) {
			t.Fatalf("Up = %v, want ErrUnavailable", err)
		}
		if n := countCalls(f, "create", runtime.ContainerID{}); n != 0 {
			t.Errorf("creates after a failed pull = %d", n)
		}
	})
	t.Run("create fails: the next Up finishes the job", func(t *testing.T) {
		f := runtimetest.NewFake("fake")
		a := mustNew(t, testConfig(t), f)
		mustUp(t, a, deployment("shop", service("web", 1, forever)))
		f.FailOn("create", fmt.Errorf("disk full: %w", runtime.ErrUnavailable))
		res, err := a.Up(t.Context(), deployment("shop", service("web", 3, forever)))
		if !errors.Is(err, runtime.ErrUnavailable) {
			t.Fatalf("Up = %v, want ErrUnavailable", err)
		}
		if len(res.Unchanged) != 1 || len(res.Created) != 0 {
			t.Errorf("Result of the failed Up = %+v", res)
		}
		f.FailOn("create", nil)
		res = mustUp(t, a, deployment("shop", service("web", 3, forever)))
		cs, _ := f.List(t.Context())
		if len(cs) != 3 {
			t.Errorf("containers after the repeated Up = %d, want 3 (result %+v)", len(cs), res)
		}
		// And a Down after all that removes everything.
		if _, err := a.Down(t.Context(), "shop"); err != nil {
			t.Fatal(err)
		}
		if cs, _ := f.List(t.Context()); len(cs) != 0 {
			t.Errorf("containers after Down = %v", cs)
		}
	})
	t.Run("a container of the same name made by someone else", func(t *testing.T) {
		f := runtimetest.NewFake("fake")
		a := mustNew(t, testConfig(t), f)
		if err := f.Create(t.Context(), replicaID("shop", "web", 0), service("web", 1, forever).CreateSpec()); err != nil {
			t.Fatal(err)
		}
		_, err := a.Up(t.Context(), deployment("shop", service("web", 1, forever)))
		if !errors.Is(err, runtime.ErrAlreadyExists) {
			t.Fatalf("Up = %v, want ErrAlreadyExists", err)
		}
	})
}

func TestUpRejectsBadSpecs(t *testing.T) {
	long := service("a"+strings.Repeat("b", 127), 1, forever)
	for _, tc := range []struct {
		name string
		d    *spec.Deployment
	}{
		{"nil", nil},
		{"no version", func() *spec.Deployment {
			d := deployment("shop", service("web", 1, forever))
			d.Version = ""
			return d
		}()},
		{"no image", deployment("shop", withImage(service("web", 1, forever), ""))},
		{"bad rtype", func() *spec.Deployment {
			s := service("web", 1, forever)
			s.RType = "daemon"
			return deployment("shop", s)
		}()},
		{"container name too long", deployment("shop", long)},
		{"too many replicas", deployment("shop", service("web", 100000, forever))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := runtimetest.NewFake("fake")
			a := mustNew(t, testConfig(t), f)
			f.ResetCalls()
			if _, err := a.Up(t.Context(), tc.d); !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("Up = %v, want ErrInvalidArgument", err)
			}
			if len(f.Calls()) != 0 {
				t.Errorf("a rejected spec reached the runtime: %v", methodsCalled(f))
			}
		})
	}
}

func TestSpecHash(t *testing.T) {
	base := service("web", 1, forever)
	h := specHash("web", base, "sha256:1")
	for _, tc := range []struct {
		name   string
		change func(*spec.ServiceSpec)
		digest string
		same   bool
	}{
		{"identical", func(*spec.ServiceSpec) {}, "sha256:1", true},
		{"replicas do not count", func(s *spec.ServiceSpec) { s.Scale.Replicas = 7 }, "sha256:1", true},
		{"pull policy does not count", func(s *spec.ServiceSpec) { s.Image.PullPolicy = spec.PullAlways }, "sha256:1", true},
		{"credentials do not count", func(s *spec.ServiceSpec) { s.RegistryAuth = &spec.RegistryAuth{Token: "t"} }, "sha256:1", true},
		{"empty env is no env", func(s *spec.ServiceSpec) { s.Env = map[string]string{} }, "sha256:1", true},
		{"defaults count as written", func(s *spec.ServiceSpec) { s.RType = "" }, "sha256:1", true},
		{"image digest counts", func(*spec.ServiceSpec) {}, "sha256:2", false},
		{"image counts", func(s *spec.ServiceSpec) { s.Image.Name = "other" }, "sha256:1", false},
		{"env counts", func(s *spec.ServiceSpec) { s.Env = map[string]string{"A": "1"} }, "sha256:1", false},
		{"rtype counts", func(s *spec.ServiceSpec) { s.RType = spec.RTypeJob }, "sha256:1", false},
		{"resources count", func(s *spec.ServiceSpec) { s.Resources.MemoryBytes = 1 << 20 }, "sha256:1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := *base
			tc.change(&s)
			if got := specHash("web", &s, tc.digest) == h; got != tc.same {
				t.Errorf("same hash = %v, want %v", got, tc.same)
			}
		})
	}
}

func TestUpRecreatesReplicaRemovedBehindItsBack(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	mustUp(t, a, deployment("shop", service("web", 2, forever)))
	id := replicaID("shop", "web", 1)
	// As `switchyard rm -f` does it: through the API, that is the composite.
	if err := a.Runtime().Remove(t.Context(), id, true); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the supervisor to notice the replica is gone", func() bool { return !a.supervised(id) })
	res := mustUp(t, a, deployment("shop", service("web", 2, forever)))
	if !slices.Equal(res.Created, ids("shop", "web", 1)) || !slices.Equal(res.Unchanged, ids("shop", "web", 0)) {
		t.Errorf("Result = %+v, want rep-1 created and rep-0 unchanged", res)
	}
	if st := mustState(t, f, id); st.Status != runtime.StatusRunning || !a.supervised(id) {
		t.Errorf("recreated replica is %s, supervised %v", st, a.supervised(id))
	}
}

func TestResumedAgentStartsReplicaLeftPending(t *testing.T) {
	cfg := testConfig(t)
	f := runtimetest.NewFake("fake")
	first, err := New(t.Context(), cfg, []runtime.Containers{f}, WithRestartBackoff(fastBackoff))
	if err != nil {
		t.Fatal(err)
	}
	f.FailOn("start", fmt.Errorf("shim crashed: %w", runtime.ErrUnavailable))
	if _, err := first.Up(t.Context(), deployment("shop", service("web", 1, forever))); !errors.Is(err, runtime.ErrUnavailable) {
		t.Fatalf("Up with failing start = %v, want ErrUnavailable", err)
	}
	first.Close()
	f.FailOn("start", nil)
	id := replicaID("shop", "web", 0)
	if st := mustState(t, f, id); st.Status != runtime.StatusPending {
		t.Fatalf("replica is %s, want pending", st)
	}
	mustNew(t, cfg, f)
	testutil.Eventually(t, 10*time.Second, "the resumed supervisor to start the pending replica", func() bool {
		return mustState(t, f, id).Status == runtime.StatusRunning
	})
}

func TestStateKeepsNoCredentials(t *testing.T) {
	cfg := testConfig(t)
	f := runtimetest.NewFake("fake")
	a, err := New(t.Context(), cfg, []runtime.Containers{f})
	if err != nil {
		t.Fatal(err)
	}
	svc := service("web", 1, forever)
	svc.RegistryAuth = &spec.RegistryAuth{Username: "ops", Password: "hunter2-secret"}
	if _, err := a.Up(t.Context(), deployment("shop", svc)); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(cfg.Root, stateName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("hunter2-secret")) {
		t.Error("the state file holds the registry password")
	}
	if !bytes.Contains(b, []byte(`"shop"`)) {
		t.Error("the state file does not hold the deployment")
	}
}

// A replica stopped by hand through the API stays stopped, as with Docker's
// "always" restart policy, until it is started by hand or up runs; a crash
// after that is restarted again.
func TestReplicaStoppedByHandStaysStopped(t *testing.T) {
	f := runtimetest.NewFake("fake")
	var logs testutil.SyncBuffer
	a := mustNew(t, testConfig(t), f, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	c, _ := newHTTPClient(t, a)
	d := deployment("shop", service("web", 1, forever))
	mustUp(t, a, d)
	id := replicaID("shop", "web", 0)
	api := a.api()

	if err := api.Stop(t.Context(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the supervisor to leave the replica stopped", func() bool {
		return strings.Contains(logs.String(), "stopped by hand")
	})
	if st := mustState(t, f, id); st.Status == runtime.StatusRunning || testutilCounter(t, a, "web") != 0 {
		t.Fatalf("a replica stopped by hand was restarted: %v", st)
	}

	if err := api.Start(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	starts := countCalls(f, "start", id)
	if err := f.Exit(id, 137); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "a crash after the manual start to be restarted", func() bool {
		return countCalls(f, "start", id) > starts && mustState(t, f, id).Status == runtime.StatusRunning
	})

	if err := api.Stop(t.Context(), id, time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Up(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "up to start the replica stopped by hand", func() bool {
		return mustState(t, f, id).Status == runtime.StatusRunning
	})
}

// A down whose caller goes away (a CLI interrupted mid-down) still removes
// every replica, and leaves no record of a container that exists.
func TestDownIsNotCutShortByItsCaller(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	var svcs []*spec.ServiceSpec
	for i := range 5 {
		svcs = append(svcs, service(fmt.Sprintf("s%d", i), 2, forever))
	}
	mustUp(t, a, deployment("five", svcs...))
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // gone before the down begins
	res, err := a.Down(ctx, "five")
	if err != nil {
		t.Fatalf("Down with a cancelled caller: %v", err)
	}
	if len(res.Removed) != 10 {
		t.Errorf("removed %v, want all 10 replicas", res.Removed)
	}
	if cs, _ := f.List(t.Context()); len(cs) != 0 {
		t.Errorf("containers left after the down: %v", cs)
	}
	if _, err := a.Down(t.Context(), "five"); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("second Down = %v, want ErrNotFound", err)
	}
	mustUp(t, a, deployment("five", svcs...)) // the names are free again
}

// A down that fails for some replicas keeps the deployment with what may
// remain, and the next down finishes it.
func TestFailedDownIsFinishedByTheNext(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	mustUp(t, a, deployment("shop", service("web", 3, forever)))
	f.FailOn("remove", fmt.Errorf("the runtime broke: %w", runtime.ErrUnavailable))
	if _, err := a.Down(t.Context(), "shop"); err == nil {
		t.Fatal("Down with a failing runtime succeeded")
	}
	f.FailOn("remove", nil)
	res, err := a.Down(t.Context(), "shop")
	if err != nil {
		t.Fatalf("the second Down: %v", err)
	}
	if cs, _ := f.List(t.Context()); len(cs) != 0 {
		t.Errorf("containers left after the second down: %v (removed %v)", cs, res.Removed)
	}
}

// TestRestartPolicies: restart_policy decides which exits a service
// replica is started again after, as docker's.
func TestRestartPolicies(t *testing.T) {
	two := uint32(2)
	for _, tc := range []struct {
		name     string
		policy   *spec.RestartPolicy
		exitCode int
		starts   int // starts in all, the first included, once it settles
	}{
		{"no", &spec.RestartPolicy{Kind: "no"}, 1, 1},
		{"on_failure after a success", &spec.RestartPolicy{Kind: "on_failure"}, 0, 1},
		{"on_failure with max_attempts", &spec.RestartPolicy{Kind: "on_failure", MaxAttempts: &two}, 1, 3},
		{"always after a success", &spec.RestartPolicy{Kind: "always"}, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := runtimetest.NewFake("fake")
			b := Backoff{Initial: time.Millisecond, Max: time.Millisecond, Reset: time.Hour}
			a := mustNew(t, testConfig(t), f, WithRestartBackoff(b))
			svc := service("web", 1, runtimetest.Workload{ExitCode: tc.exitCode})
			svc.RestartPolicy = tc.policy
			mustUp(t, a, deployment("shop", svc))
			id := replicaID("shop", "web", 0)
			testutil.Eventually(t, 10*time.Second, fmt.Sprintf("%d starts", tc.starts), func() bool { return countCalls(f, "start", id) >= tc.starts })
			if tc.policy.Kind != "always" {
				testutil.Eventually(t, 10*time.Second, "the supervisor to let go", func() bool { return !a.supervised(id) })
				if got := countCalls(f, "start", id); got != tc.starts {
					t.Errorf("%d starts, want %d", got, tc.starts)
				}
			}
		})
	}
}

// TestErrorPolicies: on_panic shutdown leaves a failed replica exited;
// isolate keeps it under a name of its own and makes a new one in its
// place.
func TestErrorPolicies(t *testing.T) {
	for _, action := range []string{"shutdown", "isolate"} {
		t.Run(action, func(t *testing.T) {
			f := runtimetest.NewFake("fake")
			b := Backoff{Initial: time.Millisecond, Max: time.Millisecond, Reset: time.Hour}
			a := mustNew(t, testConfig(t), f, WithRestartBackoff(b))
			svc := service("web", 1, forever)
			svc.Errors = &spec.ErrorPolicy{}
			svc.Errors.OnPanic.Action = action
			mustUp(t, a, deployment("shop", svc))
			id := replicaID("shop", "web", 0)
			if err := f.Exit(id, 1); err != nil {
				t.Fatal(err)
			}
			switch action {
			case "shutdown":
				testutil.Eventually(t, 10*time.Second, "the supervisor to let go", func() bool { return !a.supervised(id) })
				if st := mustState(t, f, id); st.Status != runtime.StatusExited || countCalls(f, "start", id) != 1 {
					t.Errorf("state %s after %d starts; want exited, started once", st, countCalls(f, "start", id))
				}
			case "isolate":
				testutil.Eventually(t, 10*time.Second, "a new replica in place of the isolated one", func() bool {
					list, _ := f.List(t.Context())
					kept, fresh := false, false
					for _, c := range list {
						kept = kept || strings.HasPrefix(c.ID.Service, "shop-web-isolated-") && c.State.Status == runtime.StatusExited
						fresh = fresh || c.ID == id && c.State.Status == runtime.StatusRunning
					}
					return kept && fresh
				})
			}
		})
	}
}

// TestDeleteOnExit: a service replica its policies leave exited is
// removed when the spec says delete_on_exit.
func TestDeleteOnExit(t *testing.T) {
	f := runtimetest.NewFake("fake")
	a := mustNew(t, testConfig(t), f)
	svc := service("web", 1, runtimetest.Workload{ExitCode: 0})
	svc.RestartPolicy = &spec.RestartPolicy{Kind: "no"}
	svc.Lifecycle = &spec.Lifecycle{DeleteOnExit: true}
	mustUp(t, a, deployment("shop", svc))
	id := replicaID("shop", "web", 0)
	testutil.Eventually(t, 10*time.Second, "the exited replica to be removed", func() bool {
		_, err := f.State(t.Context(), id)
		return errors.Is(err, runtime.ErrNotFound)
	})
}

// A replica's health outlives the agent: a new agent on the root goes on
// from the verdict the last one kept on the run the replica still runs,
// until its own next check, and forgets it once the replica goes.
func TestHealthOutlivesTheAgent(t *testing.T) {
	cfg := testConfig(t)
	f := runtimetest.NewFake("fake")
	f.SetExec(func(runtime.ContainerID, []string) (runtime.ExecResult, error) { return runtime.ExecResult{}, nil })
	svc := service("web", 1, forever)
	interval := spec.Duration(2 * time.Second)
	grace := spec.Duration(0)
	svc.Health = &spec.Health{Interval: &interval, StartGrace: &grace, Retries: 1, Check: spec.HealthCheck{Type: "command", Command: "true"}}
	a := mustNew(t, cfg, f)
	if _, err := a.Up(t.Context(), deployment("healthd", svc)); err != nil {
		t.Fatal(err)
	}
	id := replicaID("healthd", "web", 0)
	status := func(a *Agent) string { h, _ := a.healthOf(id); return h.Status }
	testutil.Eventually(t, 10*time.Second, "the replica to turn healthy", func() bool { return status(a) == runtime.HealthHealthy })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// From now on every check fails; the next agent's first is due an
	// interval after its start, and until then it shows the kept verdict.
	f.SetExec(func(runtime.ContainerID, []string) (runtime.ExecResult, error) {
		return runtime.ExecResult{ExitCode: 1}, nil
	})
	b := mustNew(t, cfg, f)
	if h, ok := b.healthOf(id); !ok || h.Status != runtime.HealthHealthy || len(h.Log) == 0 {
		t.Fatalf("health under a new agent = %+v, %v; want the kept verdict, healthy, with its checks", h, ok)
	}
	testutil.Eventually(t, 10*time.Second, "the new agent's own check to find it unhealthy", func() bool { return status(b) == runtime.HealthUnhealthy })
	if _, err := b.Down(t.Context(), "healthd"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.healthFile(id)); !os.IsNotExist(err) {
		t.Fatalf("the kept health outlived the replica: %v", err)
	}
}
