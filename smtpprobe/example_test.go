package smtpprobe_test

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/everify/everify/smtpprobe"
)

func ExampleReadReply() {
	in := "550-5.1.1 The email account that you tried to reach does not exist.\r\n" +
		"550 5.1.1 https://support.google.com/mail/?p=NoSuchUser - gsmtp\r\n"
	r, err := smtpprobe.ReadReply(bufio.NewReader(strings.NewReader(in)), 0, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Code, r.Enhanced)
	fmt.Println(r.Message)
	// Output:
	// 550 5.1.1
	// The email account that you tried to reach does not exist. https://support.google.com/mail/?p=NoSuchUser - gsmtp
}
