package app

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the process's Prometheus registry. Labels are route patterns,
// methods, status codes and job states: never IDs, addresses or content, so
// nothing personal can reach the metrics (promise P-29).
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handler  http.Handler
	webhooks *prometheus.CounterVec
}

func newMetrics(a *App) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "parley_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_webhook_deliveries_total", Help: "Meta webhook deliveries by outcome (accepted, bad_signature, too_large, ...).",
	}, []string{"outcome"})
	reg.MustRegister(m.requests, m.latency, m.webhooks,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "parley_build_info", Help: "Always 1; the version is a label.", ConstLabels: prometheus.Labels{"version": Version, "database": string(a.DB.Dialect)}}, func() float64 { return 1 }),
	)
	for _, state := range []string{"pending", "running", "dead"} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "parley_jobs", Help: "Jobs in the queue by state.", ConstLabels: prometheus.Labels{"state": state},
		}, jobGauge(a, state)))
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

func jobGauge(a *App, state string) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := a.Jobs.Stats(ctx)
		if err != nil {
			return -1
		}
		switch state {
		case "pending":
			return float64(s.Pending)
		case "running":
			return float64(s.Running)
		}
		return float64(s.Dead)
	}
}

func (m *Metrics) observeHTTP(method, route string, status int, d time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// observeWebhook counts a webhook delivery by outcome. Metrics are built
// after the intake, so early calls (none in practice) are dropped.
func (a *App) observeWebhook(outcome string) {
	if a.Metrics != nil {
		a.Metrics.webhooks.WithLabelValues(outcome).Inc()
	}
}
