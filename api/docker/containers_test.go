package docker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// TestDockerCLIContainers drives containers the node already has (made
// through switchyard's own API, here on the fake runtime) with the docker
// CLI: ps, inspect, logs, stop, kill and rm, by name and by id prefix.
func TestDockerCLIContainers(t *testing.T) {
	f, host := serveFake(t)
	ctx := context.Background()
	web := runtime.ContainerID{Service: "web"}
	job := runtime.ContainerID{Service: "job"}
	for _, id := range []runtime.ContainerID{web, job} {
		if err := f.Create(ctx, id, &runtime.CreateSpec{Image: "busybox", Args: []string{"httpd", "-f"}, Labels: map[string]string{"tier": id.Service}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Start(ctx, web); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteLog(web, runtime.Stdout, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := f.WriteLog(web, runtime.Stderr, "oops"); err != nil {
		t.Fatal(err)
	}
	run := func(want string, args ...string) string {
		t.Helper()
		out, err := dockerCLI(t, host, args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("docker %s = %q, %v; want %q", strings.Join(args, " "), out, err, want)
		}
		return out
	}
	fail := func(want string, args ...string) {
		t.Helper()
		out, err := dockerCLI(t, host, args...)
		if err == nil || !strings.Contains(out, want) {
			t.Fatalf("docker %s = %q, %v; want an error with %q", strings.Join(args, " "), out, err, want)
		}
	}
	if out := run("web-rep-0", "ps", "--format", "{{.Names}} {{.State}} {{.Command}}"); strings.Contains(out, "job") {
		t.Fatalf("docker ps lists a created container: %q", out)
	}
	run("web-rep-0 running \"httpd -f\"", "ps", "--format", "{{.Names}} {{.State}} {{.Command}}")
	run("job-rep-0 created Created", "ps", "-a", "--filter", "label=tier=job", "--format", "{{.Names}} {{.State}} {{.Status}}")
	id := run("", "inspect", "--format", "{{.Id}}", "web-rep-0")
	if len(id) != 64 {
		t.Fatalf("container id %q: want 64 hex characters", id)
	}
	run("running /web-rep-0 httpd", "inspect", "--format", "{{.State.Status}} {{.Name}} {{.Path}}", id[:12])
	if out := run("hello", "logs", "web-rep-0"); !strings.Contains(out, "oops") {
		t.Fatalf("docker logs = %q; want both streams", out)
	}
	run("web-rep-0", "stop", "web-rep-0")
	run("exited", "inspect", "--format", "{{.State.Status}}", "web-rep-0")
	fail("is not running", "kill", "web-rep-0")
	run("web-rep-0", "rm", "web-rep-0")
	fail("No such container: web-rep-0", "rm", "web-rep-0")
	fail("No such object: nope", "inspect", "nope") // the CLI asks for a container, then an image
}
