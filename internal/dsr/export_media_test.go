package dsr_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/dsr"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
)

// fakeMedia hands an export fixed attachments: each of files, then one
// that could not be read.
type fakeMedia struct {
	mu    sync.Mutex
	files map[string][]byte
	lost  string
}

// set replaces the files (the job runs on another goroutine).
func (f *fakeMedia) set(files map[string][]byte) {
	f.mu.Lock()
	f.files = files
	f.mu.Unlock()
}

func (f *fakeMedia) ContactObjects(_ context.Context, _, _ string, fn func(name, contentType string, r io.Reader) error,
	skipped func(name, reason string)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for name, data := range f.files {
		if err := fn(name, "application/octet-stream", bytes.NewReader(data)); err != nil {
			return err
		}
	}
	if f.lost != "" {
		skipped(f.lost, "could not be included: its file is missing")
	}
	return nil
}

// startJobs starts the env's queue until the test ends.
func (e *env) startJobs(t *testing.T) {
	t.Helper()
	if err := e.jobs.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.jobs.Stop(ctx) })
}

// An attachment that could not be read is named in the archive's
// contact.json (attachments_not_included) and the rest is exported.
func TestExportListsAttachmentsNotIncluded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d, func(o *dsr.Options) {
			o.Media = &fakeMedia{files: map[string][]byte{"a1-kept.pdf": []byte("%PDF kept")}, lost: "a2-lost.pdf"}
		})
		cid, _ := e.person(t, "p-lost", "hi")
		e.startJobs(t)
		ex := e.exportOf(t, cid, "")
		if ex.State != dsr.ExportDone {
			t.Fatalf("export %+v", ex)
		}
		_, data, err := e.svc.Download(ctx, agent, e.ws, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		files, doc := unzip(t, data)
		if string(files["attachments/a1-kept.pdf"]) != "%PDF kept" {
			t.Errorf("archive files %v", keys(files))
		}
		if len(doc.NotIncluded) != 1 || doc.NotIncluded[0].Name != "a2-lost.pdf" || !strings.Contains(doc.NotIncluded[0].Reason, "could not be included") {
			t.Errorf("not included %+v", doc.NotIncluded)
		}
	})
}

// An archive past Options.MaxArchiveBytes fails at once (one attempt, not
// five), with a message naming the limit, and stores nothing.
func TestExportTooLargeFailsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		m := &fakeMedia{files: map[string][]byte{"a1-small.mp4": noise(64 << 10)}}
		e := setup(t, d, func(o *dsr.Options) {
			o.Media = m
			o.MaxArchiveBytes = 2 << 20 // the message says "2 MB"
		})
		if e.svc.MaxArchiveBytes() != 2<<20 {
			t.Fatalf("limit %d", e.svc.MaxArchiveBytes())
		}
		cid, _ := e.person(t, "p-big", "hi")
		e.startJobs(t)
		// Within the limit: the export is built.
		if ex := e.exportOf(t, cid, ""); ex.State != dsr.ExportDone {
			t.Fatalf("a small export: %+v", ex)
		}
		m.set(map[string][]byte{"a1-huge.mp4": noise(3 << 20)})
		ex := e.exportOf(t, cid, "")
		if ex.State != dsr.ExportFailed || !strings.Contains(ex.Error, "larger than 2 MB") || ex.SizeBytes != 0 {
			t.Fatalf("export %+v", ex)
		}
		// The export is marked failed just before its job is: wait for the
		// job to be dead, then count its runs.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var attempts []int
			if err := d.R.NewRaw(`SELECT attempts FROM jobs WHERE kind = ? AND state = 'dead'`, dsr.KindExportJob).Scan(ctx, &attempts); err != nil {
				t.Fatal(err)
			}
			if len(attempts) == 1 {
				if attempts[0] != 1 {
					t.Errorf("the failed job ran %d times, want once", attempts[0])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no dead export job: %v", attempts)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// noise is n incompressible bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// unzip reads an archive's files and its contact.json.
func unzip(t *testing.T, data []byte) (map[string][]byte, dsr.Document) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	var doc dsr.Document
	if err := json.Unmarshal(files["contact.json"], &doc); err != nil {
		t.Fatalf("contact.json: %v", err)
	}
	return files, doc
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
