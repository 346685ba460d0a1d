package whmcs

import (
	"strconv"
	"strings"
)

// adminPages names the WHMCS admin-area pages remediation steps send an
// operator to. WHMCS 8.0 moved the settings from the Setup menu to
// Configuration (wrench icon) > System Settings.
type adminPages struct {
	security   string // API IP Access Restriction and Trusted Proxies
	apiCreds   string // API Credentials and API Roles tabs
	adminRoles string
	adminUsers string
	openID     string
	general    string // System URL, Maintenance Mode
	addons     string
}

var (
	pagesV8 = adminPages{
		security:   "Configuration (wrench icon) > System Settings > General Settings, Security tab",
		apiCreds:   "Configuration (wrench icon) > System Settings > Manage API Credentials",
		adminRoles: "Configuration (wrench icon) > System Settings > Administrator Roles",
		adminUsers: "Configuration (wrench icon) > System Settings > Administrator Users",
		openID:     "Configuration (wrench icon) > System Settings > OpenID Connect",
		general:    "Configuration (wrench icon) > System Settings > General Settings, General tab",
		addons:     "Configuration (wrench icon) > System Settings > Addon Modules",
	}
	pagesV7 = adminPages{
		security:   "Setup > General Settings, Security tab",
		apiCreds:   "Setup > Staff Management > Manage API Credentials",
		adminRoles: "Setup > Staff Management > Administrator Roles",
		adminUsers: "Setup > Staff Management > Administrator Users",
		openID:     "Setup > OpenID Connect",
		general:    "Setup > General Settings, General tab",
		addons:     "Setup > Addon Modules",
	}
)

// pagesFor returns the page names for a WHMCS version; for an unknown
// version (WHMCS refused before telling it) both spellings.
func pagesFor(version string) adminPages {
	switch major := majorVersion(version); {
	case major >= 8:
		return pagesV8
	case major > 0:
		return pagesV7
	}
	both := func(v8, v7 string) string { return v8 + " (WHMCS 7: " + v7 + ")" }
	return adminPages{
		security:   both(pagesV8.security, pagesV7.security),
		apiCreds:   both(pagesV8.apiCreds, pagesV7.apiCreds),
		adminRoles: both(pagesV8.adminRoles, pagesV7.adminRoles),
		adminUsers: both(pagesV8.adminUsers, pagesV7.adminUsers),
		openID:     both(pagesV8.openID, pagesV7.openID),
		general:    both(pagesV8.general, pagesV7.general),
		addons:     both(pagesV8.addons, pagesV7.addons),
	}
}

func majorVersion(v string) int {
	head, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(head)
	if err != nil {
		return 0
	}
	return n
}
