package main

import (
	"context"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// localTerminal is this command's terminal while a workload's terminal is
// relayed to it: raw, so that every key reaches the workload (Ctrl-C
// included, as with docker run -it), and watched for size changes.
type localTerminal struct {
	fd    int
	state *term.State
}

// rawTerminal puts stdin's terminal in raw mode; nil when stdin is not a
// terminal (input piped in), which is then relayed as it is.
func rawTerminal() *localTerminal {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	st, err := term.MakeRaw(fd)
	if err != nil {
		return nil
	}
	return &localTerminal{fd: fd, state: st}
}

// restore gives the terminal back as it was.
func (t *localTerminal) restore() {
	if t != nil {
		_ = term.Restore(t.fd, t.state)
	}
}

// terminalSize is stdin's terminal's size, rows and columns; zero when
// stdin is not a terminal.
func terminalSize() [2]uint16 {
	ws, err := unix.IoctlGetWinsize(int(os.Stdin.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Row == 0 || ws.Col == 0 {
		return [2]uint16{}
	}
	return [2]uint16{ws.Row, ws.Col}
}

// followSize calls resize with the terminal's size now and at each change
// (SIGWINCH) until ctx ends.
func followSize(ctx context.Context, resize func(rows, cols uint16) error) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, unix.SIGWINCH)
	go func() {
		defer signal.Stop(ch)
		for {
			if sz := terminalSize(); sz[0] > 0 {
				_ = resize(sz[0], sz[1])
			}
			select {
			case <-ctx.Done():
				return
			case <-ch:
			}
		}
	}()
}
