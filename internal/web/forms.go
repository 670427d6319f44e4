package web

// inputField is one labelled text input (or textarea, when Rows > 0) of a
// form, for the "form-field" partial (templates/layout/forms.html), so
// settings pages share one shape of field: label, input, error, hint.
type inputField struct {
	// ID is the element's id; the error and hint get ID+"-error" and
	// ID+"-hint".
	ID, Name, Label string
	// Optional, when set, follows the label in brackets: "(optional)".
	Optional    string
	Value       string
	Error       string
	Hint        string
	Placeholder string
	// Pattern is the input's pattern attribute, a hint to the browser
	// only: the server checks every value.
	Pattern   string
	MaxLength int
	Required  bool
	// Mono shows the value in the code font, without autocomplete or
	// spell-checking (keys, shortcuts).
	Mono bool
	// Rows makes it a textarea of that many rows.
	Rows int
}

// fieldFrom is f with its value and error taken from a form that came
// back (name is the submitted field), or with value when there is none.
func fieldFrom(fd inputField, f *form, returned bool, value string) inputField {
	if returned {
		fd.Value, fd.Error = f.Get(fd.Name), f.Err(fd.Name)
	} else {
		fd.Value = value
	}
	return fd
}
