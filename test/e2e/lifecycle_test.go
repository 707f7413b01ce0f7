package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHealthCheck: a busybox httpd with an http check goes starting →
// healthy; when its page is removed it turns unhealthy and is restarted,
// and healthy again. ps and inspect show it, /metrics counts it.
func TestHealthCheck(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("health.yaml", fmt.Sprintf(`version: v1
deployment: health-demo
services:
  web:
    image: {name: %s}
    command:
      entrypoint: [sh, -c]
      args: ['trap "exit 0" TERM; mkdir -p /www; echo ok > /www/index.html; httpd -f -p 8080 -h /www & wait']
    health:
      start_grace: 1s
      interval: 200ms
      timeout: 1s
      retries: 2
      check: {type: http, url: "http://localhost:8080/index.html"}
`, e.images.busybox))
	e.ok("up", "-f", file)
	id := "health-demo-web-rep-0"
	health := func() string {
		var rows []psRow
		if err := json.Unmarshal([]byte(e.ok("ps", "--format", "json")), &rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Name == id {
				return r.Health
			}
		}
		return ""
	}
	waitFor(t, "the replica to turn healthy", 20*time.Second, func() bool { return health() == "healthy" })
	if out := e.ok("ps"); !strings.Contains(out, "running (healthy)") {
		t.Errorf("ps shows:\n%s", out)
	}
	if out := e.ok("inspect", id); !strings.Contains(out, `"status": "healthy"`) || !strings.Contains(out, "GET http://") {
		t.Errorf("inspect shows no health:\n%s", out)
	}
	e.ok("exec", id, "rm", "/www/index.html")
	waitFor(t, "the replica to be found unhealthy and restarted", 20*time.Second, func() bool {
		return e.metric(`switchyard_replica_unhealthy_total{service="health-demo-web"}`) >= 1
	})
	waitFor(t, "the restarted replica to turn healthy again", 20*time.Second, func() bool { return health() == "healthy" })
	if n := e.metric(`switchyard_replica_restarts_total{service="health-demo-web"}`); n < 1 {
		t.Errorf("restarts = %v, want the unhealthy replica restarted", n)
	}
	if n := e.metric(`switchyard_health_checks_total{ok="false",service="health-demo-web"}`); n < 2 {
		t.Errorf("failed checks counted = %v, want at least the 2 retries", n)
	}
	e.ok("down", "health-demo")
}

// TestDependencies: web depends on db being healthy and is created only
// once it is; up says what it waited for. A dependency that is not met in
// time fails up (on_timeout: fail) and leaves the dependent uncreated.
func TestDependencies(t *testing.T) {
	e := newEnv(t)
	spec := func(deployment, dbArgs, timeout string) string {
		return fmt.Sprintf(`version: v1
deployment: %s
services:
  web:
    image: {name: %[2]s}
    command: {entrypoint: [sh, -c], args: ['%[3]s']}
    depends: [{service: db, timeout: %[5]s}]
  db:
    image: {name: %[2]s}
    command: {entrypoint: [sh, -c], args: ['%[4]s']}
    health:
      start_grace: 10s
      interval: 200ms
      check: {type: tcp, port: 8080}
`, deployment, e.images.busybox, sleeper, dbArgs, timeout)
	}
	// db listens only after 2 s.
	slowDB := `trap "exit 0" TERM; sleep 2; mkdir -p /www; httpd -f -p 8080 -h /www & wait`
	out := e.ok("up", "-f", e.writeSpec("deps.yaml", spec("deps-demo", slowDB, "60s")))
	if !strings.Contains(out, "waited    for db to be healthy (") {
		t.Errorf("up printed:\n%s\nwant what it waited for", out)
	}
	if i, j := strings.Index(out, "created   deps-demo-db-rep-0"), strings.Index(out, "created   deps-demo-web-rep-0"); i < 0 || j < i {
		t.Errorf("up printed:\n%s\nwant db created before web", out)
	}
	var waited time.Duration
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "waited    for db to be healthy ("); ok {
			waited, _ = time.ParseDuration(strings.TrimSuffix(rest, ")"))
		}
	}
	if waited < 1500*time.Millisecond {
		t.Errorf("waited %v for db, which listens only after 2 s", waited)
	}
	// A db that never listens: up fails after the timeout, web never made.
	res := e.sy("up", "-f", e.writeSpec("deps-fail.yaml", spec("deps-fail", sleeper, "1s")))
	if res.code == 0 || !strings.Contains(res.stderr, "waited 1s for db to be healthy") {
		t.Errorf("up with an unmet dependency: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if rows := e.psAll(); len(names(rows, "deps-fail-web")) > 0 || len(names(rows, "deps-fail-db")) == 0 {
		t.Errorf("after the failed up: %v; want db made, web not", names(rows, "deps-fail"))
	}
	e.ok("down", "deps-demo")
	e.ok("down", "deps-fail")
}

// TestJobRunOnDemand: a job runs at up and again each time it is asked,
// each run with its own exit code, and a run under way is refused.
func TestJobRunOnDemand(t *testing.T) {
	e := newEnv(t)
	// Each run counts itself in a volume and exits with its number.
	file := e.writeSpec("job.yaml", fmt.Sprintf(`version: v1
deployment: jobs-demo
services:
  count:
    rtype: job
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo "run $n"; exit $n']}
    storage: [{type: named, name: jobs-demo-count, target: /data}]
`, e.images.busybox))
	e.ok("up", "-f", file)
	id := "jobs-demo-count-rep-0"
	e.sy("wait", id)
	for _, want := range []int{2, 3} {
		res := e.sy("job", "run", "jobs-demo", "count")
		if res.code != want || !strings.Contains(res.stdout, fmt.Sprintf("%s: exited %d", id, want)) {
			t.Errorf("job run: exit %d, %q %q; want exit %d", res.code, res.stdout, res.stderr, want)
		}
	}
	if logs := e.ok("logs", id); !strings.Contains(logs, "run 3") {
		t.Errorf("logs lack the last run:\n%s", logs)
	}
	// Every run is listed, with what started it and its exit code.
	var runs []struct {
		Trigger  string `json:"trigger"`
		ExitCode int    `json:"exit_code"`
	}
	waitFor(t, "the three runs in the job's history", 10*time.Second, func() bool {
		runs = nil
		return json.Unmarshal([]byte(e.ok("job", "runs", "--format", "json", "jobs-demo", "count")), &runs) == nil && len(runs) == 3
	})
	for i, want := range []struct {
		trigger string
		code    int
	}{{"up", 1}, {"job run", 2}, {"job run", 3}} {
		if runs[i].Trigger != want.trigger || runs[i].ExitCode != want.code {
			t.Errorf("run %d = %+v, want %+v", i, runs[i], want)
		}
	}
	if res := e.sy("job", "run", "jobs-demo", "nope"); res.code == 0 || !strings.Contains(res.stderr, "has no service nope") {
		t.Errorf("job run of no service: exit %d, %s", res.code, res.stderr)
	}
	e.ok("down", "jobs-demo")
}

// TestCronRunsOnSchedule: a cron service every second runs again and
// again, never two runs at once (a run that takes 1.5 s makes the next tick
// skip), and stops with down.
func TestCronRunsOnSchedule(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("cron.yaml", fmt.Sprintf(`version: v1
deployment: cron-demo
services:
  tick:
    rtype: cron
    schedule: "* * * * * *"
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['echo start >> /data/log; sleep 1.5; echo end >> /data/log']}
    storage: [{type: named, name: cron-demo-tick, target: /data}]
`, e.images.busybox))
	out := e.ok("up", "-f", file)
	if strings.Contains(out, "created") {
		t.Errorf("up ran the cron service at once:\n%s", out)
	}
	volume := e.root + "/volumes/cron-demo-tick/log"
	runs := func() []string {
		b, _ := os.ReadFile(volume)
		return strings.Fields(string(b))
	}
	waitFor(t, "three scheduled runs", 30*time.Second, func() bool { return strings.Count(strings.Join(runs(), " "), "end") >= 3 })
	lines := runs()
	for i, l := range lines {
		if want := []string{"start", "end"}[i%2]; l != want {
			t.Fatalf("runs overlapped: %v", lines)
		}
	}
	if e.metric(`switchyard_cron_runs_total{outcome="skipped",service="cron-demo-tick"}`) < 1 {
		t.Error("no tick was skipped, though each run outlasts the second between ticks")
	}
	e.ok("down", "cron-demo")
	n := len(runs())
	time.Sleep(2500 * time.Millisecond) // a window for a run that should not come
	if len(runs()) > n+1 {
		t.Errorf("runs after down: %v", runs()[n:])
	}
}

// TestRollout: a changed spec of a 3-replica service with a health check
// replaces one replica at a time, each new one healthy before the next old
// one goes, so that two replicas answer at every moment of the rollout. A
// new spec whose replicas never turn healthy stops the rollout at its first
// replica and keeps the old others.
func TestRollout(t *testing.T) {
	e := newEnv(t)
	port, _ := strconv.Atoi(freePort(t))
	spec := func(page, path string) string {
		return e.writeSpec("rollout.yaml", fmt.Sprintf(`version: v1
deployment: roll
services:
  web:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['trap "exit 0" TERM; mkdir -p /www; echo %s > /www/index.html; httpd -f -p 8080 -h /www & wait']}
    scale: {mode: fixed, replicas: 3}
    endpoints: [{name: http, protocol: http, port: %d, target_port: 8080, expose: public}]
    health:
      start_grace: 1s
      interval: 200ms
      timeout: 1s
      retries: 2
      check: {type: http, url: "http://localhost:8080/%s"}
`, e.images.busybox, page, port, path))
	}
	ids := []string{"roll-web-rep-0", "roll-web-rep-1", "roll-web-rep-2"}
	e.ok("up", "-f", spec("v1", "index.html"))
	waitFor(t, "three healthy replicas", 30*time.Second, func() bool { return strings.Count(e.ok("ps"), "(healthy)") == 3 })
	// Watch, while the rollout runs, how many replicas answer.
	stop := make(chan struct{})
	least := make(chan int, 1)
	go func() {
		lowest := 3
		client := &http.Client{Timeout: 500 * time.Millisecond}
		for {
			select {
			case <-stop:
				least <- lowest
				return
			default:
			}
			up := 0
			for _, id := range ids {
				var out []inspectNet
				res := e.sy("inspect", id)
				if res.code != 0 || json.Unmarshal([]byte(res.stdout), &out) != nil || len(out) != 1 || out[0].Network == nil {
					continue
				}
				resp, err := client.Get("http://" + out[0].Network.Address.Addr().String() + ":8080/index.html")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == 200 {
						up++
					}
				}
			}
			lowest = min(lowest, up)
		}
	}()
	// And a client of the service's public port, through the agent's
	// balancer, sees no failed request.
	failed, served := make(chan int, 1), make(chan int, 1)
	go func() {
		client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		bad, ok := 0, 0
		for {
			select {
			case <-stop:
				failed <- bad
				served <- ok
				return
			default:
			}
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
			if err != nil || resp.StatusCode != 200 {
				bad++
			} else {
				ok++
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
	out := e.ok("up", "-f", spec("v2", "index.html"))
	close(stop)
	if n := <-least; n < 2 {
		t.Errorf("during the rollout only %d replicas answered at one moment; want 2 always", n)
	}
	if bad, ok := <-failed, <-served; bad > 0 || ok == 0 {
		t.Errorf("a client of the public port saw %d failed and %d served requests during the rollout; want none failed", bad, ok)
	} else {
		t.Logf("a client of the public port: %d requests during the rollout, none failed", ok)
	}
	for _, id := range ids {
		if !strings.Contains(out, "replaced  "+id) {
			t.Errorf("up printed:\n%s\nwant %s replaced", out, id)
		}
	}
	// A spec whose check never passes: the rollout stops at rep-0.
	res := e.sy("up", "-f", spec("v3", "missing.html"))
	if res.code == 0 || !strings.Contains(res.stderr, "rollout stopped at replica roll-web-rep-0") {
		t.Fatalf("up of a never-healthy spec: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, id := range ids[1:] {
		if logs := e.ok("exec", id, "cat", "/www/index.html"); !strings.Contains(logs, "v2") {
			t.Errorf("%s serves %q; want the v2 it ran before the failed rollout", id, logs)
		}
	}
	// A client that keeps a connection open does not hold up a down.
	idle, err := (&net.Dialer{}).Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	t0 := time.Now()
	e.ok("down", "roll")
	if took := time.Since(t0); took > 15*time.Second {
		t.Errorf("down took %v with a client connection open", took)
	}
}

// TestManualScale: switchyard scale converges a service to N replicas; a
// manual service keeps that count across an up of its file.
func TestManualScale(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("scale.yaml", fmt.Sprintf(`version: v1
deployment: scale-demo
services:
  web:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['%s']}
    scale: {mode: manual}
`, e.images.busybox, sleeper))
	count := func() int { return len(names(e.psAll(), "scale-demo-web")) }
	e.ok("up", "-f", file)
	if n := count(); n != 1 {
		t.Fatalf("%d replicas after up, want 1", n)
	}
	if out := e.ok("scale", "scale-demo", "web", "3"); !strings.Contains(out, "created   scale-demo-web-rep-2") {
		t.Errorf("scale printed:\n%s", out)
	}
	e.ok("up", "-f", file)
	if n := count(); n != 3 {
		t.Errorf("%d replicas after an up of the file, want the 3 scale set", n)
	}
	e.ok("scale", "scale-demo", "web", "1")
	if n := count(); n != 1 {
		t.Errorf("%d replicas after scale 1", n)
	}
	if res := e.sy("scale", "scale-demo", "nope", "2"); res.code == 0 || !strings.Contains(res.stderr, "has no service nope") {
		t.Errorf("scale of no service: exit %d, %s", res.code, res.stderr)
	}
	e.ok("down", "scale-demo")
}

// TestAdaptiveScaling: an adaptive service whose replicas burn more CPU
// than its target gains a replica after a cooldown, and gives it back once
// the load stops; the time each takes is logged (the figure).
func TestAdaptiveScaling(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("adaptive.yaml", fmt.Sprintf(`version: v1
deployment: auto
services:
  web:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['trap "exit 0" TERM; while :; do if [ -f /data/burn ]; then yes > /dev/null & p=$!; sleep 1; kill $p; else sleep 0.2; fi; done']}
    resources: {cpu: 0.2}
    storage: [{type: named, name: auto-load, target: /data}]
    scale: {mode: adaptive, min: 1, max: 2, cooldown: 2s, targets: {cpu: 50}}
`, e.images.busybox))
	count := func() int { return len(names(e.psAll(), "auto-web")) }
	e.ok("up", "-f", file)
	if n := count(); n != 1 {
		t.Fatalf("%d replicas after up, want min 1", n)
	}
	burn := e.root + "/volumes/auto-load/burn"
	if err := os.WriteFile(burn, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	waitFor(t, "a second replica under load", 60*time.Second, func() bool { return count() == 2 })
	up := time.Since(t0)
	if err := os.Remove(burn); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	waitFor(t, "back to one replica once the load stopped", 60*time.Second, func() bool { return count() == 1 })
	t.Logf("adaptive scaling (cooldown 2s): up after %v of load, down after %v without", up.Round(100*time.Millisecond), time.Since(t1).Round(100*time.Millisecond))
	waitFor(t, "/metrics to count both decisions", 10*time.Second, func() bool {
		return e.metric(`switchyard_scale_decisions_total{direction="up",service="auto-web"}`) >= 1 &&
			e.metric(`switchyard_scale_decisions_total{direction="down",service="auto-web"}`) >= 1
	})
	// An up of the same file keeps the count within min..max.
	e.ok("up", "-f", file)
	if n := count(); n != 1 {
		t.Errorf("%d replicas after a second up", n)
	}
	e.ok("down", "auto")
}

// TestInitSteps: a service's init steps run before its replica starts: one
// waits for another service's port, one runs a command in a container of
// the service's image (writing to its volume); a failing step stops the
// replica from starting and up says which.
func TestInitSteps(t *testing.T) {
	e := newEnv(t)
	spec := func(deployment, run string) string {
		return e.writeSpec(deployment+".yaml", fmt.Sprintf(`version: v1
deployment: %s
services:
  db:
    image: {name: %[2]s}
    command: {entrypoint: [sh, -c], args: ['trap "exit 0" TERM; sleep 1.5; mkdir -p /www; httpd -f -p 8080 -h /www & wait']}
  web:
    image: {name: %[2]s}
    command: {entrypoint: [sh, -c], args: ['cat /data/prepared; %[3]s']}
    storage: [{type: named, name: %[1]s-data, target: /data}]
    init:
      steps:
        - {id: wait-db, uses: init.wait_tcp, with: {host: db, port: 8080, timeout: 30}}
        - {id: prepare, uses: init.run, with: {command: '%[4]s'}}
`, deployment, e.images.busybox, sleeper, run))
	}
	t0 := time.Now()
	e.ok("up", "-f", spec("init-demo", "echo prepared-by-init > /data/prepared"))
	if took := time.Since(t0); took < time.Second {
		t.Errorf("up took %v; web should have waited for db's port, open after 1.5 s", took)
	}
	waitFor(t, "web's output", 20*time.Second, func() bool { return strings.Contains(e.ok("logs", "init-demo-web-rep-0"), "prepared-by-init") })
	if rows := e.psAll(); len(names(rows, "init-demo-web-init")) > 0 {
		t.Errorf("the init container was left: %v", names(rows, "init-demo"))
	}
	res := e.sy("up", "-f", spec("init-fail", "echo failing; exit 3"))
	if res.code == 0 || !strings.Contains(res.stderr, "init step prepare (init.run)") || !strings.Contains(res.stderr, "exited 3") {
		t.Errorf("up with a failing init step: exit %d, %s", res.code, res.stderr)
	}
	e.ok("down", "init-demo")
	e.ok("down", "init-fail")
}

// TestInitFailureRestart: with on_init_failure restart, a failing init
// step does not fail up; it is tried again until it passes, and then the
// replica starts.
func TestInitFailureRestart(t *testing.T) {
	e := newEnv(t)
	file := e.writeSpec("initretry.yaml", fmt.Sprintf(`version: v1
deployment: initretry
services:
  web:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['echo "started after $(cat /data/n) init runs"; %s']}
    storage: [{type: named, name: initretry-data, target: /data}]
    init:
      steps:
        - {id: flaky, uses: init.run, with: {command: 'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; [ $n -ge 3 ]'}}
    errors:
      on_init_failure: {action: restart}
`, e.images.busybox, sleeper))
	e.ok("up", "-f", file)
	waitFor(t, "the replica to start once its init passed", 30*time.Second, func() bool {
		return strings.Contains(e.sy("logs", "initretry-web-rep-0").stdout, "started after 3 init runs")
	})
	e.ok("down", "initretry")
}
