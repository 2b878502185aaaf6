package model

import (
	"regexp"
	"strconv"
	"strings"
)

// ParseBoolean reads an xs:boolean as ODM 1.3.2 defines it: "true", "1",
// "false" or "0".
func ParseBoolean(s string) (value, ok bool) {
	switch s {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

var (
	partialDateRE = regexp.MustCompile(`^([0-9]{4})(-([0-9]{2})(-([0-9]{2}))?)?$`)
	partialTimeRE = regexp.MustCompile(`^([0-9]{2})(:([0-9]{2})(:([0-9]{2})(\.[0-9]{1,9})?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$`)

	partialExample = map[string]string{
		TypePartialDate:     "2020, 2020-07 or 2020-07-06",
		TypePartialTime:     "09, 09:11 or 09:11:30",
		TypePartialDateTime: "2020-07, 2020-07-06T09:11 or 2020-07-06T09:11:30Z",
	}
)

// PartialPrecision checks s as an ODM 1.3.2 partial value of type typ
// (TypePartialDate, TypePartialTime or TypePartialDateTime) and returns
// its precision: "year", "month", "day", "hour", "minute", "second" or
// "fraction". The value itself is kept as given, so its precision is kept.
func PartialPrecision(typ, s string) (string, bool) {
	switch typ {
	case TypePartialDate:
		return partialDate(s)
	case TypePartialTime:
		return partialTime(s)
	case TypePartialDateTime:
		d, t, hasT := strings.Cut(s, "T")
		if !hasT {
			return partialDate(d)
		}
		if p, ok := partialDate(d); !ok || p != "day" {
			return "", false
		}
		return partialTime(t)
	}
	return "", false
}

func partialDate(s string) (string, bool) {
	m := partialDateRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	if m[3] == "" {
		return "year", true
	}
	mo, _ := strconv.Atoi(m[3])
	if mo < 1 || mo > 12 {
		return "", false
	}
	if m[5] == "" {
		return "month", true
	}
	y, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[5])
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[mo-1]
	if mo == 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		days = 29
	}
	if d < 1 || d > days {
		return "", false
	}
	return "day", true
}

func partialTime(s string) (string, bool) {
	m := partialTimeRE.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	in := func(x string, max int) bool { n, _ := strconv.Atoi(x); return n <= max }
	if !in(m[1], 23) {
		return "", false
	}
	if z := m[7]; len(z) == 6 && (!in(z[1:3], 14) || !in(z[4:6], 59)) {
		return "", false
	}
	switch {
	case m[3] == "":
		return "hour", true
	case !in(m[3], 59):
		return "", false
	case m[5] == "":
		return "minute", true
	case !in(m[5], 59):
		return "", false
	case m[6] == "":
		return "second", true
	}
	return "fraction", true
}
