package verify

import "strings"

// providers maps MX host name suffixes to the mail provider they belong to. A host
// matches a suffix when it equals it or ends with "." + suffix. The table is the one
// place that knows providers; `everify domain` and the records' domain.provider use it.
var providers = []struct{ suffix, name string }{
	// Gmail and Google Workspace: aspmx.l.google.com, alt1.aspmx.l.google.com,
	// smtp.google.com (the single MX of newer Workspace tenants), googlemail.com.
	{"google.com", "google"},
	{"googlemail.com", "google"},
	// Microsoft 365 tenants (contoso-com.mail.protection.outlook.com), Outlook.com and
	// Hotmail (outlook-com.olc.protection.outlook.com, mx1.hotmail.com), 21Vianet.
	{"outlook.com", "microsoft"},
	{"hotmail.com", "microsoft"},
	{"outlook.cn", "microsoft"},
	{"office365.us", "microsoft"}, // GCC High: contoso-com.mail.protection.office365.us
	// Yahoo, AOL and Verizon: mta5.am0.yahoodns.net, mx-aol.mail.gm0.yahoodns.net.
	{"yahoodns.net", "yahoo"},
	{"yahoo.com", "yahoo"},
	{"aol.com", "yahoo"},
	// iCloud: mx01.mail.icloud.com.
	{"icloud.com", "apple"},
	{"me.com", "apple"},
	// Proton: mail.protonmail.ch, mailsec.protonmail.ch.
	{"protonmail.ch", "proton"},
	{"proton.me", "proton"},
	// Zoho: mx.zoho.com, mx.zoho.eu, mx.zoho.in, mx.zohomail.com.
	{"zoho.com", "zoho"},
	{"zoho.eu", "zoho"},
	{"zoho.in", "zoho"},
	{"zoho.com.au", "zoho"},
	{"zoho.jp", "zoho"},
	{"zoho.sa", "zoho"},
	{"zohocloud.ca", "zoho"}, // mx.zohocloud.ca
	{"zohomail.com", "zoho"},
	// Yandex: mx.yandex.net, mx.yandex.ru.
	{"yandex.net", "yandex"},
	{"yandex.ru", "yandex"},
	// Mail.ru: mxs.mail.ru.
	{"mail.ru", "mailru"},
	// GMX and Web.de (1&1 Mail & Media): mx00.gmx.net, mx-ha03.web.de.
	{"gmx.net", "gmx"},
	{"gmx.com", "gmx"},
	{"web.de", "gmx"},
	// Fastmail: in1-smtp.messagingengine.com.
	{"messagingengine.com", "fastmail"},
	{"fastmail.com", "fastmail"},
	// Filtering services in front of a company's own mail system.
	{"mimecast.com", "mimecast"},           // eu-smtp-inbound-1.mimecast.com
	{"mimecast-offshore.com", "mimecast"},  // the offshore regions
	{"mimecast.co.za", "mimecast"},         // za-smtp-inbound-1.mimecast.co.za
	{"pphosted.com", "proofpoint"},         // mx0a-00123456.pphosted.com
	{"ppe-hosted.com", "proofpoint"},       // Proofpoint Essentials
	{"barracudanetworks.com", "barracuda"}, // d123456a.ess.barracudanetworks.com
	{"iphmx.com", "ironport"},              // mx1.hc1234-56.iphmx.com (Cisco Secure Email)
	{"sophos.com", "sophos"},               // mx-01-eu-west-1.prod.hydra.sophos.com
	{"trendmicro.com", "trendmicro"},       // customer.in.tmes.trendmicro.com
	{"trendmicro.eu", "trendmicro"},        // customer.in.tmes.trendmicro.eu
	// Hosting companies whose shared servers carry many small company domains.
	{"secureserver.net", "godaddy"}, // mx1.secureserver.net
	{"ionos.com", "ionos"},          // mx00.ionos.com
	{"ionos.de", "ionos"},
	{"ovh.net", "ovh"},             // mx1.mail.ovh.net
	{"amazonaws.com", "amazon"},    // inbound-smtp.us-east-1.amazonaws.com (WorkMail, SES)
	{"comcast.net", "comcast"},     // mx1a1.comcast.net
	{"emailsrvr.com", "rackspace"}, // mx1.emailsrvr.com
}

// Provider returns the mail provider recognised from a domain's MX host names, given in
// preference order ("google", "microsoft", …, "mimecast"), or "" when none is known.
// The most preferred host that matches decides.
func Provider(mxHosts []string) string {
	for _, h := range mxHosts {
		if p := hostProvider(h); p != "" {
			return p
		}
	}
	return ""
}

// providerOf is [Provider] of a record's MX hosts, sorted by preference.
func providerOf(mx []MXHost) string {
	for _, h := range mx {
		if p := hostProvider(h.Host); p != "" {
			return p
		}
	}
	return ""
}

// hostProvider returns the provider of one MX host name, or "".
func hostProvider(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	for _, p := range providers {
		if h == p.suffix || strings.HasSuffix(h, "."+p.suffix) {
			return p.name
		}
	}
	return ""
}
