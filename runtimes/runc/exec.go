package runc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// execCmd prepares `runc exec` of argv in the running container id, with
// the container's own process settings (user, env, cwd, capabilities), and
// returns it with a cleanup for its files.
func (r *Runtime) execCmd(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (*exec.Cmd, func(), error) {
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("container %s: exec: empty command: %w", id, runtime.ErrInvalidArgument)
	}
	s, err := r.get(id)
	if err != nil {
		return nil, nil, err
	}
	if !s.running() {
		return nil, nil, fmt.Errorf("container %s is %s: exec needs a running container: %w", id, s.state, runtime.ErrFailedPrecondition)
	}
	var bundle specs.Spec
	if err := readJSON(filepath.Join(s.dir, "bundle", "config.json"), &bundle); err != nil {
		return nil, nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	proc := bundle.Process
	proc.Args = argv
	// An exec has a terminal only when asked: its output is captured.
	proc.Terminal = opts.TTY
	// A terminal starts at the size the client gives: runc sets it before
	// the process runs. runc's own relay of its terminal's size comes only
	// after the start, and a process that looked first saw 0 rows.
	proc.ConsoleSize = nil
	if sz := opts.TerminalSize; opts.TTY && sz[0] > 0 && sz[1] > 0 {
		proc.ConsoleSize = &specs.Box{Height: uint(sz[0]), Width: uint(sz[1])}
	}
	rootfs := bundle.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(s.dir, "bundle", rootfs)
	}
	if err := applyExecOptions(proc, rootfs, opts); err != nil {
		return nil, nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	// The process file holds the container's environment: for a container
	// with secrets it goes beside its config, under the secret dir.
	execDir := s.dir
	if r.opt.secretDir != "" {
		if priv := filepath.Join(r.opt.secretDir, s.meta.Key); isDir(priv) {
			execDir = priv
		}
	}
	f, err := os.CreateTemp(execDir, "exec-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	logPath, pidPath := f.Name()+".log", f.Name()+".pid"
	cleanup := func() { os.Remove(f.Name()); os.Remove(logPath); os.Remove(pidPath) }
	// The process file lives as long as the exec, read by the runc this
	// process starts: written plainly, neither atomic nor durable.
	err = json.NewEncoder(f).Encode(proc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	global := []string{"--log", logPath, "--log-format", "json"}
	if r.opt.runcRoot != "" {
		global = append(global, "--root", r.opt.runcRoot)
	}
	cmd := exec.CommandContext(ctx, r.opt.runc, append(global, "exec", "--process", f.Name(), "--pid-file", pidPath, s.meta.Key)...)
	// An exec whose caller gives up (a timeout, a client gone) is ended:
	// the command itself is killed, and runc, its parent, reaps it and
	// exits. Killing runc would leave the command running in the
	// container, or a zombie there for an init that reaps none. runc is
	// killed only when the command is not known yet, or when it has not
	// ended a while after.
	cmd.Cancel = func() error {
		if pid, err := shim.ReadPID(pidPath); err == nil && pid > 0 {
			return unix.Kill(pid, unix.SIGKILL)
		}
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 5 * time.Second
	return cmd, cleanup, nil
}

// applyExecOptions puts opts into the exec's process: more environment,
// another user (resolved in the container's root filesystem, rootfs), or
// another working directory.
func applyExecOptions(proc *specs.Process, rootfs string, opts runtime.ExecOptions) error {
	for i, kv := range opts.Env {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("env[%d] %q: want KEY=VALUE: %w", i, kv, runtime.ErrInvalidArgument)
		}
		proc.Env = slices.DeleteFunc(proc.Env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		proc.Env = append(proc.Env, kv)
	}
	if opts.User != "" {
		u, err := resolveUser(rootfs, opts.User)
		if err != nil {
			return err
		}
		proc.User = u
	}
	if opts.Workdir != "" {
		if !path.IsAbs(opts.Workdir) {
			return fmt.Errorf("working directory %q: want an absolute path in the container: %w", opts.Workdir, runtime.ErrInvalidArgument)
		}
		proc.Cwd = path.Clean(opts.Workdir)
	}
	return nil
}

// execErr turns runc's failure to run the process (not the process's own
// exit) into an error; runc reports it with code 255 and a log line.
func execErr(id runtime.ContainerID, cmd *exec.Cmd, err error) (int, error) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, fmt.Errorf("container %s: exec: %w", id, err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	code := ee.ExitCode()
	if code == 255 {
		// cmd.Args is runc --log LOG ...: runc's own failure is logged there.
		if b, rerr := os.ReadFile(cmd.Args[2]); rerr == nil {
			if msg := statedir.RuncMessage(b); msg != "" {
				// A program that is not there, or not executable, is the
				// command's failure, with a shell's codes (docker's too).
				if c := startFailureCode(msg); c != 0 {
					return c, &execStartError{msg: fmt.Sprintf("exec: %s", msg), code: c}
				}
				return code, fmt.Errorf("container %s: exec: %s: %w", id, msg, runtime.ErrInvalidArgument)
			}
		}
	}
	return code, nil
}

// startFailureCode is the exit code of a command that could not start: 127
// for a program that does not exist, 126 for one that cannot be executed,
// 0 for another failure.
func startFailureCode(msg string) int {
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "exec format error"):
		return 126
	}
	return 0
}

// execStartError is a command that could not start: its exit code stands,
// and its message is the command's standard error.
type execStartError struct {
	msg  string
	code int
}

func (e *execStartError) Error() string { return e.msg }

// Exec implements runtime.Executor.
func (r *Runtime) Exec(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.ExecResult, error) {
	cmd, cleanup, err := r.execCmd(ctx, id, argv, runtime.ExecOptions{})
	if err != nil {
		return runtime.ExecResult{}, err
	}
	defer cleanup()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := runtime.ExecResult{}
	if err := cmd.Run(); err != nil {
		code, err := execErr(id, cmd, err)
		var se *execStartError
		if errors.As(err, &se) {
			stderr.WriteString(se.msg + "\n")
			err = nil
		}
		if err != nil {
			return res, err
		}
		res.ExitCode = code
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	return res, nil
}

// ExecStream implements runtime.Executor.
func (r *Runtime) ExecStream(ctx context.Context, id runtime.ContainerID, argv []string) (runtime.Stream[runtime.ExecEvent], error) {
	return r.ExecStreamWith(ctx, id, argv, runtime.ExecOptions{})
}

var _ runtime.ExecOptioner = (*Runtime)(nil)

// ExecStreamWith implements runtime.ExecOptioner.
func (r *Runtime) ExecStreamWith(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	if opts.TTY {
		return r.execTTY(ctx, id, argv, opts)
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd, cleanup, err := r.execCmd(ctx, id, argv, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	if opts.Stdin != nil {
		// Copied by a goroutine of its own, not by cmd: cmd.Wait would
		// wait for a reader that may never end (a client's connection).
		w, err := cmd.StdinPipe()
		if err != nil {
			cancel()
			cleanup()
			return nil, err
		}
		go copyInput(w, opts.Stdin)
	}
	outR, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		cleanup()
		return nil, err
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		cleanup()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		cancel()
		cleanup()
		return nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	s := &execStream{events: make(chan execItem, 16), cancel: cancel}
	s.run(ctx, id, cmd, cleanup, outputs{{outR, runtime.ExecStdout}, {errR, runtime.ExecStderr}})
	return s, nil
}

// copyInput copies the client's input to the process and then closes the
// process's end, so that it reads end-of-file.
func copyInput(w io.WriteCloser, in io.Reader) {
	_, _ = io.Copy(w, in)
	w.Close()
}

// execTTY runs argv with a terminal. runc, in the foreground, gives the
// process a terminal of its own and relays it to runc's own terminal: a
// pseudo-terminal of this process's, whose master end takes the input,
// gives the output as one stream, and is resized (runc, whose controlling
// terminal it is, gets SIGWINCH and resizes the process's).
func (r *Runtime) execTTY(ctx context.Context, id runtime.ContainerID, argv []string, opts runtime.ExecOptions) (runtime.Stream[runtime.ExecEvent], error) {
	master, slave, err := openPTY()
	if err != nil {
		return nil, fmt.Errorf("container %s: exec with a terminal: %w", id, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd, cleanup, err := r.execCmd(ctx, id, argv, opts)
	if err != nil {
		master.Close()
		slave.Close()
		cancel()
		return nil, err
	}
	if sz := opts.TerminalSize; sz[0] > 0 && sz[1] > 0 {
		// runc gives the process's terminal the size of its own.
		_ = unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: sz[0], Col: sz[1]})
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close() // runc holds it now: its end closes the master's reads
	if err != nil {
		master.Close()
		cancel()
		cleanup()
		return nil, fmt.Errorf("container %s: exec: %w", id, err)
	}
	if opts.Stdin != nil {
		in, err := dupFile(master)
		if err != nil {
			master.Close()
			cancel()
			_ = cmd.Wait()
			cleanup()
			return nil, fmt.Errorf("container %s: exec: %w", id, err)
		}
		go copyInput(in, opts.Stdin)
	}
	s := &execStream{events: make(chan execItem, 16), cancel: cancel, term: master}
	s.run(ctx, id, cmd, func() { cleanup(); master.Close() }, outputs{{ptyReader{master}, runtime.ExecStdout}})
	return s, nil
}

// openPTY opens a pseudo-terminal pair, raw, for runc to relay through:
// the master end and the slave end.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock the terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("name the terminal: %w", err)
	}
	sl, err := os.OpenFile("/dev/pts/"+strconv.FormatUint(uint64(n), 10), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	// Raw from the start: input that comes before runc makes it raw
	// itself must not be echoed or edited by this terminal too.
	if _, err := term.MakeRaw(int(sl.Fd())); err != nil {
		m.Close()
		sl.Close()
		return nil, nil, fmt.Errorf("make the terminal raw: %w", err)
	}
	return m, sl, nil
}

// ptyReader reads a terminal's master end, taking EIO (the slave end
// closed: runc is gone) as the end.
type ptyReader struct{ f *os.File }

func (p ptyReader) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if errors.Is(err, unix.EIO) {
		return n, io.EOF
	}
	return n, err
}

// dupFile is a second descriptor of f, closed on its own: the input's
// writer closes it without closing the terminal's reader.
func dupFile(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// outputs are the readers of an exec's output and what each carries.
type outputs []struct {
	r    io.Reader
	kind runtime.ExecEventKind
}

// run streams the outputs of the started cmd as events, then its exit,
// and then runs cleanup and closes the events.
func (s *execStream) run(ctx context.Context, id runtime.ContainerID, cmd *exec.Cmd, cleanup func(), outs outputs) {
	// events is closed by the goroutine that sends the exit event, after
	// every reader is done; its buffer lets output flow while Recv lags.
	var wg sync.WaitGroup
	for _, p := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				buf := make([]byte, 32<<10)
				n, err := p.r.Read(buf)
				if n > 0 {
					select {
					case s.events <- execItem{ev: runtime.ExecEvent{Kind: p.kind, Data: buf[:n]}}:
					case <-ctx.Done():
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
	go func() {
		defer close(s.events)
		defer cleanup()
		wg.Wait()
		werr := cmd.Wait()
		item := execItem{ev: runtime.ExecEvent{Kind: runtime.ExecExit}}
		if werr != nil {
			item.ev.ExitCode, item.err = execErr(id, cmd, werr)
			var se *execStartError
			if errors.As(item.err, &se) {
				item.err = nil
				msg := execItem{ev: runtime.ExecEvent{Kind: runtime.ExecStderr, Data: []byte(se.msg + "\n")}}
				select {
				case s.events <- msg:
				case <-ctx.Done():
				}
			}
			if ctx.Err() != nil {
				item.err = ctx.Err()
			}
		}
		select {
		case s.events <- item:
		case <-ctx.Done():
		}
	}()
}

type execItem struct {
	ev  runtime.ExecEvent
	err error
}

// execStream is the stream ExecStream returns.
type execStream struct {
	events chan execItem
	cancel context.CancelFunc
	// term is the terminal of an exec that has one.
	term *os.File
}

var _ runtime.Resizer = (*execStream)(nil)

// Resize implements runtime.Resizer: the terminal's new size.
func (s *execStream) Resize(rows, cols uint16) error {
	if s.term == nil {
		return fmt.Errorf("resize: the exec has no terminal: %w", runtime.ErrFailedPrecondition)
	}
	if rows == 0 || cols == 0 {
		return fmt.Errorf("resize to %dx%d: want rows and columns above 0: %w", rows, cols, runtime.ErrInvalidArgument)
	}
	// Through the file's own descriptor handling: the stream's end may
	// close the terminal meanwhile, and then this fails rather than
	// resizing another file that took its number.
	rc, err := s.term.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
	}); err != nil {
		return err
	}
	return ierr
}

// Recv implements runtime.Stream.
func (s *execStream) Recv() (runtime.ExecEvent, error) {
	it, ok := <-s.events
	if !ok {
		return runtime.ExecEvent{}, io.EOF
	}
	return it.ev, it.err
}

// Close implements runtime.Stream: it ends the command if it still runs.
func (s *execStream) Close() error {
	s.cancel()
	return nil
}

// isDir reports whether p is a directory.
func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
