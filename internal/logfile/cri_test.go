package logfile

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/runtime"
)

// The CRI copy holds every entry in the kubelet's format (time, stream,
// P or F, text), and a copy moved aside (the kubelet's rotation) is
// followed by a new file at its path.
func TestCRICopy(t *testing.T) {
	dir := t.TempDir()
	cri := filepath.Join(dir, "ctr.log")
	f, err := Open(filepath.Join(dir, "log.json"), WithCRICopy(cri))
	if err != nil {
		t.Fatal(err)
	}
	out, errw := f.Writer(runtime.Stdout), f.Writer(runtime.Stderr)
	out.Write([]byte("one\ntwo"))
	errw.Write([]byte("oops\n"))
	out.Write([]byte(" halves\n"))
	if err := os.Rename(cri, cri+".1"); err != nil {
		t.Fatal(err)
	}
	out.Write([]byte("after the rotation\nunfinished"))
	out.Close()
	errw.Close()
	f.Close()
	line := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (stdout|stderr) [PF] `)
	check := func(path string, want []string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != len(want) {
			t.Fatalf("%s holds %q; want %d lines %q", path, b, len(want), want)
		}
		for i, l := range lines {
			if !line.MatchString(l) {
				t.Fatalf("%s line %d %q is not in the CRI format", path, i, l)
			}
			f := strings.SplitN(l, " ", 4)
			if got := f[1] + " " + f[2] + " " + f[3]; got != want[i] {
				t.Fatalf("%s line %d = %q; want %q", path, i, got, want[i])
			}
		}
	}
	check(cri+".1", []string{"stdout F one", "stderr F oops", "stdout F two halves"})
	check(cri, []string{"stdout F after the rotation", "stdout P unfinished"})
}
