package spec_test

import (
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/secrets"
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

// TestZLayerContainerFieldsReachTheCreateRequest parses a service with
// every container-level ZLayer field and checks what the runtime is asked
// for.
func TestZLayerContainerFieldsReachTheCreateRequest(t *testing.T) {
	d, err := spec.Parse([]byte(`version: v1
deployment: demo
services:
  web:
    image: {name: busybox}
    storage:
      - {type: bind, source: /srv/site, target: /site, readonly: true}
      - {type: named, name: data, target: /data}
      - {type: anonymous, target: /cache}
      - {type: tmpfs, target: /tmp, size: 16Mi, mode: 1777}
    privileged: false
    cap_add: [NET_ADMIN]
    cap_drop: [MKNOD]
    devices: [{path: /dev/fuse, write: false}]
    sysctls: {kernel.shmmni: "1024"}
    ulimits: {nofile: {soft: 512, hard: 1024}}
    security_opt: ["seccomp=unconfined", "no-new-privileges:false"]
    user: "1000:1000"
    extra_groups: ["2000"]
    read_only_root_fs: true
    pid_mode: host
    dns: [9.9.9.9]
    extra_hosts: ["db.local:10.0.0.5"]
    stop_signal: SIGQUIT
    labels: {team: web}
    port_mappings: [{container_port: 80, host_port: 18080, host_ip: 127.0.0.1}]
    network_mode: host
    resources: {pids_limit: 64, cpu_shares: 512}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Warnings) != 0 {
		t.Errorf("warnings for fields that act: %v", d.Warnings)
	}
	cs := d.Services["web"].CreateSpec()
	wantVolumes := []runtime.Volume{
		{Name: "storage-0", Path: "/site", Source: "/srv/site", ReadOnly: true},
		{Name: "data", Path: "/data", Kind: runtime.VolumeNamed},
		{Name: "storage-2", Path: "/cache"},
		{Name: "storage-3", Path: "/tmp", Kind: runtime.VolumeTmpfs, SizeBytes: 16 << 20, Mode: 0o1777},
	}
	if !reflect.DeepEqual(cs.Volumes, wantVolumes) {
		t.Errorf("volumes = %+v\nwant %+v", cs.Volumes, wantVolumes)
	}
	wantSec := runtime.Security{
		CapAdd: []string{"NET_ADMIN"}, CapDrop: []string{"MKNOD"}, ReadOnlyRootFS: true, AllowNewPrivileges: true, Seccomp: "unconfined",
		Devices: []runtime.Device{{Path: "/dev/fuse", Access: "r"}}, Sysctls: map[string]string{"kernel.shmmni": "1024"},
		Ulimits: []runtime.Ulimit{{Name: "nofile", Soft: 512, Hard: 1024}}, PidHost: true,
	}
	if !reflect.DeepEqual(cs.Security, wantSec) {
		t.Errorf("security = %+v\nwant %+v", cs.Security, wantSec)
	}
	if cs.User != "1000:1000" || cs.ExtraGroups[0] != "2000" || cs.Hostname != "" || cs.StopSignal != "SIGQUIT" || cs.Labels["team"] != "web" {
		t.Errorf("process fields = user %q groups %v hostname %q stop %q labels %v", cs.User, cs.ExtraGroups, cs.Hostname, cs.StopSignal, cs.Labels)
	}
	if cs.Network.Mode != runtime.NetworkHost || cs.Network.DNS[0].String() != "9.9.9.9" || cs.Network.ExtraHosts[0].Name != "db.local" ||
		len(cs.Network.Ports) != 1 || cs.Network.Ports[0].HostIP.String() != "127.0.0.1" || cs.Network.Ports[0].HostPort != 18080 {
		t.Errorf("network = %+v", cs.Network)
	}
	if cs.Resources.PidsLimit != 64 || cs.Resources.CPUShares != 512 {
		t.Errorf("resources = %+v", cs.Resources)
	}
}

// TestSecretNamesAgreeWithTheStore: a $S: reference the spec accepts names
// a secret the store can hold, and the other way round.
func TestSecretNamesAgreeWithTheStore(t *testing.T) {
	for _, name := range []string{"db", "db-password", "DB_2", "1db", "-x", "a.b", "a/b", "", strings.Repeat("a", 64), strings.Repeat("a", 65), "é"} {
		_, err := spec.Parse([]byte("version: v1\ndeployment: demo\nservices:\n  web:\n    image: busybox\n    env: {X: \"$S:" + name + "\"}\n"))
		if specOK, storeOK := err == nil, secrets.CheckName(name) == ""; specOK != storeOK {
			t.Errorf("%q: the spec says %v, the store %v", name, err, secrets.CheckName(name))
		}
	}
}
