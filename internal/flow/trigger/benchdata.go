package trigger

import (
	"fmt"
	"strings"
)

// BenchmarkRules returns n keyword rules shaped like a busy workspace's
// triggers, the same on every call: keywords in English, Khmer, Thai,
// Hindi, Vietnamese, Chinese, Japanese, Russian and German plus emoji, one
// to three per rule, alone or as product phrases ("price iphone 15"); modes
// contains, whole_word, exact and begins_with, with about one rule in 64 a
// regular expression; a quarter at priority 10; some limited to a channel;
// some with exclusion words; spread over 50 flows. Together with
// BenchmarkTexts it is the fixture of BenchmarkMatch1000 and of bench/'s
// flow_match_p99_us.
func BenchmarkRules(n int) []Rule {
	vocab := [][]string{
		{"price", "how much", "order", "shipping", "delivery", "refund", "cancel", "opening hours", "location", "menu", "booking", "discount", "promo code", "size chart", "in stock", "talk to agent", "track my order", "invoice", "wholesale", "warranty"},
		{"តម្លៃ", "ប៉ុន្មាន", "ទិញ", "កម្មង់", "ដឹកជញ្ជូន", "អាសយដ្ឋាន", "ម៉ោងបើក", "បញ្ចុះតម្លៃ", "ទំហំ", "ពណ៌", "អាវ", "ស្បែកជើង", "ទូរស័ព្ទ", "សួស្តី", "អរគុណ"},
		{"ราคา", "เท่าไหร่", "สั่งซื้อ", "จัดส่ง", "ส่งฟรี", "ที่อยู่", "เวลาเปิด", "โปรโมชั่น", "ส่วนลด", "ขนาด", "สี", "สวัสดี", "ขอบคุณ", "คืนเงิน", "ยกเลิก"},
		{"कीमत", "दाम", "कितना", "ऑर्डर", "डिलीवरी", "पता", "छूट", "साइज़", "मदद", "धन्यवाद", "नमस्ते", "रिफंड"},
		{"giá", "bao nhiêu", "đặt hàng", "giao hàng", "địa chỉ", "giảm giá", "khuyến mãi", "kích thước", "màu", "cảm ơn", "xin chào", "hoàn tiền"},
		{"价格", "多少钱", "订购", "发货", "地址", "折扣", "优惠", "尺码", "颜色", "谢谢", "你好", "退款"},
		{"値段", "いくら", "注文", "配送", "住所", "割引", "サイズ", "色", "ありがとう", "こんにちは", "返品"},
		{"цена", "сколько стоит", "заказ", "доставка", "адрес", "скидка", "размер", "цвет", "спасибо", "привет", "возврат"},
		{"preis", "versand", "größe", "straße", "bestellung", "rabatt", "GRÖSSE"},
		{"👍", "❤️", "🛒", "💰"},
	}
	products := []string{"iphone 15", "galaxy s24", "air max", "hoodie", "t-shirt", "jeans", "sneakers", "backpack", "watch", "laptop", "headphones", "ក្រែម", "เสื้อ", "साड़ी", "áo dài", "手机", "バッグ", "куртка"}
	modes := []Mode{ModeContains, ModeWholeWord, ModeContains, ModeExact, ModeBeginsWith, ModeWholeWord, ModeContains}
	regexes := []string{
		`\border\s*#?\s*\d{4,}`,
		`^(hi|hello|hey)\b`,
		`\b\d{3}[- ]?\d{3}[- ]?\d{4}\b`,
		`(track|tracking)\s+[a-z0-9]{8,}`,
		`\bsku[-_ ]?\d+`,
		`[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`,
		`(ราคา|តម្លៃ|कीमत)\s*\d+`,
		`^\d+$`,
	}
	excludes := [][]string{{"no", "not"}, {"មិន"}, {"ไม่"}, {"नहीं"}, {"không"}, {"不"}, {"いいえ"}, {"не"}, {"nicht"}, {"👎"}}

	rules := make([]Rule, 0, n)
	for i := 0; i < n; i++ {
		r := Rule{
			ID:     fmt.Sprintf("t%d", i),
			FlowID: fmt.Sprintf("flow-%02d", i%50),
			Kind:   KindKeyword,
			Mode:   modes[i%len(modes)],
		}
		if i%4 == 0 {
			r.Priority = 10
		}
		switch i % 10 {
		case 3:
			r.Channels = []string{"messenger"}
		case 7:
			r.Channels = []string{"instagram"}
		}
		script := i % len(vocab)
		words := vocab[script]
		if i%64 == 63 {
			r.Mode = ModeRegex
			r.Keywords = []string{regexes[(i/64)%len(regexes)]}
			rules = append(rules, r)
			continue
		}
		for k := 0; k <= i%3; k++ {
			w := words[(i/len(vocab)+k*7)%len(words)]
			// Past the plain vocabulary, rules name products, as shops do.
			if round := i / (len(vocab) * len(words)); round > 0 || k > 0 {
				w += " " + products[(i+k+round)%len(products)]
			}
			r.Keywords = append(r.Keywords, w)
		}
		if i%6 == 0 {
			r.Exclude = excludes[script]
		}
		rules = append(rules, r)
	}
	return rules
}

// BenchmarkTexts returns realistic inbound messages, the same on every
// call: short and long, in the scripts of BenchmarkRules, mixed scripts,
// with zero-width characters, decomposed Vietnamese, fullwidth Latin and
// emoji; some fire a rule, some fire none.
func BenchmarkTexts() []string {
	texts := []string{
		"How much is the iPhone 15?",
		"price",
		"Hi! what are your opening hours on Sunday?",
		"តម្លៃប៉ុន្មាន?",
		"សួស្តី\u200bបង តើអាវនេះមានទំហំ XL ទេ?",
		"ราคาเท่าไหร่ครับ",
		"สวัสดีค่ะ ส่งฟรีไหมคะ",
		"कीमत क्या है?",
		"नमस्ते, साड़ी की डिलीवरी कब तक होगी?",
		"Giá bao nhiêu?",
		"Gia\u0301 bao nhie\u0302\u0300u vậy shop?",
		"这个手机多少钱？",
		"こんにちは、このバッグの値段はいくらですか？",
		"Сколько стоит куртка? Доставка в Москву есть?",
		"Was kostet der Versand? GRÖSSE M bitte",
		"ＰＲＩＣＥ ｌｉｓｔ ｐｌｅａｓｅ",
		"👍👍",
		"❤️ love it",
		"order #48213 hasn't arrived yet",
		"can I get a refund for order 123456? my email is jo@example.com",
		"no thanks, not interested",
		"ok",
		"asdfghjkl",
		"",
		"I want to cancel my booking and talk to agent please, nobody answers the phone 555-123-4567",
		"Bạn ơi cho mình hỏi áo dài này còn size M không, giao hàng về Đà Nẵng mất bao lâu?",
		"ขอสอบถามเรื่องการจัดส่งสินค้าไปต่างจังหวัดค่ะ ใช้เวลากี่วัน และมีโปรโมชั่นอะไรบ้างคะ",
		"ខ្ញុំចង់ទិញស្បែកជើងមួយគូ តើមានពណ៌ខ្មៅទេ? ដឹកជញ្ជូនទៅខេត្តសៀមរាបបានទេ?",
	}
	// Two long messages: a pasted paragraph and a Khmer wall of text.
	texts = append(texts,
		strings.Repeat("Hello, I ordered some sneakers last week and the tracking page shows nothing yet. ", 12),
		strings.Repeat("សួស្តីបង ខ្ញុំចង់សួរអំពីតម្លៃទូរស័ព្ទ និងការដឹកជញ្ជូន។ ", 20),
	)
	return texts
}
