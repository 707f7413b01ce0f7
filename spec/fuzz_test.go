package spec

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseDeployment feeds arbitrary bytes to Parse. Parse must not panic;
// it returns exactly one of a deployment and an error; a deployment it
// returns re-validates; an error always wraps ErrInvalid and is made of
// FieldErrors with a message. The seed corpus is the examples plus
// testdata/fuzz/FuzzParseDeployment and ZLayer's own files.
func FuzzParseDeployment(f *testing.F) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	broken, err := filepath.Glob("../examples/broken/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	zlayer, err := filepath.Glob("testdata/zlayer/*.y*ml")
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, zlayer...)
	for _, file := range append(files, broken...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(svc("platform: wasi/wasm\nenv: {A: 1}\nendpoints: [{name: a, protocol: udp, port: 53}]")))
	f.Add([]byte("version: v1\ndeployment: d\nservices:\n  a: &s {image: x}\n  b: *s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if (d == nil) == (err == nil) {
			t.Fatalf("Parse returned deployment %v and error %v; want exactly one", d, err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			fes := Errors(err)
			if len(fes) == 0 {
				t.Fatalf("error holds no FieldError: %v", err)
			}
			for _, fe := range fes {
				if fe.Msg == "" {
					t.Fatalf("FieldError without a message: %+v", fe)
				}
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("parsed deployment does not re-validate: %v\ninput:\n%s", err, data)
		}
		for _, n := range d.ServiceNames {
			s := d.Services[n]
			if err := s.Validate(); err != nil {
				t.Fatalf("parsed service %s does not re-validate: %v", n, err)
			}
			if s.Platform != nil && !platformEqual(*s.Platform, Normalize(*s.Platform)) {
				t.Fatalf("service %s platform %+v is not normalised", n, *s.Platform)
			}
		}
	})
}

// FuzzParseDuration: ParseDuration never panics, and what it accepts is a
// non-negative span that its own unit-by-unit reading gives again.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1h 30m", "2days", "500ms", "0", "10 sec", "1M", "99999999999h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
	})
}
