package docker

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/switchyard/switchyard/runtime"
)

func decodeCreate(t testing.TB, body string) container.CreateRequest {
	t.Helper()
	var req container.CreateRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	return req
}

func TestConvertCreate(t *testing.T) {
	req := decodeCreate(t, `{"Image":"busybox","Cmd":["httpd","-f"],"Env":["A=1"],"User":"1000:1000","Labels":{"tier":"web"},
		"HostConfig":{"NetworkMode":"appnet","Binds":["/srv:/srv:ro","data:/data:rw"],"PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18090"}],"53/udp":[{"HostPort":""}]},
		"AutoRemove":true,"Memory":67108864,"NanoCpus":500000000,"Runtime":"runc","CapAdd":["NET_ADMIN"],"ExtraHosts":["db:10.0.0.5"]},
		"NetworkingConfig":{"EndpointsConfig":{"appnet":{"Aliases":["web"]}}}}`)
	cs, warnings, err := convertCreate(req, "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	if cs.Image != "busybox" || strings.Join(cs.Args, " ") != "httpd -f" || cs.User != "1000:1000" || cs.Labels["tier"] != "web" || !cs.AutoRemove || cs.Runtime != "runc" {
		t.Errorf("config: %+v", cs)
	}
	if cs.Platform == nil || cs.Platform.OS != "linux" || cs.Platform.Architecture != "amd64" {
		t.Errorf("platform = %v", cs.Platform)
	}
	if cs.Resources.MemoryBytes != 64<<20 || cs.Resources.CPU != 0.5 {
		t.Errorf("resources = %+v", cs.Resources)
	}
	if cs.Network.Mode != "appnet" || strings.Join(cs.Network.Aliases, ",") != "web" || len(cs.Network.Ports) != 2 || len(cs.Network.ExtraHosts) != 1 {
		t.Errorf("network = %+v", cs.Network)
	}
	if len(cs.Volumes) != 2 || !cs.Volumes[0].ReadOnly || cs.Volumes[0].Source != "/srv" || cs.Volumes[1].Kind != runtime.VolumeNamed || cs.Volumes[1].Name != "data" {
		t.Errorf("volumes = %+v", cs.Volumes)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestConvertCreateRefuses(t *testing.T) {
	for _, tc := range []struct {
		body, platform string
		kind           error
		want           string
	}{
		{`{"Cmd":["true"]}`, "", runtime.ErrInvalidArgument, "no image"},
		{`{"Image":"busybox","HostConfig":{"PortBindings":{"80/tcp":[{"HostPort":"8000-8010"}]}}}`, "", runtime.ErrInvalidArgument, `host port "8000-8010"`},
		{`{"Image":"busybox","HostConfig":{"Binds":["nodst"]}}`, "", runtime.ErrInvalidArgument, "want SRC:DST[:ro]"},
		{`{"Image":"busybox","HostConfig":{"NetworkMode":"container:web"}}`, "", runtime.ErrInvalidArgument, "container:NAME"},
		{`{"Image":"busybox","HostConfig":{"ExtraHosts":["db"]}}`, "", runtime.ErrInvalidArgument, "want NAME:IP"},
		{`{"Image":"busybox"}`, "linux/amd64/v1/x", runtime.ErrInvalidArgument, "platform"},
		{`{"Image":"busybox","HostConfig":{"AutoRemove":true,"RestartPolicy":{"Name":"always"}}}`, "", runtime.ErrInvalidArgument, "--restart and --rm"},
		{`{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"sometimes"}}}`, "", runtime.ErrInvalidArgument, "want no, always"},
		{`{"Image":"busybox","HostConfig":{"RestartPolicy":{"Name":"always","MaximumRetryCount":2}}}`, "", runtime.ErrInvalidArgument, "maximum retry count"},
	} {
		_, _, err := convertCreate(decodeCreate(t, tc.body), tc.platform)
		if !errors.Is(err, tc.kind) || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %v with %q", tc.body, err, tc.kind, tc.want)
		}
	}
}

// FuzzConvertCreate: any request a client sends converts or is refused
// with a kind, and what converts is a valid create request.
func FuzzConvertCreate(f *testing.F) {
	f.Add(`{"Image":"busybox","Cmd":["echo","hi"],"HostConfig":{"Binds":["/a:/b:ro"],"PortBindings":{"80/tcp":[{"HostPort":"8080"}]}}}`, "")
	f.Add(`{"Image":"x","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t"}],"Tmpfs":{"/run":""}}}`, "wasip1/wasm")
	f.Fuzz(func(t *testing.T, body, platform string) {
		var req container.CreateRequest
		if json.Unmarshal([]byte(body), &req) != nil {
			return
		}
		cs, _, err := convertCreate(req, platform)
		if err != nil {
			if runtime.KindOf(err) == nil {
				t.Fatalf("error without a kind: %v", err)
			}
			return
		}
		if err := cs.Validate(); err != nil {
			t.Fatalf("converted request is invalid: %v", err)
		}
	})
}
