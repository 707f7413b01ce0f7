package runc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/platforms"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/images"
	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/network"
	"github.com/switchyard/switchyard/runtime"
	"github.com/switchyard/switchyard/runtimes/runc/shim"
)

// Create implements runtime.Lifecycle: it mounts the image's root
// filesystem, writes the OCI bundle and starts the shim, which runs
// `runc create`. Whatever fails, nothing is left behind.
func (r *Runtime) Create(ctx context.Context, id runtime.ContainerID, cs *runtime.CreateSpec) (err error) {
	if err := id.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	// The composite validates the request for every runtime; a runtime
	// used on its own gets the same check.
	if err := cs.Validate(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := checkLimits(cs.Resources); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	stopSignal, err := parseSignal(cs.StopSignal)
	if err != nil {
		return fmt.Errorf("container %s: stop signal: %w", id, err)
	}
	netRec, err := r.networkOf(cs)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if len(cs.Network.Ports) > 0 && netRec.Network == "" {
		return fmt.Errorf("container %s: ports: this runtime has no networks to publish ports from: %w", id, runtime.ErrNotSupported)
	}
	// The host ports are held from now on (a taken one fails here, named);
	// the shim keeps them for the container's life.
	held, ports, err := network.HoldPorts(cs.Network.Ports)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	defer closeAll(held)
	netRec.Ports = ports
	netRec.Hostname, netRec.Nameservers, netRec.ExtraHosts = cs.Hostname, cs.Network.DNS, cs.Network.ExtraHosts
	if netRec.Network != "" {
		// Found by its name and its service's (all replicas), and by the
		// aliases it asks for.
		netRec.Names = []string{id.String(), id.Service}
		netRec.Group, netRec.Aliases = cs.Network.Group, cs.Network.Aliases
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	// The key, not the id, names the OCI container, its cgroup and its
	// state directory, so that a rename moves nothing under a live shim.
	key := id.String() + "." + hex.EncodeToString(rnd[:])
	dir := r.dirOf(key)
	if err := os.Mkdir(dir, 0o711); err != nil {
		return fmt.Errorf("container %s: state dir: %w", id, err)
	}
	// Until the shim reports the container created, the directory says it
	// is being created: an agent killed half-way leaves the mark, and the
	// next runtime on this root undoes the create (sweepUnfinished).
	if err := os.WriteFile(filepath.Join(dir, creatingFile), nil, 0o600); err != nil {
		os.Remove(dir)
		return fmt.Errorf("container %s: state dir: %w", id, err)
	}
	r.step("create:dir")
	if err := os.Symlink(filepath.Join("..", "containers", key), r.nameLink(id)); err != nil {
		os.RemoveAll(dir)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container %s: %w", id, runtime.ErrAlreadyExists)
		}
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.step("create:named")
	unlock := r.lock(key)
	defer unlock()
	defer func() {
		if err != nil {
			r.destroy(context.WithoutCancel(ctx), key, dir, noStep)
			os.Remove(r.nameLink(id))
		}
	}()
	// On a network, the namespace is made now and attached while the
	// root filesystem is prepared and runc creates the container; the
	// process starts only at Start, once both are done.
	// The bundle and the records must survive a crash of the machine once
	// the create is answered, not before runc reads them: they are written
	// atomically now and fsynced while the shim starts and runc creates
	// the container (a crash before the answer leaves a directory the next
	// start sweeps).
	var durable []string
	var waitNet func() error
	if netRec.Joined {
		// Recorded, so that nothing of this container ever tears the
		// shared namespace down.
		if err = statedir.WriteJSONAtomic(filepath.Join(dir, netFile), netRec); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		durable = append(durable, filepath.Join(dir, netFile))
	}
	if netRec.Network != "" {
		if waitNet, err = r.attachAsync(ctx, key, dir, &netRec); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		defer func() {
			if waitNet != nil {
				_ = waitNet() // a failed create waits for the attachment before undoing it
			}
		}()
		r.step("create:netns")
	}

	// Where a create spends its time, step by step, at debug level.
	t0 := time.Now()
	var tPrepared, tMounted, tBundle time.Time
	defer func() {
		if err == nil {
			r.opt.logger.Debug("runc create", "id", id, "prepare", tPrepared.Sub(t0), "mount", tMounted.Sub(tPrepared),
				"bundle", tBundle.Sub(tMounted), "shim", time.Since(tBundle))
		}
	}()
	rootfs := filepath.Join(dir, "bundle", "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	// The manifest of the declared platform, else of this runtime's.
	want := r.Platforms()
	if cs.Platform != nil {
		want = []ocispec.Platform{runtime.NormalizePlatform(*cs.Platform)}
	}
	fsys, img, err := r.store.PrepareRootfs(ctx, key, cs.Image, want)
	if err != nil {
		if errors.Is(err, runtime.ErrNotFound) {
			return fmt.Errorf("container %s: %w; pull the image first", id, err)
		}
		return fmt.Errorf("container %s: %w", id, err) // the store names the image
	}
	if host := r.Platforms()[0]; img.Platform.OS != "" && !platforms.Only(host).Match(img.Platform) {
		return fmt.Errorf("container %s: image %s is for %s and this runtime runs %s; pull the image for %s or run it on a node of its platform: %w",
			id, cs.Image, runtime.FormatPlatform(img.Platform), runtime.FormatPlatform(host), runtime.FormatPlatform(host), runtime.ErrNotSupported)
	}
	r.step("create:rootfs")
	tPrepared = time.Now()
	if err := fsys.Mount(rootfs); err != nil {
		return fmt.Errorf("container %s: mount root filesystem: %w", id, err)
	}
	r.step("create:mounted")
	tMounted = time.Now()
	etc, err := etcFiles(dir, id, netRec)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	ospec, mounts, err := buildSpec(bundleInput{
		id: id, key: key, rootfs: rootfs, image: img.Config.Config, spec: cs,
		volumeDir: filepath.Join(dir, "volumes"), namedDir: r.namedDir(), pidsLimit: r.opt.pidsLimit, version: r.oci.version,
		net: netRec, etc: etc,
	})
	if err != nil {
		return err
	}
	recordedEnv := ospec.Process.Env
	if len(cs.Secrets) > 0 {
		if recordedEnv, err = r.writeSecretBundle(key, dir, ospec, cs.Secrets); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	} else {
		config := filepath.Join(dir, "bundle", "config.json")
		if err := statedir.WriteJSONAtomic(config, ospec); err != nil {
			return fmt.Errorf("container %s: bundle: %w", id, err)
		}
		durable = append(durable, config)
	}
	r.step("create:bundle")
	m := meta{
		ID: id, Key: key, Image: cs.Image, ImageDigest: img.Digest, Platform: img.Platform,
		Created: time.Now().UTC(), Command: ospec.Process.Args, Env: recordedEnv,
		Workdir: ospec.Process.Cwd, Mounts: mounts, Resources: cs.Resources, Labels: cs.Labels, AutoRemove: cs.AutoRemove,
		NetworkMode: netRec.Mode, Ports: ports, StopSignal: stopSignal, User: cs.User, Security: cs.Security,
		TTY: cs.TTY, OpenStdin: cs.OpenStdin, StdinOnce: cs.StdinOnce,
	}
	if m.Platform.OS == "" {
		m.Platform = r.Platforms()[0]
	}
	if err := statedir.WriteJSONAtomic(filepath.Join(dir, metaFile), m); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	durable = append(durable, filepath.Join(dir, metaFile))
	synced := make(chan error, 1)
	go func() { synced <- statedir.Sync(durable...) }()
	if cs.TTY {
		// The shim gives runc a console socket and logs the terminal.
		if err := os.WriteFile(filepath.Join(dir, shim.TTYFile), nil, 0o600); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	}
	if cs.LogPath != "" {
		if err := os.WriteFile(filepath.Join(dir, shim.CRILogFile), []byte(cs.LogPath), 0o600); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	}
	if cs.OpenStdin {
		// The shim keeps the input open and serves the attach socket.
		mode := ""
		if cs.StdinOnce {
			mode = "once"
		}
		if err := os.WriteFile(filepath.Join(dir, shim.StdinFile), []byte(mode), 0o600); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
	}
	r.step("create:meta")
	tBundle = time.Now()
	if _, err = r.spawnShim(ctx, id, key, dir, 1, held, netRec.Network != "", cs.AutoRemove); err != nil {
		return err
	}
	r.step("create:shim")
	if waitNet != nil {
		err := waitNet()
		waitNet = nil
		if err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		if err := writeHosts(dir, id, &netRec, netRec.Attachment.Address.Addr()); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		r.step("create:attached")
	}
	if err := <-synced; err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := os.Remove(filepath.Join(dir, creatingFile)); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.step("create:done")
	return nil
}

// noStep is destroy's step hook outside a removal.
func noStep(string) {}

// step tells the step hook, if any, that step is done.
func (r *Runtime) step(step string) {
	if r.opt.stepHook != nil {
		r.opt.stepHook(step)
	}
}

// spawnShim gives run gen its shim — the runtime's standby, handed the
// container, or one started for it in its own session — and waits until
// it reports the container created (or why it is not). It returns the
// shim's record, as written to shimFile.
//
// held are the sockets of the container's published ports: the shim
// inherits them and keeps them open until the run ends. A container on a
// network (onNet) has the shim run the network exit hook when it exits,
// unless it is an auto-remove one: its removal follows at once, and the
// hook would only lengthen it. That removal is also why an auto-remove
// container's exit is recorded without the fsyncs: after a crash of the
// machine there is no container left to tell it of.
func (r *Runtime) spawnShim(ctx context.Context, id runtime.ContainerID, key, dir string, gen uint64, held []*os.File, onNet, autoRemove bool) (shimRecord, error) {
	teardown := onNet && !autoRemove
	logf, err := os.OpenFile(filepath.Join(dir, shimLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return shimRecord{}, err
	}
	defer logf.Close()
	// The shim's arguments, those after the command's own words.
	args := []string{"--runc", r.opt.runc, "--dir", dir, "--id", key,
		"--cgroup", cgroupPath(key), "--gen", strconv.FormatUint(gen, 10)}
	if r.opt.runcRoot != "" {
		args = append(args, "--runc-root", r.opt.runcRoot)
	}
	if r.oci.isRunc {
		// runc's delete of an ended container removes its state directory
		// and its cgroup: the shim does that itself, without a second runc
		// process on every exit.
		args = append(args, "--runc-state", filepath.Join(r.runcRootDir(), key))
	}
	if r.opt.logMaxSize > 0 {
		args = append(args, "--log-max-size", strconv.FormatInt(r.opt.logMaxSize, 10))
	}
	if r.opt.logMaxFiles > 0 {
		args = append(args, "--log-max-files", strconv.Itoa(r.opt.logMaxFiles))
	}
	if autoRemove {
		args = append(args, "--auto-remove")
	}
	var hook []string
	if teardown && r.opt.exitHook != nil {
		hook = append(append([]string{"--"}, r.opt.exitHook...), "--dir", dir)
	}
	// The standby shim, if one is ready, becomes this container's; the
	// next is started meanwhile.
	var (
		shimProc *os.Process
		report   *os.File // where the shim's ready report comes
	)
	if sb := r.standby.take(); sb != nil {
		if err := shim.Assign(sb.conn, append(args, hook...), logf, held); err != nil {
			r.opt.logger.Warn("runc runtime: standby shim", "err", err)
			sb.discard()
		} else {
			shimProc, report = sb.cmd.Process, sb.conn
		}
	}
	r.fillStandby()
	if shimProc == nil {
		if shimProc, report, err = r.startShim(id, dir, args, hook, logf, held); err != nil {
			return shimRecord{}, err
		}
	}
	defer report.Close()
	rec := shimRecord{PID: shimProc.Pid, Gen: gen}
	rec.Start, _ = proc.Start(rec.PID)
	// Atomic, not durable: after a crash of the machine the shim is gone,
	// whatever the record says (load reads a torn one as none).
	if err := statedir.WriteJSONAtomic(filepath.Join(dir, shimFile), rec); err != nil {
		shimProc.Kill()
		return shimRecord{}, fmt.Errorf("container %s: %w", id, err)
	}
	// The report carries the failure's kind: the shim classified runc's
	// message (statedir.ClassifyRunc), and it is the shim's own failure
	// (unavailable) otherwise.
	ch := make(chan error, 1)
	go func() { ch <- statedir.ReadReady(report) }()
	select {
	case <-ctx.Done():
		shimProc.Kill()
		return shimRecord{}, fmt.Errorf("container %s: create: %w", id, ctx.Err())
	case err := <-ch:
		switch {
		case err == nil:
			return rec, nil
		case errors.Is(err, runtime.ErrUnavailable):
			// The node's failure, maybe the shim's own: its log may say more.
			return shimRecord{}, fmt.Errorf("container %s: %w (shim log: %s)", id, err, filepath.Join(dir, shimLogFile))
		}
		return shimRecord{}, fmt.Errorf("container %s: %w", id, err)
	}
}

// startShim starts a shim for the container in dir, with args (then
// --held-fds, then hook): in its own session, in the container's
// directory, its output to logf, the ready pipe as shim.ReadyFD and the
// held sockets after it. It returns the process and the pipe's read end.
func (r *Runtime) startShim(id runtime.ContainerID, dir string, args, hook []string, logf *os.File, held []*os.File) (*os.Process, *os.File, error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer wr.Close()
	argv := args
	if len(held) > 0 {
		argv = append(slices.Clip(argv), "--held-fds", strconv.Itoa(len(held)))
	}
	cmd := r.shimCommand(dir, append(slices.Clip(argv), hook...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = append([]*os.File{wr}, held...)
	if err := cmd.Start(); err != nil {
		rd.Close()
		return nil, nil, fmt.Errorf("container %s: start shim: %w", id, err)
	}
	// Reap the shim when it ends while this process lives; after an agent
	// restart the shim is someone else's child.
	go cmd.Wait() //nolint:errcheck // the exit is recorded in the state dir
	return cmd.Process, rd, nil
}

// shimCommand is the shim's command with argv after its own words: in its
// own session, so that signals to the agent's process group and the end
// of the agent's terminal do not reach it, in dir, with the shim's
// environment.
func (r *Runtime) shimCommand(dir string, argv ...string) *exec.Cmd {
	cmd := exec.Command(r.opt.shim[0], append(slices.Clone(r.opt.shim[1:]), argv...)...)
	cmd.Env = append(os.Environ(), shim.ShimEnv)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// Start implements runtime.Lifecycle. A created container is started; an
// exited one is created again under a new shim and started (its log goes
// on); a running one is left alone.
func (r *Runtime) Start(ctx context.Context, id runtime.ContainerID) error {
	s, unlock, err := r.locked(id)
	if err != nil {
		return err
	}
	defer unlock()
	switch s.state.Status {
	case runtime.StatusRunning, runtime.StatusStopping:
		return nil
	case runtime.StatusExited, runtime.StatusFailed:
		// The shim of the last run records the exit, then deletes the
		// container, then ends: give it a moment to be gone.
		if !pollWatching(ctx, s.dir, s.shim.PID, time.Now().Add(10*time.Second), func() bool { return !s.shim.alive() }) {
			return fmt.Errorf("container %s: the supervisor of its previous run has not ended; retry: %w", id, runtime.ErrUnavailable)
		}
		// A shim that did not live to delete the last run's container (it
		// was killed after it recorded the exit) left it to this start.
		if r.holdsOCIContainer(s.meta.Key) {
			if err := r.deleteOCIContainer(ctx, s.meta.Key); err != nil {
				return fmt.Errorf("container %s: deleting its previous run: %w", id, err)
			}
		}
		if err := r.reattach(ctx, id, s.meta.Key, s.dir); err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		// The last run's shim let the published ports go when it ended:
		// this run holds them again.
		held, _, err := network.HoldPorts(s.meta.Ports)
		if err != nil {
			return fmt.Errorf("container %s: %w", id, err)
		}
		onNet := false
		if rec := readNet(s.dir); rec != nil {
			onNet = rec.Network != ""
		}
		rec, err := r.spawnShim(ctx, id, s.meta.Key, s.dir, nextRun(s), held, onNet, s.meta.AutoRemove)
		closeAll(held)
		if err != nil {
			return err
		}
		s.shim = rec
	}
	t0 := time.Now()
	defer func() { r.opt.logger.Debug("runc start", "id", id, "took", time.Since(t0)) }()
	handled, err := r.startByFifo(ctx, s.meta.Key, s.dir)
	if handled && err != nil {
		err = fmt.Errorf("start: %w", err)
	}
	if !handled {
		err = r.runc(ctx, "start", s.meta.Key)
	}
	if err != nil {
		// A workload that ends at once can be reaped, and its OCI state
		// deleted by the shim, before runc start has tidied up after
		// itself; runc then fails (its state gone, the init already dead,
		// a file missing), but the run happened. The shim may not have
		// recorded the exit yet: give it a moment to record it. The poll
		// ends as soon as the exit is recorded or the shim is gone.
		ended := func() bool {
			now, lerr := load(s.dir)
			return lerr == nil && now.exit != nil && now.shim.Gen == s.shim.Gen
		}
		if ctx.Err() == nil {
			pollWatching(ctx, s.dir, s.shim.PID, time.Now().Add(2*time.Second), func() bool {
				now, lerr := load(s.dir)
				return lerr != nil || now.exit != nil || !now.shim.alive()
			})
		}
		if !ended() {
			// The run is there and did not start: for the caller, the
			// container was not in a state to start.
			var re *runcError
			if errors.As(err, &re) {
				return fmt.Errorf("container %s: %w", id, re.withKind(runtime.ErrFailedPrecondition))
			}
			return fmt.Errorf("container %s: %w: %w", id, err, runtime.ErrFailedPrecondition)
		}
	}
	start := statedir.Start{Run: s.shim.Gen, SupervisorPID: s.shim.PID, StartedAt: time.Now().UTC()}
	return statedir.WriteStart(s.dir, start)
}

// holdsOCIContainer reports whether the OCI runtime still holds a
// container of key (its state directory is there).
func (r *Runtime) holdsOCIContainer(key string) bool {
	_, err := os.Stat(filepath.Join(r.runcRootDir(), key))
	return err == nil
}

// deleteOCIContainer has the OCI runtime delete what it still holds of
// key, and removes what is left of its cgroup.
func (r *Runtime) deleteOCIContainer(ctx context.Context, key string) error {
	var err error
	if r.holdsOCIContainer(key) {
		if err = r.runc(ctx, "delete", "--force", key); errors.Is(err, errNoOCIContainer) {
			err = nil
		}
	}
	r.cleanupCgroup(ctx, key)
	return err
}

// nextRun is the number of s's next run: past every run recorded. The
// shim record that carries the current one is not durable (a crash of the
// machine may take it); the exit record is.
func nextRun(s *snapshot) uint64 {
	next := s.shim.Gen + 1
	if e, ok, err := statedir.ReadExit(s.dir); err == nil && ok && e.Run >= next {
		next = e.Run + 1
	}
	return next
}

// Stop implements runtime.Lifecycle: the container's stop signal (SIGTERM
// unless it asked for another), then SIGKILL after timeout.
func (r *Runtime) Stop(ctx context.Context, id runtime.ContainerID, timeout time.Duration) error {
	s, unlock, err := r.locked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if !s.running() {
		// Stopped, or never started (as in Docker, a created container
		// stays created).
		return nil
	}
	sig := unix.SIGTERM
	if s.meta.StopSignal != 0 {
		sig = s.meta.StopSignal
	}
	if err := r.signal(ctx, s, sig); err != nil && !errors.Is(err, errNoOCIContainer) {
		return err
	}
	// With errNoOCIContainer the run ended and its shim deleted it
	// already: the wait finds the exit the shim records.
	wctx, cancel := context.WithTimeout(ctx, timeout)
	_, err = r.waitExit(wctx, s)
	cancel()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("container %s: stop: %w", id, ctx.Err())
	}
	err = r.killAndWait(ctx, s, unix.SIGKILL)
	if errors.Is(err, errNoOCIContainer) {
		// Nothing of the run is left in the OCI runtime, and no exit came
		// in the timeout: a shim that has nothing left to supervise.
		endShim(ctx, s.shim)
		return nil
	}
	return err
}

// killAndWait sends sig and waits for the run to end.
func (r *Runtime) killAndWait(ctx context.Context, s *snapshot, sig unix.Signal) error {
	if err := r.signal(ctx, s, sig); err != nil {
		return err
	}
	_, err := r.waitExit(ctx, s)
	return err
}

// signal sends sig to the container's init; a container that ended
// meanwhile is not an error. When the OCI runtime does not know the
// container the error wraps errNoOCIContainer.
func (r *Runtime) signal(ctx context.Context, s *snapshot, sig unix.Signal) error {
	if err := r.runc(ctx, "kill", s.meta.Key, strconv.Itoa(int(sig))); err != nil {
		if now, lerr := load(s.dir); lerr == nil && !now.running() && now.state.Status != runtime.StatusPending {
			return nil
		}
		// runc saw init gone before the shim recorded the exit (in a
		// shared PID namespace runc freezes the cgroup to signal it all,
		// which a stopped one refuses): ended meanwhile all the same.
		if msg := err.Error(); strings.Contains(msg, "container not running") || strings.Contains(msg, "invalid state transition from stopped") ||
			strings.Contains(msg, "process already finished") {
			return nil
		}
		return fmt.Errorf("container %s: %w", s.meta.ID, err)
	}
	return nil
}

// errNoOCIContainer marks runc's "container does not exist" (what
// statedir.ClassifyRunc calls not found): the run never got as far as runc
// create, or its OCI container is deleted already.
var errNoOCIContainer = fmt.Errorf("the OCI runtime has no such container (never created or already deleted): %w", runtime.ErrFailedPrecondition)

// endShim kills the shim of rec, with whatever it runs in its session (a
// runc create under way, say), and waits a little for it to be gone. The
// container's own processes are in a session of their own; destroy ends
// them through the cgroup and runc delete.
func endShim(ctx context.Context, rec shimRecord) {
	if !rec.alive() {
		return
	}
	// The shim leads its session and process group (spawnShim's Setsid),
	// and alive checked its start time: the group is the shim's.
	unix.Kill(-rec.PID, unix.SIGKILL)
	pollUntil(ctx, time.Now().Add(2*time.Second), func() bool { return !rec.alive() })
}

// Kill implements runtime.Lifecycle.
func (r *Runtime) Kill(ctx context.Context, id runtime.ContainerID, signal string) error {
	sig, err := runtime.ParseSignal(signal)
	if err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	s, err := r.get(id)
	if err != nil {
		return err
	}
	if !s.running() {
		return fmt.Errorf("container %s is %s, not running: %w", id, s.state, runtime.ErrFailedPrecondition)
	}
	return r.signal(ctx, s, unix.Signal(sig))
}

// Remove implements runtime.Lifecycle. It leaves nothing: no process, no
// mount, no cgroup, no state.
func (r *Runtime) Remove(ctx context.Context, id runtime.ContainerID, force bool) error {
	s, unlock, err := r.locked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if s.running() && !force {
		return fmt.Errorf("container %s is running: stop it first or remove with force: %w", id, runtime.ErrFailedPrecondition)
	}
	final, _ := s.outcome()
	if s.running() || s.state.Status == runtime.StatusPending {
		// A container that cannot be ended is left whole, so that a later
		// Remove can finish the job.
		err := r.killAndWait(ctx, s, unix.SIGKILL)
		if errors.Is(err, errNoOCIContainer) {
			// The OCI runtime holds nothing of this run: a Start cancelled
			// during runc create or start, or a run already deleted. It has
			// ended; its shim, if alive, has nothing left to supervise.
			endShim(ctx, s.shim)
		} else if err != nil {
			return fmt.Errorf("container %s: remove: %w", id, err)
		}
		if now, err := load(s.dir); err == nil {
			final, _ = now.outcome() // the kill's
		}
	}
	r.step("remove:killed")
	r.keepFinal(s.meta.Key, final)
	// The name goes first, so the container is gone for callers even if
	// cleaning up below fails; a directory no name points at is finished
	// off by the next runtime on this root (sweepUnfinished).
	os.Remove(r.nameLink(id))
	r.step("remove:unnamed")
	r.destroy(ctx, s.meta.Key, s.dir, r.step)
	r.step("remove:done")
	return nil
}

// destroy removes everything a container's key owns: its shim, the OCI
// runtime's container, the cgroup, the mount, the image use and the state.
// step is told of its step boundaries (a removal's; a no-op otherwise).
func (r *Runtime) destroy(ctx context.Context, key, dir string, step func(string)) {
	// Once begun, cleaning up must finish: the caller's deadline does not
	// cut it short, its own does.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), destroyTimeout)
	defer cancel()
	t0 := time.Now()
	var tShim, tDeleted, tUnmounted time.Time
	defer func() {
		r.opt.logger.Debug("runc remove", "key", key, "shim", tShim.Sub(t0), "delete+cgroup", tDeleted.Sub(tShim),
			"unmount+release", tUnmounted.Sub(tDeleted), "state", time.Since(tUnmounted))
	}()
	var rec shimRecord
	if readJSON(filepath.Join(dir, shimFile), &rec) == nil && rec.alive() {
		// A shim ends just after its container, once it has had the OCI
		// runtime delete it; one that does not end: wait a little, then
		// end it. Its end wakes the wait at once (pidfd).
		deadline := time.Now().Add(5 * time.Second)
		if !pollWatching(ctx, dir, rec.PID, deadline, func() bool { return !rec.alive() }) {
			unix.Kill(rec.PID, unix.SIGKILL)
			pollUntil(ctx, time.Now().Add(2*time.Second), func() bool { return !rec.alive() })
		}
	}
	if rec.PID > 0 {
		// An adopted shim (after an agent restart, with this process as a
		// subreaper) would otherwise stay a zombie. Its main thread shows
		// as a zombie before its other threads are gone, and only then can
		// it be reaped: its pidfd turns readable at that moment, which
		// wakes the wait at once. ECHILD means it is not ours to reap (or
		// cmd.Wait reaped it).
		pollWatching(ctx, "", rec.PID, time.Now().Add(2*time.Second), func() bool {
			var ws unix.WaitStatus
			got, err := unix.Wait4(rec.PID, &ws, unix.WNOHANG, nil)
			return got == rec.PID || err != nil
		})
	}
	step("remove:shim")
	tShim = time.Now()
	if err := r.deleteOCIContainer(ctx, key); err != nil {
		r.opt.logger.Warn("remove: runc delete", "key", key, "err", err)
	}
	// Nothing runs in the namespace now: the attachment and the
	// namespace go.
	release, err := r.detach(ctx, key, dir)
	if err != nil {
		r.opt.logger.Warn("remove: network", "key", key, "err", err)
	}
	if release != nil {
		// The address goes once the removal is done, whatever its end.
		defer release()
	}
	step("remove:deleted")
	tDeleted = time.Now()
	if err := images.Unmount(filepath.Join(dir, "bundle", "rootfs")); err != nil {
		// Still mounted (a host process works inside it, say): the
		// directory, which no name points at any more, is left whole for
		// the next runtime on this root to finish (sweepUnfinished), rather
		// than deleted through the mount.
		r.opt.logger.Warn("remove: unmount; the next start of the agent finishes the removal", "key", key, "err", err)
		return
	}
	if err := r.store.ReleaseRootfs(ctx, key); err != nil {
		r.opt.logger.Warn("remove: release root filesystem", "key", key, "err", err)
	}
	step("remove:unmounted")
	tUnmounted = time.Now()
	if r.opt.secretDir != "" {
		if err := os.RemoveAll(filepath.Join(r.opt.secretDir, key)); err != nil {
			r.opt.logger.Warn("remove: secrets", "key", key, "err", err)
		}
	}
	r.discard(key, dir)
}

// trashDir holds the state directories of removed containers until they
// are deleted, in the background (discard).
const trashDir = "trash"

// discard deletes a removed container's state directory: it is renamed
// out of the way at once (the container is gone for every reader) and
// deleted in the background, off the removal's path. What a runtime did
// not live to delete, the next one on this root deletes (emptyTrash).
func (r *Runtime) discard(key, dir string) {
	trash := filepath.Join(r.root, trashDir, key)
	if err := os.Rename(dir, trash); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			r.opt.logger.Warn("remove: state dir", "key", key, "err", err)
		}
		return
	}
	go func() {
		if err := os.RemoveAll(trash); err != nil {
			r.opt.logger.Warn("remove: state dir", "key", key, "err", err)
		}
	}()
}

// emptyTrash deletes what discard of an earlier runtime on this root left.
func (r *Runtime) emptyTrash() {
	if err := os.RemoveAll(filepath.Join(r.root, trashDir)); err != nil {
		r.opt.logger.Warn("runc runtime: deleting removed containers' state", "err", err)
	}
}

// destroyTimeout bounds the cleanup of one container.
const destroyTimeout = 30 * time.Second

// runcRootDir is where the OCI runtime keeps its state.
func (r *Runtime) runcRootDir() string {
	if r.opt.runcRoot != "" {
		return r.opt.runcRoot
	}
	return "/run/runc"
}

// Rename implements runtime.Lifecycle: the name moves, the key stays.
func (r *Runtime) Rename(ctx context.Context, id, to runtime.ContainerID) error {
	if err := to.Validate(); err != nil {
		return fmt.Errorf("container %s: rename to %s: %w", id, to, err)
	}
	s, unlock, err := r.locked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if id == to {
		return nil
	}
	if err := os.Symlink(filepath.Join("..", "containers", s.meta.Key), r.nameLink(to)); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("container %s: rename to %s: %w", id, to, runtime.ErrAlreadyExists)
		}
		return fmt.Errorf("container %s: rename: %w", id, err)
	}
	s.meta.ID = to
	if err := writeJSON(filepath.Join(s.dir, metaFile), s.meta); err != nil {
		os.Remove(r.nameLink(to))
		return fmt.Errorf("container %s: rename: %w", id, err)
	}
	if err := os.Remove(r.nameLink(id)); err != nil {
		return err
	}
	// Its network's DNS answers the new name, not the old one.
	if err := r.renameOnNetwork(s.meta.Key, s.dir, to); err != nil {
		r.opt.logger.Warn("rename: the network's names", "container", to, "err", err)
	}
	return nil
}

// SyncVolumes implements runtime.Lifecycle: volumes are bind mounts, always
// in sync.
func (r *Runtime) SyncVolumes(ctx context.Context, id runtime.ContainerID) error {
	_, err := r.get(id)
	return err
}

// pollUntil polls cond with a growing interval until it holds (true), the
// deadline passes or ctx ends (false).
func pollUntil(ctx context.Context, deadline time.Time, cond func() bool) bool {
	return pollWoken(ctx, deadline, nil, 10*time.Millisecond, cond)
}

// sweepUnfinished undoes the creates an earlier runtime on this root did
// not finish (its agent was killed half-way, or the machine crashed): a name
// whose directory still says it is being created, or holds no container
// record that decodes, and a directory no name points at. Each is
// destroyed as a failed create is, so its name is free and nothing of it
// is left (shim, runc state, mount, rootfs). It runs in New, before any
// create of this runtime.
func (r *Runtime) sweepUnfinished(ctx context.Context) {
	named := map[string]bool{}
	links, _ := os.ReadDir(filepath.Join(r.root, "names"))
	for _, l := range links {
		link := filepath.Join(r.root, "names", l.Name())
		target, err := os.Readlink(link)
		if err != nil {
			continue
		}
		key := filepath.Base(target)
		dir := r.dirOf(key)
		_, markErr := os.Stat(filepath.Join(dir, creatingFile))
		// A record that does not decode is none: a crash of the machine
		// before a create's fsyncs can leave it empty (and the mark gone).
		var m meta
		metaErr := readJSON(filepath.Join(dir, metaFile), &m)
		if markErr != nil && metaErr == nil {
			named[key] = true
			continue
		}
		r.opt.logger.Warn("runc runtime: undoing a create that did not finish (the agent or the machine stopped during it)", "container", l.Name())
		// Its shim may wait for a start that will never come: end it now
		// rather than after destroy's grace.
		var rec shimRecord
		if readJSON(filepath.Join(dir, shimFile), &rec) == nil && rec.alive() {
			_ = unix.Kill(rec.PID, unix.SIGKILL)
		}
		r.destroy(ctx, key, dir, noStep)
		os.Remove(link)
	}
	dirs, _ := os.ReadDir(filepath.Join(r.root, "containers"))
	for _, d := range dirs {
		if d.IsDir() && !named[d.Name()] {
			r.opt.logger.Warn("runc runtime: removing a container directory no name points at", "key", d.Name())
			r.destroy(ctx, d.Name(), r.dirOf(d.Name()), noStep)
		}
	}
	if r.opt.secretDir != "" {
		// Secrets of containers that are gone (a removal cut short).
		held, _ := os.ReadDir(r.opt.secretDir)
		for _, d := range held {
			if _, err := os.Stat(r.dirOf(d.Name())); errors.Is(err, os.ErrNotExist) {
				os.RemoveAll(filepath.Join(r.opt.secretDir, d.Name()))
			}
		}
	}
}

// minMemory is the smallest memory limit a Linux container gets, as docker
// allows: below it the runtime's own init cannot start.
const minMemory = 6 << 20

// checkLimits refuses up front, with the allowed range, limits runc would
// fail on late or a node cannot give: docker's bounds.
func checkLimits(r runtime.Resources) error {
	if m := r.MemoryBytes; m > 0 && m < minMemory {
		return fmt.Errorf("memory limit %d bytes: the minimum is 6 MiB (6291456 bytes): %w", m, runtime.ErrInvalidArgument)
	}
	if n := goruntime.NumCPU(); r.CPU > float64(n) {
		return fmt.Errorf("CPU limit %g: this node has %d CPUs; give 0.01 to %d: %w", r.CPU, n, n, runtime.ErrInvalidArgument)
	}
	if r.CPU > 0 && r.CPU < 0.01 {
		return fmt.Errorf("CPU limit %g: the smallest is 0.01: %w", r.CPU, runtime.ErrInvalidArgument)
	}
	if r.Cpuset != "" {
		n := goruntime.NumCPU()
		for _, part := range strings.Split(r.Cpuset, ",") {
			lo, hi, _ := strings.Cut(part, "-")
			if hi == "" {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a < 0 || b < a {
				return fmt.Errorf("cpuset %q: want CPU numbers and ranges, like 0-1,3: %w", r.Cpuset, runtime.ErrInvalidArgument)
			}
			if b >= n {
				return fmt.Errorf("cpuset %q: this node has CPUs 0 to %d: %w", r.Cpuset, n-1, runtime.ErrInvalidArgument)
			}
		}
	}
	return nil
}

// parseSignal reads a signal as docker's --stop-signal does: a name with
// or without SIG (SIGQUIT, quit) or a number; "" is 0, the default.
func parseSignal(s string) (unix.Signal, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("%q is not a signal number (1 to 64): %w", s, runtime.ErrInvalidArgument)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("%q is not a signal (like SIGTERM, SIGQUIT or 3): %w", s, runtime.ErrInvalidArgument)
}

// closeAll closes files, ignoring errors: this process's copies of
// sockets a shim holds.
func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

// namedDir is where the node's named volumes live.
func (r *Runtime) namedDir() string {
	if r.opt.volumeDir != "" {
		return r.opt.volumeDir
	}
	return filepath.Join(r.root, "volumes")
}
