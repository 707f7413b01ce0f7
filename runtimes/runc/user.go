package runc

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/switchyard/switchyard/runtime"
)

// resolveUser turns an image config User ("", "uid", "name", "uid:gid",
// "name:group") into ids, reading the container's /etc/passwd and
// /etc/group for names, home and supplementary groups, as Docker does.
func resolveUser(rootfs, user string) (specs.User, error) {
	passwd := openInRoot(rootfs, "etc/passwd")
	group := openInRoot(rootfs, "etc/group")
	defer closeFile(passwd)
	defer closeFile(group)
	var pr, gr io.Reader
	if passwd != nil {
		pr = io.LimitReader(passwd, maxUserFile)
	}
	if group != nil {
		gr = io.LimitReader(group, maxUserFile)
	}
	return parseUser(user, pr, gr)
}

// maxUserFile bounds what is read of an image's /etc/passwd or group.
const maxUserFile = 4 << 20

// openInRoot opens the regular file name inside the root filesystem root,
// resolving every symlink as the container would, inside root: an image
// (or a running container) cannot point the agent at a host file by a
// link, nor block it with a FIFO. nil when there is no such file.
func openInRoot(root, name string) *os.File {
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), filepath.Join(root, name))
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// parseUser is resolveUser over readers (nil when the file is missing).
func parseUser(user string, passwd, group io.Reader) (specs.User, error) {
	name, grp, hasGroup := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	var users [][]string
	if passwd != nil {
		users = readColon(passwd, 7)
	}
	var groups [][]string
	if group != nil {
		groups = readColon(group, 4)
	}
	u := specs.User{}
	uname := ""
	found := false
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID, u.GID = uint32(id), uint32(id)
		for _, p := range users {
			if p[2] == name {
				if gid, err := strconv.ParseUint(p[3], 10, 32); err == nil {
					u.GID = uint32(gid)
				}
				uname, found = p[0], true
				break
			}
		}
		if !found && id != 0 {
			u.GID = 0
		}
	} else {
		for _, p := range users {
			if p[0] == name {
				uid, err1 := strconv.ParseUint(p[2], 10, 32)
				gid, err2 := strconv.ParseUint(p[3], 10, 32)
				if err1 != nil || err2 != nil {
					return u, fmt.Errorf("user %q: bad /etc/passwd entry for %s: %w", user, name, runtime.ErrInvalidArgument)
				}
				u.UID, u.GID, uname, found = uint32(uid), uint32(gid), name, true
				break
			}
		}
		if !found {
			return u, fmt.Errorf("user %q: no user %q in the image's /etc/passwd; use a numeric uid or add the user to the image: %w", user, name, runtime.ErrInvalidArgument)
		}
	}
	if hasGroup && grp != "" {
		if id, err := strconv.ParseUint(grp, 10, 32); err == nil {
			u.GID = uint32(id)
		} else {
			ok := false
			for _, g := range groups {
				if g[0] == grp {
					gid, err := strconv.ParseUint(g[2], 10, 32)
					if err != nil {
						break
					}
					u.GID, ok = uint32(gid), true
					break
				}
			}
			if !ok {
				return u, fmt.Errorf("user %q: no group %q in the image's /etc/group; use a numeric gid or add the group to the image: %w", user, grp, runtime.ErrInvalidArgument)
			}
		}
	}
	if uname != "" {
		for _, g := range groups {
			for _, member := range strings.Split(g[3], ",") {
				if member != uname {
					continue
				}
				if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil && uint32(gid) != u.GID {
					u.AdditionalGids = append(u.AdditionalGids, uint32(gid))
				}
			}
		}
	}
	return u, nil
}

// readColon reads a colon-separated database, keeping lines with at least
// n fields (padded to n) and skipping comments; at most 1 MiB is read.
func readColon(r io.Reader, n int) [][]string {
	var out [][]string
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) < 3 {
			continue
		}
		for len(f) < n {
			f = append(f, "")
		}
		out = append(out, f)
	}
	return out
}

// resolveGroups turns group names or gids into gids, reading the
// container's /etc/group for names (docker run --group-add).
func resolveGroups(rootfs string, names []string) ([]uint32, error) {
	var groups [][]string
	if f := openInRoot(rootfs, "etc/group"); f != nil {
		groups = readColon(io.LimitReader(f, maxUserFile), 4)
		f.Close()
	}
	out := make([]uint32, 0, len(names))
	for _, n := range names {
		if id, err := strconv.ParseUint(n, 10, 32); err == nil {
			out = append(out, uint32(id))
			continue
		}
		found := false
		for _, g := range groups {
			if g[0] == n {
				if gid, err := strconv.ParseUint(g[2], 10, 32); err == nil {
					out, found = append(out, uint32(gid)), true
				}
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("extra group %q: no such group in the image's /etc/group; use a numeric gid or add the group to the image: %w", n, runtime.ErrInvalidArgument)
		}
	}
	return out, nil
}
