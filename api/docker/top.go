package docker

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/switchyard/switchyard/runtime"
)

// clockTicks is the kernel's USER_HZ, what /proc/PID/stat counts times
// in: 100 on every Linux architecture Go supports.
const clockTicks = 100

// topTitles are the columns of ps -ef, which docker top shows by default.
var topTitles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

func (s *Server) topRoutes() {
	s.handle("GET /containers/{id}/top", s.withContainer(func(ctx context.Context, c runtime.Container, w http.ResponseWriter, r *http.Request) error {
		if args := r.URL.Query().Get("ps_args"); args != "" && args != "-ef" {
			return fmt.Errorf("docker top with ps options (%q) is not supported: the answer is ps -ef's columns; leave the options out: %w", args, runtime.ErrNotSupported)
		}
		if !running(c.State) {
			return fmt.Errorf("container %s is not running: %w", dockerID(c), runtime.ErrFailedPrecondition)
		}
		pids, err := runtime.Processes(ctx, s.rt, "node", c.ID)
		if err != nil {
			return err
		}
		slices.Sort(pids)
		resp := container.TopResponse{Titles: topTitles, Processes: [][]string{}}
		boot := bootTime()
		for _, pid := range pids {
			if row, ok := psRow(pid, boot, time.Now()); ok {
				resp.Processes = append(resp.Processes, row)
			}
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	}))
}

// psRow is process pid as a row of ps -ef; ok is false for a process that
// is gone.
func psRow(pid int, boot, now time.Time) ([]string, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	// comm is in parentheses and may hold spaces: the fields follow the
	// last ')'.
	st := string(stat)
	open, close := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
	if open < 0 || close < open {
		return nil, false
	}
	comm := st[open+1 : close]
	f := strings.Fields(st[close+1:])
	// f[0] is state (field 3): f[i] is field i+3.
	if len(f) < 20 {
		return nil, false
	}
	ppid := f[1]
	ttyNr, _ := strconv.Atoi(f[4])
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	start, _ := strconv.ParseUint(f[19], 10, 64)
	cpu := time.Duration(utime+stime) * time.Second / clockTicks
	started := boot.Add(time.Duration(start) * time.Second / clockTicks)
	c := 0
	if ran := now.Sub(started); ran > 0 {
		c = int(cpu * 100 / ran)
	}
	stimeCol := started.Format("15:04")
	if now.Sub(started) > 24*time.Hour {
		stimeCol = started.Format("Jan02")
	}
	cmd := comm
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && len(b) > 0 {
		cmd = strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
	} else {
		cmd = "[" + comm + "]"
	}
	secs := int(cpu / time.Second)
	timeCol := fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	return []string{uidName(pid), strconv.Itoa(pid), ppid, strconv.Itoa(c), stimeCol, ttyName(ttyNr), timeCol, cmd}, true
}

// uidName is the name of the real user of process pid on this host, or
// its number.
func uidName(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			if u, err := user.LookupId(f[0]); err == nil {
				return u.Username
			}
			return f[0]
		}
	}
	return "?"
}

// ttyName is a process's controlling terminal as ps shows it: pts/N, ttyN,
// or ? for none.
func ttyName(nr int) string {
	if nr == 0 {
		return "?"
	}
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.Itoa((major-136)*256+minor)
	case major == 4 && minor < 64:
		return "tty" + strconv.Itoa(minor)
	}
	return "?"
}

// bootTime is when the host booted, from /proc/stat's btime.
func bootTime() time.Time {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				return time.Unix(n, 0)
			}
		}
	}
	return time.Time{}
}
