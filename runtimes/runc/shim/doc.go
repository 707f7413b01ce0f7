// Package shim is the per-container supervisor of the runc runtime: the
// hidden `switchyard shim` command. The runtime starts one shim per run of a
// container, in its own session, so that it outlives the agent. The shim
//
//   - becomes a child subreaper, so that the container's init, once runc
//     create has exited, is its child;
//   - runs `runc create` with pipes as the container's stdout and stderr
//     (stdin is /dev/null) and tells the runtime through an inherited pipe
//     whether the container was created (statedir.WriteReady: one JSON
//     line, {ok, kind, message});
//   - copies the pipes into the container's log file (package logfile);
//   - waits for the init process, reads the cgroup's OOM kill counter,
//     records the exit in the state directory (statedir.WriteExit: a
//     temporary file, fsynced, renamed, the directory fsynced; for an
//     auto-remove container, whose removal follows at once, without the
//     fsyncs), then deletes the ended container from the OCI runtime (with
//     runc, itself: runc's state directory and the cgroups; with another
//     runtime, its delete command), and exits.
//
// The exit is recorded before the deletion so that whoever waits for it
// (run --rm) is not kept waiting by the deletion. The runtime, not the
// shim, starts the created container (it opens runc's exec FIFO itself).
// The shim imports little, keeps small buffers and a low GC target,
// because its memory is paid once per container.
package shim
