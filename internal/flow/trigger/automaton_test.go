package trigger

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestAutomatonFindsEveryOccurrence compares scan with strings.Index on
// patterns that share prefixes, are suffixes of one another, overlap,
// repeat, and branch widely (Khmer and Thai letters share lead bytes).
func TestAutomatonFindsEveryOccurrence(t *testing.T) {
	patterns := []string{
		"price", "the price", "rice", "ice", "e", "price list", "list", "is",
		"aa", "aaa", "a", "abab", "bab",
		"តម្លៃ", "ម្លៃ", "ប៉ុន្មាន", "ន", "ក", "ខ", "គ", "ឃ", "ង", "ច",
		"ราคา", "คา", "เท่าไหร่", "า",
	}
	texts := []string{
		"", "the price list is nice", "aaaaa", "ababab", "price",
		"តម្លៃប៉ុន្មាន", "កខគឃងច", "ราคาเท่าไหร่ คาราคา", "x",
	}
	a := buildAutomaton(patterns)
	for _, text := range texts {
		var got, want []string
		a.scan(text, func(p int32, end int) { got = append(got, fmt.Sprintf("%s@%d", patterns[p], end)) })
		for _, p := range patterns {
			for off := 0; ; {
				i := strings.Index(text[off:], p)
				if i < 0 {
					break
				}
				want = append(want, fmt.Sprintf("%s@%d", p, off+i+len(p)))
				off += i + 1
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("scan(%q):\n got %v\nwant %v", text, got, want)
		}
	}
}
