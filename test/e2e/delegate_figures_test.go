package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDelegateFigures measures the "Delegates" figures of BENCHMARKS.md in
// the world of TestDelegateAcrossNamespaces (B in its own network
// namespace, over TLS with a token and client certificates):
//
//   - `switchyard run --rm BUSYBOX true` through A (handed to B) and
//     directly on B, side by side in one hyperfine run;
//   - `switchyard exec c true` of one running container, through A and
//     directly on B, side by side in one hyperfine run;
//   - both pairs again, alternating run by run, for medians and the median
//     of the paired ratios, which a load that comes and goes skews less.
//
// It runs only with SWITCHYARD_BENCH=1 and needs hyperfine; runs per
// command come from SWITCHYARD_BENCH_RUNS (default 30):
//
//	SWITCHYARD_BENCH=1 go test ./test/e2e -run TestDelegateFigures -v -timeout 30m
//
// It prints a Markdown table with the means, the ratios and the load
// average before and after.
func TestDelegateFigures(t *testing.T) {
	if os.Getenv("SWITCHYARD_BENCH") != "1" {
		t.Skip("figures are measured only with SWITCHYARD_BENCH=1")
	}
	if _, err := exec.LookPath("hyperfine"); err != nil {
		t.Skip("the delegate figures need hyperfine on PATH (apt-get install hyperfine)")
	}
	runs := os.Getenv("SWITCHYARD_BENCH_RUNS")
	if runs == "" {
		runs = "30"
	}
	w := newDelegateWorld(t)
	a, b := w.a, w.b
	a.ok("pull", w.busybox)
	a.ok("run", "-d", "--name", "c", w.busybox, "sh", "-c", sleeper)
	if r := a.ps()["c-rep-0"]; r.Runtime != "remote:b" || r.State != "running" {
		t.Fatalf("A's ps: c-rep-0 is %+v, want running on remote:b", r)
	}

	loadBefore := benchLoadAverage(t)
	runRes := runHyperfine(t, w.dir, "run", runs, [][2]string{
		{"run --rm through A (A→B)", syCmdline(a, "run", "--rm", w.busybox, "true")},
		{"run --rm directly on B", syCmdline(b, "run", "--rm", w.busybox, "true")},
	})
	execRes := runHyperfine(t, w.dir, "exec", runs, [][2]string{
		{"exec c true through A (A→B)", syCmdline(a, "exec", "c", "true")},
		{"exec c true directly on B", syCmdline(b, "exec", "c", "true")},
	})
	// The same pairs again, interleaved run by run: under a load that
	// comes and goes, the median of the paired ratios is steadier than
	// the ratio of two means measured one after the other.
	n := mustAtoi(t, runs)
	runPair := interleavedPair(t, n, syCmdline(a, "run", "--rm", w.busybox, "true"), syCmdline(b, "run", "--rm", w.busybox, "true"))
	execPair := interleavedPair(t, n, syCmdline(a, "exec", "c", "true"), syCmdline(b, "exec", "c", "true"))
	loadAfter := benchLoadAverage(t)

	var sb strings.Builder
	fmt.Fprintf(&sb, "| command | mean | σ | min | max |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range append(runRes, execRes...) {
		fmt.Fprintf(&sb, "| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ms |\n", r.Command, r.Mean*1e3, r.Stddev*1e3, r.Min*1e3, r.Max*1e3)
	}
	fmt.Fprintf(&sb, "\nrun --rm ratio (through A / on B): %.2f×\n", benchRatio(runRes, "through A", "directly on B"))
	fmt.Fprintf(&sb, "exec ratio (through A / on B): %.2f×, delegate hop adds %.1f ms\n",
		benchRatio(execRes, "through A", "directly on B"), 1e3*(benchMean(execRes, "through A")-benchMean(execRes, "directly on B")))
	fmt.Fprintf(&sb, "interleaved, median: run --rm %.1f ms through A vs %.1f ms on B, paired ratio %.2f×; exec %.1f ms vs %.1f ms, paired ratio %.2f×\n",
		runPair.a, runPair.b, runPair.ratio, execPair.a, execPair.b, execPair.ratio)
	fmt.Fprintf(&sb, "load average before: %s; after: %s; %d runs per command\n", loadBefore, loadAfter, mustAtoi(t, runs))
	t.Logf("delegate figures:\n%s", sb.String())
}

// pairResult is an interleaved measurement of two command lines: the
// median wall time of each in ms and the median of the per-round ratios.
type pairResult struct{ a, b, ratio float64 }

// interleavedPair runs command lines a and b alternately, n rounds after one
// warm-up round, and returns their medians and the median paired ratio.
func interleavedPair(t *testing.T, n int, a, b string) pairResult {
	t.Helper()
	timeOne := func(line string) float64 {
		f := strings.Fields(line)
		start := time.Now()
		if out, err := exec.Command(f[0], f[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", line, err, out)
		}
		return float64(time.Since(start).Microseconds()) / 1e3
	}
	timeOne(a)
	timeOne(b)
	var as, bs, rs []float64
	for range n {
		ta, tb := timeOne(a), timeOne(b)
		as, bs, rs = append(as, ta), append(bs, tb), append(rs, ta/tb)
	}
	return pairResult{a: benchMedian(as), b: benchMedian(bs), ratio: benchMedian(rs)}
}

func benchMedian(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchResult is one command of hyperfine's JSON export.
type benchResult struct {
	Command string  `json:"command"`
	Mean    float64 `json:"mean"`
	Stddev  float64 `json:"stddev"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
}

// runHyperfine runs commands ({name, command line}) side by side, without a
// shell, and returns hyperfine's results in the same order.
func runHyperfine(t *testing.T, dir, label, runs string, commands [][2]string) []benchResult {
	t.Helper()
	out := filepath.Join(dir, label+".json")
	args := []string{"--shell=none", "--warmup", "3", "--runs", runs, "--export-json", out}
	for _, c := range commands {
		args = append(args, "--command-name", c[0], c[1])
	}
	cmd := exec.Command("hyperfine", args...)
	b, err := cmd.CombinedOutput()
	t.Logf("hyperfine %s:\n%s", label, b)
	if err != nil {
		t.Fatalf("hyperfine %s: %v", label, err)
	}
	var export struct {
		Results []benchResult `json:"results"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &export); err != nil {
		t.Fatalf("hyperfine %s export: %v", label, err)
	}
	return export.Results
}

// syCmdline is a switchyard command line against agent g, for hyperfine
// without a shell (the socket is a flag, not the environment).
func syCmdline(g *syAgent, args ...string) string {
	return strings.Join(append([]string{build.bin, "--socket", g.sock}, args...), " ")
}

func benchMean(rs []benchResult, nameHas string) float64 {
	for _, r := range rs {
		if strings.Contains(r.Command, nameHas) {
			return r.Mean
		}
	}
	return 0
}

func benchRatio(rs []benchResult, num, den string) float64 {
	if d := benchMean(rs, den); d > 0 {
		return benchMean(rs, num) / d
	}
	return 0
}

// benchLoadAverage returns the 1, 5 and 15 minute load averages.
func benchLoadAverage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || n <= 0 {
		t.Fatalf("SWITCHYARD_BENCH_RUNS=%q: want a positive number of runs", s)
	}
	return n
}
