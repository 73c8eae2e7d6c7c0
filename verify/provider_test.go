package verify

import "testing"

func TestProvider(t *testing.T) {
	tests := []struct {
		hosts []string
		want  string
	}{
		{[]string{"aspmx.l.google.com"}, "google"},
		{[]string{"smtp.google.com"}, "google"},
		{[]string{"ALT1.ASPMX.L.GOOGLE.COM."}, "google"},
		{[]string{"gmail-smtp-in.l.google.com"}, "google"},
		{[]string{"contoso-com.mail.protection.outlook.com"}, "microsoft"},
		{[]string{"hotmail-com.olc.protection.outlook.com"}, "microsoft"},
		{[]string{"contoso-us.mail.protection.office365.us"}, "microsoft"},
		{[]string{"mx1.hotmail.com"}, "microsoft"},
		{[]string{"mx.zohocloud.ca"}, "zoho"},
		{[]string{"mx.zoho.sa"}, "zoho"},
		{[]string{"mx.zoho.com"}, "zoho"},
		{[]string{"za-smtp-inbound-1.mimecast.co.za"}, "mimecast"},
		{[]string{"mx01.mail.me.com"}, "apple"},
		{[]string{"mailsec.protonmail.ch"}, "proton"},
		{[]string{"mx.yandex.ru"}, "yandex"},
		{[]string{"mx00.emig.gmx.net"}, "gmx"},
		{[]string{"mx1.example-com.ppe-hosted.com"}, "proofpoint"},
		{[]string{"eu-smtp-inbound-1.mimecast-offshore.com"}, "mimecast"},
		{[]string{"mta5.am0.yahoodns.net"}, "yahoo"},
		{[]string{"mx-aol.mail.gm0.yahoodns.net"}, "yahoo"},
		{[]string{"mx01.mail.icloud.com"}, "apple"},
		{[]string{"mail.protonmail.ch"}, "proton"},
		{[]string{"mx.zoho.eu"}, "zoho"},
		{[]string{"mx.yandex.net"}, "yandex"},
		{[]string{"mxs.mail.ru"}, "mailru"},
		{[]string{"mx00.gmx.net"}, "gmx"},
		{[]string{"mx-ha03.web.de"}, "gmx"},
		{[]string{"in1-smtp.messagingengine.com"}, "fastmail"},
		{[]string{"eu-smtp-inbound-1.mimecast.com"}, "mimecast"},
		{[]string{"mx0a-00123456.pphosted.com"}, "proofpoint"},
		{[]string{"d123456a.ess.barracudanetworks.com"}, "barracuda"},
		{[]string{"mx1.hc1234-56.iphmx.com"}, "ironport"},
		{[]string{"mx-01-eu-west-1.prod.hydra.sophos.com"}, "sophos"},
		{[]string{"acme.in.tmes.trendmicro.com"}, "trendmicro"},
		{[]string{"mx1.secureserver.net"}, "godaddy"},
		{[]string{"mx00.ionos.com"}, "ionos"},
		{[]string{"mx1.mail.ovh.net"}, "ovh"},
		{[]string{"inbound-smtp.us-east-1.amazonaws.com"}, "amazon"},
		{[]string{"mx1a1.comcast.net"}, "comcast"},
		{[]string{"mx1.emailsrvr.com"}, "rackspace"},
		// The most preferred recognised host decides; unknown hosts are skipped.
		{[]string{"mx.example.org", "eu-smtp-inbound-1.mimecast.com", "aspmx.l.google.com"}, "mimecast"},
		// A suffix matches whole labels only.
		{[]string{"notgoogle.com"}, ""},
		{[]string{"google.com.evil.example"}, ""},
		{[]string{"mx.example.org"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Provider(tt.hosts); got != tt.want {
			t.Errorf("Provider(%q) = %q, want %q", tt.hosts, got, tt.want)
		}
	}
}
