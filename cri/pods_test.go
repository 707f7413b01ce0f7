package cri

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/switchyard/switchyard/runtime/runtimetest"
)

// A pod id is a client's word: one that is not hex digits never reaches
// the filesystem (no pod has it: a stop or removal of it is done, a
// status of it is NotFound), and a record that does not describe its own
// directory is not trusted.
func TestPodIDsAreNotPaths(t *testing.T) {
	root := t.TempDir()
	s, err := New(runtimetest.NewFake("runc"), WithRoot(root))
	if err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.MkdirAll(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(t.TempDir(), "x")
	if err := os.MkdirAll(forged, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(forged, "pod.json"), []byte(`{"id":"`+victim+`","netns":"/proc"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(s.podsDir(), forged)
	ctx := context.Background()
	for _, id := range []string{rel, "../x", "ABC", "0123/../.."} {
		if _, err := s.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Errorf("RemovePodSandbox(%q) = %v; want done (no such pod)", id, err)
		}
		if _, err := s.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Errorf("StopPodSandbox(%q) = %v; want done (no such pod)", id, err)
		}
		if _, err := s.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id}); status.Code(err) != codes.NotFound {
			t.Errorf("PodSandboxStatus(%q) = %v; want NotFound", id, err)
		}
	}
	if _, err := s.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("StopPodSandbox with no id = %v; want InvalidArgument", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the victim directory went: %v", err)
	}
	// A record under a valid id that names another pod is refused too.
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := os.MkdirAll(s.podDir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.podDir(id), "pod.json"), []byte(`{"id":"`+victim+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("RemovePodSandbox of a forged record = %v; want FailedPrecondition", err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("the victim directory went: %v", err)
	}
	// Removing a pod that is not there succeeds, as CRI asks.
	if _, err := s.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: "ffff" + id[4:]}); err != nil {
		t.Errorf("RemovePodSandbox of a missing pod = %v; want success", err)
	}
}
