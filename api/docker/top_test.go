package docker

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPsRowOfThisProcess(t *testing.T) {
	row, ok := psRow(os.Getpid(), bootTime(), time.Now())
	if !ok || len(row) != len(topTitles) {
		t.Fatalf("psRow = %q, %v", row, ok)
	}
	if row[1] != strconv.Itoa(os.Getpid()) || row[2] != strconv.Itoa(os.Getppid()) || !strings.Contains(row[7], os.Args[0]) {
		t.Fatalf("psRow = %q; want this process's pid, parent and command line", row)
	}
	if _, ok := psRow(1<<30, bootTime(), time.Now()); ok {
		t.Fatal("psRow of a process that does not exist answered")
	}
}

func TestTTYName(t *testing.T) {
	for nr, want := range map[int]string{0: "?", 136 << 8: "pts/0", 136<<8 | 5: "pts/5", 137<<8 | 1: "pts/257", 4<<8 | 1: "tty1"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%d) = %q; want %q", nr, got, want)
		}
	}
}
