package whmcssim

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The pages below are the literal responses of the layers that can stand in
// front of WHMCS. Each front function answers every request of its scenario.

const rayID = "8f3a61c2bd0e4a17-FRA"

func setCloudflareHeaders(w http.ResponseWriter) {
	w.Header().Set("Server", "cloudflare")
	w.Header().Set("CF-Ray", rayID)
}

func writePage(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, body)
}

func cloudflareBlock(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	setCloudflareHeaders(w)
	writePage(w, http.StatusForbidden, "text/html; charset=UTF-8", cloudflare1020HTML(r.Host))
	return true
}

func cloudflare1020HTML(host string) string {
	return `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>Access denied | ` + host + ` used Cloudflare to restrict access</title>
<meta charset="UTF-8" />
<meta name="robots" content="noindex, nofollow" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="p-0">
    <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
      <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
        <span class="inline-block">Access denied</span>
        <span class="code-label">Error code 1020</span>
      </h1>
      <div>You do not have access to ` + host + `.</div><p>The site owner may have set restrictions that prevent you from accessing the site.</p>
    </header>
    <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
      <p class="text-13">
        <span class="cf-footer-item sm:block sm:mb-1">Ray ID: <strong class="font-semibold">` + strings.TrimSuffix(rayID, "-FRA") + `</strong></span>
        <span class="cf-footer-separator sm:hidden">&bull;</span>
        <span id="cf-footer-item-ip" class="cf-footer-item sm:block sm:mb-1">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing" target="_blank">Cloudflare</a></span>
      </p>
    </div>
  </div>
</div>
</body>
</html>
`
}

func cloudflareJSON(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	setCloudflareHeaders(w)
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		writePage(w, http.StatusForbidden, "text/html; charset=UTF-8", cloudflare1020HTML(r.Host))
		return true
	}
	writePage(w, http.StatusForbidden, "application/json; charset=utf-8", fmt.Sprintf(`{
  "type": "https://developers.cloudflare.com/support/troubleshooting/http-status-codes/cloudflare-1xxx-errors/error-1020/",
  "title": "Error 1020: Access denied",
  "status": 403,
  "detail": "The site owner has blocked access based on your browser's signature.",
  "instance": "%[1]s",
  "error_code": 1020,
  "error_name": "access_denied",
  "error_category": "access_denied",
  "ray_id": "%[1]s",
  "timestamp": "%[2]s",
  "zone": "%[3]s",
  "cloudflare_error": true,
  "retryable": false,
  "owner_action_required": true,
  "what_you_should_do": "Contact the site owner if you believe this is an error."
}
`, strings.TrimSuffix(rayID, "-FRA"), time.Now().UTC().Format(time.RFC3339), r.Host))
	return true
}

func cloudflareChallenge(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	setCloudflareHeaders(w)
	w.Header().Set("cf-mitigated", "challenge")
	writePage(w, http.StatusForbidden, "text/html; charset=UTF-8", `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow"></head><body><div class="main-wrapper" role="main"><div class="main-content"><noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: "`+r.Host+`",cType: 'managed'};}());</script></body></html>`)
	return true
}

func modSecurity(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.Header().Set("Server", "Apache/2.4.62 (Debian)")
	writePage(w, http.StatusForbidden, "text/html; charset=iso-8859-1", `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>403 Forbidden</title>
</head><body>
<h1>Forbidden</h1>
<p>You don't have permission to access this resource.</p>
<hr>
<address>Apache/2.4.62 (Debian) Server at `+hostOnly(r.Host)+` Port 443</address>
</body></html>
`)
	return true
}

func nginxDeny(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.Header().Set("Server", "nginx")
	writePage(w, http.StatusForbidden, "text/html", "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	return true
}

func liteSpeedDeny(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.Header().Set("Server", "LiteSpeed")
	writePage(w, http.StatusForbidden, "text/html", `<!DOCTYPE html>
<html style="height:100%">
<head>
<meta name="viewport" content="width=device-width, initial-scale=1, shrink-to-fit=no" />
<title> 403 Forbidden
</title></head>
<body style="color: #444; margin:0;font: normal 14px/20px Arial, Helvetica, sans-serif; height:100%; background-color: #fff;">
<div style="height:auto; min-height:100%; ">     <div style="text-align: center; width:800px; margin-left: -400px; position:absolute; top: 30%; left:50%;">
        <h1 style="margin:0; font-size:150px; line-height:150px; font-weight:bold;">403</h1>
<h2 style="margin-top:20px;font-size: 30px;">Forbidden
</h2>
<p>Access to this resource on the server is denied!</p>
</div></div><div style="color:#f0f0f0; font-size:12px;margin:auto;padding:0px 30px 0px 30px;position:relative;clear:both;height:100px;margin-top:-101px;background-color:#474747;border-top: 1px solid rgba(0,0,0,0.15);box-shadow: 0 1px 0 rgba(255, 255, 255, 0.3) inset;">
<br>Proudly powered by  <a style="color:#fff;" href="http://www.litespeedtech.com/error-page">LiteSpeed Web Server</a><p>Please be advised that LiteSpeed Technologies Inc. is not a web hosting company and, as such, has no control over content found elsewhere on this site.</p></div></body></html>
`)
	return true
}

func empty403(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.WriteHeader(http.StatusForbidden)
	return true
}

func notFoundFront(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	apacheNotFound(w)
	return true
}

func apacheNotFound(w http.ResponseWriter) {
	w.Header().Set("Server", "Apache/2.4.62 (Debian)")
	writePage(w, http.StatusNotFound, "text/html; charset=iso-8859-1", `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
<hr>
<address>Apache/2.4.62 (Debian) Server at 127.0.0.1 Port 80</address>
</body></html>
`)
}

func maintenance(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	writePage(w, http.StatusOK, "text/html; charset=utf-8", `<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8" />
    <title>Down for Maintenance - Example Billing</title>
</head>
<body>
<section id="main-body"><div class="container">
<h1>Down for Maintenance</h1>
<p>We are currently performing maintenance and will be back shortly.</p>
</div></section>
</body>
</html>
`)
	return true
}

func clientArea(w http.ResponseWriter) {
	writePage(w, http.StatusOK, "text/html; charset=utf-8", `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>Portal Home - Example Billing</title></head>
<body><h1>Welcome to our client area</h1></body></html>
`)
}

func redirectHTTPS(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	if r.TLS != nil {
		return false
	}
	w.Header().Set("Server", "Apache/2.4.62 (Debian)")
	w.Header().Set("Location", "https://"+r.Host+r.URL.RequestURI())
	writePage(w, http.StatusMovedPermanently, "text/html; charset=iso-8859-1", `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>301 Moved Permanently</title>
</head><body>
<h1>Moved Permanently</h1>
<p>The document has moved <a href="https://`+r.Host+r.URL.RequestURI()+`">here</a>.</p>
</body></html>
`)
	return true
}

func redirectPath(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.Header().Set("Location", "/ok/"+strings.TrimPrefix(r.URL.Path, base))
	w.WriteHeader(http.StatusFound)
	return true
}

func serverError(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	writePage(w, http.StatusInternalServerError, "text/html; charset=utf-8", `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8" /><title>Oops! Something went wrong.</title></head>
<body><div class="error-container">
<h1><i class="fas fa-exclamation-triangle"></i> Oops!</h1>
<h2>Something went wrong and we couldn't process your request.</h2>
<p>Please go back to the previous page and try again.</p>
<p>For additional assistance, please reference the WHMCS TroubleShooting Guide &raquo;</p>
</div></body></html>
`)
	return true
}

func badGateway(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	w.Header().Set("Server", "nginx")
	writePage(w, http.StatusBadGateway, "text/html", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	return true
}

func unexpected(s *Server, w http.ResponseWriter, r *http.Request, base string) bool {
	writePage(w, http.StatusOK, "application/json", `{"ok":true,"service":"billing-proxy"}`)
	return true
}

func hostOnly(hostport string) string {
	if i := strings.LastIndex(hostport, ":"); i > 0 && !strings.HasSuffix(hostport, "]") {
		return hostport[:i]
	}
	return hostport
}
