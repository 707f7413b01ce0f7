package e2e

import (
	"encoding/json"
	"fmt"
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
