package cri

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtime/runtimetest"
)

func TestRefMatches(t *testing.T) {
	hex := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	img := runtime.ImageInfo{Reference: "index.docker.io/library/busybox:latest", Digest: "sha256:" + hex}
	for ref, want := range map[string]bool{
		"busybox": true, "busybox:latest": true, "docker.io/library/busybox": true, "index.docker.io/library/busybox:latest": true,
		"sha256:" + hex: true, hex: true, "busybox@sha256:" + hex: true,
		"busybox:1": false, "alpine": false, "sha256:ffff": false,
	} {
		if got := refMatches(img, ref); got != want {
			t.Errorf("refMatches(%q) = %v; want %v", ref, got, want)
		}
	}
}

func TestRegistryAuth(t *testing.T) {
	enc := base64.StdEncoding.EncodeToString([]byte("me:secret"))
	if a, err := registryAuth(&runtimeapi.AuthConfig{Auth: enc}); err != nil || a.Username != "me" || a.Password != "secret" {
		t.Errorf("auth from base64 = %+v, %v", a, err)
	}
	if a, err := registryAuth(&runtimeapi.AuthConfig{IdentityToken: "tok"}); err != nil || a.Token != "tok" {
		t.Errorf("identity token = %+v, %v", a, err)
	}
	if a, err := registryAuth(&runtimeapi.AuthConfig{}); err != nil || a != nil {
		t.Errorf("no credentials = %+v, %v; want none", a, err)
	}
	for _, bad := range []string{"!!", base64.StdEncoding.EncodeToString([]byte("nocolon"))} {
		if _, err := registryAuth(&runtimeapi.AuthConfig{Auth: bad}); !errors.Is(err, runtime.ErrInvalidArgument) {
			t.Errorf("auth %q: %v; want invalid argument", bad, err)
		}
	}
}

// FuzzRegistryAuth reads what a kubelet sends as credentials: an answer
// or an error, never a panic.
func FuzzRegistryAuth(f *testing.F) {
	f.Add("bWU6c2VjcmV0", "", "")
	f.Fuzz(func(t *testing.T, auth, user, token string) {
		_, _ = registryAuth(&runtimeapi.AuthConfig{Auth: auth, Username: user, IdentityToken: token})
	})
}

// Errors reach the kubelet with the gRPC code of their kind; a route to a
// peer is a failed precondition that keeps its remedy.
func TestErrorCodes(t *testing.T) {
	s, err := New(runtimetest.NewFake("runc"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{fmt.Errorf("x: %w", runtime.ErrNotFound), codes.NotFound},
		{fmt.Errorf("x: %w", runtime.ErrInvalidArgument), codes.InvalidArgument},
		{fmt.Errorf("x: %w", runtime.ErrNotSupported), codes.InvalidArgument},
		{&runtime.RouteToPeerError{Service: "s", Platform: "windows/amd64", Reason: "no runtime"}, codes.FailedPrecondition},
		{errors.New("boom"), codes.Internal},
	} {
		got := status.Code(s.grpcError(context.Background(), "Test", tc.err))
		if got != tc.want {
			t.Errorf("%v: code %v; want %v", tc.err, got, tc.want)
		}
	}
	// Not served: Unimplemented, naming the method.
	_, err = s.CheckpointContainer(context.Background(), &runtimeapi.CheckpointContainerRequest{})
	if status.Code(err) != codes.Unimplemented || status.Convert(err).Message() != "method CheckpointContainer not implemented" {
		t.Errorf("CheckpointContainer = %v; want Unimplemented naming it", err)
	}
	// A container needs its metadata.
	if _, err := s.CreateContainer(context.Background(), &runtimeapi.CreateContainerRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("CreateContainer without metadata = %v; want InvalidArgument", err)
	}
	// A pod needs its metadata.
	if _, err := s.RunPodSandbox(context.Background(), &runtimeapi.RunPodSandboxRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("RunPodSandbox without metadata = %v; want InvalidArgument", err)
	}
}

// The kubelet's annotation of a container's ports is outside input: any
// value is a list of ports or an error of kind InvalidArgument.
func FuzzContainerPorts(f *testing.F) {
	for _, s := range []string{`[{"name":"http","containerPort":8080,"protocol":"TCP"}]`, `[]`, `[{"containerPort":0}]`, `{`, `[{"containerPort":53,"protocol":"UDP"}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := containerPorts(s)
		if err != nil {
			if !errors.Is(err, runtime.ErrInvalidArgument) {
				t.Fatalf("containerPorts(%q): error of another kind: %v", s, err)
			}
			return
		}
		for _, p := range ports {
			if p == 0 {
				t.Fatalf("containerPorts(%q) gave port 0", s)
			}
		}
	})
}

// /proc/net/dev is read by its fields, loopback and headers left out;
// any input gives interfaces or none, never a panic.
func FuzzParseNetDev(f *testing.F) {
	f.Add([]byte("Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n  eth0:   1234      10    1    0    0     0          0         0     5678      20    2    0    0     0       0          0\n"))
	f.Add([]byte("eth0: 1 2 3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, i := range parseNetDev(b) {
			if i.GetName() == "lo" || i.GetRxBytes() == nil || i.GetTxBytes() == nil {
				t.Fatalf("parseNetDev(%q) gave %v", b, i)
			}
		}
	})
}

func TestParseNetDev(t *testing.T) {
	ifs := parseNetDev([]byte("h1\nh2\n    lo: 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9 9\n  eth0:   1234      10    1    0    0     0          0         0     5678      20    2    0    0     0       0          0\n"))
	if len(ifs) != 1 || ifs[0].GetName() != "eth0" || ifs[0].GetRxBytes().GetValue() != 1234 || ifs[0].GetTxBytes().GetValue() != 5678 || ifs[0].GetRxErrors().GetValue() != 1 || ifs[0].GetTxErrors().GetValue() != 2 {
		t.Fatalf("parseNetDev = %v", ifs)
	}
}
