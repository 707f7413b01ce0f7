package runc

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/switchyard/switchyard/internal/testutil"
	"github.com/switchyard/switchyard/runtime"
)

func TestOutputAndExitCodes(t *testing.T) {
	rt := newTestRuntime(t)
	for _, tc := range []struct {
		name   string
		script string
		kill   string // signal sent once it runs, if any
		code   int
		reason runtime.ExitReason
		signal string
		stdout string
		stderr string
	}{
		{name: "zero", script: "echo out; echo err >&2", stdout: "out\n", stderr: "err\n", reason: runtime.ReasonExited},
		{name: "code 42", script: "exit 42", code: 42, reason: runtime.ReasonExited},
		{name: "no trailing newline", script: "printf 'a\\nb'", stdout: "a\nb\n", reason: runtime.ReasonExited},
		// A container's init ignores signals it has no handler for (as in
		// Docker), except SIGKILL.
		{name: "killed by name", script: "echo up; while :; do sleep 1; done", kill: "KILL", code: 137, reason: runtime.ReasonSignal, signal: "SIGKILL", stdout: "up\n"},
		{name: "killed by number 9", script: "echo up; " + untilStopped, kill: "9", code: 137, reason: runtime.ReasonSignal, signal: "SIGKILL", stdout: "up\n"},
		{name: "TERM handled", script: "echo up; " + untilStopped, kill: "sigterm", code: 143, reason: runtime.ReasonExited, stdout: "up\n"},
		{name: "HUP handled", script: "trap 'echo hup; exit 5' HUP; echo up; while :; do sleep 1 & wait $!; done", kill: "1", code: 5, reason: runtime.ReasonExited, stdout: "up\nhup\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := cid("codes-" + strings.ReplaceAll(tc.name, " ", "-"))
			mustRun(t, rt, id, shSpec(id.Service, tc.script))
			if tc.kill != "" {
				testutil.Eventually(t, 20*time.Second, "first line", func() bool { return logText(t, rt, id, runtime.Stdout) != "" })
				if err := rt.Kill(context.Background(), id, tc.kill); err != nil {
					t.Fatalf("Kill(%s): %v", tc.kill, err)
				}
			}
			o := mustWait(t, rt, id)
			if o.ExitCode != tc.code || o.Reason != tc.reason || o.Signal != tc.signal {
				t.Errorf("outcome %+v, want code %d reason %s signal %q", o, tc.code, tc.reason, tc.signal)
			}
			if o.FinishedAt.IsZero() {
				t.Errorf("outcome has no finish time")
			}
			if got := logText(t, rt, id, runtime.Stdout); got != tc.stdout {
				t.Errorf("stdout %q, want %q", got, tc.stdout)
			}
			if got := logText(t, rt, id, runtime.Stderr); got != tc.stderr {
				t.Errorf("stderr %q, want %q", got, tc.stderr)
			}
			if err := rt.Remove(context.Background(), id, false); err != nil {
				t.Errorf("Remove: %v", err)
			}
		})
	}
}

func TestSecurityProfile(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("secure")
	mustRun(t, rt, id, shSpec("secure", untilStopped))
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		argv     []string
		wantCode func(int) bool
		wantOut  string
	}{
		{"docker's capability set", []string{"sh", "-c", "grep CapEff /proc/self/status"}, isZero, "CapEff:\t00000000a80425fb"},
		{"no new privileges", []string{"sh", "-c", "grep NoNewPrivs /proc/self/status"}, isZero, "NoNewPrivs:\t1"},
		{"seccomp filter on", []string{"sh", "-c", "grep '^Seccomp:' /proc/self/status"}, isZero, "Seccomp:\t2"},
		{"mount of a tmpfs fails", []string{"mount", "-t", "tmpfs", "tmpfs", "/mnt"}, nonZero, ""},
		{"writing /proc/sys fails", []string{"sh", "-c", "echo 1 > /proc/sys/kernel/panic"}, nonZero, ""},
		{"/proc/kcore is masked", []string{"sh", "-c", "test -s /proc/kcore"}, nonZero, ""},
		{"own pid namespace", []string{"sh", "-c", "echo $$; cat /proc/1/cmdline | tr '\\0' ' '"}, isZero, "sh -c " + untilStopped},
		{"own hostname", []string{"hostname"}, isZero, "secure-rep-0"},
		{"no network but loopback", []string{"sh", "-c", "ls /sys/class/net"}, isZero, "lo"},
		{"nofile limit", []string{"sh", "-c", "ulimit -n"}, isZero, "1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := rt.Exec(ctx, id, tc.argv)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantCode(res.ExitCode) || !strings.Contains(res.Stdout, tc.wantOut) {
				t.Errorf("exec %q = code %d, stdout %q, stderr %q; want output containing %q", tc.argv, res.ExitCode, res.Stdout, res.Stderr, tc.wantOut)
			}
		})
	}
}

func isZero(c int) bool  { return c == 0 }
func nonZero(c int) bool { return c != 0 }

func TestOOMKilled(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("oom")
	svc := shSpec("oom", `x=$(head -c 67108864 /dev/zero | tr '\0' a); echo survived ${#x}`)
	svc.Resources.MemoryBytes = 16 << 20
	mustRun(t, rt, id, svc)
	o := mustWait(t, rt, id)
	if o.Reason != runtime.ReasonOOMKilled {
		t.Fatalf("outcome %+v, want reason oom_killed (stdout %q)", o, logText(t, rt, id, runtime.Stdout))
	}
}

func TestStatsMemoryRises(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("stats")
	svc := shSpec("stats", `echo ready; read x < /dev/stdin; `+untilStopped)
	svc.Entrypoint = []string{"sh", "-c", `mkdir -p /dev/shm/f; trap 'exit 143' TERM; while :; do if [ -e /tmp/grow ]; then head -c 33554432 /dev/zero > /dev/shm/f/big; rm /tmp/grow; echo grown; fi; sleep 0.05; done`}
	svc.Resources.MemoryBytes = 256 << 20
	mustRun(t, rt, id, svc)
	ctx := context.Background()
	before, err := rt.Stats(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if before.MemoryLimit != 256<<20 || before.CPUUsageUsec == nil || before.PIDs == 0 {
		t.Errorf("stats %+v: want the 256 MiB limit, a CPU figure and pids", before)
	}
	if _, err := rt.Exec(ctx, id, []string{"touch", "/tmp/grow"}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 20*time.Second, "the workload to grow", func() bool { return strings.Contains(logText(t, rt, id, runtime.Stdout), "grown") })
	after, err := rt.Stats(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.MemoryBytes < before.MemoryBytes+24<<20 {
		t.Errorf("memory went from %d to %d bytes; want a rise of 32 MiB", before.MemoryBytes, after.MemoryBytes)
	}
}

func TestExec(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("exec")
	mustRun(t, rt, id, shSpec("exec", "echo made-by-init > /tmp/marker; "+untilStopped))
	ctx := context.Background()
	testutil.Eventually(t, 20*time.Second, "the marker file", func() bool {
		res, err := rt.Exec(ctx, id, []string{"cat", "/tmp/marker"})
		return err == nil && res.Stdout == "made-by-init\n"
	})
	res, err := rt.Exec(ctx, id, []string{"sh", "-c", "echo out; echo err >&2; exit 7"})
	if err != nil || res.ExitCode != 7 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Errorf("Exec = %+v, %v", res, err)
	}
	res, err = rt.Exec(ctx, id, []string{"/no/such/program"})
	if err != nil || res.ExitCode != 127 || !strings.Contains(res.Stderr, "no such file") {
		t.Errorf("Exec of a missing program = %+v, %v; want exit 127 with runc's message", res, err)
	}

	s, err := rt.ExecStream(ctx, id, []string{"sh", "-c", "echo one; sleep 0.1; echo two >&2; exit 3"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, errOut, exits := drainExec(t, s)
	if out != "one\n" || errOut != "two\n" || len(exits) != 1 || exits[0] != 3 {
		t.Errorf("ExecStream: stdout %q stderr %q exits %v", out, errOut, exits)
	}

	// With options: input, environment, user and working directory.
	s, err = rt.ExecStreamWith(ctx, id, []string{"sh", "-c", "tr a-z A-Z; echo v=$V uid=$(id -u) $(pwd)"},
		runtime.ExecOptions{Stdin: strings.NewReader("from stdin\n"), Env: []string{"V=42"}, User: "65534", Workdir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, errOut, exits = drainExec(t, s)
	if out != "FROM STDIN\nv=42 uid=65534 /tmp\n" || len(exits) != 1 || exits[0] != 0 {
		t.Errorf("ExecStreamWith: stdout %q stderr %q exits %v", out, errOut, exits)
	}
	// With a terminal: one stream, resized, fed from a pipe. runc relays a
	// resize to the process's terminal when it gets its SIGWINCH, in its
	// own time: the process looks until the size has come (5 s at most).
	inR, inW := io.Pipe()
	waitSize := `i=0; until [ "$(stty size 2>/dev/null)" = "30 100" ] || [ $i -ge 100 ]; do i=$((i+1)); sleep 0.05; done`
	s, err = rt.ExecStreamWith(ctx, id, []string{"sh", "-c", "tty; read x; " + waitSize + "; stty size; echo got $x; exit 3"},
		runtime.ExecOptions{Stdin: inR, TTY: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.(runtime.Resizer).Resize(30, 100); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = inW.Write([]byte("abc\n")) }()
	out, errOut, exits = drainExec(t, s)
	inW.Close()
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "30 100\r\n") || !strings.Contains(out, "got abc\r\n") || errOut != "" || len(exits) != 1 || exits[0] != 3 {
		t.Errorf("ExecStreamWith a terminal: stdout %q stderr %q exits %v", out, errOut, exits)
	}
	// A size given with the exec is the terminal's from the start: runc
	// is told it in the process it runs (it sets it before the process
	// runs), and the process looks at once.
	cmd, cleanup, err := rt.execCmd(ctx, id, []string{"true"}, runtime.ExecOptions{TTY: true, TerminalSize: [2]uint16{33, 101}})
	if err != nil {
		t.Fatal(err)
	}
	var given specs.Process
	if err := readJSON(cmd.Args[slices.Index(cmd.Args, "--process")+1], &given); err != nil {
		t.Fatal(err)
	}
	cleanup()
	if b := given.ConsoleSize; b == nil || b.Height != 33 || b.Width != 101 {
		t.Errorf("the exec's process tells runc the terminal size %+v, want 33x101", b)
	}
	s, err = rt.ExecStreamWith(ctx, id, []string{"stty", "size"}, runtime.ExecOptions{TTY: true, TerminalSize: [2]uint16{33, 101}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if out, errOut, exits = drainExec(t, s); out != "33 101\r\n" || len(exits) != 1 || exits[0] != 0 {
		t.Errorf("ExecStreamWith a terminal of a given size: stdout %q stderr %q exits %v; want 33 101 at once", out, errOut, exits)
	}
	if _, err := rt.ExecStreamWith(ctx, id, []string{"true"}, runtime.ExecOptions{Workdir: "tmp"}); !errors.Is(err, runtime.ErrInvalidArgument) {
		t.Errorf("ExecStreamWith a relative workdir: %v; want invalid argument", err)
	}

	if err := rt.Stop(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Exec(ctx, id, []string{"true"}); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Errorf("Exec in a stopped container: %v, want failed precondition", err)
	}
}

func TestFollowLogs(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("follow")
	mustRun(t, rt, id, shSpec("follow", "for i in 1 2 3; do echo line$i; sleep 0.05; done"))
	s, err := rt.FollowLogs(context.Background(), id, runtime.TailAll)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Text)
	}
	if strings.Join(got, ",") != "line1,line2,line3" {
		t.Errorf("followed %q", got)
	}
}

func TestVolumes(t *testing.T) {
	rt := newTestRuntime(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "in"), []byte("from host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := t.TempDir()
	id := cid("volumes")
	svc := shSpec("volumes", `cat /data/in; echo from container > /data/out; echo x > /ro/x || echo ro-refused; echo kept > /scratch/s; cat /scratch/s`)
	svc.Volumes = []runtime.Volume{
		{Name: "data", Path: "/data", Source: src},
		{Name: "ro", Path: "/ro", Source: ro, ReadOnly: true},
		{Name: "scratch", Path: "/scratch"},
	}
	mustRun(t, rt, id, svc)
	mustWait(t, rt, id)
	if got := logText(t, rt, id, runtime.Stdout); got != "from host\nro-refused\nkept\n" {
		t.Errorf("stdout %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(src, "out")); err != nil || string(b) != "from container\n" {
		t.Errorf("host file: %q, %v", b, err)
	}
	d, err := rt.Inspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Mounts) != 3 || !d.Mounts[1].ReadOnly || !strings.HasPrefix(d.Mounts[2].Source, d.StateDir) {
		t.Errorf("Inspect mounts %+v", d.Mounts)
	}
	if err := rt.SyncVolumes(context.Background(), id); err != nil {
		t.Errorf("SyncVolumes: %v", err)
	}
}

func TestInspect(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("inspect")
	svc := shSpec("inspect", "exit 0")
	svc.Env = []string{"GREETING=hi"}
	svc.Workdir = "/tmp"
	svc.Resources = runtime.Resources{CPU: 0.5, MemoryBytes: 64 << 20}
	mustRun(t, rt, id, svc)
	mustWait(t, rt, id)
	d, err := rt.Inspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if d.Image != busyboxRef || d.ImageDigest == "" || d.Runtime != "runc" || d.Workdir != "/tmp" ||
		d.Created.IsZero() || d.StartedAt.IsZero() || d.FinishedAt.IsZero() || d.Outcome == nil ||
		d.State.Status != runtime.StatusExited || d.Resources.MemoryBytes != 64<<20 ||
		strings.Join(d.Command, " ") != "sh -c exit 0" {
		t.Errorf("Inspect = %+v", d)
	}
	if !contains(d.Env, "GREETING=hi") || !contains(d.Env, "HOSTNAME=inspect-rep-0") {
		t.Errorf("env %q", d.Env)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRemoveCancelled checks that a Remove that cannot end the container
// leaves it whole, and a later Remove finishes the job.
func TestRemoveCancelled(t *testing.T) {
	rt := newTestRuntime(t)
	id := cid("cancelled")
	mustRun(t, rt, id, shSpec("cancelled", untilStopped))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rt.Remove(ctx, id, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("Remove with a cancelled context: %v, want context.Canceled", err)
	}
	if st, err := rt.State(context.Background(), id); err != nil || st.Status != runtime.StatusRunning {
		t.Fatalf("state after a failed Remove: %v, %v; want running", st, err)
	}
	if err := rt.Remove(context.Background(), id, true); err != nil {
		t.Fatal(err)
	}
}

// drainExec reads an exec's stream to its end: its stdout, its stderr and
// the exit codes it reported.
func drainExec(t *testing.T, s runtime.Stream[runtime.ExecEvent]) (out, errOut string, exits []int) {
	t.Helper()
	for {
		ev, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return out, errOut, exits
		}
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case runtime.ExecStdout:
			out += string(ev.Data)
		case runtime.ExecStderr:
			errOut += string(ev.Data)
		case runtime.ExecExit:
			exits = append(exits, ev.ExitCode)
		}
	}
}
