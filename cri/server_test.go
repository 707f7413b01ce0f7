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
		{fmt.Errorf("x: %w", runtime.ErrNotSupported), codes.Unimplemented},
		{&runtime.RouteToPeerError{Service: "s", Platform: "windows/amd64", Reason: "no runtime"}, codes.FailedPrecondition},
		{errors.New("boom"), codes.Internal},
	} {
		got := status.Code(s.grpcError(context.Background(), "Test", tc.err))
		if got != tc.want {
			t.Errorf("%v: code %v; want %v", tc.err, got, tc.want)
		}
	}
	// Not served yet: Unimplemented, naming the method.
	_, err = s.CreateContainer(context.Background(), &runtimeapi.CreateContainerRequest{})
	if status.Code(err) != codes.Unimplemented || status.Convert(err).Message() != "method CreateContainer not implemented" {
		t.Errorf("CreateContainer = %v; want Unimplemented naming it", err)
	}
	// A pod needs its metadata.
	if _, err := s.RunPodSandbox(context.Background(), &runtimeapi.RunPodSandboxRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("RunPodSandbox without metadata = %v; want InvalidArgument", err)
	}
}
