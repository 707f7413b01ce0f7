package shim

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/internal/cgroupfs"
	"github.com/switchyard/switchyard/internal/logfile"
	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// ReadyFD is the file descriptor on which the shim reports that the
// container was created or why it was not (statedir.WriteReady). The
// runtime passes the write end of a pipe there (exec.Cmd.ExtraFiles[0]).
const ReadyFD = 3

// ShimEnv is what the runtime adds to the environment of a shim it starts:
// one processor. The shim waits, and copies output, one thing at a time,
// and every processor and thread the Go runtime sets up at start is memory
// each container pays (an idle shim's private memory: about 1.7 MiB with
// two processors, 1.2 MiB with one).
const ShimEnv = "GOMAXPROCS=1"

// drainTimeout bounds how long the shim waits for the output pipes to close
// after init exits: a process that escaped the container's PID namespace
// with a copy of a pipe must not keep the exit from being recorded.
const drainTimeout = 2 * time.Second

// config is what the runtime passes on the command line.
type config struct {
	runc, runcRoot, runcState, dir, id, cgroup string
	gen                                        uint64
	logMaxSize                                 int64
	logMaxFiles                                int
	heldFDs                                    int
	autoRemove                                 bool
}

// Main runs the shim with args (the words after "shim") and returns the
// process exit code. It is meant to be the whole of a process's life.
func Main(args []string) int {
	// The shim is idle almost all its life and allocates little: a small
	// heap target keeps its resident memory close to the Go runtime's floor.
	debug.SetGCPercent(20)
	// The runtime starts the shim with GOMAXPROCS=1 (ShimEnv); what the
	// shim runs (runc, the exit hook) gets the environment without it.
	os.Unsetenv("GOMAXPROCS")
	if len(args) > 0 && args[0] == PauseArg {
		return Pause()
	}
	standby := len(args) > 0 && args[0] == StandbyArg
	if standby {
		// The first process start (runc create, after the assignment)
		// would probe, once, whether pidfds work: a pidfd of this
		// process, a signal through it and a clone with CLONE_PIDFD of a
		// child that exits. Finding a process runs the same probe: it is
		// paid now, while the standby waits.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
		var err error
		if args, err = awaitAssignment(); err != nil {
			if errors.Is(err, errUnassigned) {
				return 0 // its agent went away: nothing to supervise
			}
			fmt.Fprintln(os.Stderr, "shim: standby:", err)
			return 1
		}
	}

	var c config
	fs := flag.NewFlagSet("shim", flag.ContinueOnError)
	fs.StringVar(&c.runc, "runc", "runc", "OCI runtime binary")
	fs.StringVar(&c.runcRoot, "runc-root", "", "OCI runtime state root (--root)")
	fs.StringVar(&c.runcState, "runc-state", "", "runc's state directory of the container: the shim deletes an ended container itself (state and cgroup) instead of running runc delete")
	fs.StringVar(&c.dir, "dir", "", "container state directory (holds bundle/)")
	fs.StringVar(&c.id, "id", "", "OCI runtime container id")
	fs.StringVar(&c.cgroup, "cgroup", "", "container cgroup path, for OOM events")
	fs.Uint64Var(&c.gen, "gen", 0, "run generation recorded in the exit")
	fs.Int64Var(&c.logMaxSize, "log-max-size", 0, "rotate the log at this many bytes (0: the default)")
	fs.IntVar(&c.logMaxFiles, "log-max-files", 0, "log files kept, the current one included (0: the default)")
	fs.BoolVar(&c.autoRemove, "auto-remove", false, "the container is removed once it has exited: its exit is recorded atomically but not durably")
	fs.IntVar(&c.heldFDs, "held-fds", 0, "sockets after the ready pipe (fd 4 on) held open for the container's published ports")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if c.dir == "" || c.id == "" {
		fmt.Fprintln(os.Stderr, "shim: --dir and --id are required")
		return 2
	}
	if standby {
		// A shim started for the container starts in its directory.
		if err := os.Chdir(c.dir); err != nil {
			fmt.Fprintln(os.Stderr, "shim:", err)
			return 1
		}
	}
	// The words after the flags are the exit hook: a command run once the
	// exit is recorded (the runtime tears the container's network down
	// with it, whether or not its agent is running).
	hook := fs.Args()
	// Signals meant for a terminal or a service manager must not end the
	// supervisor of a running container; only SIGKILL does. A handler, not
	// SIG_IGN, so that runc and the container do not inherit the
	// disposition.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGHUP, unix.SIGINT, unix.SIGTERM)
	go func() {
		for range sigs {
		}
	}()
	ready := os.NewFile(ReadyFD, "ready")
	if ready != nil {
		syscall.CloseOnExec(ReadyFD)
	}
	// The published ports' sockets stay open, untouched, until this
	// process ends; runc and the container do not get them.
	for fd := ReadyFD + 1; fd <= ReadyFD+c.heldFDs; fd++ {
		syscall.CloseOnExec(fd)
	}
	e, err := run(c, ready)
	if err != nil {
		e.failure = err.Error()
	}
	if e.at.IsZero() {
		e.at = time.Now()
	}
	exit := statedir.Exit{Run: c.gen, SupervisorPID: os.Getpid(), Error: e.failure, LogsDropped: e.logsDropped,
		Outcome: statedir.ProcessOutcome(e.code, e.signal, e.oomKilled, e.failure, e.at)}
	// The exit of an auto-remove container is read once, by its removal,
	// which a crash of the machine makes moot: no fsync for it.
	write := statedir.WriteExit
	if c.autoRemove {
		write = statedir.WriteExitAtomic
	}
	werr := write(c.dir, exit)
	if e.ran {
		c.deleteContainer()
	}
	if werr != nil {
		fmt.Fprintln(os.Stderr, "shim:", werr)
		return 1
	}
	runExitHook(hook)
	if err != nil {
		return 1
	}
	return 0
}

// exitHookTimeout bounds the exit hook: a start of the container's next
// run waits for this shim to end.
const exitHookTimeout = 8 * time.Second

// runExitHook runs argv, if any, with its output in the shim's log.
func runExitHook(argv []string) {
	if len(argv) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), exitHookTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "shim: exit hook:", err)
	}
}

// end is how the container's init ended, as the shim saw it.
type end struct {
	// code is the exit code as a shell reports it: 128+N for signal N.
	code int
	// signal is the signal number that ended init, 0 when it exited.
	signal int
	// oomKilled is set when the kernel's OOM killer killed a process of
	// the container's cgroup during the run.
	oomKilled bool
	// failure is set when the shim could not run or watch the container.
	failure string
	// logsDropped counts log lines the full disk had no room for.
	logsDropped int64
	// at is when the shim saw init end.
	at time.Time
	// ran is set when the container was created and its init has ended:
	// the OCI runtime's container is left to delete.
	ran bool
}

// runcCmd builds a runc command line with the shared global flags.
func (c config) runcCmd(args ...string) *exec.Cmd {
	global := []string{"--log", filepath.Join(c.dir, RuncLogFile), "--log-format", "json"}
	if c.runcRoot != "" {
		global = append(global, "--root", c.runcRoot)
	}
	return exec.Command(c.runc, append(global, args...)...)
}

// run creates the container, reports on ready, supervises init and returns
// how it ended. An error before the ready report is reported there too.
func run(c config, ready *os.File) (e end, err error) {
	// report sends the ready report, once, and returns err unchanged for
	// the exit record. A failure without a kind of its own is reported as
	// one of the node (ErrUnavailable).
	report := func(err error) error {
		if ready == nil {
			return err
		}
		rep := err
		if err != nil && runtime.KindName(err) == "" {
			rep = fmt.Errorf("%w: %w", err, runtime.ErrUnavailable)
		}
		if werr := statedir.WriteReady(ready, rep); werr != nil {
			fmt.Fprintln(os.Stderr, "shim: ready report:", werr)
		}
		ready.Close()
		ready = nil
		return err
	}
	defer report(errors.New("the shim ended without a report"))
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return end{}, report(fmt.Errorf("subreaper: %w", err))
	}
	// The room of the exit record is taken now, while the disk has it: a
	// workload that fills the disk must not lose its exit.
	if err := statedir.ReserveExit(c.dir); err != nil {
		return end{}, report(fmt.Errorf("reserving room for the exit record: %w", err))
	}
	logOpts := []logfile.Option{logfile.WithRotation(c.logMaxSize, c.logMaxFiles)}
	if p, err := os.ReadFile(filepath.Join(c.dir, CRILogFile)); err == nil && len(p) > 0 {
		logOpts = append(logOpts, logfile.WithCRICopy(string(p)))
	}
	logs, err := logfile.Open(filepath.Join(c.dir, statedir.LogFile), logOpts...)
	if err != nil {
		return end{}, report(err)
	}
	defer logs.Close()
	defer func() { e.logsDropped = logs.Dropped() }()
	outR, outW, err := os.Pipe()
	if err != nil {
		return end{}, report(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return end{}, report(err)
	}
	pidFile := filepath.Join(c.dir, InitPIDFile)
	createArgs := []string{"create", "--bundle", filepath.Join(c.dir, "bundle"), "--pid-file", pidFile}
	var cons *console
	if _, err := os.Stat(filepath.Join(c.dir, TTYFile)); err == nil {
		if cons, err = listenConsole(); err != nil {
			return end{}, report(err)
		}
		createArgs = append(createArgs, "--console-socket", cons.path)
	}
	create := c.runcCmd(append(createArgs, c.id)...)
	// runc's own messages go to its --log, which starts empty for each run
	// so that an error read from it is this run's.
	create.Stdout, create.Stderr = outW, errW
	// A container that takes input without a terminal reads it from a
	// pipe the shim keeps the write end of; with a terminal, from the
	// terminal.
	once, hasInput := inputMode(c.dir)
	var inR, inW *os.File
	if hasInput && cons == nil {
		if inR, inW, err = os.Pipe(); err != nil {
			return end{}, report(err)
		}
		create.Stdin = inR
	}
	os.Remove(filepath.Join(c.dir, RuncLogFile))
	err = create.Run()
	outW.Close()
	errW.Close()
	if inR != nil {
		inR.Close()
	}
	if err != nil {
		if inW != nil {
			inW.Close()
		}
		// runc's own message, from its log, names what went wrong.
		b, _ := os.ReadFile(filepath.Join(c.dir, RuncLogFile))
		msg := statedir.RuncMessage(b)
		if msg == "" {
			msg = err.Error()
		}
		outR.Close()
		errR.Close()
		if cons != nil {
			cons.close()
		}
		failure := fmt.Errorf("runc create: %s", msg)
		report(fmt.Errorf("%w: %w", failure, createKind(msg)))
		return end{code: 255}, failure
	}
	pid, err := ReadPID(pidFile)
	if err != nil {
		return end{code: 255}, report(err)
	}
	streams := []struct {
		r      io.ReadCloser
		stream runtime.LogStream
		term   bool
	}{{outR, runtime.Stdout, false}, {errR, runtime.Stderr, false}}
	var term *os.File
	if cons != nil {
		if term, err = cons.wait(); err != nil {
			return end{code: 255}, report(err)
		}
		defer term.Close()
		// A terminal merges the two streams, as docker run -t does.
		streams = append(streams, struct {
			r      io.ReadCloser
			stream runtime.LogStream
			term   bool
		}{struct {
			io.Reader
			io.Closer
		}{ttyReader{term}, term}, runtime.Stdout, true})
	}
	if hasInput || term != nil {
		var input io.WriteCloser
		switch {
		case !hasInput:
		case term != nil:
			input = term
		default:
			input = inW
		}
		srv, err := serveAttach(c.dir, input, once, term)
		if err != nil {
			if inW != nil {
				inW.Close()
			}
			return end{code: 255}, report(err)
		}
		defer srv.close()
	}
	report(nil)

	// Output makes the shim touch code start-up did not (the log
	// writer's): once the output has been quiet a while, those pages are
	// given back as start-up's were.
	retrim := time.AfterFunc(time.Hour, trimCode)
	retrim.Stop()
	defer retrim.Stop()
	var wg sync.WaitGroup
	for _, p := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := logs.Writer(p.stream)
			if p.term || hasInput {
				// What a terminal shows (a prompt), or a container that
				// is talked to answers (echo -n), is kept as it comes:
				// whoever is attached sees it without waiting for a
				// newline.
				w = logs.TerminalWriter(p.stream)
			}
			buf := make([]byte, 4096)
			r := quietReader{p.r, retrim}
			if _, err := io.CopyBuffer(w, r, buf); err != nil {
				// The log cannot take more (an I/O error): the pipe is
				// still drained, or the workload would block writing.
				_, _ = io.CopyBuffer(io.Discard, p.r, buf)
			}
			w.Close()
		}()
	}
	trim()
	exit := waitInit(pid)
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		for _, p := range streams {
			p.r.Close()
		}
	}
	exit.oomKilled = oomKilled(c.cgroup)
	exit.ran = true
	return exit, nil
}

// deleteContainer has the OCI runtime delete the ended container (its
// state and cgroup). It runs after the exit is recorded, so that whoever
// waits for the exit (run --rm) is not kept waiting by it; a start of the
// next run, or a removal, waits for this shim to end first.
func (c config) deleteContainer() {
	if c.runcState != "" {
		// What runc delete does for a stopped container with no hooks:
		// its cgroup goes (with any process left in it, as in a shared
		// PID namespace), then its state.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cgroupfs.Remove(ctx, cgroupfs.Root, c.cgroup); err != nil {
			fmt.Fprintf(os.Stderr, "shim: removing the cgroup of %s: %v\n", c.id, err)
		}
		if err := os.RemoveAll(c.runcState); err != nil {
			fmt.Fprintf(os.Stderr, "shim: removing the runc state of %s: %v\n", c.id, err)
		}
		return
	}
	del := c.runcCmd("delete", "--force", c.id)
	if out, err := del.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "shim: runc delete %s: %v: %s\n", c.id, err, out)
	}
}

// inputMode reads StdinFile: whether the container takes input, and
// whether it ends with its first client's.
func inputMode(dir string) (once, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, StdinFile))
	if err != nil {
		return false, false
	}
	return strings.TrimSpace(string(b)) == "once", true
}

// waitInit reaps children until init is among them and returns how it
// ended. As a subreaper the shim also adopts the container's orphans; they
// are reaped here too. Between reaps it waits for SIGCHLD rather than in a
// blocking wait4, which would hold an OS thread (and its stacks) for the
// whole life of the container.
func waitInit(pid int) end {
	chld := make(chan os.Signal, 1)
	signal.Notify(chld, unix.SIGCHLD)
	defer signal.Stop(chld)
	// init's end also comes through its pidfd, which the runtime's poller
	// watches: that wakes this goroutine directly, where a signal wakes a
	// thread to relay it to the goroutine that delivers signals first.
	ended, stop, _ := proc.Ended(pid)
	defer stop()
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			// No child left: init is gone and someone else reaped it.
			return end{code: 255, at: time.Now(), failure: "init " + strconv.Itoa(pid) + " vanished: " + err.Error()}
		}
		if got == 0 {
			// Children left, none ended yet: a SIGCHLD says one has (one
			// sent since the last look is kept in the channel), and the
			// pidfd that init has.
			select {
			case <-chld:
			case <-ended:
				ended = nil // said once; SIGCHLD tells of the rest
			}
			continue
		}
		if got != pid {
			continue
		}
		e := end{at: time.Now()}
		switch {
		case ws.Exited():
			e.code = ws.ExitStatus()
		case ws.Signaled():
			e.signal = int(ws.Signal())
			e.code = 128 + e.signal
		}
		return e
	}
}

// createKind is the kind of a failed runc create with runc's message msg.
// What runc finds missing while it creates the container (a mount source, a
// device) is the workload's request that is wrong, as the runtime's own
// checks of the bundle say: an invalid argument, not a missing container.
func createKind(msg string) error {
	kind := statedir.ClassifyRunc(msg)
	if errors.Is(kind, runtime.ErrNotFound) {
		return runtime.ErrInvalidArgument
	}
	return kind
}

// ReadPID reads a pid file runc wrote (--pid-file).
func ReadPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds %q", path, b)
	}
	return pid, nil
}

// oomKilled reads the cgroup's oom_kill counter: memory.events on cgroup v2,
// memory.oom_control on v1. The cgroup is fresh for every run, so any kill
// counted happened in this run.
func oomKilled(cgroup string) bool {
	if cgroup == "" {
		return false
	}
	for _, p := range []string{
		filepath.Join("/sys/fs/cgroup", cgroup, "memory.events"),
		filepath.Join("/sys/fs/cgroup/memory", cgroup, "memory.oom_control"),
	} {
		if n, ok := counter(p, "oom_kill"); ok {
			return n > 0
		}
	}
	return false
}

// counter reads "key N" from a flat-keyed cgroup file.
func counter(path, key string) (uint64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
