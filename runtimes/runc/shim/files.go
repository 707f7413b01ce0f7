package shim

// File names in a container's state directory that the shim writes besides
// those of package statedir (statedir.ExitFile, statedir.LogFile).
const (
	// InitPIDFile is runc's --pid-file: the container init's host pid.
	InitPIDFile = "init.pid"
	// RuncLogFile is runc's --log, in JSON lines.
	RuncLogFile = "runc.log"
	// TTYFile, written by the runtime, says the container has a terminal:
	// the shim hands runc a console socket and logs what the terminal
	// prints, as stdout.
	TTYFile = "tty"
	// CRILogFile, written by the runtime, holds the path of the
	// container's copy of its log in the Kubernetes CRI format (a
	// kubelet's LogPath), which the shim writes beside its own.
	CRILogFile = "cri-log.path"
)

// More files in a container's state directory.
const (
	// StdinFile, written by the runtime, says the container takes input
	// (docker run -i): the shim keeps its standard input open and serves
	// AttachSocket. It holds "once" when the input ends with the first
	// client's (docker's StdinOnce).
	StdinFile = "stdin"
	// AttachSocket is the unix socket the shim serves while the container
	// runs, when it takes input or has a terminal: clients write its input
	// and resize its terminal there, in frames (package inputframe).
	AttachSocket = "attach.sock"
)
