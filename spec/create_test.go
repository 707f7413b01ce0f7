package spec_test

import (
	"reflect"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

func TestServiceSpecToCreateSpec(t *testing.T) {
	p := ocispec.Platform{OS: "wasip1", Architecture: "wasm"}
	svc := &spec.ServiceSpec{
		Name: "web", RType: spec.RTypeJob,
		Image:     spec.ImageSpec{Name: "busybox:1", PullPolicy: spec.PullAlways},
		Platform:  &p,
		Command:   spec.Command{Entrypoint: []string{"sh"}, Args: []string{"-c", "true"}, Workdir: "/tmp"},
		Env:       map[string]string{"B": "2", "A": "1"},
		Resources: spec.Resources{CPU: 0.5, MemoryBytes: 64 << 20},
		Volumes:   []spec.Volume{{Name: "data", Path: "/data", ReadOnly: true}},
		Scale:     spec.Scale{Replicas: 3},
		Endpoints: []spec.Endpoint{
			{Name: "http", Protocol: "http", Port: 8080, TargetPort: 80, Expose: "public"},
			{Name: "dns", Protocol: "udp", Port: 5353, Expose: "public"},
			{Name: "admin", Protocol: "tcp", Port: 9000, Expose: "internal"},
		},
	}
	got := svc.CreateSpec()
	want := &runtime.CreateSpec{
		Image: "busybox:1", Platform: &p,
		Entrypoint: []string{"sh"}, Args: []string{"-c", "true"}, Workdir: "/tmp",
		Env:       []string{"A=1", "B=2"},
		Resources: runtime.Resources{CPU: 0.5, MemoryBytes: 64 << 20},
		Volumes:   []runtime.Volume{{Name: "data", Path: "/data", ReadOnly: true}},
		// Public endpoints are published; internal ones are not.
		Network: runtime.NetworkSpec{Ports: []runtime.PortMapping{
			{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
			{HostPort: 5353, ContainerPort: 5353, Protocol: "udp"},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CreateSpec =\n%+v\nwant\n%+v", got, want)
	}
	// The request is a copy: changing it leaves the spec as it was.
	got.Volumes[0].Name = "other"
	got.Platform.OS = "linux"
	if svc.Volumes[0].Name != "data" || svc.Platform.OS != "wasip1" {
		t.Errorf("the request shares memory with the spec")
	}
	if err := want.Validate(); err != nil {
		t.Errorf("a converted valid spec does not validate: %v", err)
	}
	var none *spec.ServiceSpec
	if none.CreateSpec() != nil {
		t.Errorf("nil spec converts to a request")
	}
}
