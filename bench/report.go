package main

import (
	"fmt"
	"os"
	"strconv"
)

// report prints figures as they are measured, so a run that fails half
// way still shows what it got: `BENCH name value unit` on stdout for
// `make bench`, and a line with the target on stderr for people.
type report struct {
	lines []line
}

type line struct {
	name   string
	value  float64
	unit   string
	target string // "≥ 10000", "≤ 20", or "" when there is none
	ok     bool
}

// add prints one figure. target is a comparison like ">=10000" or "<=20";
// "" means the figure is informative only.
func (r *report) add(name string, value float64, unit, target string) {
	l := line{name: name, value: value, unit: unit, ok: true}
	if target != "" {
		limit, _ := strconv.ParseFloat(target[2:], 64)
		switch target[:2] {
		case ">=":
			l.ok, l.target = value >= limit, "≥ "+target[2:]
		case "<=":
			l.ok, l.target = value <= limit, "≤ "+target[2:]
		}
	}
	r.lines = append(r.lines, l)
	fmt.Printf("BENCH %s %s %s\n", name, strconv.FormatFloat(value, 'f', -1, 64), unit)
}

// summary prints every figure against its target on stderr.
func (r *report) summary() {
	fmt.Fprintln(os.Stderr, "\nbench summary (2 cores shared by Parley, the simulator and the load generator):")
	for _, l := range r.lines {
		mark := " "
		if l.target != "" {
			mark = "✓"
			if !l.ok {
				mark = "✗"
			}
		}
		fmt.Fprintf(os.Stderr, "  %s %-36s %12s %-6s %s\n", mark, l.name, strconv.FormatFloat(l.value, 'f', -1, 64), l.unit, l.target)
	}
}

// round keeps figures readable: three significant decimals at most.
func round(v float64, decimals int) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', decimals, 64), 64)
	return f
}
