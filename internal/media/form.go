package media

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"

	"github.com/parleyhq/parley/internal/validate"
)

// Form limits: the text fields that may come with a file.
const (
	maxFields     = 8
	maxFieldBytes = 64 << 10
)

// ReadForm reads a multipart form holding one file (part "file") and a few
// short text fields, entirely in memory: the file is never written
// anywhere in clear (multipart.Reader.ReadForm would spill large files to
// temporary files on disk, which P-31 forbids). A file over max bytes is
// refused with an error matching ErrTooLarge as soon as its max+1th byte
// arrives. A form without a file gives an empty Upload: Put refuses it.
func ReadForm(mr *multipart.Reader, max int64) (Upload, map[string]string, error) {
	var up Upload
	fields := map[string]string{}
	seenFile := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, fields, nil
		}
		if err != nil {
			return Upload{}, nil, validate.Field("file", "The upload could not be read; try again.")
		}
		name := p.FormName()
		switch {
		case name == "file" && !seenFile:
			seenFile = true
			up.Name = p.FileName()
			up.Data, err = io.ReadAll(io.LimitReader(p, max+1))
			if err != nil {
				return Upload{}, nil, validate.Field("file", "The upload could not be read; try again.")
			}
			if int64(len(up.Data)) > max {
				clear(up.Data)
				return Upload{}, nil, &tooLarge{validate.Field("file", fmt.Sprintf("The file is larger than %s, the most Parley can send.", size(max)))}
			}
		case name == "file":
			return Upload{}, nil, validate.Field("file", "Send one file at a time.")
		case p.FileName() == "" && name != "":
			if len(fields) >= maxFields {
				return Upload{}, nil, validate.Field(name, "Too many fields in the form.")
			}
			b, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil || len(b) > maxFieldBytes {
				return Upload{}, nil, validate.Field(name, "This field is too long.")
			}
			fields[name] = string(b)
		default:
			return Upload{}, nil, validate.Field(name, "Only one file, in the field named file, can be sent.")
		}
		p.Close()
	}
}
