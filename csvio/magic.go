package csvio

import (
	"bytes"
	"fmt"
)

// container names what a binary input most likely is, from its first bytes, with the
// step that turns it into a CSV or text list; ok is false for anything else. A user
// handing everify a compressed export or a workbook gets that step, not "NUL byte".
func container(win []byte) (what, fix string, ok bool) {
	switch {
	case bytes.HasPrefix(win, []byte{0x1F, 0x8B}):
		return "gzip-compressed data", "decompress it first: gunzip -c FILE | everify bulk -", true
	case bytes.HasPrefix(win, []byte("PK\x03\x04")) && bytes.Contains(win[:min(len(win), 4096)], []byte("xl/")):
		return "an Excel workbook (.xlsx)", "export the sheet as CSV (File > Save As > CSV UTF-8) and verify that file", true
	case bytes.HasPrefix(win, []byte("PK\x03\x04")) && bytes.Contains(win[:min(len(win), 4096)], []byte("content.xml")):
		return "an OpenDocument spreadsheet (.ods)", "export the sheet as CSV and verify that file", true
	case bytes.HasPrefix(win, []byte("PK\x03\x04")):
		return "a zip archive", "extract the CSV file from it first: unzip -p FILE | everify bulk -", true
	case bytes.HasPrefix(win, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return "an Excel 97-2003 workbook (.xls)", "export the sheet as CSV and verify that file", true
	case bytes.HasPrefix(win, []byte("BZh")) && len(win) > 3 && win[3] >= '1' && win[3] <= '9':
		return "bzip2-compressed data", "decompress it first: bzip2 -dc FILE | everify bulk -", true
	case bytes.HasPrefix(win, []byte("\xFD7zXZ\x00")):
		return "xz-compressed data", "decompress it first: xz -dc FILE | everify bulk -", true
	case bytes.HasPrefix(win, []byte{0x28, 0xB5, 0x2F, 0xFD}):
		return "zstd-compressed data", "decompress it first: zstd -dc FILE | everify bulk -", true
	}
	return "", "", false
}

// checkContainer fails with ErrNotText for a recognized compressed or office file.
func checkContainer(win []byte) error {
	if what, fix, ok := container(win); ok {
		return fmt.Errorf("csvio: %s; %w: %s", what, ErrNotText, fix)
	}
	return nil
}
