package csvio

import (
	"encoding/binary"
	"math/bits"
)

// SWAR ("SIMD within a register") helpers: test eight bytes at once for a few byte
// values, which is what keeps the per-row cost of scanning and quoting low.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// broadcast repeats c in every byte of a word.
func broadcast(c byte) uint64 { return uint64(c) * lsb }

// zeroBytes has the high bit set in the lowest zero byte of x (higher bytes may hold
// false positives, so only the lowest set bit is meaningful).
func zeroBytes(x uint64) uint64 { return (x - lsb) &^ x & msb }

// skipPlain returns the index of the first byte of b[j:] equal to one of the broadcast
// words a, c, d, searching eight bytes at a time; it stops early (possibly on a
// non-matching byte) within the last seven bytes, which the caller finishes byte-wise.
func skipPlain(b []byte, j int, a, c, d uint64) int {
	for j+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[j:])
		if m := zeroBytes(x^a) | zeroBytes(x^c) | zeroBytes(x^d); m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
	}
	return j
}

// load64 reads eight bytes of s at i, little-endian (the compiler merges the loads).
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}
