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
//     runs `runc delete` (so that an exited container holds no cgroup and no
//     runc state), records the exit atomically in the state directory
//     (statedir.WriteExit: a temporary file, fsynced, renamed, the
//     directory fsynced), and exits.
//
// `runc start` is run by the runtime, not the shim: it only opens the
// container's exec FIFO, and running it in the caller gives the caller
// runc's own error. The shim imports little, keeps small buffers and a low
// GC target, because its memory is paid once per container.
package shim
