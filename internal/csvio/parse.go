package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is returned (wrapped, with a message a person can act on) for
// an upload or a mapping that cannot be imported. Callers map it to 422.
var ErrInvalid = errors.New("invalid import")

// Limits of an upload.
const (
	MaxBytes   = 10 << 20 // 10 MB
	MaxRows    = 50000    // data rows, header excluded
	MaxColumns = 100
	// SampleRows is how many rows Parse returns for the mapping step.
	SampleRows = 5
	maxHeader  = 100 // characters of a column name
)

var bom = []byte("\xEF\xBB\xBF")

// Preview is what the mapping step shows of an upload.
type Preview struct {
	Headers []string
	// Sample is the first SampleRows data rows, as read.
	Sample [][]string
	// Rows counts the data rows.
	Rows int
	// Delimiter is the detected delimiter: ",", ";" or "\t".
	Delimiter string
}

// table is an upload read whole: the header and every data row, with the
// line each row starts on.
type table struct {
	headers []string
	rows    [][]string
	lines   []int
	delim   rune
}

// detect picks the delimiter that appears most often, outside quotes, in
// the header line: ',' unless ';' or tab wins.
func detect(data []byte) rune {
	line := data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line = data[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, r := range string(line) {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ',' || r == ';' || r == '\t'):
			counts[r]++
		}
	}
	best := ','
	for _, r := range []rune{';', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// read parses an upload. Rows keep their cells as written (a row's cell
// count and UTF-8 are checked per row at import, so one bad row does not
// refuse the file); the file as a whole must fit the limits and have a
// usable header.
func read(data []byte) (*table, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: the file is larger than %d MB", ErrInvalid, MaxBytes>>20)
	}
	data = bytes.TrimPrefix(data, bom)
	t := &table{delim: detect(data)}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = t.delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty", ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the header line cannot be read", ErrInvalid)
	}
	if len(header) > MaxColumns {
		return nil, fmt.Errorf("%w: the file has more than %d columns", ErrInvalid, MaxColumns)
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case !utf8.ValidString(h):
			return nil, fmt.Errorf("%w: column %d of the header is not UTF-8 text", ErrInvalid, i+1)
		case h == "":
			return nil, fmt.Errorf("%w: column %d of the header has no name", ErrInvalid, i+1)
		case utf8.RuneCountInString(h) > maxHeader:
			return nil, fmt.Errorf("%w: column %d of the header is longer than %d characters", ErrInvalid, i+1, maxHeader)
		case seen[strings.ToLower(h)]:
			return nil, fmt.Errorf("%w: the header names column %q twice", ErrInvalid, h)
		}
		seen[strings.ToLower(h)] = true
		header[i] = h
	}
	t.headers = header
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: line %d cannot be read as CSV", ErrInvalid, pe.StartLine)
			}
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		if len(t.rows) == MaxRows {
			return nil, fmt.Errorf("%w: the file has more than %d rows", ErrInvalid, MaxRows)
		}
		line, _ := r.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	return t, nil
}

// Parse reads an upload for the mapping step: its headers, the first rows
// and how many there are. A file over the limits, without a usable
// header or not readable as CSV gets ErrInvalid.
func Parse(data []byte) (Preview, error) {
	t, err := read(data)
	if err != nil {
		return Preview{}, fmt.Errorf("csvio: parse: %w", err)
	}
	p := Preview{Headers: t.headers, Rows: len(t.rows), Delimiter: string(t.delim), Sample: [][]string{}}
	for _, rec := range t.rows[:min(SampleRows, len(t.rows))] {
		p.Sample = append(p.Sample, rec)
	}
	return p, nil
}
