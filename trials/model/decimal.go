package model

import (
	"strings"
)

// Decimal is an exact decimal number parsed from a string such as "-12.50":
// an optional sign, at most 18 significant digits, an optional fraction.
// Form values and ranges are compared as Decimals, never as floats.
type Decimal struct {
	neg   bool
	digit string // integer digits without leading zeros ("" for zero)
	frac  string // fraction digits without trailing zeros
}

// ParseDecimal parses s. It accepts [+-]digits[.digits] (no exponent, no
// spaces, at most 18 digits in all).
func ParseDecimal(s string) (Decimal, bool) {
	var d Decimal
	if s == "" {
		return d, false
	}
	switch s[0] {
	case '-':
		d.neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	ip, fp, hasDot := strings.Cut(s, ".")
	if ip == "" && fp == "" || hasDot && fp == "" || len(ip)+len(fp) > 18 {
		return Decimal{}, false
	}
	for _, part := range []string{ip, fp} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return Decimal{}, false
			}
		}
	}
	d.digit = strings.TrimLeft(ip, "0")
	d.frac = strings.TrimRight(fp, "0")
	if d.digit == "" && d.frac == "" {
		d.neg = false // -0 == 0
	}
	return d, true
}

// IsInteger reports whether d has no fractional part.
func (d Decimal) IsInteger() bool { return d.frac == "" }

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	if d.neg != e.neg {
		if d.neg {
			return -1
		}
		return 1
	}
	c := cmpAbs(d, e)
	if d.neg {
		return -c
	}
	return c
}

func cmpAbs(d, e Decimal) int {
	if len(d.digit) != len(e.digit) {
		if len(d.digit) < len(e.digit) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(d.digit, e.digit); c != 0 {
		return c
	}
	return strings.Compare(d.frac, e.frac) // no trailing zeros: lexical order is numeric
}

// String returns the canonical form of d ("0", "-1.5", "12").
func (d Decimal) String() string {
	s := d.digit
	if s == "" {
		s = "0"
	}
	if d.frac != "" {
		s += "." + d.frac
	}
	if d.neg {
		s = "-" + s
	}
	return s
}
