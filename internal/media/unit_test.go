package media_test

import (
	"bytes"
	"context"
	"errors"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/media"
	"github.com/parleyhq/parley/internal/validate"
)

// form builds a multipart body from parts: name → content; names starting
// with "file" are sent as files called "x.bin".
func form(t *testing.T, parts [][2]string) *multipart.Reader {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var part interface{ Write([]byte) (int, error) }
		var err error
		if strings.HasPrefix(p[0], "file") {
			part, err = w.CreateFormFile(p[0], "../../etc/x.bin")
		} else {
			part, err = w.CreateFormField(p[0])
		}
		if err != nil {
			t.Fatal(err)
		}
		part.Write([]byte(p[1]))
	}
	w.Close()
	return multipart.NewReader(&b, w.Boundary())
}

func TestReadForm(t *testing.T) {
	up, fields, err := media.ReadForm(form(t, [][2]string{{"text", "caption"}, {"file", "hello"}}), 10)
	if err != nil || string(up.Data) != "hello" || fields["text"] != "caption" || up.Name != "x.bin" {
		t.Fatalf("ReadForm = %+v, %v, %v", up, fields, err)
	}
	for _, tc := range []struct {
		name  string
		parts [][2]string
		field string
		big   bool
	}{
		{"too large", [][2]string{{"file", "12345678901"}}, "file", true},
		{"two files", [][2]string{{"file", "a"}, {"file", "b"}}, "file", false},
		{"file in another field", [][2]string{{"file2", "a"}}, "file2", false},
		{"long field", [][2]string{{"text", strings.Repeat("x", 70<<10)}}, "text", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := media.ReadForm(form(t, tc.parts), 10)
			v, ok := validate.As(err)
			if !ok || v.Field != tc.field || errors.Is(err, media.ErrTooLarge) != tc.big {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// A form without a file reads as an empty upload (Put refuses it).
	up, _, err = media.ReadForm(form(t, [][2]string{{"text", "only"}}), 10)
	if err != nil || len(up.Data) != 0 {
		t.Fatalf("no file: %+v, %v", up, err)
	}
}

// Security test plan J-9: keys are server-generated; anything else is
// refused before it reaches the filesystem.
func TestDiskRefusesBadKeys(t *testing.T) {
	disk, err := media.OpenDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer disk.Close()
	ctx := context.Background()
	for _, k := range []string{"", "../x", "a/../b", "/abs", "a//b", "a/b/", `a\b`, "a/b.c", "a\x00b", "CON:"} {
		if err := disk.Put(ctx, k, []byte("x")); err == nil {
			t.Errorf("Put(%q) accepted", k)
		}
		if _, err := disk.Get(ctx, k); err == nil || errors.Is(err, media.ErrNoObject) {
			t.Errorf("Get(%q) = %v", k, err)
		}
	}
	if err := disk.Put(ctx, "w/c/o", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := disk.Delete(ctx, "w/c/missing"); err != nil {
		t.Errorf("deleting nothing: %v", err)
	}
	if _, err := disk.Get(ctx, "w/c/missing"); !errors.Is(err, media.ErrNoObject) {
		t.Errorf("Get missing: %v", err)
	}
	if l, err := disk.List(ctx, "nothing-here"); err != nil || len(l) != 0 {
		t.Errorf("List of nothing: %v, %v", l, err)
	}
	if err := disk.DeletePrefix(ctx, "w/c"); err != nil {
		t.Fatal(err)
	}
	if _, err := disk.Get(ctx, "w/c/o"); !errors.Is(err, media.ErrNoObject) {
		t.Errorf("after DeletePrefix: %v", err)
	}
}
