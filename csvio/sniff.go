package csvio

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// candidates are the delimiters tried by auto-detection, in order of preference on a tie.
var candidates = []byte{',', ';', '\t', '|'}

var bomUTF8 = []byte{0xEF, 0xBB, 0xBF}

// sniff inspects the look-ahead r.buf[r.pos:r.end] and configures r.
func (r *Reader) sniff(opts Options, maxRecs int) error {
	win := r.buf[r.pos:r.end]
	switch {
	case bytes.HasPrefix(win, bomUTF8):
		r.bom = true
		r.pos += len(bomUTF8)
		win = win[len(bomUTF8):]
	case bytes.HasPrefix(win, []byte{0xFF, 0xFE}), bytes.HasPrefix(win, []byte{0xFE, 0xFF}):
		return fmt.Errorf("csvio: line 1: UTF-16 text; %w (convert it to UTF-8)", ErrNotText)
	}
	if err := checkContainer(win); err != nil {
		return err
	}
	nl := opts.Newline
	switch {
	case nl != 0 && nl != '\n' && nl != '\r':
		return fmt.Errorf("csvio: invalid newline %q", nl)
	case nl == 0 && bytes.IndexByte(win, '\n') < 0 && bytes.IndexByte(win, '\r') >= 0:
		nl = '\r' // classic Mac line endings
	case nl == 0:
		nl = '\n'
	}
	if !opts.AllowBinary {
		if err := checkText(win, nl); err != nil {
			return err
		}
	}
	atEOF := r.eof // the look-ahead holds the whole input

	switch d := opts.Delimiter; {
	case d == '"' || d == '\n' || d == '\r':
		return fmt.Errorf("csvio: invalid delimiter %q", d)
	case d != 0:
		r.sc = newScanner(d, nl)
		r.fields, _, _ = shape(win, atEOF, nl, d, maxRecs)
	default:
		d, fields := sniffDelimiter(win, atEOF, nl, maxRecs)
		if d == 0 {
			r.plain = true
			d = ','
		}
		r.sc = newScanner(d, nl)
		r.fields = fields
	}

	rows, eol := r.sample(win, atEOF, maxRecs)
	if eol != "" {
		r.eol = eol
	}
	if len(rows) == 0 {
		return nil // empty input: nothing to choose from
	}
	header, col, err := chooseColumn(rows, r.plain, r.fields, opts.Column)
	if err != nil {
		return err
	}
	r.hasHeader, r.col = header, col
	if header && col < len(rows[0]) {
		r.colName = strings.TrimSpace(rows[0][col])
	}
	return nil
}

// checkText rejects binary input: a NUL byte, or control bytes making up more than 1% of
// the look-ahead.
func checkText(win []byte, nl byte) error {
	if i := bytes.IndexByte(win, 0); i >= 0 {
		return fmt.Errorf("csvio: line %d: binary data (NUL byte); %w", lineAt(win, i, nl), ErrNotText)
	}
	first, count := -1, 0
	for i, c := range win {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v') || c == 0x7F {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if count > 0 && count*100 > len(win) {
		return fmt.Errorf("csvio: line %d: binary data (control byte 0x%02X); %w", lineAt(win, first, nl), win[first], ErrNotText)
	}
	return nil
}

func lineAt(win []byte, i int, nl byte) int { return 1 + bytes.Count(win[:i], []byte{nl}) }

// forRecords calls fn for each record of the look-ahead, at most max of them, cutting
// malformed multi-line records as [Reader.Read] does (fields is the expected count, 0
// if unknown). A record cut by the end of the look-ahead is skipped, unless it is the
// only one.
func forRecords(sc *scanner, plain bool, win []byte, atEOF bool, max, fields int, fn func(rec []byte, res scanResult)) {
	scan := sc.scan
	if plain {
		scan = sc.scanLine
	}
	for n := 0; n < max && len(win) > 0; n++ {
		res := scan(win, atEOF)
		if res.more {
			if n > 0 {
				return
			}
			res = scan(win, true)
		}
		if res.multi && (res.prob != probNone || (fields > 1 && len(sc.spans) != fields)) {
			res = cut(sc, win)
		}
		fn(win[:res.rawEnd], res)
		win = win[res.n:]
	}
}

// shape returns the most common field count of the non-empty look-ahead records with
// delimiter d, the share of those records that have it, and how many records are
// malformed (a wrong delimiter tends to break quoted fields).
func shape(win []byte, atEOF bool, nl, d byte, max int) (mode int, share float64, bad int) {
	sc := newScanner(d, nl)
	counts := map[int]int{}
	total := 0
	forRecords(&sc, false, win, atEOF, max, 0, func(rec []byte, res scanResult) {
		if len(rec) == 0 {
			return
		}
		total++
		counts[len(sc.spans)]++
		if res.prob != probNone {
			bad++
		}
	})
	if total == 0 {
		return 1, 0, 0
	}
	mode = 1
	for f, c := range counts {
		if c > counts[mode] || (c == counts[mode] && f > mode) {
			mode = f
		}
	}
	return mode, float64(counts[mode]) / float64(total), bad
}

// sniffDelimiter picks the delimiter giving a consistent field count above one. Among
// clearly consistent ones (≥ 90% of records) the one giving the most fields wins, so a
// comma inside ';'-separated values does not win, then the one breaking fewer records;
// failing that, the most consistent one above 50%. It returns 0 for a plain list.
func sniffDelimiter(win []byte, atEOF bool, nl byte, max int) (delim byte, fields int) {
	type cand struct {
		d     byte
		mode  int
		share float64
		bad   int
	}
	var best, fallback cand
	for _, d := range candidates {
		mode, share, bad := shape(win, atEOF, nl, d, max)
		if mode < 2 {
			continue
		}
		c := cand{d, mode, share, bad}
		if share >= 0.9 && (mode > best.mode || (mode == best.mode && bad < best.bad)) {
			best = c
		}
		if share >= 0.5 && (share > fallback.share || (share == fallback.share && mode > fallback.mode)) {
			fallback = c
		}
	}
	if best.d != 0 {
		return best.d, best.mode
	}
	if fallback.d != 0 {
		return fallback.d, fallback.mode
	}
	return 0, 1
}

// sample returns the cell values of the look-ahead records and the first line terminator.
func (r *Reader) sample(win []byte, atEOF bool, max int) (rows [][]string, eol string) {
	sc := newScanner(r.sc.delim, r.sc.nl)
	consumed := 0
	forRecords(&sc, r.plain, win, atEOF, max, r.fields, func(rec []byte, res scanResult) {
		if eol == "" && res.n > res.rawEnd {
			eol = string(win[consumed+res.rawEnd : consumed+res.n])
		}
		consumed += res.n
		cells := make([]string, len(sc.spans))
		for i, sp := range sc.spans {
			cells[i] = value(rec, sp)
		}
		rows = append(rows, cells)
	})
	return rows, eol
}

// chooseColumn decides whether rows[0] is a header and which column holds the
// addresses. ncols is the expected field count of a headerless input.
func chooseColumn(rows [][]string, plain bool, ncols int, column string) (header bool, col int, err error) {
	first := rows[0]
	column = strings.TrimSpace(column)
	index, isIndex := 0, false
	if column != "" {
		if n, err := strconv.Atoi(column); err == nil {
			index, isIndex = n, true
		} else {
			// A named column: the first row holding that name is the header.
			for i, c := range first {
				if strings.EqualFold(strings.TrimSpace(c), column) {
					return true, i, nil
				}
			}
			return false, 0, fmt.Errorf("csvio: column %q: %w (%s)", column, ErrUnknownColumn, describe(first, true))
		}
	}

	header = detectHeader(rows, plain)
	data := rows
	if header {
		data = rows[1:]
		ncols = len(first)
	}
	if isIndex {
		if index < 1 || index > ncols {
			return false, 0, fmt.Errorf("csvio: column %d: %w: the input has %d column%s", index, ErrUnknownColumn, ncols, plural(ncols))
		}
		return header, index - 1, nil
	}

	at, nonEmpty := columnStats(data, max(ncols, len(first)))
	// A header naming an e-mail, confirmed by its values.
	col = -1
	if header {
		for i, c := range first {
			if isEmailHeader(c) && at[i] > 0 && 2*at[i] >= nonEmpty[i] && (col < 0 || at[i] > at[col]) {
				col = i
			}
		}
	}
	// Else the column whose values most often hold an '@'.
	if col < 0 {
		for i := range at {
			if at[i] > 0 && (col < 0 || at[i] > at[col]) {
				col = i
			}
		}
	}
	// Else a header naming an e-mail even without values to confirm it.
	if col < 0 && header {
		for i, c := range first {
			if isEmailHeader(c) {
				col = i
				break
			}
		}
	}
	if col < 0 {
		return false, 0, fmt.Errorf("csvio: %w (%s); choose one with --column NAME or --column N", ErrNoAddressColumn, describe(first, header))
	}
	return header, col, nil
}

// detectHeader reports whether rows[0] is a header: none of its cells holds an '@', and
// a cell names an e-mail or (in a CSV) a column whose later values hold '@' has a
// non-empty first cell. A plain list needs the name: a stray first line is data.
func detectHeader(rows [][]string, plain bool) bool {
	first := rows[0]
	for _, c := range first {
		if strings.Contains(c, "@") {
			return false
		}
	}
	for _, c := range first {
		if isEmailHeader(c) {
			return true
		}
	}
	if plain || len(rows) < 2 {
		return false
	}
	at, nonEmpty := columnStats(rows[1:], len(first))
	for i, c := range first {
		if strings.TrimSpace(c) != "" && at[i] > 0 && 2*at[i] >= nonEmpty[i] {
			return true
		}
	}
	return false
}

// columnStats counts, per column, the cells holding an '@' and the non-blank cells.
func columnStats(rows [][]string, ncols int) (at, nonEmpty []int) {
	at, nonEmpty = make([]int, ncols), make([]int, ncols)
	for _, row := range rows {
		for i, c := range row {
			if i >= ncols {
				break
			}
			if strings.TrimSpace(c) != "" {
				nonEmpty[i]++
			}
			if strings.Contains(c, "@") {
				at[i]++
			}
		}
	}
	return at, nonEmpty
}

// describe lists the columns for an error message.
func describe(first []string, header bool) string {
	var b strings.Builder
	if header {
		b.WriteString("columns: ")
	} else {
		b.WriteString("first row: ")
	}
	for i, c := range first {
		if i == 12 {
			fmt.Fprintf(&b, ", … (%d in all)", len(first))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		c = strings.TrimSpace(c)
		if r := []rune(c); len(r) > 32 {
			c = string(r[:32]) + "…"
		}
		fmt.Fprintf(&b, "%d %q", i+1, c)
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// emailHeaders are normalized header names (see normHeader) that name an e-mail address,
// in the wordings of CRMs, newsletter tools, address books and spreadsheets in several
// languages. A bare "address" is deliberately absent: it is usually postal.
var emailHeaders = map[string]bool{}

func init() {
	for _, h := range []string{
		// English, and the exports of Google Contacts ("E-mail 1 - Value"), Outlook
		// ("E-mail Address", "E-mail 2 Address"), Mailchimp ("Email Address"),
		// Thunderbird ("Primary Email"), HubSpot, Salesforce, Shopify ("Email").
		"email", "e-mail", "mail", "emails", "email address", "e-mail address", "mail address",
		"email addresses", "email id", "e-mail id", "mail id", "eml", "e mail",
		// French
		"courriel", "adresse courriel", "adresse e-mail", "adresse email", "adresse mail",
		"adresse électronique", "adresse electronique", "mél", "adresse mél",
		// Spanish
		"correo", "correo electrónico", "correo electronico", "dirección de correo",
		"direccion de correo", "dirección de correo electrónico", "direccion de correo electronico",
		"email (correo)",
		// German, Dutch, Nordic
		"e-mail-adresse", "emailadresse", "mailadresse", "e-mailadres", "emailadres",
		"e-post", "epost", "e-postadresse", "e-postadress", "sähköposti", "sähköpostiosoite",
		// Italian, Portuguese
		"posta elettronica", "indirizzo email", "indirizzo e-mail", "indirizzo di posta elettronica",
		"endereço de e-mail", "endereço de email", "endereco de email", "endereço eletrônico",
		"endereço electrónico", "correio eletrônico", "correio electrónico",
		// Turkish, Polish, Czech
		"e-posta", "e-posta adresi", "eposta", "adres e-mail", "adres email", "e-mailová adresa",
		// Russian, Ukrainian
		"электронная почта", "почта", "адрес электронной почты", "эл. почта", "емейл", "имейл",
		"електронна пошта", "пошта",
		// Chinese, Japanese, Korean
		"邮箱", "电子邮件", "电子邮箱", "邮件地址", "电子邮件地址", "郵箱", "電子郵件", "電郵",
		"メールアドレス", "メール", "電子メール", "eメール", "이메일", "이메일 주소", "전자우편",
		// Arabic, Hebrew, Hindi
		"البريد الإلكتروني", "بريد إلكتروني", "דואר אלקטרוני", "ईमेल",
	} {
		emailHeaders[normHeader(h)] = true
	}
}

// emailSuffixes make "Work Email", "Subscriber Email", "Contact E-mail Address" and the
// like e-mail headers.
var emailSuffixes = []string{"email", "emailaddress", "mailaddress", "emailadresse", "emailadres"}

// normHeader folds a header name for matching: lower case, without parenthesized or
// bracketed parts, digits, spaces, punctuation and symbols ("E-mail 1 - Value" →
// "emailvalue", "Email (Work)" → "email").
func normHeader(s string) string {
	var b strings.Builder
	depth := 0
	for _, c := range strings.ToLower(s) {
		switch {
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		case depth > 0, unicode.IsSpace(c), unicode.IsPunct(c), unicode.IsSymbol(c), unicode.IsDigit(c):
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// isEmailHeader reports whether a header cell names an e-mail address column.
func isEmailHeader(h string) bool {
	n := normHeader(h)
	if n == "" {
		return false
	}
	if v, ok := strings.CutSuffix(n, "value"); ok && v != "" { // Google Contacts
		n = v
	}
	if emailHeaders[n] {
		return true
	}
	for _, s := range emailSuffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
