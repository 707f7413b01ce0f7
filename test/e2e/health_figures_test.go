package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHealthFigures measures what health checks cost the agent: its CPU
// time and resident memory while it checks N replicas (default 100) every
// second over a window of 30 s, against the same window before the checks
// were deployed.
//
//	SWITCHYARD_BENCH=1 go test ./test/e2e -run TestHealthFigures -v -timeout 20m
func TestHealthFigures(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH") != "1" {
		t.Skip("figures are measured only with SWITCHYARD_BENCH=1")
	}
	replicas := 100
	if v := os.Getenv("SWITCHYARD_HEALTH_REPLICAS"); v != "" {
		replicas, _ = strconv.Atoi(v)
	}
	const window = 30 * time.Second
	e := newEnv(t)
	deploy := func(health string) {
		e.ok("up", "-f", e.writeSpec("fig.yaml", fmt.Sprintf(`version: v1
deployment: healthfig
services:
  web:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['trap "exit 0" TERM; mkdir -p /www; echo ok > /www/index.html; httpd -f -p 8080 -h /www & wait']}
    scale: {mode: fixed, replicas: %d}
%s`, e.images.busybox, replicas, health)))
	}
	deploy("")
	idle := e.cpuOver(window)
	deploy(`    health:
      interval: 1s
      start_grace: 2s
      check: {type: http, url: "http://localhost:8080/index.html"}
`)
	waitFor(t, "every replica to be healthy", 5*time.Minute, func() bool {
		return strings.Count(e.ok("ps"), "(healthy)") == replicas
	})
	before := e.metric(`switchyard_health_checks_total{ok="true",service="healthfig-web"}`)
	checked := e.cpuOver(window)
	after := e.metric(`switchyard_health_checks_total{ok="true",service="healthfig-web"}`)
	checks := after - before
	t.Logf("agent CPU over %s: %.0f ms idle, %.0f ms with %d replicas checked every second (%.0f checks, %.1f%% of a core, %.0f µs a check); RSS %.1f MiB",
		window, idle.cpu.Seconds()*1000, checked.cpu.Seconds()*1000, replicas, checks,
		100*checked.cpu.Seconds()/window.Seconds(), float64((checked.cpu-idle.cpu).Microseconds())/checks, float64(checked.rss)/(1<<20))
	e.ok("down", "healthfig")
}

// usage is what a process used over a window.
type usage struct {
	cpu time.Duration
	rss int64
}

// cpuOver is the agent's CPU time over the next d, and its RSS at the end.
func (e *env) cpuOver(d time.Duration) usage {
	e.t.Helper()
	pid := e.daemon.Process.Pid
	t0 := procCPU(e.t, pid)
	time.Sleep(d) // a measurement window, not a wait for a condition
	u := usage{cpu: procCPU(e.t, pid) - t0}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid)); err == nil {
		f := strings.Fields(string(b))
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		u.rss = pages * int64(os.Getpagesize())
	}
	return u
}

// procCPU is a process's user and system CPU time.
func procCPU(t *testing.T, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // clock ticks of 10 ms
}

// TestChainFigures measures the time from up to every service healthy for
// a chain of three services, each depending on the next being healthy,
// each a busybox httpd with a tcp check every 200 ms.
//
//	SWITCHYARD_BENCH=1 go test ./test/e2e -run TestChainFigures -v
func TestChainFigures(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH") != "1" {
		t.Skip("figures are measured only with SWITCHYARD_BENCH=1")
	}
	e := newEnv(t)
	svc := func(name, dep string) string {
		s := fmt.Sprintf(`  %s:
    image: {name: %s}
    command: {entrypoint: [sh, -c], args: ['trap "exit 0" TERM; mkdir -p /www; httpd -f -p 8080 -h /www & wait']}
    health: {start_grace: 5s, interval: 200ms, check: {type: tcp, port: 8080}}
`, name, e.images.busybox)
		if dep != "" {
			s += fmt.Sprintf("    depends: [{service: %s}]\n", dep)
		}
		return s
	}
	var runs []time.Duration
	for i := range 5 {
		name := fmt.Sprintf("chain%d", i)
		file := e.writeSpec(name+".yaml", "version: v1\ndeployment: "+name+"\nservices:\n"+svc("web", "api")+svc("api", "db")+svc("db", ""))
		t0 := time.Now()
		e.ok("up", "-f", file)
		waitFor(t, "all three healthy", time.Minute, func() bool { return strings.Count(e.ok("ps"), "(healthy)") == 3 })
		runs = append(runs, time.Since(t0))
		e.ok("down", name)
	}
	t.Logf("up to all healthy, 3-service chain, 5 runs: %v", runs)
}
