package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/internal/db"
	"github.com/parleyhq/parley/internal/testutil/dbtest"
	"github.com/parleyhq/parley/internal/webhook"
)

// BenchmarkIntake measures the acknowledged-delivery rate of the POST
// handler with the default options: verify, seal, group-commit, answer
// 200. Many concurrent requests (as Meta sends them under load) let
// batches form. Processing is held (paused), as setup leaves it. It reports
// deliveries/s; the target is at least 10,000/s on SQLite on a 2-core
// machine.
//
//	go test -run='^$' -bench=Intake -benchtime=50000x ./internal/webhook
func BenchmarkIntake(b *testing.B) {
	dialects := []db.Dialect{db.SQLite}
	if os.Getenv(dbtest.EnvPostgres) != "" {
		dialects = append(dialects, db.Postgres)
	}
	// A text message of typical size (about 600 bytes).
	body := []byte(strings.Replace(messageBody(pageID, "m.bench"), `"text":"hi"`, `"text":"`+strings.Repeat("I would like to book a table for four tonight. ", 8)+`"`, 1))
	sig := sign(string(body), appSecret)
	for _, dl := range dialects {
		b.Run(string(dl), func(b *testing.B) {
			d := dbtest.Open(b, dl)
			e := setup(b, d, nil)
			var failed atomic.Int64
			b.SetParallelism(64) // 64 × GOMAXPROCS requests in flight
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest(http.MethodPost, webhook.Path, bytes.NewReader(body))
					r.Header.Set(webhook.SignatureHeader, sig)
					w := httptest.NewRecorder()
					e.handler.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						failed.Add(1)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d deliveries not acknowledged", n)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
