package inputframe

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	big := strings.Repeat("x", 100<<10)
	if _, err := io.WriteString(w, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := w.Resize(24, 80); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, big); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&b)
	var input strings.Builder
	var kinds []byte
	for {
		k, p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, k)
		switch k {
		case Input:
			input.Write(p)
		case Resize:
			if rows, cols, ok := Size(p); !ok || rows != 24 || cols != 80 {
				t.Fatalf("resize = %d, %d, %v", rows, cols, ok)
			}
		}
	}
	if input.String() != "hello"+big {
		t.Fatalf("input of %d bytes; want %d", input.Len(), 5+len(big))
	}
	// hello, resize, the big input in two pieces, end.
	if string(kinds) != string([]byte{Input, Resize, Input, Input, End}) {
		t.Fatalf("kinds = %v", kinds)
	}
}

func TestBadFramesAreErrors(t *testing.T) {
	for _, in := range [][]byte{
		{Input, 0, 0},                        // a header cut short
		{Input, 0, 0, 0, 9, 'a'},             // a payload cut short
		{Input, 0xff, 0xff, 0xff, 0xff},      // too large
		Append(nil, Input, []byte("ok"))[:6], // cut in the payload
	} {
		if _, _, err := NewReader(bytes.NewReader(in)).Next(); err == nil || err == io.EOF {
			t.Errorf("Next(%v) = %v; want an error", in, err)
		}
	}
}

// FuzzReader reads whatever a client sends: frames or an error, never a
// panic or a payload over the bound.
func FuzzReader(f *testing.F) {
	f.Add(Append(AppendResize(nil, 1, 2), Input, []byte("x")))
	f.Add([]byte{End, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewReader(bytes.NewReader(b))
		for {
			_, p, err := r.Next()
			if err != nil {
				return
			}
			if len(p) > MaxPayload {
				t.Fatalf("a payload of %d bytes", len(p))
			}
		}
	})
}
