package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestInteractiveCLI runs workloads that take input through switchyard's
// own CLI, as a person does: run -i and exec -i with input piped in, and
// run -it and exec -it in a real terminal (script gives the CLI one).
func TestInteractiveCLI(t *testing.T) {
	e := newEnv(t)
	piped := func(input string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, build.bin, args...)
		cmd.Env = append(os.Environ(), "SWITCHYARD_SOCKET="+e.sock)
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.Output() // the pull's notice goes to stderr
		return string(out), err
	}
	terminal := func(input string, args ...string) (string, int) {
		return inTerminal(t, input, []string{"SWITCHYARD_SOCKET=" + e.sock}, build.bin+" "+strings.Join(args, " "))
	}

	if out, err := piped("piped in\n", "run", "-i", "--rm", e.images.busybox, "sh", "-c", "tr a-z A-Z; echo end"); err != nil || out != "PIPED IN\nend\n" {
		t.Fatalf("run -i = %q, %v; want the input upper-cased, then end", out, err)
	}
	out, code := terminal("typed\n", "run", "-it", "--rm", e.images.busybox, "sh", "-c", `'tty; stty size; read x; echo got $x; exit 5'`)
	if code != 5 || !strings.Contains(out, "/dev/pts/0") || !strings.Contains(out, "33 101") || !strings.Contains(out, "got typed") {
		t.Fatalf("run -it = %q, exit %d; want a terminal of 33x101, the typed line and exit code 5", out, code)
	}
	out, code = terminal("echo hi from $((6*7))\nexit 3\n", "run", "-it", "--rm", e.images.busybox, "sh")
	if code != 3 || !strings.Contains(out, "# ") || !strings.Contains(out, "hi from 42") {
		t.Fatalf("run -it sh = %q, exit %d; want a prompt, the command's output and exit code 3", out, code)
	}

	e.ok("run", "-d", "--name", "box", e.images.busybox, "sleep", "300")
	waitFor(t, "box to run", 30*time.Second, func() bool { return e.sy("exec", "box", "true").code == 0 })
	if out, err := piped("from stdin\n", "exec", "-i", "box", "sh", "-c", "tr a-z A-Z; echo done"); err != nil || out != "FROM STDIN\ndone\n" {
		t.Fatalf("exec -i = %q, %v; want the input upper-cased, then done", out, err)
	}
	if r := e.sy("exec", "-e", "V=42", "-u", "65534", "-w", "/tmp", "box", "sh", "-c", "echo v=$V uid=$(id -u) $(pwd)"); r.code != 0 || !strings.Contains(r.stdout, "v=42 uid=65534 /tmp") {
		t.Fatalf("exec -e -u -w = %+v", r)
	}
	out, code = terminal("typed\n", "exec", "-it", "box", "sh", "-c", `'tty; stty size; read x; echo got $x; exit 4'`)
	if code != 4 || !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "33 101") || !strings.Contains(out, "got typed") {
		t.Fatalf("exec -it = %q, exit %d; want a terminal of 33x101, the typed line and exit code 4", out, code)
	}
	e.ok("rm", "-f", "box")
}

// inTerminal runs cmdline (a shell command line) in a real terminal of 33
// rows and 101 columns, which script (util-linux) gives it, with input
// typed into it and env added; it returns what the terminal showed and
// the exit code.
func inTerminal(t *testing.T, input string, env []string, cmdline string) (string, int) {
	t.Helper()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script (util-linux) is needed to give a command a terminal: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, scriptBin, "-qefc", "stty rows 33 cols 101; "+cmdline, "/dev/null")
	cmd.Env = append(append(os.Environ(), "TERM=xterm"), env...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("script: %v", err)
	}
	return string(out), code
}
