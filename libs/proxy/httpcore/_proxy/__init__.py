"""httpcore._proxy: HTTP and SOCKS proxies (coming with the proxy issue)."""
