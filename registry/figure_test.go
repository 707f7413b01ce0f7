package registry

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testimages"
	"github.com/switchyard/switchyard/runtime"
)

// TestPullFigure measures a pull of a 100 MiB, 5-layer image of random
// content from the distribution registry on loopback into a fresh store:
// wall time and MiB/s, over a few runs. It is a figure, not a check, so it
// runs only with SWITCHYARD_BENCH=1:
//
//	SWITCHYARD_BENCH=1 go test -run TestPullFigure -v ./registry
//
// Each run also unpacks the layers (PrepareRootfs), since docker pull both
// downloads and unpacks. With SWITCHYARD_BENCH_DOCKER set to a Docker
// engine address (-H of the docker CLI), the same image is pulled with
// docker pull from the same registry, side by side.
func TestPullFigure(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH") != "1" {
		t.Skip("a figure, not a check: set SWITCHYARD_BENCH=1 to run it")
	}
	const size, layers, runs = 100 << 20, 5, 3
	ctx := context.Background()
	reg := startDistribution(t, "", "")
	img := testimages.Large(t, size, layers)
	ref := testimages.Push(t, reg.host, "large:100m", img)
	t.Logf("image %s: %d MiB in %d layers", ref, size>>20, layers)
	for i := range runs {
		st := mustStore(t)
		svc := NewImageService(st, noKeychain)
		start := time.Now()
		info, err := svc.Pull(ctx, ref, runtime.PullOptions{Policy: runtime.PullAlways})
		d := time.Since(start)
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		start = time.Now()
		if _, _, err := st.PrepareRootfs(ctx, "figure", ref, nil); err != nil {
			t.Fatalf("unpack: %v", err)
		}
		u := time.Since(start)
		if err := st.ReleaseRootfs(ctx, "figure"); err != nil {
			t.Fatalf("release: %v", err)
		}
		mib := float64(info.Size) / (1 << 20)
		t.Logf("switchyard run %d: pull %.1f MiB in %v (%.1f MiB/s); unpack %v; pull+unpack %v (%.1f MiB/s)", i+1, mib,
			d.Round(time.Millisecond), mib/d.Seconds(), u.Round(time.Millisecond), (d + u).Round(time.Millisecond), mib/(d+u).Seconds())
		if host := os.Getenv("SWITCHYARD_BENCH_DOCKER"); host != "" {
			start = time.Now()
			if out, err := exec.Command("docker", "-H", host, "pull", "-q", ref).CombinedOutput(); err != nil {
				t.Fatalf("docker pull: %v\n%s", err, out)
			}
			d := time.Since(start)
			t.Logf("docker pull run %d: %.1f MiB in %v (%.1f MiB/s)", i+1, mib, d.Round(time.Millisecond), mib/d.Seconds())
			if out, err := exec.Command("docker", "-H", host, "rmi", ref).CombinedOutput(); err != nil {
				t.Fatalf("docker rmi: %v\n%s", err, out)
			}
		}
	}
}
