package host

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/internal/proc"
	"github.com/switchyard/switchyard/internal/statedir"
	"github.com/switchyard/switchyard/runtime"
)

// Names of the files the host keeps in its root. In an instance's state
// directory it keeps those of package statedir: statedir.StartFile,
// statedir.ExitFile and statedir.LogFile.
const (
	// SocketName is the host's unix socket in the root.
	SocketName = "host.sock"
	// LockName is the lock file a running host holds for its whole life.
	LockName = "host.lock"
	// PIDName holds the running host's process id, for people and tests.
	PIDName = "host.pid"
	// CacheDir holds the compiled code under the root: a directory per
	// module digest (its hex), each wazero's compilation cache for that
	// module alone.
	CacheDir = "cache"
	// LayerFile, in a module's cache directory, names the image layer the
	// module was extracted from, when that is not the module itself.
	LayerFile = "layer"
)

// Module names a module file and the digest it must have.
type Module struct {
	// Path is the module's file on the host.
	Path string `json:"path"`
	// Digest is "sha256:<hex>" of the file; compiled code is shared by it.
	Digest string `json:"digest"`
	// Layer is the digest of the image layer the module is or was
	// extracted from: its compiled code may go once no image has it.
	Layer string `json:"layer,omitempty"`
}

// ReclaimRequest asks the host to drop the compiled code of modules.
type ReclaimRequest struct {
	Digests []string `json:"digests"`
}

// ReclaimResult says what a reclaim dropped.
type ReclaimResult struct {
	// Reclaimed lists the modules whose compiled code went.
	Reclaimed []string `json:"reclaimed"`
	// Kept lists the modules kept because an instance uses them.
	Kept []string `json:"kept"`
	// SpaceReclaimed is the bytes freed on disk.
	SpaceReclaimed uint64 `json:"space_reclaimed"`
}

// Listener is a published port of a module: the host listens on
// Host:Port and the module gets the socket.
type Listener struct {
	// Host is the address to listen on ("" or 0.0.0.0 for every one).
	Host string `json:"host,omitempty"`
	// Port is the host port.
	Port uint16 `json:"port"`
	// ContainerPort is the port the module was asked to serve, named in
	// its environment (ListenFDEnvPrefix).
	ContainerPort uint16 `json:"container_port"`
}

// The environment that tells a module its listeners. A WASI preview 1
// module cannot open a socket; it serves on the pre-opened ones, which
// come after its pre-opened directories:
//
//	SWITCHYARD_LISTEN_FDS=4,5        every listener's file descriptor, in order
//	SWITCHYARD_LISTEN_FD_8080=4      the listener of the port the module serves as 8080
//
// A Go module turns one into a net.Listener with
// net.FileListener(os.NewFile(fd, "")), after syscall.SetNonblock(fd,
// true): a blocking accept would stall the whole module.
const (
	ListenFDsEnv      = "SWITCHYARD_LISTEN_FDS"
	ListenFDEnvPrefix = "SWITCHYARD_LISTEN_FD_"
)

// Mount is a host directory preopened for an instance.
type Mount struct {
	// HostPath is the directory on the host.
	HostPath string `json:"host_path"`
	// GuestPath is where the module sees it (absolute).
	GuestPath string `json:"guest_path"`
	// ReadOnly refuses writes through this mount.
	ReadOnly bool `json:"read_only,omitempty"`
}

// StartRequest asks the host to run a module once.
type StartRequest struct {
	// Key identifies the instance for its whole life (it survives renames).
	Key string `json:"key"`
	// Name is the container's name, for the host's own log.
	Name string `json:"name"`
	// Module is the module to run.
	Module Module `json:"module"`
	// Args is argv; Args[0] is the module's name.
	Args []string `json:"args"`
	// Env is KEY=VALUE.
	Env []string `json:"env,omitempty"`
	// Mounts are preopened, longest guest path wins as usual in WASI libcs.
	Mounts []Mount `json:"mounts,omitempty"`
	// StateDir receives the start and exit records and the log (package
	// statedir).
	StateDir string `json:"state_dir"`
	// MemoryLimit is the linear memory limit in bytes; 0 means none.
	MemoryLimit uint64 `json:"memory_limit,omitempty"`
	// Listeners are TCP sockets the host listens on and hands the module,
	// pre-opened, after its mounts (see ListenFDsEnv).
	Listeners []Listener `json:"listeners,omitempty"`
	// Run numbers the starts of one instance; the exit record carries it so
	// that a reader can tell a stale exit from the current one.
	Run uint64 `json:"run"`
	// LogMaxSize and LogMaxFiles rotate the instance's log (package
	// logfile); 0 means logfile's default.
	LogMaxSize  int64 `json:"log_max_size,omitempty"`
	LogMaxFiles int   `json:"log_max_files,omitempty"`
	// NetNS, when set, is the network namespace (a pod's, pinned) in
	// which the listeners are made: the module serves on the pod's
	// address, like the pod's other containers.
	NetNS string `json:"netns,omitempty"`
	// CRILog, when set, gets a copy of the log in the Kubernetes CRI
	// format (a kubelet's LogPath).
	CRILog string `json:"cri_log,omitempty"`
}

// Status is what the host knows about one instance.
type Status struct {
	Key string `json:"key"`
	Run uint64 `json:"run"`
	// Running is true until the exit record is written.
	Running bool `json:"running"`
	// Stopping is true once a stop or kill was asked for.
	Stopping bool `json:"stopping,omitempty"`
	// MemoryBytes is the size of the instance's linear memory.
	MemoryBytes uint64    `json:"memory_bytes"`
	StartedAt   time.Time `json:"started_at"`
}

// Info describes the host process.
type Info struct {
	PID int `json:"pid"`
	// Instances counts the instances the host knows (running or not).
	Instances int `json:"instances"`
	// Running counts the running instances.
	Running int `json:"running"`
	// Modules counts the compiled modules kept in memory.
	Modules int `json:"modules"`
	// Compiles counts compilations (disk cache loads included) since the
	// host started, and CompileTime is their total duration.
	Compiles    uint64        `json:"compiles"`
	CompileTime time.Duration `json:"compile_time"`
}

// SignalRequest asks the host to end an instance.
type SignalRequest struct {
	// Signal is SIGKILL, SIGTERM or SIGINT; a module cannot catch signals,
	// so each cancels the instance, and the exit reports the signal.
	Signal string `json:"signal"`
}

// RecordLost records that run ended without an exit record because its host
// went away, unless an exit record for run appeared meanwhile (the host may
// have written it at the last moment). It returns the record that holds.
func RecordLost(dir string, run uint64, hostPID int, startedAt time.Time) (statedir.Exit, error) {
	if rec, ok, err := statedir.ReadExit(dir); err != nil || ok && rec.Run >= run {
		return rec, err
	}
	msg := fmt.Sprintf("wasm host exited (pid %d) while the module was running", hostPID)
	if proc.BeforeBoot(startedAt) {
		msg = statedir.MachineRestarted
	}
	rec := statedir.Exit{Run: run, SupervisorPID: hostPID, StartedAt: startedAt, Outcome: runtime.WaitOutcome{
		ExitCode:   255,
		Reason:     runtime.ReasonRuntimeError,
		Message:    msg,
		FinishedAt: time.Now().UTC(),
	}}
	// The host is gone, so no one else writes this run's record; a
	// concurrent reader that also found it lost writes the same verdict.
	return rec, statedir.WriteExit(dir, rec)
}
