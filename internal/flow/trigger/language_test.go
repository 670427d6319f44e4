package trigger

import "testing"

// languageCase is one keyword against one real message.
type languageCase struct {
	name          string
	mode          Mode
	keyword, text string
	want          bool
}

// languageCases are real phrases in the scripts Parley's users write. The
// "✗" cases are the traps: a match inside a cluster, across a word, or
// between spellings that normalization rightly keeps apart.
func languageCases() []languageCase {
	return []languageCase{
		// Khmer: no spaces between words; coeng (U+17D2) stacks consonants.
		{"khmer price contains", ModeContains, "តម្លៃ", "តម្លៃប៉ុន្មាន", true},
		{"khmer how much contains", ModeContains, "ប៉ុន្មាន", "តម្លៃប៉ុន្មាន?", true},
		{"khmer whole word is substring", ModeWholeWord, "តម្លៃ", "សួស្តីបង តម្លៃប៉ុន្មាន", true},
		{"khmer exact through zwsp", ModeExact, "តម្លៃប៉ុន្មាន", "តម្លៃ\u200bប៉ុន្មាន", true},
		{"khmer begins with", ModeBeginsWith, "សួស្តី", "សួស្តីបង", true},
		{"khmer ✗ base before its coeng", ModeContains, "ក", "ក្ក", false},
		{"khmer ✗ subscript consonant", ModeContains, "ក", "សក្ករ", false},
		{"khmer ✗ consonant stacked on by coeng", ModeContains, "ម", "តម្លៃ", false},
		{"khmer ✗ subscript in price", ModeContains, "ល", "តម្លៃ", false},
		{"khmer ✗ half a stack", ModeContains, "តម", "តម្លៃ", false},
		{"khmer whole stacked cluster", ModeContains, "ម្លៃ", "តម្លៃ", true},
		{"khmer ✗ without vowel sign", ModeContains, "ប", "ប៉ុន្មាន", false},
		// Thai: no spaces; leading vowels are written before their consonant.
		{"thai price contains", ModeContains, "ราคา", "ราคาเท่าไหร่", true},
		{"thai how much contains", ModeContains, "เท่าไหร่", "ราคาเท่าไหร่ครับ", true},
		{"thai whole word is substring", ModeWholeWord, "ราคา", "ขอราคาหน่อยค่ะ", true},
		{"thai ✗ inside a leading-vowel syllable", ModeContains, "ท่า", "ราคาเท่าไหร่", false},
		{"thai ✗ after sara ai maimalai", ModeContains, "หร่", "เท่าไหร่", false},
		{"thai ✗ without its tone mark", ModeContains, "เท", "เท่า", false},
		{"thai water with sara am", ModeContains, "น้ำ", "ขอน้ำเปล่าหน่อย", true},
		{"thai ✗ half of sara am", ModeContains, "น้ํ", "น้ำ", false},
		// Lao and Myanmar, also written without spaces.
		{"lao price", ModeContains, "ລາຄາ", "ລາຄາເທົ່າໃດ", true},
		{"myanmar price", ModeWholeWord, "ဈေး", "ဈေးဘယ်လောက်လဲ", true},
		{"myanmar syllable after asat", ModeContains, "တော်", "ကျွန်တော်", true},
		{"myanmar ✗ stacked by kinzi", ModeContains, "ဂ", "မင်္ဂလာပါ", false},
		// Hindi: spaces between words; viramas join consonants.
		{"hindi price contains", ModeContains, "कीमत", "कीमत क्या है", true},
		{"hindi whole word", ModeWholeWord, "क्या", "कीमत क्या है?", true},
		{"hindi phrase whole word", ModeWholeWord, "क्या है", "कीमत क्या है?", true},
		{"hindi ✗ part of a word", ModeWholeWord, "कीम", "कीमत क्या है", false},
		{"hindi contains part of a word", ModeContains, "कीम", "कीमत क्या है", true},
		{"hindi ✗ consonant before virama", ModeContains, "क", "क्या", false},
		{"hindi ✗ consonant after virama", ModeContains, "या", "क्या", false},
		{"hindi nukta composed and not", ModeExact, "\u095bरूर", "\u091c\u093cरूर", true},
		// Vietnamese: precomposed and combining diacritics are the same.
		{"vietnamese precomposed keyword, decomposed text", ModeExact, "Giá bao nhiêu?", "Gia\u0301 bao nhie\u0302u?", true},
		{"vietnamese decomposed keyword, precomposed text", ModeWholeWord, "bao nhie\u0302u", "Giá bao nhiêu?", true},
		{"vietnamese two marks in either order of composition", ModeContains, "nhiều", "NHIE\u0302\u0300U", true},
		{"vietnamese ✗ without diacritics", ModeWholeWord, "gia", "Giá bao nhiêu?", false},
		{"vietnamese ✗ base letter of a decomposed letter", ModeWholeWord, "a", "gia\u0301", false},
		// German, Turkish, Greek, Russian: case folding.
		{"german sharp s", ModeWholeWord, "straße", "Welche STRASSE?", true},
		{"german size", ModeContains, "GRÖSSE", "welche größe?", true},
		{"turkish dotted capital", ModeWholeWord, "istanbul", "İSTANBUL kargo", true},
		{"turkish dotted keyword", ModeWholeWord, "İstanbul", "istanbul", true},
		{"turkish ✗ dotless versus folded I", ModeExact, "kırmızı", "KIRMIZI", false},
		{"greek final sigma", ModeExact, "σοφος", "ΣΟΦΟΣ", true},
		{"russian whole phrase", ModeWholeWord, "сколько стоит", "Сколько  стоит куртка?", true},
		{"russian ✗ inflected", ModeWholeWord, "цена", "с ценами", false},
		{"arabic whole word", ModeWholeWord, "السعر", "ما السعر؟", true},
		// Chinese and Japanese: no spaces; width folding.
		{"chinese contains", ModeContains, "多少钱", "这个手机多少钱？", true},
		{"chinese whole word is substring", ModeWholeWord, "手机", "这个手机多少钱？", true},
		{"japanese whole word is substring", ModeWholeWord, "値段", "このバッグの値段はいくらですか", true},
		{"japanese halfwidth kana", ModeContains, "バッグ", "ﾊﾞｯｸﾞの値段", true},
		{"japanese ✗ kana without dakuten", ModeContains, "ハ", "バッグ", false},
		// Emoji.
		{"emoji in text", ModeContains, "👍", "ok👍", true},
		{"emoji whole word next to letters", ModeWholeWord, "👍", "ok👍", true},
		{"emoji any skin tone", ModeExact, "👍", "👍🏽", true},
		{"emoji with or without variation selector", ModeContains, "❤️", "i ❤ it", true},
		{"flag", ModeContains, "🇰🇭", "hi 🇰🇭🇹🇭", true},
		{"✗ flag straddling two flags", ModeContains, "🇭🇹", "🇰🇭🇹🇭", false},
		// Latin edge cases.
		{"fullwidth latin", ModeWholeWord, "price", "ＰＲＩＣＥ？", true},
		{"apostrophe joins a word", ModeWholeWord, "don", "I don't know", false},
		{"quotes do not", ModeWholeWord, "price", "'price'", true},
		{"script change is a word boundary", ModeWholeWord, "iphone", "iphoneราคา", true},
	}
}

func TestLanguages(t *testing.T) {
	for _, tt := range languageCases() {
		t.Run(tt.name, func(t *testing.T) {
			m := compile(t, kw("t1", "f1", tt.mode, 0, tt.keyword))
			if got := fired(m, text(tt.text)) == "t1"; got != tt.want {
				t.Errorf("%s keyword %q (normalized %+q) on %q (normalized %+q): fired %v, want %v",
					tt.mode, tt.keyword, Normalize(tt.keyword), tt.text, Normalize(tt.text), got, tt.want)
			}
		})
	}
}
