package web

// The dashboard's islands are TypeScript bundles (internal/web/islands/,
// built by Vite with `make islands`) that the binary embeds from
// static/islands/build/. The build is not committed, so a checkout
// without Node still compiles and serves every page: each island then
// falls back to its committed placeholder in static/islands/placeholder/,
// which tells the person how to build the real one.

const (
	islandBuild       = "islands/build/"
	islandPlaceholder = "islands/placeholder/"
)

// island returns the versioned URL of an island's file: the built one,
// else its placeholder, else "" (a stylesheet the placeholder does
// without), so templates can leave the tag out.
func (a *assets) island(name string) string {
	for _, dir := range [...]string{islandBuild, islandPlaceholder} {
		if u, err := a.url(dir + name); err == nil {
			return u
		}
	}
	return ""
}
