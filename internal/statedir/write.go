package statedir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// fileMode is the mode of every file WriteFile writes: the records hold no
// secret, but nobody outside the agent's group has business reading them.
const fileMode = 0o640

// tempSuffix ends the name of a temporary file; see tempPrefix.
const tempSuffix = ".tmp"

// tempPrefix starts the names of the temporary files for the file named
// base: ".<base>.<pid>.", then a random part and tempSuffix. The dot hides
// them, no reader opens them (readers open base only), and the pid tells a
// leftover of a writer that died (which WriteFile removes) from the file of
// a writer still at work (which it must not touch).
func tempPrefix(base string, pid int) string {
	return "." + base + "." + strconv.Itoa(pid) + "."
}

// IsTemp reports whether name, a file's name in a directory, is one of the
// temporary files a writer of this package makes before renaming it into
// place (tempPrefix): readers never open one.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, tempSuffix)
}

// WriteJSON writes v as JSON to path, atomically and durably (WriteFile).
func WriteJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFile(path, b)
}

// WriteJSONAtomic writes v as JSON to path atomically but not durably
// (WriteFileAtomic).
func WriteJSONAtomic(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return WriteFileAtomic(path, b)
}

// WriteFile writes data to path so that a reader sees the old content or
// the new, never a part, and so that the new content survives a crash of
// the machine once WriteFile has returned: it writes a temporary file in
// path's directory, fsyncs it, renames it over path and fsyncs the
// directory (which holds the rename). A writer killed halfway leaves a
// temporary file, never a torn path; the next write to path removes such
// leftovers of writers that are gone.
func WriteFile(path string, data []byte) error {
	return writeFile(path, data, true)
}

// WriteFileAtomic is WriteFile without the fsyncs: a reader, and the next
// agent after a crash of the agent, see the old content or the new, but a
// crash of the machine may leave the old content, none, or an empty file.
// It is for records that such a crash makes moot (a supervisor's process
// id, the start of a run): after a reboot every process they speak of is
// gone, and their readers take a record that does not decode for none.
func WriteFileAtomic(path string, data []byte) error {
	return writeFile(path, data, false)
}

func writeFile(path string, data []byte, durable bool) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix(base, os.Getpid())+"*"+tempSuffix)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(fileMode)
	}
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	if durable {
		if err := syncPath(dir); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	removeLeftovers(dir, base)
	return nil
}

// Sync makes files written atomically (WriteFileAtomic) durable after the
// fact: it fsyncs each file, then each directory holding one (which holds
// its rename). A writer that needs a record durable only before it answers
// writes it with WriteFileAtomic, does other work while Sync runs, and
// answers once Sync has returned: a crash of the machine before that may
// leave the record old, missing or empty, as it may before any answer.
func Sync(paths ...string) error {
	var dirs []string
	for _, path := range paths {
		if err := syncPath(path); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if dir := filepath.Dir(path); !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, dir := range dirs {
		if err := syncPath(dir); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}

// syncPath fsyncs the file (or the directory) at path; a directory's fsync
// makes the entries renamed into it durable.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeLeftovers removes the temporary files for base in dir whose writer
// no longer runs: they are what a writer killed between its create and its
// rename left. Failures are ignored: a leftover is never read, only kept.
func removeLeftovers(dir, base string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + "."
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !strings.HasSuffix(rest, tempSuffix) {
			continue
		}
		p, _, ok := strings.Cut(rest, ".")
		pid, err := strconv.Atoi(p)
		if !ok || err != nil || pid <= 0 || processExists(pid) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}

// processExists reports whether a process pid exists. A pid reused since
// its writer died keeps that writer's leftover a little longer; that is all.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ReadJSON decodes the JSON file at path into v. ok is false, without an
// error, when there is no such file: a record not written yet is not a
// failure. A file that is not JSON is an error.
func ReadJSON(path string, v any) (ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// ReadJSONAtomic reads a record written with WriteJSONAtomic (ReadJSON),
// taking one that does not decode for none: a crash of the machine may
// leave such a record empty or torn.
func ReadJSONAtomic(path string, v any) (ok bool, err error) {
	ok, err = ReadJSON(path, v)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typ) {
		return false, nil
	}
	return ok, err
}
