package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/switchyard/switchyard/api"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/spec"
)

func fullSpec() *spec.ServiceSpec {
	return &spec.ServiceSpec{
		Name:         "web",
		RType:        spec.RTypeService,
		Image:        spec.ImageSpec{Name: "127.0.0.1:5000/hello@sha256:abc", PullPolicy: spec.PullAlways},
		Platform:     &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"},
		Command:      spec.Command{Entrypoint: []string{"/bin/sh", "-c"}, Args: []string{"echo hi"}, Workdir: "/srv"},
		Env:          map[string]string{"A": "1", "B": ""},
		Endpoints:    []spec.Endpoint{{Name: "http", Protocol: "http", Port: 8080, Expose: "public"}},
		Resources:    spec.Resources{CPU: 0.5, MemoryBytes: 64 << 20},
		Scale:        spec.Scale{Replicas: 3},
		Volumes:      []spec.Volume{{Name: "data", Path: "/data", Source: "/srv/data", ReadOnly: true}, {Name: "cache", Path: "/cache"}},
		RegistryAuth: &spec.RegistryAuth{Username: "u", Password: "p", Token: "t"},
	}
}

func TestServiceSpecRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		svc  *spec.ServiceSpec
	}{
		{"every field", fullSpec()},
		{"minimal", &spec.ServiceSpec{Name: "job", Image: spec.ImageSpec{Name: "busybox"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(api.FromServiceSpec(tc.svc))
			if err != nil {
				t.Fatal(err)
			}
			got, err := api.DecodeServiceSpec(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("DecodeServiceSpec(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, tc.svc) {
				t.Errorf("round trip = %+v, want %+v", got, tc.svc)
			}
		})
	}
}

func TestDecodeServiceSpecErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, msg string }{
		{"negative cpu", `{"resources":{"cpu":-1}}`, "resources.cpu"},
		{"variant without arch", `{"platform":{"os":"linux","variant":"v8"}}`, "platform"},
		{"array body", `[]`, "got a JSON array, want an object"},
		{"replicas too big", `{"scale":{"replicas":5000000000}}`, "scale.replicas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.DecodeServiceSpec(strings.NewReader(tc.body))
			if !errors.Is(err, runtime.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("DecodeServiceSpec(%s) = %v, want invalid argument mentioning %q", tc.body, err, tc.msg)
			}
		})
	}
}
