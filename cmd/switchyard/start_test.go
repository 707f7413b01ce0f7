package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestFigureExecToFirstRequest measures what the figure names:
// from the exec of `switchyard ps` to its first request reaching the
// daemon's socket, median and 90th percentile over runs. It builds the
// CLI as installed. SWITCHYARD_CLI_ANCHOR, when set to another switchyard
// binary, is measured interleaved in the same run and the ratio printed.
func TestFigureExecToFirstRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build does
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	bins := map[string]string{"switchyard": filepath.Join(dir, "switchyard")}
	if anchor := os.Getenv("SWITCHYARD_CLI_ANCHOR"); anchor != "" {
		bins["anchor"] = anchor
	}
	sock := filepath.Join(dir, "sy.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case arrived <- time.Now():
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("[]\n"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	runs := 20
	if os.Getenv("SWITCHYARD_FIGURES") != "" {
		runs = 200
	}
	got := map[string][]time.Duration{}
	for i := 0; i < runs; i++ {
		for name, bin := range bins {
			cmd := exec.Command(bin, "ps")
			cmd.Env = append(os.Environ(), "SWITCHYARD_SOCKET="+sock)
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var at time.Time
			select {
			case at = <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s ps sent no request within 10 s", name)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%s ps: %v", name, err)
			}
			got[name] = append(got[name], at.Sub(start))
		}
	}
	med := map[string]time.Duration{}
	for name, ds := range got {
		slices.Sort(ds)
		med[name] = ds[len(ds)/2]
		t.Logf("%s: exec → first request: median %v, p90 %v over %d runs", name, med[name], ds[len(ds)*9/10], len(ds))
	}
	if a, ok := med["anchor"]; ok {
		t.Logf("ratio switchyard/anchor: %.2f", float64(med["switchyard"])/float64(a))
	}
}
