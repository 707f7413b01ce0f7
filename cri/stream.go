package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
	remotecommandserver "k8s.io/cri-streaming/pkg/streaming/remotecommand"

	"github.com/switchyard/switchyard/internal/nspin"
	"github.com/switchyard/switchyard/runtime"
)

// Streaming makes the streaming server of Exec, Attach and PortForward
// (k8s.io/cri-streaming), whose URLs are on ln: the caller serves the
// returned handler there (a loopback address, as a kubelet and crictl
// reach it). Until it is called those calls answer Unavailable.
func (s *Server) Streaming(ln net.Listener) (http.Handler, error) {
	addr := ln.Addr().String()
	cfg := streaming.DefaultConfig
	cfg.Addr = addr
	cfg.BaseURL = &url.URL{Scheme: "http", Host: addr}
	srv, err := streaming.NewServer(cfg, streamRuntime{s})
	if err != nil {
		return nil, fmt.Errorf("cri: streaming server: %w", err)
	}
	s.streamMu.Lock()
	s.stream = srv
	s.streamMu.Unlock()
	return srv, nil
}

func (s *Server) streaming() (streaming.Server, error) {
	s.streamMu.Lock()
	defer s.streamMu.Unlock()
	if s.stream == nil {
		return nil, fmt.Errorf("the streaming server is not running: %w", runtime.ErrUnavailable)
	}
	return s.stream, nil
}

// Exec implements RuntimeService: a URL of the streaming server for the
// exec.
func (s *Server) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "Exec", err)
	}
	srv, err := s.streaming()
	if err != nil {
		return nil, s.grpcError(ctx, "Exec", err)
	}
	if st, err := s.rt.State(ctx, rec.Name); err != nil || st.Status != runtime.StatusRunning {
		return nil, s.grpcError(ctx, "Exec", fmt.Errorf("container %s is not running; start it first: %w", rec.ID, runtime.ErrFailedPrecondition))
	}
	r := proto.Clone(req).(*runtimeapi.ExecRequest)
	r.ContainerId = rec.ID
	resp, err := srv.GetExec(r)
	if err != nil {
		return nil, s.grpcError(ctx, "Exec", err)
	}
	return resp, nil
}

// Attach implements RuntimeService: a URL of the streaming server for the
// attachment.
func (s *Server) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	rec, err := s.findCtr(req.GetContainerId())
	if err != nil {
		return nil, s.grpcError(ctx, "Attach", err)
	}
	srv, err := s.streaming()
	if err != nil {
		return nil, s.grpcError(ctx, "Attach", err)
	}
	r := proto.Clone(req).(*runtimeapi.AttachRequest)
	r.ContainerId = rec.ID
	resp, err := srv.GetAttach(r)
	if err != nil {
		return nil, s.grpcError(ctx, "Attach", err)
	}
	return resp, nil
}

// PortForward implements RuntimeService: a URL of the streaming server
// for forwarding to the pod's ports.
func (s *Server) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	pod, err := s.findPod(req.GetPodSandboxId())
	if err != nil {
		return nil, s.grpcError(ctx, "PortForward", err)
	}
	if !pod.ready() {
		return nil, s.grpcError(ctx, "PortForward", fmt.Errorf("pod sandbox %s is not ready: %w", pod.ID, runtime.ErrFailedPrecondition))
	}
	srv, err := s.streaming()
	if err != nil {
		return nil, s.grpcError(ctx, "PortForward", err)
	}
	r := proto.Clone(req).(*runtimeapi.PortForwardRequest)
	r.PodSandboxId = pod.ID
	resp, err := srv.GetPortForward(r)
	if err != nil {
		return nil, s.grpcError(ctx, "PortForward", err)
	}
	return resp, nil
}

// streamRuntime runs what the streaming server was asked for.
type streamRuntime struct{ s *Server }

// exitError is a command's non-zero exit, in the shape the streaming
// server reports to its client (k8s.io/utils/exec's ExitError).
type exitError struct{ code int }

func (e exitError) Error() string   { return "command exited with " + strconv.Itoa(e.code) }
func (e exitError) String() string  { return e.Error() }
func (e exitError) Exited() bool    { return true }
func (e exitError) ExitStatus() int { return e.code }

// Exec implements streaming.Runtime.
func (r streamRuntime) Exec(ctx context.Context, containerID string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	rec, err := r.s.readCtr(containerID)
	if err != nil {
		return err
	}
	opts := runtime.ExecOptions{Stdin: in, TTY: tty}
	st, err := runtime.ExecWith(ctx, r.s.rt, "of the container", rec.Name, cmd, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	if rz, ok := st.(runtime.Resizer); ok && resize != nil {
		go func() {
			for size := range resize {
				if size.Height > 0 && size.Width > 0 {
					_ = rz.Resize(size.Height, size.Width)
				}
			}
		}()
	}
	code := 0
	for {
		ev, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch ev.Kind {
		case runtime.ExecStdout:
			if out != nil {
				_, _ = out.Write(ev.Data)
			}
		case runtime.ExecStderr:
			if errw != nil {
				_, _ = errw.Write(ev.Data)
			} else if out != nil {
				_, _ = out.Write(ev.Data)
			}
		case runtime.ExecExit:
			code = ev.ExitCode
		}
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

// Attach implements streaming.Runtime: the client's input goes to the
// container's (when it keeps one open), and the container's output from
// now on comes back, until it exits or the client leaves.
func (r streamRuntime) Attach(ctx context.Context, containerID string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommandserver.TerminalSize) error {
	rec, err := r.s.readCtr(containerID)
	if err != nil {
		return err
	}
	logs, err := r.s.rt.FollowLogs(ctx, rec.Name, 0)
	if err != nil {
		return err
	}
	defer logs.Close()
	if in != nil {
		w, err := runtime.AttachStdin(ctx, r.s.rt, "of the container", rec.Name)
		if err != nil {
			return err
		}
		go func() {
			_, _ = io.Copy(w, in)
			_ = w.Close()
		}()
	}
	if tty && resize != nil {
		go func() {
			for size := range resize {
				if size.Height > 0 && size.Width > 0 {
					_ = runtime.ResizeTerminal(ctx, r.s.rt, "of the container", rec.Name, size.Height, size.Width)
				}
			}
		}()
	}
	for {
		e, err := logs.Recv()
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		w := out
		if e.Stream == runtime.Stderr && errw != nil {
			w = errw
		}
		if w == nil {
			continue
		}
		text := e.Text
		if !e.Partial {
			text += "\n"
		}
		if _, err := io.WriteString(w, text); err != nil {
			return nil // the client left
		}
	}
}

// PortForward implements streaming.Runtime: a connection to port on the
// pod's loopback, made in the pod's network namespace, joined to the
// client's stream both ways.
func (r streamRuntime) PortForward(ctx context.Context, podSandboxID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	pod, err := r.s.readPod(podSandboxID)
	if err != nil {
		return err
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d: want 1 to 65535: %w", port, runtime.ErrInvalidArgument)
	}
	conn, err := dialIn(ctx, pod.NetNS, "127.0.0.1:"+strconv.Itoa(int(port)))
	if err != nil {
		return fmt.Errorf("pod %s: port %d: %w", pod.Metadata.Name, port, err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	_, err = io.Copy(stream, conn)
	_ = stream.Close()
	wg.Wait()
	return err
}

// dialIn connects to addr from the network namespace pinned at netns
// (the host's when netns is ""). The socket is made in that namespace on
// a locked thread; connecting and the rest happen anywhere.
func dialIn(ctx context.Context, netns, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if netns == "" {
		return d.DialContext(ctx, "tcp", addr)
	}
	var c net.Conn
	err := nspin.Run(netns, unix.CLONE_NEWNET, func() (err error) {
		c, err = d.DialContext(ctx, "tcp", addr)
		return err
	})
	return c, err
}
