package csvio

import "strings"

// formulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP CSV injection, ASVS 1.2.10).
const formulaStarts = "=+-@\t\r"

// Neutralize returns cell safe to open in a spreadsheet: one starting with
// = + - @ tab or CR gets a leading ', which spreadsheets show as text.
func Neutralize(cell string) string {
	if cell != "" && strings.IndexByte(formulaStarts, cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

// unneutralize undoes Neutralize on an imported cell: a ' followed by a
// formula character is dropped, so an exported file imports unchanged.
func unneutralize(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.IndexByte(formulaStarts, cell[1]) >= 0 {
		return cell[1:]
	}
	return cell
}
