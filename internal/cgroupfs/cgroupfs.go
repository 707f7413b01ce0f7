// Package cgroupfs removes a container's cgroup from the cgroup filesystem
// in every hierarchy that has it: the v1 controllers' and the v2 unified
// one, on a host with either or both.
package cgroupfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where the cgroup filesystems are mounted.
const Root = "/sys/fs/cgroup"

// Dirs returns the directories of cgroup path (a cgroupsPath such as
// /switchyard/KEY) that exist under root, in every hierarchy.
func Dirs(root, path string) []string {
	var dirs []string
	for _, d := range candidates(root, path) {
		if isDir(d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// candidates returns where cgroup path would be under root: in each
// hierarchy (root's entries, v1) and in root itself (v2). One listing of
// the hierarchies: a glob would list every directory on the way (a
// hierarchy's files, every container's cgroup).
func candidates(root, path string) []string {
	path = filepath.Join("/", path)
	var out []string
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		out = append(out, filepath.Join(root, e.Name(), path))
	}
	return append(out, filepath.Join(root, path))
}

// Remove removes cgroup path from every hierarchy under root. A process
// still in it (one that outlived the container's init, as in a shared PID
// namespace, or an init cut short before the OCI runtime knew of it) is
// killed first, since a cgroup with processes cannot be removed; Remove
// polls until each directory is gone, or ctx ends, or the bound passes.
// What could not be removed is reported.
func Remove(ctx context.Context, root, path string) error {
	if filepath.Join("/", path) == "/" {
		// The root cgroup holds every process of the host.
		return fmt.Errorf("cgroupfs: refusing to remove the root cgroup (path %q)", path)
	}
	path = filepath.Join("/", path)
	var errs []error
	// Each candidate is removed without a look first: where the cgroup is
	// not, the rmdir says so (ENOENT, or ENOTDIR under a file).
	for _, d := range candidates(root, path) {
		if err := removeDir(ctx, d, path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeBound bounds how long Remove waits for one hierarchy's directory
// to empty once its processes were killed.
const removeBound = 2 * time.Second

// removeDir removes cgroup directory d (of cgroup path, in one hierarchy)
// and the cgroups a workload made under it (a container with the cgroup
// filesystem writable, running systemd or a container engine), deepest
// first, as runc's delete does.
func removeDir(ctx context.Context, d, path string) error {
	err := unix.Rmdir(d)
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) {
		return nil // the common case: no child cgroups, no process left; or not here
	}
	var dirs []string
	_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- { // children after their parents in the walk
		if err := removeOne(ctx, dirs[i], path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeOne removes one cgroup directory (of cgroup path or one under it),
// killing what is in it until it can be removed.
func removeOne(ctx context.Context, d, path string) error {
	deadline := time.Now().Add(removeBound)
	wait := time.Millisecond
	for {
		err := unix.Rmdir(d)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		killAll(d, path)
		if time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// killAll sends SIGKILL to every process of cgroup directory d, which is
// cgroup path or one under it. A process listed may end, and its pid go to
// another process, before the signal: each pid is first pinned with a
// pidfd (the signal then goes to that process or to none) and the process
// checked to be in path, so that no process outside the container is
// killed.
func killAll(d, path string) {
	b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ENOSYS) {
			// A kernel before 5.3 has no pidfds: the listing is all there is.
			unix.Kill(pid, unix.SIGKILL)
			continue
		}
		if err != nil {
			continue // ended already
		}
		if inCgroup(pid, path) {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
		unix.Close(fd)
	}
}

// inCgroup reports whether process pid is in cgroup path, or one under
// it, in any hierarchy.
func inCgroup(pid int, path string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return err == nil && listsCgroup(string(b), path)
}

// listsCgroup reports whether a /proc/PID/cgroup file (one
// "ID:CONTROLLERS:PATH" line per hierarchy) puts its process in cgroup
// path, or one under it, in any hierarchy.
func listsCgroup(file, path string) bool {
	for _, line := range strings.Split(file, "\n") {
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if _, p, ok := strings.Cut(rest, ":"); ok && (p == path || strings.HasPrefix(p, path+"/")) {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
